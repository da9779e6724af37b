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
 * DropConnect: mask statistics (fraction dropped, the inverted scale), forward and backward against float64
 * references with the mask applied to the weights, evaluation with the full weights, seeding, the same mask on
 * the GPU device, and bad probabilities.
 */
class DropConnectTest {

    @Test
    void maskDropsAboutPOfTheWeightsAndScalesTheRestByOneOverOneMinusP() {
        float p = 0.3f;
        DropConnect dc = new DropConnect(100, 200, p, true, new Generator(5));
        dc.forward(GradCheck.uniform(1, -1, 1, 2, 100), true);
        float[] m = dc.lastMask().toFloatArray();
        float scale = (float) (1.0 / (1.0 - p));
        int dropped = 0;
        for (float v : m) {
            if (v == 0f) {
                dropped++;
            } else {
                assertEquals(scale, v, 0f, "kept weights are scaled by 1/(1-p)");
            }
        }
        // 20,000 Bernoulli(0.3) draws: sd = sqrt(0.3*0.7/20000) = 0.0032; allow 5 sd
        assertEquals(p, dropped / (double) m.length, 5 * Math.sqrt(p * (1 - p) / m.length));
    }

    @Test
    void trainingForwardAndBackwardUseTheMaskedWeights() {
        int in = 7;
        int out = 5;
        int n = 3;
        DropConnect dc = new DropConnect(in, out, 0.5f, true, new Generator(9));
        Tensor x = GradCheck.uniform(2, -1, 1, n, in);
        float[] y = dc.forward(x, true).toFloatArray();
        float[] w = dc.weight().value().toFloatArray();
        float[] b = dc.bias().value().toFloatArray();
        float[] m = dc.lastMask().toFloatArray();
        float[] xs = x.toFloatArray();
        boolean someDropped = false;
        for (float v : m) {
            someDropped |= v == 0f;
        }
        assertTrue(someDropped, "with p = 0.5 over 35 weights some are dropped");
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int k = 0; k < in; k++) {
                    s += (double) xs[i * in + k] * w[o * in + k] * m[o * in + k];
                }
                assertEquals(s, y[i * out + o], 1e-5, "y[" + i + "," + o + "]");
            }
        }
        float[] dy = GradCheck.random(n * out, 4);
        dc.zeroGrad();
        float[] dx = dc.backward(Tensor.of(dy.clone(), n, out)).toFloatArray();
        float[] dw = dc.weight().grad().toFloatArray();
        float[] db = dc.bias().grad().toFloatArray();
        for (int o = 0; o < out; o++) {
            double sb = 0;
            for (int i = 0; i < n; i++) {
                sb += dy[i * out + o];
            }
            assertEquals(sb, db[o], 1e-5, "db[" + o + "] (the bias is never dropped)");
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += (double) dy[i * out + o] * xs[i * in + k];
                }
                assertEquals(s * m[o * in + k], dw[o * in + k], 1e-5, "dW[" + o + "," + k + "]");
            }
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int o = 0; o < out; o++) {
                    s += (double) dy[i * out + o] * w[o * in + k] * m[o * in + k];
                }
                assertEquals(s, dx[i * in + k], 1e-5, "dx[" + i + "," + k + "]");
            }
        }
    }

    @Test
    void evaluationUsesTheFullWeightsAndDrawsNoMask() {
        Generator gen = new Generator(3);
        DropConnect dc = new DropConnect(6, 4, 0.9f, true, gen);
        Linear ref = new Linear(6, 4, true, new Generator(3)); // same init draws: the same weights
        assertArrayEquals(ref.weight().value().toFloatArray(), dc.weight().value().toFloatArray());
        long offset = gen.offset();
        Tensor x = GradCheck.uniform(8, -2, 2, 5, 6);
        assertArrayEquals(ref.forward(x, false).toFloatArray(), dc.forward(x, false).toFloatArray());
        assertEquals(offset, gen.offset(), "no random draw in evaluation");
        dc.zeroGrad();
        ref.zeroGrad();
        Tensor dy = GradCheck.uniform(9, -1, 1, 5, 4);
        assertArrayEquals(ref.backward(dy).toFloatArray(), dc.backward(dy).toFloatArray());
        assertArrayEquals(ref.weight().grad().toFloatArray(), dc.weight().grad().toFloatArray());
    }

    @Test
    void theSameSeedGivesTheSameMaskAndEachForwardANewOne() {
        Tensor x = GradCheck.uniform(1, -1, 1, 2, 30);
        DropConnect a = new DropConnect(30, 20, 0.5f, false, new Generator(77));
        DropConnect b = new DropConnect(30, 20, 0.5f, false, new Generator(77));
        a.forward(x, true);
        float[] first = a.lastMask().toFloatArray();
        b.forward(x, true);
        assertArrayEquals(first, b.lastMask().toFloatArray());
        a.forward(x, true);
        assertFalse(java.util.Arrays.equals(first, a.lastMask().toFloatArray()), "a new mask per training forward");
    }

    @Test
    void theGpuDeviceDrawsTheSameMaskAndComputesTheSameStep() {
        Device gpu = TestDevices.gpu();
        Tensor x = GradCheck.uniform(1, -1, 1, 4, 33);
        Tensor dy = GradCheck.uniform(2, -1, 1, 4, 9);
        DropConnect c = new DropConnect(33, 9, 0.4f, true, new Generator(12));
        float[] yc = c.forward(x, true).toFloatArray();
        c.zeroGrad();
        float[] dxc = c.backward(dy).toFloatArray();
        long before = TestDevices.inUseBytes(gpu);
        try (DropConnect d = new DropConnect(33, 9, 0.4f, true, new Generator(12), gpu);
             Tensor xd = x.to(gpu); Tensor dyd = dy.to(gpu)) {
            float[] yd = d.forward(xd, true).to(Device.CPU).toFloatArray();
            assertArrayEquals(c.lastMask().toFloatArray(), d.lastMask().to(Device.CPU).toFloatArray(), 0f, "mask");
            d.zeroGrad();
            float[] dxd = d.backward(dyd).to(Device.CPU).toFloatArray();
            assertArrayEquals(yc, yd, 1e-5f, "y");
            assertArrayEquals(dxc, dxd, 1e-5f, "dx");
            assertArrayEquals(c.weight().grad().toFloatArray(), d.weight().grad().to(Device.CPU).toFloatArray(), 1e-5f, "dW");
        }
        assertEquals(before, TestDevices.inUseBytes(gpu), "device memory left in use");
    }

    @Test
    void badProbabilitiesAndShapesAreErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DropConnect(3, 3, 1f, true, new Generator(0)))
                .getMessage().contains("[0, 1)"));
        assertThrows(IllegalArgumentException.class, () -> new DropConnect(3, 3, -0.1f, true, new Generator(0)));
        DropConnect dc = new DropConnect(3, 2, 0.5f, true, new Generator(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> dc.forward(GradCheck.uniform(1, 0, 1, 2, 4), true))
                .getMessage().contains("expected input [N, 3]"));
        DropConnect fresh = new DropConnect(3, 2, 0.5f, true, new Generator(0));
        assertThrows(IllegalStateException.class, () -> fresh.backward(GradCheck.uniform(1, 0, 1, 2, 2)));
    }

    @Test
    void pZeroIsALinearLayer() {
        DropConnect dc = new DropConnect(5, 3, 0f, true, new Generator(1));
        Linear ref = new Linear(5, 3, true, new Generator(1));
        Tensor x = GradCheck.uniform(4, -1, 1, 2, 5);
        assertArrayEquals(ref.forward(x, false).toFloatArray(), dc.forward(x, true).toFloatArray());
    }
}
