package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LayerNorm and GroupNorm on the cpu: values against a float64 reference written here from the definition
 * (FORMAT.md 15a-15b), a hand-computed case, numerical gradient checks, train = eval, the one-element rows
 * PyTorch allows, and errors naming what was wrong. (cpu-vs-emu parity: NormalizationParityTest; PyTorch's
 * values: tests/conformance/generated/normalization.json through ConformanceExamplesTest.)
 */
class NormalizationLayersTest {
    private static final double EPS = 1e-5;

    // Like BatchNorm's train mode, y depends on x through per-row statistics: the same step and tolerances
    // (BatchNormTest: truncation and float32 noise balance near h = 5e-3, worst error ~2e-5).
    private static final double H = 5e-3;
    private static final double RTOL = 1e-3;
    private static final double ATOL = 1e-4;

    /**
     * y[r, j] = (x[r, j] - mean_r) / sqrt(var_r + eps) * w[r, j] + b[r, j] over rows of m values, biased variance,
     * in double; w and b already expanded to x's size (null: 1 and 0).
     */
    private static double[] reference(float[] x, int m, double[] w, double[] b) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / m; r++) {
            double mean = 0;
            for (int j = 0; j < m; j++) {
                mean += x[r * m + j];
            }
            mean /= m;
            double var = 0;
            for (int j = 0; j < m; j++) {
                double d = x[r * m + j] - mean;
                var += d * d;
            }
            var /= m;
            for (int j = 0; j < m; j++) {
                int i = r * m + j;
                y[i] = (x[i] - mean) / Math.sqrt(var + EPS) * (w == null ? 1 : w[i]) + (b == null ? 0 : b[i]);
            }
        }
        return y;
    }

    private static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " at " + i);
        }
    }

    private static void randomize(Layer layer, long seed) {
        long s = seed;
        for (var p : layer.parameters()) {
            float[] v = p.value().floats();
            float[] r = GradCheck.random(v.length, s++);
            for (int i = 0; i < v.length; i++) {
                v[i] = p.name().equals("weight") ? 1f + 0.5f * r[i] : 0.5f * r[i];
            }
        }
    }

    @Test
    void layerNormHandComputed() {
        // rows [1, 3] and [-2, -2]: mean 2, var 1 -> xhat = -+1/sqrt(1 + 1e-5); a constant row -> xhat = 0
        LayerNorm ln = new LayerNorm(2);
        ln.weight().value().floats()[1] = 2f;
        ln.bias().value().floats()[0] = 0.5f;
        float[] y = ln.forward(Tensor.of(new float[] {1, 3, -2, -2}, 2, 2), true).toFloatArray();
        double s = 1 / Math.sqrt(1 + EPS);
        assertArrayEquals(new float[] {(float) (0.5 - s), (float) (2 * s), 0.5f, 0f}, y, 1e-6f);
    }

    @Test
    void layerNormMatchesDefinitionOverTrailingDims() {
        LayerNorm ln = new LayerNorm(3, 4);
        randomize(ln, 11);
        Tensor x = GradCheck.uniform(12, -3, 5, 5, 3, 4);
        float[] w = ln.weight().value().floats();
        float[] b = ln.bias().value().floats();
        double[] we = new double[60];
        double[] be = new double[60];
        for (int i = 0; i < 60; i++) {
            we[i] = w[i % 12];
            be[i] = b[i % 12];
        }
        assertClose(reference(x.floats(), 12, we, be), ln.forward(x, true).toFloatArray(), 2e-6, "y");
    }

    @Test
    void groupNormMatchesDefinition() {
        int n = 3;
        int c = 6;
        int groups = 2;
        int inner = 5;
        GroupNorm gn = new GroupNorm(groups, c);
        randomize(gn, 21);
        Tensor x = GradCheck.uniform(22, -2, 6, n, c, 5);
        float[] w = gn.weight().value().floats();
        float[] b = gn.bias().value().floats();
        double[] we = new double[n * c * inner];
        double[] be = new double[n * c * inner];
        for (int i = 0; i < we.length; i++) {
            int ch = i / inner % c;
            we[i] = w[ch];
            be[i] = b[ch];
        }
        // a group = c / groups consecutive channels of one sample = one contiguous row of 3 * 5 values
        assertClose(reference(x.floats(), c / groups * inner, we, be), gn.forward(x, true).toFloatArray(), 2e-6, "y");
    }

    @Test
    void withoutAffineThereAreNoParameters() {
        LayerNorm ln = new LayerNorm(new int[] {7}, 1e-5f, false, Device.CPU);
        GroupNorm gn = new GroupNorm(2, 4, 1e-5f, false, Device.CPU);
        assertTrue(ln.parameters().isEmpty());
        assertTrue(gn.parameters().isEmpty());
        assertNull(ln.weight());
        Tensor x = GradCheck.uniform(31, -1, 2, 4, 7);
        assertClose(reference(x.floats(), 7, null, null), ln.forward(x, true).toFloatArray(), 2e-6, "y");
    }

    @Test
    void trainAndEvalAreTheSameComputation() {
        GroupNorm gn = new GroupNorm(3, 6);
        randomize(gn, 41);
        Tensor x = GradCheck.uniform(42, -1, 1, 2, 6, 2, 2);
        float[] train = gn.forward(x, true).toFloatArray();
        assertArrayEquals(train, gn.forward(x, false).toFloatArray(), 0f);
    }

    @Test
    void layerNormGradients() {
        LayerNorm ln = new LayerNorm(3, 4);
        randomize(ln, 51);
        GradCheck.checkLayer(ln, GradCheck.uniform(52, -1, 1.5, 2, 3, 4), true, H, RTOL, ATOL);
        GradCheck.checkLayer(new LayerNorm(new int[] {6}, 1e-5f, false, Device.CPU),
                GradCheck.uniform(53, -1, 1.5, 4, 6), true, H, RTOL, ATOL);
    }

    @Test
    void groupNormGradients() {
        for (int groups : new int[] {1, 2, 4}) {  // LayerNorm-like, grouped, instance norm
            GroupNorm gn = new GroupNorm(groups, 4);
            randomize(gn, 60 + groups);
            GradCheck.checkLayer(gn, GradCheck.uniform(70 + groups, -1, 1.5, 2, 4, 2, 3), true, H, RTOL, ATOL);
        }
        GradCheck.checkLayer(new GroupNorm(2, 4, 1e-5f, false, Device.CPU), GradCheck.uniform(75, -1, 1.5, 3, 4, 3),
                true, H, RTOL, ATOL);
    }

    @Test
    void oneValuePerRowGivesTheBias() {
        // PyTorch allows rows of one value: xhat = 0, so y = bias and dx = 0 (batch norm's ops reject M = 1)
        LayerNorm ln = new LayerNorm(1);
        ln.bias().value().floats()[0] = 0.25f;
        float[] y = ln.forward(Tensor.of(new float[] {3, -1, 7}, 3, 1), true).toFloatArray();
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, y, 0f);
        assertArrayEquals(new float[3], ln.backward(Tensor.of(new float[] {1, 2, 3}, 3, 1)).toFloatArray(), 0f);
        assertArrayEquals(new float[] {6f}, ln.bias().grad().toFloatArray(), 0f);
        assertArrayEquals(new float[] {0f}, ln.weight().grad().toFloatArray(), 0f);

        GroupNorm instance = new GroupNorm(3, 3);   // [N, C] input, a group per channel: one value each
        assertArrayEquals(new float[6], instance.forward(GradCheck.uniform(81, -1, 1, 2, 3), true).toFloatArray(), 0f);
    }

    @Test
    void badInputIsNamed() {
        LayerNorm ln = new LayerNorm(4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ln.forward(Tensor.zeros(Device.CPU, 2, 5, 4), true));
        assertTrue(e.getMessage().contains("[2, 5, 4]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new GroupNorm(4, 6));
        assertTrue(e.getMessage().contains("6 channels") && e.getMessage().contains("4 groups"), e.getMessage());
        GroupNorm gn = new GroupNorm(2, 6);
        e = assertThrows(IllegalArgumentException.class, () -> gn.forward(Tensor.zeros(Device.CPU, 2, 4, 3), true));
        assertTrue(e.getMessage().contains("[2, 4, 3]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> new GroupNorm(2, 6).backward(Tensor.zeros(Device.CPU, 1, 6)));
        gn.forward(Tensor.zeros(Device.CPU, 2, 6, 3), true);
        e = assertThrows(IllegalArgumentException.class, () -> gn.backward(Tensor.zeros(Device.CPU, 2, 6, 4)));
        assertTrue(e.getMessage().contains("dy [2, 6, 4]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new int[] {3}, 0f, true, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new int[] {0}, 1e-5f, true, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(new int[0], 1e-5f, true, Device.CPU));
    }

    @Test
    void pyTorchParameterNames() {
        assertEquals(java.util.List.of("weight", "bias"), java.util.List.copyOf(new LayerNorm(3).namedParameters().keySet()));
        assertArrayEquals(new int[] {2, 3}, new LayerNorm(2, 3).weight().value().dims());
        assertArrayEquals(new float[] {1, 1, 1, 1}, new GroupNorm(2, 4).weight().value().toFloatArray(), 0f);
        assertArrayEquals(new float[4], new GroupNorm(2, 4).bias().value().toFloatArray(), 0f);
    }
}
