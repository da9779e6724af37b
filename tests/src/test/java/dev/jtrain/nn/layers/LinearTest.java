package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearTest {

    // Linear is affine in x and in W, b: central differences are exact up to float rounding, so a
    // large step h = 0.05 keeps the rounding noise of L (~1e-7 relative over <= 24 outputs, i.e.
    // ~1e-6 on the slope) well below the tolerance (measured worst error ~2e-7).
    private static final double H = 5e-2;
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;

    @Test
    void gradientsWithBias() {
        Linear l = new Linear(5, 3, true, new Generator(1));
        GradCheck.checkLayer(l, GradCheck.uniform(2, -1, 1, 4, 5), true, H, RTOL, ATOL);
    }

    @Test
    void gradientsWithoutBias() {
        Linear l = new Linear(3, 6, false, new Generator(3));
        assertNull(l.bias());
        assertEquals(List.of("weight"), List.copyOf(l.namedParameters().keySet()));
        GradCheck.checkLayer(l, GradCheck.uniform(4, -1, 1, 4, 3), true, H, RTOL, ATOL);
    }

    @Test
    void gradientsOnRank3InputSeenAsRows() {
        Linear l = new Linear(4, 2, true, new Generator(5));
        Tensor x = GradCheck.uniform(6, -1, 1, 2, 3, 4);
        Tensor y = l.forward(x, true);
        assertArrayEquals(new int[] {2, 3, 2}, y.dims());
        GradCheck.checkLayer(l, x, true, H, RTOL, ATOL);
    }

    @Test
    void forwardMatchesHostFormula() {
        Linear l = new Linear(3, 2, true, new Generator(7));
        float[] w = l.weight().value().floats();
        float[] b = l.bias().value().floats();
        float[] x = {1f, -2f, 0.5f, 0.25f, 3f, -1f};
        float[] y = l.forward(Tensor.of(x.clone(), 2, 3), false).toFloatArray();
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 2; o++) {
                double s = b[o];
                for (int i = 0; i < 3; i++) {
                    s += (double) x[n * 3 + i] * w[o * 3 + i];
                }
                assertEquals(s, y[n * 2 + o], 1e-6);
            }
        }
    }

    @Test
    void parameterGradientsAccumulate() {
        Linear l = new Linear(3, 2, true, new Generator(8));
        Tensor x = GradCheck.uniform(9, -1, 1, 4, 3);
        Tensor dy = GradCheck.uniform(10, -1, 1, 4, 2);
        l.zeroGrad();
        l.forward(x, true);
        l.backward(dy);
        float[] once = l.weight().grad().toFloatArray();
        float[] onceB = l.bias().grad().toFloatArray();
        l.forward(x, true);
        l.backward(dy);
        float[] twice = l.weight().grad().toFloatArray();
        for (int i = 0; i < once.length; i++) {
            assertEquals(2 * once[i], twice[i], 1e-6);
        }
        assertEquals(2 * onceB[0], l.bias().grad().toFloatArray()[0], 1e-6);
    }

    @Test
    void defaultInitIsUniformOneOverSqrtFanIn() {
        Linear l = new Linear(64, 128, true, new Generator(11));
        double bound = 1 / Math.sqrt(64);
        for (float v : l.weight().value().floats()) {
            assertTrue(Math.abs(v) <= bound, "weight " + v + " outside ±" + bound);
        }
        for (float v : l.bias().value().floats()) {
            assertTrue(Math.abs(v) <= bound, "bias " + v + " outside ±" + bound);
        }
        assertArrayEquals(new int[] {128, 64}, l.weight().value().dims());
        // same seed, same bits
        Linear again = new Linear(64, 128, true, new Generator(11));
        assertArrayEquals(l.weight().value().toFloatArray(), again.weight().value().toFloatArray());
        assertArrayEquals(l.bias().value().toFloatArray(), again.bias().value().toFloatArray());
    }

    @Test
    void buffersAreReusedAndReallocatedOnNewBatch() {
        Linear l = new Linear(3, 2, true, new Generator(12));
        Tensor y1 = l.forward(GradCheck.uniform(1, -1, 1, 4, 3), true);
        Tensor y2 = l.forward(GradCheck.uniform(2, -1, 1, 4, 3), true);
        assertSame(y1, y2);
        Tensor y3 = l.forward(GradCheck.uniform(3, -1, 1, 5, 3), true);
        assertArrayEquals(new int[] {5, 2}, y3.dims());
    }

    @Test
    void wrongInputWidthIsAClearError() {
        Linear l = new Linear(3, 2, true, new Generator(13));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> l.forward(GradCheck.uniform(1, -1, 1, 4, 5), true));
        assertTrue(e.getMessage().contains("[N, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
    }
}
