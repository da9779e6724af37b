package dev.jtrain.backend.cpu;

import dev.jtrain.random.Philox;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.withThreads;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropout masks and random fills from Philox (known answers of docs/architecture.md, section 6). */
class CpuRandomDropoutTest {

    @Test
    void dropoutKnownMasks() {
        float[] ones = {1, 1, 1, 1, 1, 1, 1, 1};
        Tensor x = t(ones.clone(), 2, 4);
        Tensor y = zerosT(2, 4);
        Tensor mask = zerosT(2, 4);
        B.dropoutForward(x, 0.5f, 42, 0, y, mask);
        assertArrayEquals(new float[] {2, 0, 0, 0, 2, 0, 2, 0}, mask.floats());
        assertArrayEquals(new float[] {2, 0, 0, 0, 2, 0, 2, 0}, y.floats());
        B.dropoutForward(x, 0.5f, 42, 1, y, mask);
        assertArrayEquals(new float[] {0, 0, 0, 2, 0, 2, 0, 0}, mask.floats());
        Tensor x6 = t(new float[] {1, 2, 3, 4, 5, 6}, 6);
        Tensor y6 = zerosT(6);
        B.dropoutForward(x6, 0.25f, (1L << 40) + 7, 3, y6, null);
        float s = (float) (1.0 / 0.75);
        assertArrayEquals(new float[] {1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s}, y6.floats());
    }

    @Test
    void dropoutPZeroKeepsExactlyAndPOneDropsEverything() {
        float[] xs = {1.1f, -2.2f, Float.MIN_VALUE, 3.4e38f, -0.0f, 7f, 8f};
        Tensor x = t(xs.clone(), 7);
        Tensor y = zerosT(7);
        Tensor mask = zerosT(7);
        B.dropoutForward(x, 0f, 5, 9, y, mask);
        bitsEqual("p = 0", xs, y.floats());
        B.dropoutForward(x, 1f, 5, 9, y, mask);
        assertArrayEquals(new float[7], y.floats());
        assertArrayEquals(new float[7], mask.floats());
    }

    @Test
    void dropoutMatchesPhiloxElementwiseAtParallelSizes() {
        int n = 300_007;
        Tensor x = zerosT(n);
        B.fill(x, 3f);
        Tensor y = zerosT(n);
        Tensor mask = zerosT(n);
        B.dropoutForward(x, 0.3f, 1234, 17, y, mask);
        float scale = (float) (1.0 / (1.0 - 0.3f));
        int kept = 0;
        for (int i = 0; i < n; i += 997) {
            boolean keep = Philox.uniform(1234, 17, i) >= 0.3f;
            assertEquals(keep ? scale : 0f, mask.floats()[i], "mask[" + i + "]");
            assertEquals(keep ? 3f * scale : 0f, y.floats()[i], "y[" + i + "]");
        }
        for (float m : mask.floats()) {
            kept += m != 0 ? 1 : 0;
        }
        assertEquals(0.7, kept / (double) n, 0.005);
        float[][] res = new float[2][];
        for (int k = 0; k < 2; k++) {
            int slot = k;
            withThreads(k == 0 ? 1 : 3, () -> {
                Tensor m2 = zerosT(n);
                B.dropoutForward(x, 0.3f, 1234, 17, zerosT(n), m2);
                res[slot] = m2.toFloatArray();
            });
        }
        bitsEqual("mask 1 vs 3 threads", res[0], res[1]);
    }

    @Test
    void randomUniformUsesTheDropoutUniforms() {
        int n = 100_003;
        Tensor u = zerosT(n);
        B.randomUniform(u, -2f, 3f, 42, 5);
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            float v = u.floats()[i];
            assertTrue(v >= -2f && v < 3f);
            s += v;
            s2 += (double) v * v;
        }
        for (int i = 0; i < 20; i++) {
            assertEquals((float) (-2 + 5.0 * Philox.uniform(42, 5, i)), u.floats()[i]);
        }
        double mean = s / n;
        assertEquals(0.5, mean, 0.02);
        assertEquals(25.0 / 12, s2 / n - mean * mean, 0.03);
    }

    @Test
    void randomNormalBoxMullerPairs() {
        int n = 100_001; // odd: the last element uses the pair (n - 1, n)
        Tensor z = zerosT(n);
        B.randomNormal(z, 1f, 2f, 7, 3);
        double s = 0, s2 = 0;
        for (float v : z.floats()) {
            assertTrue(Float.isFinite(v));
            s += v;
            s2 += (double) v * v;
        }
        double mean = s / n;
        assertEquals(1.0, mean, 0.03);
        assertEquals(4.0, s2 / n - mean * mean, 0.08);
        for (int j = 0; j < 10; j++) {
            double ua = Philox.uniform(7, 3, 2 * j);
            double ub = Philox.uniform(7, 3, 2 * j + 1);
            double rr = Math.sqrt(-2 * Math.log(1 - ua));
            assertEquals((float) (1 + 2 * rr * Math.cos(2 * Math.PI * ub)), z.floats()[2 * j]);
            assertEquals((float) (1 + 2 * rr * Math.sin(2 * Math.PI * ub)), z.floats()[2 * j + 1]);
        }
        double ua = Philox.uniform(7, 3, n - 1);
        double ub = Philox.uniform(7, 3, n);
        assertEquals((float) (1 + 2 * Math.sqrt(-2 * Math.log(1 - ua)) * Math.cos(2 * Math.PI * ub)), z.floats()[n - 1]);
        Tensor z2 = zerosT(n);
        B.randomNormal(z2, 1f, 2f, 7, 3);
        bitsEqual("same seed and offset", z.floats(), z2.floats());
    }
}
