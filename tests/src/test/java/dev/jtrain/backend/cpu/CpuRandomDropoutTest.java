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

    /**
     * Every element of y and mask against the scalar rule (keep when u &ge; p; y = x * scale or +0), at sizes around
     * the fast path's groups (it takes whole groups of four blocks, the scalar loop the rest),
     * for values whose products are special (NaN, infinities, -0, overflow), in place and with 1 and 3 threads.
     */
    @Test
    void dropoutEveryElementMatchesTheScalarRule() {
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, 0f, 3.4e38f, -1e-45f};
        int group = 4 * 4;
        for (int n : new int[] {1, 3, 4, 5, group - 1, group, group + 3, 3 * group + 7, 70_001}) {
            for (float p : new float[] {0.5f, 0.3f, 0.9999f, 1e-7f, 1f}) {
                for (int threads : new int[] {1, 3}) {
                    float[] xs = new float[n];
                    java.util.SplittableRandom r = new java.util.SplittableRandom(n * 31L + threads);
                    for (int i = 0; i < n; i++) {
                        xs[i] = i % 13 < special.length ? special[i % 13] : (float) r.nextGaussian();
                    }
                    Tensor x = t(xs.clone(), n);
                    Tensor y = zerosT(n);
                    Tensor mask = zerosT(n);
                    Tensor inPlace = t(xs.clone(), n);
                    long seed = (1L << 33) + n;
                    long offset = (5L << 32) + 11;
                    withThreads(threads, () -> {
                        B.dropoutForward(x, p, seed, offset, y, mask);
                        B.dropoutForward(inPlace, p, seed, offset, inPlace, null);
                    });
                    float scale = p >= 1f ? 0f : (float) (1.0 / (1.0 - p));
                    float[] wantY = new float[n];
                    float[] wantMask = new float[n];
                    for (int i = 0; i < n; i++) {
                        boolean keep = Philox.uniform(seed, offset, i) >= p;
                        wantY[i] = keep ? xs[i] * scale : 0f;
                        wantMask[i] = keep ? scale : 0f;
                    }
                    String at = "n=" + n + " p=" + p + " threads=" + threads;
                    bitsEqual("y " + at, wantY, y.floats());
                    bitsEqual("mask " + at, wantMask, mask.floats());
                    bitsEqual("in place " + at, wantY, inPlace.floats());
                }
            }
        }
    }

    /** u = p keeps the element, p just above u drops it: p taken from the uniforms of elements inside fast-path groups. */
    @Test
    void dropoutBoundaryAtTheElementsOwnUniform() {
        int n = 8 * 4 + 5;
        Tensor x = zerosT(n);
        B.fill(x, 1f);
        Tensor y = zerosT(n);
        for (int i : new int[] {0, 5, 4 * 4 + 1, n - 1}) {
            float u = Philox.uniform(9, 2, i);
            if (u == 0f) {
                continue;
            }
            B.dropoutForward(x, u, 9, 2, y, null);
            assertTrue(y.floats()[i] != 0f, "u == p keeps element " + i);
            B.dropoutForward(x, Math.nextUp(u), 9, 2, y, null);
            assertEquals(0f, y.floats()[i], "p just above u drops element " + i);
        }
    }

    /** The fast path's integer keep test k &ge; t must be u = k 2^-24 &ge; p exactly, at and around exact p. */
    @Test
    void keepThresholdIsTheExactUniformComparison() {
        float[] ps = {0.5f, 0.3f, 1f, 1e-7f, 0x1.0p-24f, Math.nextUp(0.5f), Math.nextDown(0.5f), 0.9999999f,
            Math.nextUp(0x1.0p-24f), 3 * 0x1.0p-24f};
        for (float p : ps) {
            int t = CpuPhilox4.keepThreshold(p);
            for (int k = Math.max(0, t - 2); k <= Math.min((1 << 24) - 1, t + 2); k++) {
                assertEquals(k * Philox.TWO_POW_M24 >= p, k >= t, "p=" + p + " k=" + k);
            }
        }
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
