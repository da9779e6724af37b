package dev.jtrain.nn;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@code backward(dy, false)}, what the Trainer calls (the network's input is data): the first layer with
 * parameters skips its dx GEMM and the layers before it are skipped, and every parameter gradient has exactly
 * the bits of a full {@code backward(dy)}, on the cpu and on the GPU test device.
 */
class InputGradientSkipTest {

    private static Sequential cnn(Generator gen, Device d) {
        // a leading parameter-free layer (Dropout p = 0) must be skipped, not crash
        return new Sequential(new Dropout(0f, gen), new Conv2d(2, 3, 3, 1, 1, true, gen, d), new ReLU(),
                new MaxPool2d(2, 2), new Flatten(), new Linear(3 * 3 * 3, 4, true, gen, d));
    }

    private static Sequential mlp(Generator gen, Device d) {
        return new Sequential(new Flatten(), new Linear(12, 7, true, gen, d), new ReLU(), new Linear(7, 5, true, gen, d));
    }

    private static Map<String, float[]> gradients(Function<Generator, Sequential> build, Device d, Shape in,
                                                  boolean inputGradient) {
        Map<String, float[]> g = new LinkedHashMap<>();
        try (TensorScope scope = TensorScope.open(); Sequential net = build.apply(new Generator(4))) {
            net.zeroGrad();
            SplittableRandom r = new SplittableRandom(9);
            float[] xs = new float[in.numel()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) r.nextDouble(-1, 1);
            }
            Tensor x = Tensor.of(xs, in.dims()).to(d);
            Tensor y = net.forward(x, true);
            float[] dys = new float[y.numel()];
            for (int i = 0; i < dys.length; i++) {
                dys[i] = (float) r.nextDouble(-1, 1);
            }
            Tensor dy = Tensor.of(dys, y.shape().dims()).to(d);
            Tensor dx = net.backward(dy, inputGradient);
            if (inputGradient) {
                assertEquals(in, dx.shape());
            } else {
                assertNull(dx, "no input gradient was asked for");
            }
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                g.put(e.getKey(), e.getValue().grad().to(Device.CPU).toFloatArray());
            }
        }
        return g;
    }

    private static void sameGradients(Function<Generator, Sequential> build, Device d, Shape in) {
        Map<String, float[]> full = gradients(build, d, in, true);
        Map<String, float[]> skipped = gradients(build, d, in, false);
        assertEquals(full.keySet(), skipped.keySet());
        for (String k : full.keySet()) {
            assertArrayEquals(full.get(k), skipped.get(k), k + " on " + d);
        }
    }

    @Test
    void parameterGradientsAreUnchangedOnTheCpu() {
        sameGradients(g -> cnn(g, Device.CPU), Device.CPU, Shape.of(3, 2, 6, 6));
        sameGradients(g -> mlp(g, Device.CPU), Device.CPU, Shape.of(5, 3, 4));
    }

    @Test
    void parameterGradientsAreUnchangedOnTheGpuDevice() {
        Device d = TestDevices.gpu();
        sameGradients(g -> cnn(g, d), d, Shape.of(3, 2, 6, 6));
        sameGradients(g -> mlp(g, d), d, Shape.of(5, 3, 4));
    }

    @Test
    void aNetworkWithoutTrainableParametersDoesNothing() {
        Sequential s = new Sequential(new ReLU(), new Flatten());
        Tensor x = Tensor.of(new float[] {1, -2, 3, -4}, 2, 2);
        Tensor y = s.forward(x, true);
        assertNull(s.backward(y, false));
    }
}
