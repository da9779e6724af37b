package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutTest {

    @Test
    void evalIsIdentity() {
        Dropout d = new Dropout(0.5f, new Generator(1));
        Tensor x = GradCheck.uniform(1, -1, 1, 4, 5);
        assertSame(x, d.forward(x, false));
        Tensor dy = GradCheck.uniform(2, -1, 1, 4, 5);
        assertSame(dy, d.backward(dy));
    }

    @Test
    void maskMatchesDesignKnownAnswers() {
        // Known answers (docs/architecture.md, section 6): seed 42, offset 0, p = 0.5 keeps 1 0 0 0 1 0 1 0;
        // offset 1 keeps 0 0 0 1 0 1 0 0.
        Generator gen = new Generator(42);
        Dropout d = new Dropout(0.5f, gen);
        Tensor x = Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 2, 4);
        assertArrayEquals(new float[] {2, 0, 0, 0, 2, 0, 2, 0}, d.forward(x, true).toFloatArray());
        assertEquals(1, gen.offset());
        assertArrayEquals(new float[] {0, 0, 0, 2, 0, 2, 0, 0}, d.forward(x, true).toFloatArray());
        assertEquals(2, gen.offset());
        d.forward(x, false);
        assertEquals(2, gen.offset(), "eval forward takes no offset");
    }

    @Test
    void backwardIsMaskTimesDyAndSameSeedGivesSameBits() {
        Dropout a = new Dropout(0.3f, new Generator(7, 5));
        Dropout b = new Dropout(0.3f, new Generator(7, 5));
        Tensor x = GradCheck.uniform(3, -1, 1, 64, 32);
        float[] ya = a.forward(x, true).toFloatArray();
        float[] yb = b.forward(x, true).toFloatArray();
        assertArrayEquals(ya, yb);
        Tensor dy = GradCheck.uniform(4, -1, 1, 64, 32);
        float[] dx = a.backward(dy).toFloatArray();
        float[] m = a.lastMask().toFloatArray();
        int kept = 0;
        for (int i = 0; i < dx.length; i++) {
            assertTrue(m[i] == 0f || m[i] == 1f / 0.7f, "mask value " + m[i]);
            assertEquals(dy.floats()[i] * m[i], dx[i], 0f);
            assertEquals(x.floats()[i] * m[i], ya[i], 1e-6f);
            if (m[i] != 0f) {
                kept++;
            }
        }
        double frac = kept / (double) dx.length;   // 2048 draws: s.d. of the kept fraction ~ 0.01
        assertEquals(0.7, frac, 0.05);
        Dropout c = new Dropout(0.3f, new Generator(8, 5));
        assertFalse(java.util.Arrays.equals(ya, c.forward(x, true).toFloatArray()), "another seed, another mask");
    }

    /** Rebuilds the dropout with a fresh generator on every forward, so each evaluation uses the same mask. */
    private static final class FixedMaskDropout extends Layer {
        private final float p;
        private Dropout current;

        FixedMaskDropout(float p) {
            this.p = p;
        }

        @Override
        public Tensor forward(Tensor x, boolean training) {
            current = new Dropout(p, new Generator(99));
            return current.forward(x, training);
        }

        @Override
        public Tensor backward(Tensor dy) {
            return current.backward(dy);
        }
    }

    @Test
    void gradientsWithAFixedMask() {
        // With the mask fixed, dropout is linear: exact central differences.
        GradCheck.checkLayer(new FixedMaskDropout(0.4f), GradCheck.uniform(5, -1, 1, 6, 7), true, 5e-2, 1e-4, 1e-5);
    }

    @Test
    void edgeProbabilities() {
        Tensor x = GradCheck.uniform(6, -1, 1, 3, 3);
        assertArrayEquals(x.toFloatArray(), new Dropout(0f, new Generator(1)).forward(x, true).toFloatArray());
        for (float v : new Dropout(1f, new Generator(1)).forward(x, true).toFloatArray()) {
            assertEquals(0f, v);
        }
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.5f, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(Float.NaN, new Generator(1)));
    }
}
