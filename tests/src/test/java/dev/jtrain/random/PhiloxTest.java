package dev.jtrain.random;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Known answers of the Philox specification (Random123; docs/architecture.md, section 6). */
class PhiloxTest {

    private static int[] words(long... w) {
        int[] out = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = (int) w[i];
        }
        return out;
    }

    @Test
    void random123KnownAnswers() {
        assertArrayEquals(words(0x6627e8d5L, 0xe169c58dL, 0xbc57ac4cL, 0x9b00dbd8L),
                Philox.philox4x32_10(0, 0, 0, 0, 0, 0));
        assertArrayEquals(words(0x408f276dL, 0x41c83b0eL, 0xa20bc7c6L, 0x6d5451fdL),
                Philox.philox4x32_10(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(words(0xd16cfe09L, 0x94fdccebL, 0x5001e420L, 0x24126ea1L),
                Philox.philox4x32_10((int) 0x243f6a88L, (int) 0x85a308d3L, (int) 0x13198a2eL, (int) 0x03707344L,
                        (int) 0xa4093822L, (int) 0x299f31d0L));
    }

    @Test
    void blockFormMatchesArrayForm() {
        int[] out = new int[6];
        Philox.philox4x32_10((int) 0x243f6a88L, (int) 0x85a308d3L, (int) 0x13198a2eL, (int) 0x03707344L,
                (int) 0xa4093822L, (int) 0x299f31d0L, out, 2);
        assertEquals((int) 0xd16cfe09L, out[2]);
        assertEquals((int) 0x24126ea1L, out[5]);
    }

    @Test
    void dropoutUniformsSeed42Offset0() {
        float[] expected = {0.61295986f, 0.46858650f, 0.07323170f, 0.34086150f,
                0.98771864f, 0.32706332f, 0.51390612f, 0.45431554f};
        int[] keep = {1, 0, 0, 0, 1, 0, 1, 0};
        for (int i = 0; i < expected.length; i++) {
            float u = Philox.uniform(42, 0, i);
            assertEquals(expected[i], u, 1e-7f, "u[" + i + "]");
            assertEquals(keep[i], u >= 0.5f ? 1 : 0, "keep[" + i + "]");
        }
    }

    @Test
    void dropoutKeepSeed42Offset1() {
        int[] keep = {0, 0, 0, 1, 0, 1, 0, 0};
        for (int i = 0; i < keep.length; i++) {
            assertEquals(keep[i], Philox.uniform(42, 1, i) >= 0.5f ? 1 : 0, "keep[" + i + "]");
        }
    }

    @Test
    void dropoutUniformsLargeSeedOffset3() {
        long seed = (1L << 40) + 7;
        float[] expected = {0.90586609f, 0.66660058f, 0.50380218f, 0.42668277f, 0.28459579f, 0.42963701f};
        for (int i = 0; i < expected.length; i++) {
            float u = Philox.uniform(seed, 3, i);
            assertEquals(expected[i], u, 1e-7f, "u[" + i + "]");
            assertTrue(u >= 0.25f, "element " + i + " is kept at p = 0.25");
        }
    }

    @Test
    void uniformsAreMultiplesOfTwoPowMinus24InUnitInterval() {
        for (int i = 0; i < 1000; i++) {
            float u = Philox.uniform(123, 9, i);
            assertTrue(u >= 0f && u < 1f);
            float scaled = u * (1 << 24);
            assertEquals(Math.rint(scaled), scaled, 0.0);
        }
        assertEquals(0f, Philox.toUniform(0xFF));
        assertEquals(1f - 0x1.0p-24f, Philox.toUniform(-1));
    }

    @Test
    void uniformInStaysBelowHigh() {
        float hi = 1f;
        float lo = 1f - 0x1.0p-23f;
        assertTrue(Philox.uniformIn(1f - 0x1.0p-24f, lo, hi) < hi);
        assertEquals(-2f, Philox.uniformIn(0f, -2f, 3f));
    }

    @Test
    void boxMullerIsFiniteAtTheEnds() {
        assertTrue(Double.isFinite(Philox.normal(1f - 0x1.0p-24f, 0f, false)));
        assertEquals(0.0, Philox.normal(0f, 0.3f, false), 0.0);
    }
}
