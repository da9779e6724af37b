package dev.jtrain.optim;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Moving a model between devices in the middle of training moves its optimizer state with it: 3 Adam steps
 * on cpu, the model moved to the GPU test device, 3 more steps, gives the losses of 6 steps on cpu (so the
 * moments followed the parameters), and the state tensors end up on the GPU device.
 */
class MoveModelWithOptimizerTest {

    private static Layer mlp() {
        Generator g = new Generator(3);
        return new Sequential(new Linear(10, 8, true, g), new ReLU(), new Linear(8, 4, true, g));
    }

    private static float step(Layer model, SoftmaxCrossEntropy loss, Optimizer opt, Tensor x, Tensor y) {
        model.zeroGrad();
        float l = loss.forward(model.forward(x, true), y).to(Device.CPU).item();
        model.backward(loss.backward());
        opt.step();
        return l;
    }

    @Test
    void adamMomentsFollowTheModelToAnotherDevice() {
        Device gpu = TestDevices.gpu();
        SplittableRandom r = new SplittableRandom(5);
        float[] xs = new float[16 * 10];
        long[] ys = new long[16];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < ys.length; i++) {
            ys[i] = r.nextInt(4);
        }
        Tensor x = Tensor.of(xs, 16, 10);
        Tensor y = Tensor.ofLongs(ys, 16);

        float[] reference = new float[6];
        try (Layer model = mlp(); SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Optimizer opt = new Adam(model.parameters(), 0.05)) {
            for (int s = 0; s < 6; s++) {
                reference[s] = step(model, loss, opt, x, y);
            }
        }

        try (Layer model = mlp(); SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Optimizer opt = new Adam(model.parameters(), 0.05);
             Tensor xg = x.to(gpu); Tensor yg = y.to(gpu)) {
            for (int s = 0; s < 3; s++) {
                assertEquals(reference[s], step(model, loss, opt, x, y), 0f, "cpu step " + s);
            }
            model.to(gpu);
            for (int s = 3; s < 6; s++) {
                // cpu and GPU sum in different orders: the losses agree to float rounding, not bits
                assertEquals(reference[s], step(model, loss, opt, xg, yg), 1e-5 * Math.abs(reference[s]) + 1e-6,
                        "step " + s + " after the move (the Adam moments must have moved too)");
            }
            for (Parameter p : model.parameters()) {
                for (Tensor t : opt.state(p).values()) {
                    assertEquals(gpu, t.device(), "optimizer state of a moved parameter");
                }
            }
        }
    }
}
