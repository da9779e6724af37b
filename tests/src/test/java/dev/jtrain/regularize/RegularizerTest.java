package dev.jtrain.regularize;

import dev.jtrain.nn.BatchNormFolding;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Penalties and max-norm (FORMAT.md items 25-26) and BatchNorm folding (item 15). */
class RegularizerTest {

    private static Tensor w() {
        return Tensor.of(new float[] {1f, -2f, 0f, 3f}, 2, 2);
    }

    private static Tensor gradOf(Penalty p, Tensor w) {
        Tensor g = Tensor.of(new float[w.numel()], w.dims());
        p.addGradient(w, g);
        return g;
    }

    @Test
    void l2() {
        L2Penalty p = new L2Penalty(0.1);
        assertEquals(0.7f, p.penalty(w()).item(), 1e-6f);
        assertArrayEquals(new float[] {0.1f, -0.2f, 0f, 0.3f}, gradOf(p, w()).floats(), 1e-7f);
    }

    @Test
    void l1WithSignOfZeroZero() {
        L1Penalty p = new L1Penalty(0.1);
        assertEquals(0.6f, p.penalty(w()).item(), 1e-6f);
        assertArrayEquals(new float[] {0.1f, -0.1f, 0f, 0.1f}, gradOf(p, w()).floats(), 1e-7f);
    }

    @Test
    void elasticNetExplicitLambdas() {
        ElasticNet p = new ElasticNet(0.1, 0.2);
        assertEquals(0.6f + 0.1f * 14f, p.penalty(w()).item(), 1e-6f);
        assertArrayEquals(new float[] {0.3f, -0.5f, 0f, 0.7f}, gradOf(p, w()).floats(), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> new ElasticNet(-1, 0));
    }

    @Test
    void maxNormScalesOnlyLongRows() {
        Tensor w = Tensor.of(new float[] {3f, 4f, 0.3f, 0.4f}, 2, 2);
        assertArrayEquals(new float[] {5f, 0.5f}, MaxNorm.rowNorms(w).floats(), 1e-6f);
        new MaxNorm(1).apply(w);
        assertArrayEquals(new float[] {0.6f, 0.8f, 0.3f, 0.4f}, w.floats(), 1e-6f);
        assertArrayEquals(new float[] {1f, 0.5f}, MaxNorm.rowNorms(w).floats(), 1e-6f);
    }

    @Test
    void foldBatchNormIntoLinear() {
        Linear lin = new Linear(3, 2, true, new Generator(1));
        BatchNorm1d bn = new BatchNorm1d(2);
        bn.weight().set(Tensor.of(new float[] {1.5f, 0.5f}, 2));
        bn.bias().set(Tensor.of(new float[] {0.1f, -0.2f}, 2));
        bn.runningMean().set(Tensor.of(new float[] {0.3f, -0.4f}, 2));
        bn.runningVar().set(Tensor.of(new float[] {2f, 0.5f}, 2));
        Tensor x = Tensor.of(new float[] {1f, 2f, -1f, 0.5f, -0.5f, 2f}, 2, 3);
        float[] expected = bn.forward(lin.forward(x, false), false).toFloatArray();
        Linear fused = BatchNormFolding.foldIntoLinear(lin, bn);
        assertArrayEquals(expected, fused.forward(x, false).toFloatArray(), 1e-5f);
        float s0 = (float) (1.5 / Math.sqrt(2 + 1e-5));
        assertEquals(lin.weight().value().floats()[0] * s0, fused.weight().value().floats()[0], 1e-6f);
        assertEquals((lin.bias().value().floats()[0] - 0.3f) * s0 + 0.1f, fused.bias().value().floats()[0], 1e-6f);
    }

    @Test
    void foldBatchNormIntoConv() {
        Conv2d conv = new Conv2d(2, 3, 3, 1, 1, false, new Generator(2));
        BatchNorm2d bn = new BatchNorm2d(3);
        bn.weight().set(Tensor.of(new float[] {1.5f, 0.5f, 2f}, 3));
        bn.bias().set(Tensor.of(new float[] {0.1f, -0.2f, 0.3f}, 3));
        bn.runningMean().set(Tensor.of(new float[] {0.3f, -0.4f, 0.2f}, 3));
        bn.runningVar().set(Tensor.of(new float[] {2f, 0.5f, 1.2f}, 3));
        float[] xs = new float[2 * 2 * 4 * 4];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) Math.sin(i * 0.7);
        }
        Tensor x = Tensor.of(xs, 2, 2, 4, 4);
        float[] expected = bn.forward(conv.forward(x, false), false).toFloatArray();
        Conv2d fused = BatchNormFolding.foldIntoConv(conv, bn);
        assertArrayEquals(expected, fused.forward(x, false).toFloatArray(), 1e-5f);
        assertThrows(IllegalArgumentException.class, () -> BatchNormFolding.foldIntoConv(conv, new BatchNorm2d(4)));
    }
}
