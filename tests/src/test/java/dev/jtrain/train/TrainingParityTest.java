package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.GradClipping;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whole training runs on the cpu and on the GPU device ({@link TestDevices#gpu()}, emu by default) from the
 * same initial weights, the same MNIST batches (the project's copy, data/mnist-10k) and the same dropout
 * generator: an MLP (Linear, BatchNorm1d, ReLU, Dropout, Linear) and a small CNN (Conv2d, BatchNorm2d, ReLU,
 * MaxPool2d, strided Conv2d, ReLU, Flatten, Dropout, Linear), 20 steps of SGD with momentum or Adam, with
 * global-norm gradient clipping, softmax cross-entropy with label smoothing.
 *
 * <p>Tolerances. Every op agrees with the cpu to its own float32 rounding (GpuBackendParityTest), but the
 * sums (GEMM, convolution, batch-norm statistics, biases) run in other orders, so each step's results differ
 * in the last bits, and training feeds those differences back: they grow mildly with the steps (and a
 * ReLU or max-pool choice can flip for an input within rounding of the boundary). Losses: rtol 1e-4 (1 +
 * step / 10), i.e. 1e-4 at the start to 3e-4 at step 20, from FORMAT.md's 1e-4 preset for float32
 * reductions and training runs. Final parameters: atol 1e-3 times the largest |value| of the tensor plus
 * rtol 1e-3: about a hundred times the float32 rounding of one SGD/Adam update compounded over 20 steps,
 * still far below the change that training makes (checked: the parameters moved by more than that).
 */
class TrainingParityTest {
    private static final int STEPS = 20;
    private static Dataset mnist;
    private static Device gpu;

    @BeforeAll
    static void load() throws Exception {
        gpu = TestDevices.gpu();
        Path dir = Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k");
        mnist = Mnist.loadSet(dir, "t10k");
    }

    // The layers in front of a BatchNorm have no bias (the usual practice): BatchNorm subtracts the batch mean,
    // so such a bias has a gradient that is exactly 0 in exact arithmetic and pure rounding noise in float32,
    // which Adam's m / sqrt(v) scales up to full-size steps in directions that differ between any two
    // summation orders (seen: a bias in front of BatchNorm1d drifted 4e-3 relative apart in 20 Adam steps).
    private static Layer mlp(Generator gen, Device d) {
        return new Sequential(new Linear(784, 32, false, gen, d), new BatchNorm1d(32, d), new ReLU(),
                new Dropout(0.2f, gen), new Linear(32, 10, true, gen, d));
    }

    private static Layer cnn(Generator gen, Device d) {
        // [N, 1, 28, 28] -> conv 3x3 pad 1 -> [N, 4, 28, 28] -> BN, ReLU, max-pool 2 -> [N, 4, 14, 14]
        // -> conv 3x3 stride 2 pad 1 -> [N, 6, 7, 7] -> ReLU, flatten (294), dropout -> Linear(294, 10)
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, false, gen, d), new BatchNorm2d(4, d), new ReLU(),
                new MaxPool2d(2, 2), new Conv2d(4, 6, 3, 2, 1, true, gen, d), new ReLU(), new Flatten(),
                new Dropout(0.25f, gen), new Linear(294, 10, true, gen, d));
    }

    private record Run(float[] losses, float evalLoss, Map<String, float[]> initial, Map<String, float[]> fin) {
    }

    private static Map<String, float[]> snapshot(Layer model) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            m.put(e.getKey(), e.getValue().value().to(Device.CPU).toFloatArray());
        }
        return m;
    }

    /** Trains on device d from the initial values {@code init} (null: keep the model's own). */
    private static Run train(String model, String optimizer, int batch, Device d, Map<String, float[]> init) {
        long before = d.isHost() ? 0 : TestDevices.inUseBytes(d);
        Generator gen = new Generator(2024);
        Layer net = model.equals("mlp") ? mlp(gen, d) : cnn(gen, d);
        Map<String, float[]> initial = snapshot(net);
        if (init != null) {                                  // identical initial weights on both devices
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                float[] v = init.get(e.getKey());
                e.getValue().set(Tensor.of(v.clone(), e.getValue().value().dims()));
            }
        }
        Optimizer opt = optimizer.equals("sgd") ? new Sgd(net.parameters(), 0.05, 0.9)
                : new Adam(net.parameters(), 2e-3);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0.1f);
        int[] sample = model.equals("mlp") ? new int[] {784} : new int[] {1, 28, 28};
        float[] losses = new float[STEPS];
        float[] feats = mnist.features();
        long[] labels = mnist.labels();
        List<Tensor> batches = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            int from = s * batch;
            int[] dims = new int[sample.length + 1];
            dims[0] = batch;
            System.arraycopy(sample, 0, dims, 1, sample.length);
            Tensor x = Tensor.of(Arrays.copyOfRange(feats, from * 784, (from + batch) * 784), dims).to(d);
            Tensor y = Tensor.ofLongs(Arrays.copyOfRange(labels, from, from + batch), batch).to(d);
            batches.add(x);
            batches.add(y);
            net.zeroGrad();
            losses[s] = loss.forward(net.forward(x, true), y).to(Device.CPU).item();
            net.backward(loss.backward());
            GradClipping.clipGradNorm(net.parameters(), 0.5f).close();   // small enough to clip most steps
            opt.step();
        }
        Tensor xe = batches.get(0);
        float evalLoss = loss.forward(net.forward(xe, false), batches.get(1)).to(Device.CPU).item();
        Map<String, float[]> fin = snapshot(net);
        net.close();
        opt.close();
        loss.close();
        for (Tensor t : batches) {
            t.close();
        }
        if (!d.isHost()) {
            assertEquals(before, TestDevices.inUseBytes(d),
                    "device bytes still in use after closing model, optimizer, loss and batches on " + d);
        }
        return new Run(losses, evalLoss, initial, fin);
    }

    @ParameterizedTest(name = "{0} {1} batch {2}")
    @CsvSource({"mlp, sgd, 23", "mlp, adam, 23", "cnn, sgd, 13", "cnn, adam, 13"})
    void trainingAgreesStepByStep(String model, String optimizer, int batch) {
        Run cpu = train(model, optimizer, batch, Device.CPU, null);
        Run dev = train(model, optimizer, batch, gpu, cpu.initial());
        String what = model + " " + optimizer + " on " + gpu + " vs cpu";

        // the device's own initialisation from the same generator is the same (uniform Philox draws: exact)
        for (Map.Entry<String, float[]> e : cpu.initial().entrySet()) {
            float[] mine = dev.initial().get(e.getKey());
            for (int i = 0; i < mine.length; i++) {
                if (Float.floatToIntBits(mine[i]) != Float.floatToIntBits(e.getValue()[i])) {
                    fail(what + ": initial " + e.getKey() + "[" + i + "] is " + mine[i] + " on " + gpu + ", "
                            + e.getValue()[i] + " on cpu (same generator)");
                }
            }
        }

        for (int s = 0; s < STEPS; s++) {
            double rtol = 1e-4 * (1 + s / 10.0);
            float e = cpu.losses()[s];
            float g = dev.losses()[s];
            assertTrue(Float.isFinite(e) && Float.isFinite(g), what + ": step " + (s + 1) + " loss " + g + " / " + e);
            if (Math.abs(g - e) > rtol * Math.abs(e)) {
                fail(what + ": step " + (s + 1) + " loss " + g + ", cpu " + e + " (|diff| " + Math.abs(g - e)
                        + " > rtol " + rtol + "); losses\n  cpu " + Arrays.toString(cpu.losses()) + "\n  "
                        + gpu + " " + Arrays.toString(dev.losses()));
            }
        }
        double evalRtol = 1e-4 * (1 + STEPS / 10.0);
        assertTrue(Math.abs(dev.evalLoss() - cpu.evalLoss()) <= evalRtol * Math.abs(cpu.evalLoss()),
                what + ": eval-mode loss " + dev.evalLoss() + ", cpu " + cpu.evalLoss());
        assertTrue(cpu.losses()[STEPS - 1] < cpu.losses()[0], what + ": the cpu run did not learn: "
                + Arrays.toString(cpu.losses()));

        compareParams(what, cpu, dev);
    }

    private static void compareParams(String what, Run cpu, Run dev) {
        BiFunction<float[], float[], Double> maxDiff = (a, b) -> {
            double m = 0;
            for (int i = 0; i < a.length; i++) {
                m = Math.max(m, Math.abs((double) a[i] - b[i]));
            }
            return m;
        };
        double moved = 0;
        double tolAll = 0;
        for (Map.Entry<String, float[]> e : cpu.fin().entrySet()) {
            String name = e.getKey();
            float[] c = e.getValue();
            float[] g = dev.fin().get(name);
            double scale = 0;
            for (float v : c) {
                scale = Math.max(scale, Math.abs(v));
            }
            double atol = 1e-3 * scale;
            for (int i = 0; i < c.length; i++) {
                if (!(Math.abs((double) g[i] - c[i]) <= atol + 1e-3 * Math.abs(c[i]))) {
                    fail(what + ": final " + name + "[" + i + "] is " + g[i] + " on " + gpu + ", " + c[i]
                            + " on cpu (|diff| " + Math.abs((double) g[i] - c[i]) + " > " + (atol + 1e-3 * Math.abs(c[i]))
                            + ")");
                }
            }
            moved = Math.max(moved, maxDiff.apply(c, cpu.initial().get(name)));
            tolAll = Math.max(tolAll, atol);
        }
        assertTrue(moved > 10 * tolAll, what + ": training moved the parameters by at most " + moved
                + ", not clearly more than the tolerance " + tolAll + " (the comparison would prove nothing)");
    }
}
