package dev.jtrain.nn.layers;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fractional max pooling as torch's FractionalMaxPool2d(kernel_size, output_ratio): the pseudo-random start
 * sequences, values and gradients on a 5x5 input worked out by hand, ties, the seeded samples, and errors.
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
    void badSettingsAndOtherDevicesAreClearErrors() {
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
        Device gpu = TestDevices.gpu();
        try (Tensor xd = GradCheck.uniform(1, 0, 1, 1, 1, 8, 8).to(gpu)) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> new FractionalMaxPool2d(2, 0.5, new Generator(0)).forward(xd, true));
            assertTrue(e.getMessage().contains("cpu only"), e.getMessage());
            assertFalse(e.getMessage().isEmpty());
        }
    }
}
