package dev.jtrain.nn.layers;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fractional max pooling as torch's FractionalMaxPool2d(kernel_size, output_ratio): the pseudo-random start
 * sequences, values and gradients on a 5x5 input worked out by hand, ties, the seeded samples, and errors; and
 * the same layer on the GPU test device ({@link TestDevices#gpu()}, emu by default): the same samples, values,
 * indices and gradient bits as the cpu, the ops' argument errors on both, and a small conv net that trains to
 * the cpu's losses.
 */
class FractionalMaxPool2dTest {

    @Test
    void startSequencesFollowTorchsGenerateIntervals() {
        // in 5, pool 2, out 3: alpha = (5-2)/(3-1) = 1.5
        // u = 0.5: int(0.5*1.5)-int(0.75) = 0; int(1.5*1.5)=2 - 0 = 2; last = 5-2 = 3
        assertArrayEquals(new int[] {0, 2, 3}, FractionalMaxPool2d.intervals(0.5f, 5, 3, 2));
        // u = 0.9: int(1.35)-int(1.35) = 0; int(1.9*1.5 = 2.85) - 1 = 1; last 3
        assertArrayEquals(new int[] {0, 1, 3}, FractionalMaxPool2d.intervals(0.9f, 5, 3, 2));
        // in 10, pool 3, out 4: alpha = 7/3 = 2.3333; u = 0.25: 0, int(2.9167)-0 = 2, int(5.25) = 5, last 7
        assertArrayEquals(new int[] {0, 2, 5, 7}, FractionalMaxPool2d.intervals(0.25f, 10, 4, 3));
        // u = 0: the starts int(i*alpha); one output: only the last window
        assertArrayEquals(new int[] {0, 2, 4, 7}, FractionalMaxPool2d.intervals(0f, 10, 4, 3));
        assertArrayEquals(new int[] {8}, FractionalMaxPool2d.intervals(0.7f, 10, 1, 2));
    }

    @Test
    void valuesAndGradientsOnA5x5InputMatchTheHandComputation() {
        float[] x = {
                1, 9, 2, 0, 3,
                4, 5, 8, 7, 1,
                0, 6, 3, 2, 9,
                2, 1, 7, 4, 5,
                8, 3, 0, 6, 2};
        FractionalMaxPool2d pool = new FractionalMaxPool2d(2, 0.6, new Generator(0));
        // u_w = 0.9 -> column windows start 0, 1, 3; u_h = 0.5 -> row windows start 0, 2, 3
        Tensor y = pool.forward(Tensor.of(x, 1, 1, 5, 5), Tensor.of(new float[] {0.9f, 0.5f}, 1, 1, 2));
        assertArrayEquals(new int[] {1, 1, 3, 3}, y.dims());
        assertArrayEquals(new float[] {
                9, 9, 7,     // rows 0-1: cols 0-1 {1,9,4,5}, cols 1-2 {9,2,5,8}, cols 3-4 {0,3,7,1}
                6, 7, 9,     // rows 2-3: {0,6,2,1}, {6,3,1,7}, {2,9,4,5}
                8, 7, 6},    // rows 3-4: {2,1,8,3}, {1,7,3,0}, {4,5,6,2}
                y.toFloatArray());
        float[] dx = pool.backward(Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3)).toFloatArray();
        float[] expected = new float[25];
        expected[1] = 1 + 2;        // (0,1) is the maximum of two overlapping windows: gradients add
        expected[8] = 3;            // (1,3)
        expected[11] = 4;           // (2,1)
        expected[17] = 5 + 8;       // (3,2), twice
        expected[14] = 6;           // (2,4)
        expected[20] = 7;           // (4,0)
        expected[23] = 9;           // (4,3)
        assertArrayEquals(expected, dx);
    }

    @Test
    void eachPlaneUsesItsOwnSamplesAndTiesGoToTheFirstMaximum() {
        float[] x = new float[2 * 16];          // two planes of 4x4 ones: every window ties
        java.util.Arrays.fill(x, 1f);
        x[16 + 15] = 5f;                        // plane 1: a larger value in the last corner
        FractionalMaxPool2d pool = new FractionalMaxPool2d(2, 0.5, new Generator(0));
        // out 2 of in 4, pool 2: alpha = 2; u = 0 -> starts 0, 2
        Tensor y = pool.forward(Tensor.of(x, 1, 2, 4, 4), Tensor.of(new float[] {0f, 0f, 0.6f, 0.6f}, 1, 2, 2));
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 5}, y.toFloatArray());
        float[] dx = pool.backward(Tensor.of(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 1, 2, 2, 2)).toFloatArray();
        // plane 0, windows at rows/cols {0, 2}: ties -> the first (top-left) element of each window
        assertEquals(1f, dx[0]);
        assertEquals(1f, dx[2]);
        assertEquals(1f, dx[8]);
        assertEquals(1f, dx[10]);
        // plane 1, u = 0.6: int(0.6*2)-int(1.2) = 0, then last = 2: the same starts; the 5 takes its window
        assertEquals(1f, dx[16 + 15]);
        assertEquals(1f, dx[16]);
    }

    @Test
    void randomSamplesComeFromTheGeneratorAndGradientsMatchCentralDifferences() {
        Tensor x = GradCheck.distinct(4, 0.1, -3, 2, 3, 9, 9);
        FractionalMaxPool2d a = new FractionalMaxPool2d(2, 0.7, new Generator(31));
        FractionalMaxPool2d b = new FractionalMaxPool2d(2, 0.7, new Generator(31));
        float[] ya = a.forward(x, true).toFloatArray();
        assertArrayEquals(new int[] {2, 3, 6, 6}, a.forward(x, false).dims());  // int(9 * 0.7) = 6
        assertArrayEquals(ya, b.forward(x, true).toFloatArray(), "same seed, same regions");
        float[] s = a.lastSamples().toFloatArray();
        assertEquals(2 * 3 * 2, s.length);
        boolean differ = false;
        for (float u : s) {
            assertTrue(u >= 0f && u < 1f, "uniform in [0, 1): " + u);
            differ |= u != s[0];
        }
        assertTrue(differ, "each plane draws its own samples");
        // with the samples fixed, the layer is a max over fixed windows: check dx by central differences
        Tensor fixed = a.lastSamples();
        GradCheck.checkLayer(new FixedSamples(new FractionalMaxPool2d(2, 0.7, new Generator(0)), fixed), x, true,
                1e-2, 1e-3, 1e-4);
    }

    /** The pooling with given samples, as a layer (for GradCheck). */
    private static final class FixedSamples extends dev.jtrain.nn.Layer {
        private final FractionalMaxPool2d pool;
        private final Tensor samples;

        FixedSamples(FractionalMaxPool2d pool, Tensor samples) {
            this.pool = pool;
            this.samples = samples;
        }

        @Override
        public Tensor forward(Tensor x, boolean training) {
            return pool.forward(x, samples);
        }

        @Override
        public Tensor backward(Tensor dy) {
            return pool.backward(dy);
        }
    }

    @Test
    void badSettingsAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> new FractionalMaxPool2d(2, 1.0, new Generator(0)));
        assertThrows(IllegalArgumentException.class, () -> new FractionalMaxPool2d(0, 0.5, new Generator(0)));
        FractionalMaxPool2d pool = new FractionalMaxPool2d(3, 0.9, new Generator(0));
        // in 4, out int(3.6) = 3, pool 3: 3 + 3 - 1 > 4
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.forward(GradCheck.uniform(1, 0, 1, 1, 1, 4, 4), true))
                .getMessage().contains("too large"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.forward(GradCheck.uniform(1, 0, 1, 4, 4), true))
                .getMessage().contains("[N, C, H, W]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FractionalMaxPool2d(2, 0.5, new Generator(0))
                .forward(GradCheck.uniform(1, 0, 1, 1, 2, 4, 4), Tensor.of(new float[2], 1, 1, 2)))
                .getMessage().contains("random samples must be [1, 2, 2]"));
    }

    // ---------------------------------------------------------------- the ops, on every device

    /** {N, C, H, W, k, ratio * 10}: odd sizes, kernels 2 and 3, ratios 0.5 / 0.7, plane counts of no block size. */
    private static final int[][] GPU_CASES = {{3, 5, 7, 9, 2, 5}, {2, 3, 11, 13, 3, 7}, {1, 7, 5, 5, 2, 6},
        {4, 37, 17, 19, 2, 7}, {2, 2, 9, 9, 2, 9}};

    /** Input with ties ({-1, 0, 1, 2}), NaNs and -inf sprinkled in. */
    private static float[] awkwardInput(int n, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double p = r.nextDouble();
            x[i] = p < 0.05 ? Float.NaN : p < 0.1 ? Float.NEGATIVE_INFINITY : p < 0.4 ? (float) r.nextInt(-1, 3)
                    : (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void theGpuDevicePoolsTheSameWindowsAndRoutesTheSameGradientBits() {
        Device gpu = TestDevices.gpu();
        long before = TestDevices.inUseBytes(gpu);
        for (int[] g : GPU_CASES) {
            int n = g[0], c = g[1], h = g[2], w = g[3], k = g[4];
            double ratio = g[5] / 10.0;
            String what = "[" + n + "," + c + "," + h + "," + w + "] k" + k + " ratio " + ratio;
            Tensor x = Tensor.of(awkwardInput(n * c * h * w, h * 31L + w), n, c, h, w);
            FractionalMaxPool2d onCpu = new FractionalMaxPool2d(k, ratio, new Generator(5 + k));
            float[] yc = onCpu.forward(x, true).toFloatArray();
            long[] ic = onCpu.lastIndices().longs().clone();
            float[] sc = onCpu.lastSamples().toFloatArray();
            Tensor dy = GradCheck.uniform(9, -1, 1, onCpu.lastIndices().dims());
            float[] dxc = onCpu.backward(dy).toFloatArray();
            try (FractionalMaxPool2d onGpu = new FractionalMaxPool2d(k, ratio, new Generator(5 + k));
                 Tensor xd = x.to(gpu); Tensor dyd = dy.to(gpu)) {
                float[] yd = onGpu.forward(xd, true).to(Device.CPU).toFloatArray();
                // the samples are drawn on the device from the same (seed, offset): the same bits
                assertArrayEquals(sc, onGpu.lastSamples().to(Device.CPU).toFloatArray(), 0f, what + " samples");
                // a maximum is a copy of an input: bit for bit (NaN payloads too), and the same argmax
                assertBitsEqual(yc, yd, what + " y");
                assertArrayEquals(ic, onGpu.lastIndices().to(Device.CPU).longs(), what + " indices");
                // the gather adds each input's dy in output order, as the cpu's scatter does: the same bits
                assertBitsEqual(dxc, onGpu.backward(dyd).to(Device.CPU).toFloatArray(), what + " dx");
            }
            onCpu.close();
        }
        assertEquals(before, TestDevices.inUseBytes(gpu), "device memory left in use");
    }

    @Test
    void theHandComputedCaseGivesTheSameValuesOnTheGpuDevice() {
        Device gpu = TestDevices.gpu();
        float[] x = {1, 9, 2, 0, 3, 4, 5, 8, 7, 1, 0, 6, 3, 2, 9, 2, 1, 7, 4, 5, 8, 3, 0, 6, 2};
        try (FractionalMaxPool2d pool = new FractionalMaxPool2d(2, 0.6, new Generator(0));
             Tensor xd = Tensor.of(x, 1, 1, 5, 5).to(gpu); Tensor sd = Tensor.of(new float[] {0.9f, 0.5f}, 1, 1, 2).to(gpu);
             Tensor dyd = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3).to(gpu)) {
            assertArrayEquals(new float[] {9, 9, 7, 6, 7, 9, 8, 7, 6}, pool.forward(xd, sd).to(Device.CPU).toFloatArray());
            float[] dx = pool.backward(dyd).to(Device.CPU).toFloatArray();
            float[] expected = new float[25];
            expected[1] = 3;
            expected[8] = 3;
            expected[11] = 4;
            expected[17] = 13;
            expected[14] = 6;
            expected[20] = 7;
            expected[23] = 9;
            assertArrayEquals(expected, dx);
        }
    }

    @Test
    void badOpArgumentsAreClearErrorsOnEveryDevice() {
        for (Device d : new Device[] {Device.CPU, TestDevices.gpu()}) {
            dev.jtrain.backend.Backend be = dev.jtrain.backend.Backends.forDevice(d);
            try (Tensor x = be.zeros(1, 2, 5, 5); Tensor y = be.zeros(1, 2, 3, 3); Tensor s = be.zeros(1, 2, 2);
                 Tensor bigY = be.zeros(1, 2, 4, 4); Tensor badS = be.zeros(1, 2, 3);
                 Tensor idx = be.zeros(dev.jtrain.tensor.DType.INT64, dev.jtrain.tensor.Shape.of(1, 2, 3, 3));
                 Tensor badIdx = be.zeros(1, 2, 3, 3)) {
                String tooLarge = assertThrows(IllegalArgumentException.class,
                        () -> be.fractionalMaxPool2dForward(x, s, 3, 3, bigY, null)).getMessage();
                assertTrue(tooLarge.contains("fractionalMaxPool2dForward") && tooLarge.contains("does not fit"), tooLarge);
                String samples = assertThrows(IllegalArgumentException.class,
                        () -> be.fractionalMaxPool2dForward(x, badS, 2, 2, y, idx)).getMessage();
                assertTrue(samples.contains("samples has shape [1, 2, 3]"), samples);
                String kernel = assertThrows(IllegalArgumentException.class,
                        () -> be.fractionalMaxPool2dForward(x, s, 0, 2, y, idx)).getMessage();
                assertTrue(kernel.contains("kh must be > 0"), kernel);
                String dtype = assertThrows(IllegalArgumentException.class,
                        () -> be.fractionalMaxPool2dBackward(y, badIdx, s, 2, 2, x)).getMessage();
                assertTrue(dtype.contains("indices has dtype"), dtype);
                if (!d.isHost()) {
                    try (Tensor hostS = Tensor.zeros(Device.CPU, 1, 2, 2)) {
                        String device = assertThrows(IllegalArgumentException.class,
                                () -> be.fractionalMaxPool2dForward(x, hostS, 2, 2, y, idx)).getMessage();
                        assertTrue(device.contains("samples is on cpu"), device);
                    }
                }
                // an index outside its window: thrown by the cpu, reported at the next sync by a GPU
                be.fractionalMaxPool2dForward(x, s, 2, 2, y, idx);
                long[] bad = idx.to(Device.CPU).longs().clone();
                bad[4] = 24;   // the plane's last element: outside the window of output (1, 1) for these samples
                try (Tensor badAt = Tensor.ofLongs(bad, 1, 2, 3, 3).to(d); Tensor dx = be.zeros(1, 2, 5, 5)) {
                    String msg = assertThrows(IllegalArgumentException.class, () -> {
                        be.fractionalMaxPool2dBackward(y, badAt, s, 2, 2, dx);
                        be.synchronize();
                    }).getMessage();
                    assertTrue(msg.contains("fractionalMaxPool2dBackward") && msg.contains("indices[4] = 24"), msg);
                }
            }
        }
    }

    @Test
    void aSmallConvNetWithTheLayerTrainsToTheCpusLossesOnTheGpuDevice() {
        Device gpu = TestDevices.gpu();
        long before = TestDevices.inUseBytes(gpu);
        float[] cpu = trainConvNet(Device.CPU, null);
        float[] dev = trainConvNet(gpu, initialWeights);
        for (int s = 0; s < cpu.length; s++) {
            // each op agrees to its float32 rounding, sums run in other orders (conv, GEMM), and training feeds the
            // differences back: TrainingParityTest's rtol 1e-4 (1 + step / 10)
            double rtol = 1e-4 * (1 + s / 10.0);
            assertTrue(Math.abs(dev[s] - cpu[s]) <= rtol * Math.abs(cpu[s]), "step " + (s + 1) + ": " + gpu + " "
                    + java.util.Arrays.toString(dev) + " cpu " + java.util.Arrays.toString(cpu));
        }
        assertTrue(cpu[cpu.length - 1] < cpu[0], "the cpu run learned: " + java.util.Arrays.toString(cpu));
        assertEquals(before, TestDevices.inUseBytes(gpu), "device memory left in use");
    }

    private static java.util.Map<String, float[]> initialWeights;

    /** 12 SGD steps of conv 3x3 -> ReLU -> FractionalMaxPool2d(2, 0.7) -> Linear on fixed random data; the losses. */
    private static float[] trainConvNet(Device d, java.util.Map<String, float[]> init) {
        Generator gen = new Generator(2026);
        dev.jtrain.nn.Sequential net = new dev.jtrain.nn.Sequential(new Conv2d(2, 4, 3, 1, 1, true, gen, d),
                new ReLU(), new FractionalMaxPool2d(2, 0.7, new Generator(99)), new Flatten(),
                new Linear(4 * 7 * 7, 5, true, gen, d));
        java.util.Map<String, float[]> initial = new java.util.LinkedHashMap<>();
        for (var e : net.namedParameters().entrySet()) {
            if (init != null) {
                float[] v = init.get(e.getKey());
                e.getValue().set(Tensor.of(v.clone(), e.getValue().value().dims()));
            }
            initial.put(e.getKey(), e.getValue().value().to(Device.CPU).toFloatArray());
        }
        if (init == null) {
            initialWeights = initial;
        }
        dev.jtrain.optim.Sgd opt = new dev.jtrain.optim.Sgd(net.parameters(), 0.1, 0.9);
        dev.jtrain.nn.loss.SoftmaxCrossEntropy loss = new dev.jtrain.nn.loss.SoftmaxCrossEntropy();
        int steps = 12;
        float[] losses = new float[steps];
        try (Tensor x = GradCheck.uniform(3, -1, 1, 8, 2, 10, 10).to(d);
             Tensor labels = Tensor.ofLongs(new long[] {0, 1, 2, 3, 4, 0, 1, 2}, 8).to(d)) {
            for (int s = 0; s < steps; s++) {
                net.zeroGrad();
                losses[s] = loss.forward(net.forward(x, true), labels).to(Device.CPU).item();
                net.backward(loss.backward());
                opt.step();
            }
        }
        net.close();
        opt.close();
        loss.close();
        return losses;
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                assertEquals(expected[i], actual[i], what + "[" + i + "] (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + " vs "
                        + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + ")");
                throw new AssertionError(what + "[" + i + "]: " + expected[i] + " and " + actual[i] + " differ in bits");
            }
        }
    }
}
