package dev.jtrain.nn;

import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.optim.AdamW;
import dev.jtrain.optim.GradClipping;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Buffers (BatchNorm's running statistics) are state that is saved but never trained: they are not
 * parameters, so no optimizer, weight decay, gradient clipping or parameter count sees them.
 */
class BufferTest {

    private static Sequential net() {
        return new Sequential(new Linear(3, 4, true, new Generator(5)), new BatchNorm1d(4));
    }

    @Test
    void parametersBuffersAndStateAreSeparateViews() {
        Sequential net = net();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), List.copyOf(net.namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(net.namedBuffers().keySet()));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"),
                List.copyOf(net.namedState().keySet()));
        assertEquals(4, net.parameters().size());
        assertEquals(3 * 4 + 4 + 4 + 4, net.parameterCount()); // the 8 running statistics do not count
    }

    /**
     * One training step with heavy decoupled weight decay and gradient clipping: the running statistics must
     * hold exactly BatchNorm's momentum update from the batch (computed here in double from the Linear output),
     * which any decay or optimizer update of them would change.
     */
    @Test
    void optimizerWeightDecayAndClippingNeverTouchBuffers() {
        Sequential net = net();
        Tensor x = Tensor.of(new float[] {1, -2, 0.5f, 3, 0, -1, -0.5f, 2, 2, 0.25f, 1, -3}, 4, 3);
        Tensor h = net.get(0).forward(x, true);
        float[] hv = h.toFloatArray();
        try (Optimizer opt = new AdamW(net.parameters(), 0.1, 0.9, 0.999, 1e-8, 0.5, false)) {
            net.zeroGrad();
            Tensor y = net.forward(x, true);
            net.backward(Tensor.of(y.toFloatArray(), y.dims())); // the gradient of |y|^2 / 2
            GradClipping.clipGradNorm(net.parameters(), 0.01f).close();
            opt.step();
        }
        Buffer mean = net.namedBuffers().get("1.running_mean");
        Buffer var = net.namedBuffers().get("1.running_var");
        float[] rm = mean.value().toFloatArray();
        float[] rv = var.value().toFloatArray();
        for (int c = 0; c < 4; c++) {
            double m = 0;
            for (int n = 0; n < 4; n++) {
                m += hv[n * 4 + c];
            }
            m /= 4;
            double ss = 0;
            for (int n = 0; n < 4; n++) {
                ss += (hv[n * 4 + c] - m) * (hv[n * 4 + c] - m);
            }
            assertEquals(0.1 * m, rm[c], 1e-6, "running_mean[" + c + "]");
            assertEquals(0.9 + 0.1 * ss / 3, rv[c], 1e-5, "running_var[" + c + "] (unbiased)");
        }
    }

    @Test
    void aBufferNameCannotRepeatAParameterName() {
        Layer layer = new Layer() {
            {
                register(Parameter.trainable("w", Tensor.zeros(dev.jtrain.tensor.Device.CPU, 2)));
            }

            void clash() {
                register(new Buffer("w", Tensor.zeros(dev.jtrain.tensor.Device.CPU, 2)));
            }

            @Override
            public Tensor forward(Tensor x, boolean training) {
                clash();
                return x;
            }

            @Override
            public Tensor backward(Tensor dy) {
                return dy;
            }
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> layer.forward(null, false));
        assertTrue(e.getMessage().contains("w"), e.getMessage());
    }

    @Test
    void settingABufferChecksTheShape() {
        Buffer b = new Buffer("running_mean", Tensor.zeros(dev.jtrain.tensor.Device.CPU, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.set(Tensor.zeros(dev.jtrain.tensor.Device.CPU, 4)));
        assertTrue(e.getMessage().contains("buffer running_mean") && e.getMessage().contains("[3]"), e.getMessage());
        b.set(Tensor.of(new float[] {1, 2, 3}, 3));
        assertEquals(2f, b.value().floats()[1]);
    }
}
