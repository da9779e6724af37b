package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchNormTest {

    // Train mode: y depends on x through the batch mean and variance, a smooth but non-linear map
    // whose third derivative grows like 1/sigma^3 (M = 6 or 24 values per channel, sigma ~ 0.7): at
    // h = 1e-2 the truncation error reached 8e-5; at h = 5e-3 truncation and the float32 noise of L
    // over 2h balance, measured worst error ~2e-5.
    private static final double H_TRAIN = 5e-3;
    private static final double RTOL_TRAIN = 1e-3;
    private static final double ATOL_TRAIN = 1e-4;

    private static void randomAffine(BatchNorm bn, long seed) {
        float[] g = bn.weight().value().floats();
        float[] b = bn.bias().value().floats();
        float[] rg = GradCheck.random(g.length, seed);
        float[] rb = GradCheck.random(b.length, seed + 1);
        for (int i = 0; i < g.length; i++) {
            g[i] = 1f + 0.5f * rg[i];
            b[i] = 0.5f * rb[i];
        }
    }

    @Test
    void batchNorm1dTrainGradients() {
        BatchNorm1d bn = new BatchNorm1d(4);
        randomAffine(bn, 1);
        GradCheck.checkLayer(bn, GradCheck.uniform(2, -1, 1.5, 6, 4), true, H_TRAIN, RTOL_TRAIN, ATOL_TRAIN);
    }

    @Test
    void batchNorm2dTrainGradients() {
        BatchNorm2d bn = new BatchNorm2d(3);
        randomAffine(bn, 3);
        GradCheck.checkLayer(bn, GradCheck.uniform(4, -1, 1.5, 2, 3, 3, 4), true, H_TRAIN, RTOL_TRAIN, ATOL_TRAIN);
    }

    @Test
    void batchNormEvalGradients() {
        // Eval mode is affine per channel (running statistics are constants): exact central differences.
        BatchNorm2d bn = new BatchNorm2d(3);
        randomAffine(bn, 5);
        bn.forward(GradCheck.uniform(6, -1, 3, 4, 3, 2, 2), true);   // move the running stats away from 0/1
        GradCheck.checkLayer(bn, GradCheck.uniform(7, -1, 1, 2, 3, 3, 3), false, 5e-2, 1e-4, 1e-5);
    }

    @Test
    void statisticsAndRunningUpdateFollowPyTorch() {
        int n = 5;
        int c = 2;
        Tensor x = GradCheck.uniform(8, -2, 3, n, c);
        float[] xs = x.floats();
        BatchNorm1d bn = new BatchNorm1d(c);
        assertNull(bn.lastBatchMean());
        Tensor y = bn.forward(x, true);
        for (int ch = 0; ch < c; ch++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += xs[i * c + ch];
            }
            mean /= n;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                double d = xs[i * c + ch] - mean;
                ss += d * d;
            }
            double biased = ss / n;
            double unbiased = ss / (n - 1);
            assertEquals(mean, bn.lastBatchMean().floats()[ch], 1e-5);
            assertEquals(biased, bn.lastBatchVar().floats()[ch], 1e-5);
            assertEquals(0.1 * mean, bn.runningMean().value().floats()[ch], 1e-6);
            assertEquals(0.9 + 0.1 * unbiased, bn.runningVar().value().floats()[ch], 1e-5);
            for (int i = 0; i < n; i++) {
                double expect = (xs[i * c + ch] - mean) / Math.sqrt(biased + 1e-5);
                assertEquals(expect, y.floats()[i * c + ch], 1e-4);
            }
        }
        // eval uses the running statistics
        float rm = bn.runningMean().value().floats()[0];
        float rv = bn.runningVar().value().floats()[0];
        Tensor ye = bn.forward(Tensor.of(new float[] {1f, 0f}, 1, 2), false);
        assertEquals((1 - rm) / Math.sqrt(rv + 1e-5), ye.floats()[0], 1e-5);
    }

    @Test
    void customEpsAndMomentum() {
        BatchNorm1d bn = new BatchNorm1d(1, 1e-3f, 0.5f);
        bn.forward(Tensor.of(new float[] {0f, 2f}, 2, 1), true);
        assertEquals(0.5f, bn.runningMean().value().floats()[0], 1e-6);
        assertEquals(0.5 + 0.5 * 2.0, bn.runningVar().value().floats()[0], 1e-6);   // unbiased var of {0, 2} = 2
        assertEquals(1e-3f, bn.eps());
    }

    @Test
    void namesAndBuffers() {
        BatchNorm2d bn = new BatchNorm2d(3);
        assertEquals(List.of("weight", "bias", "running_mean", "running_var"), List.copyOf(bn.namedState().keySet()));
        assertEquals(List.of("weight", "bias"), List.copyOf(bn.namedParameters().keySet()));
        assertEquals(List.of("running_mean", "running_var"), List.copyOf(bn.namedBuffers().keySet()));
        assertEquals(2, bn.parameters().size());
        assertEquals(6, bn.parameterCount());
        assertNotNull(bn.weight().grad());
        assertEquals(1f, bn.runningVar().value().floats()[2]);
        assertEquals(1f, bn.weight().value().floats()[0]);
        assertEquals(0f, bn.bias().value().floats()[0]);
    }

    @Test
    void errorsAreClear() {
        BatchNorm1d bn = new BatchNorm1d(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bn.forward(GradCheck.uniform(1, -1, 1, 1, 3), true));
        assertTrue(e.getMessage().contains("more than one value"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> bn.forward(GradCheck.uniform(1, -1, 1, 4, 2), true));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3).forward(GradCheck.uniform(1, -1, 1, 4, 3), true));
    }
}
