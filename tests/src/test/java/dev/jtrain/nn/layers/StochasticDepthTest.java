package dev.jtrain.nn.layers;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stochastic depth in torchvision's "row" mode: whole samples dropped with probability p, survivors scaled by
 * 1/(1-p); identity in evaluation; the gradient uses the same per-sample factors; inside a ResNet basic block a
 * dropped sample's output is ReLU(shortcut); the GPU device draws the same samples.
 */
class StochasticDepthTest {

    @Test
    void eachSampleIsDroppedWholeWithProbabilityPAndSurvivorsAreScaled() {
        float p = 0.25f;
        int n = 4000;
        StochasticDepth sd = new StochasticDepth(p, new Generator(8));
        Tensor x = GradCheck.uniform(3, 0.5, 1.5, n, 2, 3);   // no zeros: a zero output means dropped
        float[] xs = x.toFloatArray();
        float[] y = sd.forward(x, true).toFloatArray();
        float scale = (float) (1.0 / (1.0 - p));
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            boolean d = y[i * 6] == 0f;
            dropped += d ? 1 : 0;
            for (int k = 0; k < 6; k++) {
                assertEquals(d ? 0f : xs[i * 6 + k] * scale, y[i * 6 + k], 1e-6f * Math.abs(xs[i * 6 + k] * scale),
                        "sample " + i + " element " + k + " (whole sample kept or dropped)");
            }
        }
        // 4,000 Bernoulli(0.25): sd 0.0068, allow 5 sd
        assertEquals(p, dropped / (double) n, 5 * Math.sqrt(p * (1 - p) / n));
        float[] dy = GradCheck.random(n * 6, 2);
        float[] dx = sd.backward(Tensor.of(dy.clone(), n, 2, 3)).toFloatArray();
        float[] m = sd.lastSampleMask().toFloatArray();
        for (int i = 0; i < n * 6; i++) {
            assertEquals(dy[i] * m[i / 6], dx[i], 0f, "dx[" + i + "]");
        }
    }

    @Test
    void evaluationIsTheIdentityAndDrawsNothing() {
        Generator gen = new Generator(1);
        StochasticDepth sd = new StochasticDepth(0.9f, gen);
        Tensor x = GradCheck.uniform(3, -1, 1, 5, 4);
        assertSame(x, sd.forward(x, false));
        Tensor dy = GradCheck.uniform(4, -1, 1, 5, 4);
        assertSame(dy, sd.backward(dy));
        assertEquals(0, gen.offset());
    }

    @Test
    void pOneDropsEverySampleAndPZeroKeepsThemUnscaled() {
        Tensor x = GradCheck.uniform(3, -1, 1, 6, 3);
        assertArrayEquals(new float[18], new StochasticDepth(1f, new Generator(1)).forward(x, true).toFloatArray(), 0f); // x * 0 (-0 for x < 0, as torch)
        assertArrayEquals(x.toFloatArray(), new StochasticDepth(0f, new Generator(1)).forward(x, true).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> new StochasticDepth(1.5f, new Generator(1)));
        assertThrows(IllegalStateException.class, () -> new StochasticDepth(0.5f, new Generator(1)).backward(x));
    }

    @Test
    void aDroppedSampleOfABasicBlockPassesOnlyItsShortcut() {
        // identity shortcut (16 -> 16, stride 1): out = ReLU(branch * m + x); dropped samples give ReLU(x)
        BasicBlock block = new BasicBlock(4, 4, 1, 0.5f, new Generator(6), Device.CPU);
        Tensor x = GradCheck.uniform(2, -1, 1, 64, 4, 3, 3);
        float[] xs = x.toFloatArray();
        float[] y = block.forward(x, true).toFloatArray();
        float[] m = ((StochasticDepth) block.layer("drop")).lastSampleMask().toFloatArray();
        int per = 4 * 3 * 3;
        int dropped = 0;
        for (int i = 0; i < 64; i++) {
            if (m[i] == 0f) {
                dropped++;
                for (int k = 0; k < per; k++) {
                    assertEquals(Math.max(0f, xs[i * per + k]), y[i * per + k], 0f, "dropped sample " + i);
                }
            } else {
                assertEquals(2f, m[i], 0f);
            }
        }
        assertTrue(dropped > 10 && dropped < 54, "about half of 64 samples dropped, got " + dropped);
        block.close();
    }

    @Test
    void theGpuDeviceDropsTheSameSamples() {
        Device gpu = TestDevices.gpu();
        Tensor x = GradCheck.uniform(3, -1, 1, 37, 3, 5);
        Tensor dy = GradCheck.uniform(4, -1, 1, 37, 3, 5);
        StochasticDepth c = new StochasticDepth(0.4f, new Generator(21));
        float[] yc = c.forward(x, true).toFloatArray();
        float[] dxc = c.backward(dy).toFloatArray();
        long before = TestDevices.inUseBytes(gpu);
        try (StochasticDepth d = new StochasticDepth(0.4f, new Generator(21)); Tensor xd = x.to(gpu); Tensor dyd = dy.to(gpu)) {
            assertArrayEquals(yc, d.forward(xd, true).to(Device.CPU).toFloatArray(), 0f, "y");
            assertArrayEquals(dxc, d.backward(dyd).to(Device.CPU).toFloatArray(), 0f, "dx");
        }
        assertEquals(before, TestDevices.inUseBytes(gpu), "device memory left in use");
    }
}
