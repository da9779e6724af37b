package dev.jtrain.nn.layers;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Conv2dTest {

    // Convolution is bilinear (affine in x and in W, b): central differences are exact up to rounding;
    // h = 0.05 and ~100 outputs keep the noise on the slopes near 1e-6 (measured worst error 7e-7).
    private static final double H = 5e-2;
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;

    @Test
    void gradientsStride1Pad1() {
        Conv2d c = new Conv2d(2, 3, 3, 1, 1, true, new Generator(1));
        GradCheck.checkLayer(c, GradCheck.uniform(2, -1, 1, 2, 2, 5, 4), true, H, RTOL, ATOL);
    }

    @Test
    void gradientsStride2Pad1FloorAndNoBias() {
        Conv2d c = new Conv2d(2, 2, 3, 2, 1, false, new Generator(3));
        Tensor x = GradCheck.uniform(4, -1, 1, 2, 2, 6, 7);
        Tensor y = c.forward(x, true);
        assertArrayEquals(new int[] {2, 2, 3, 4}, y.dims());   // floor((6+2-3)/2)+1 = 3, floor((7+2-3)/2)+1 = 4
        GradCheck.checkLayer(c, x, true, H, RTOL, ATOL);
    }

    @Test
    void forwardMatchesHostCrossCorrelation() {
        Conv2d c = new Conv2d(1, 1, 2, 1, 0, true, new Generator(5));
        float[] w = c.weight().value().floats();
        float b = c.bias().value().floats()[0];
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        float[] y = c.forward(Tensor.of(x, 1, 1, 3, 3), false).toFloatArray();
        assertEquals(4, y.length);
        double y00 = b + w[0] * 1 + w[1] * 2 + w[2] * 4 + w[3] * 5;
        assertEquals(y00, y[0], 1e-5);
    }

    @Test
    void defaultInitUsesFanInOfChannelsTimesKernel() {
        Conv2d c = new Conv2d(4, 8, 3, 1, 1, true, new Generator(6));
        double bound = 1 / Math.sqrt(4 * 9);
        double max = 0;
        for (float v : c.weight().value().floats()) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= bound && max > 0.9 * bound, "max |w| " + max + " vs bound " + bound);
        for (float v : c.bias().value().floats()) {
            assertTrue(Math.abs(v) <= bound);
        }
        assertArrayEquals(new int[] {8, 4, 3, 3}, c.weight().value().dims());
    }

    @Test
    void wrongChannelsIsAClearError() {
        Conv2d c = new Conv2d(3, 2, 3, 1, 1, true, new Generator(7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.forward(GradCheck.uniform(1, -1, 1, 1, 2, 5, 5), true));
        assertTrue(e.getMessage().contains("[1, 2, 5, 5]"), e.getMessage());
    }
}
