package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BasicBlock;
import dev.jtrain.nn.layers.DropConnect;
import dev.jtrain.nn.layers.StochasticDepth;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The named models: output shapes and parameter counts against hand counts (LeNet's 61,706 is also PyTorch's
 * {@code sum(p.numel() for p in model.parameters())} for the same layers), gradient checks of whole models on
 * tiny inputs, cpu-vs-GPU-device parity of one SGD step, and the errors for switches that do not apply.
 */
class ModelsTest {

    private static Layer build(String model, int[] chw, int[] hidden, float dropout, Models.Options o, long seed) {
        return Models.build(model, Models.inputDims(model, chw), 10, hidden, dropout, o, new Generator(seed), Device.CPU);
    }

    private static Layer build(String model, int[] chw) {
        return build(model, chw, null, 0f, Models.Options.DEFAULT, 0);
    }

    /*
     * Hand counts (weights + biases; BatchNorm: gamma + beta, running statistics are buffers):
     * mlp 784-512-512-10:   784*512+512 + 512*512+512 + 512*10+10                           = 669,706
     * mlp + BatchNorm1d:    669,706 + 2*512 + 2*512                                         = 671,754
     * cnn 1x28x28:          (9+1)*32 + (32*9+1)*64 + (64*7*7+1)*128 + 129*10                = 421,642
     * lenet 1x28x28:        (25+1)*6 + (6*25+1)*16 + (400+1)*120 + 121*84 + 85*10           =  61,706
     * lenet 3x32x32:        (75+1)*6 + 2,416 + (16*6*6+1)*120 + 10,164 + 850                =  83,126
     * vgg 1x28x28:          9*32+64 + 9*32*32+64 + 9*32*64+128 + 9*64*64+128 + (64*7*7+1)*128 + 1,290 = 468,010
     * vgg 3x32x32:          27*32+64 + 9,280 + 18,560 + 36,992 + (64*8*8+1)*128 + 1,290     = 591,466
     * resnet 1x28x28:       stem 9*16+32; block 16->16: 2*(9*16*16+32);
     *                       block 16->32/2: 9*16*32+64 + 9*32*32+64 + 16*32+64;
     *                       block 32->64/2: 9*32*64+128 + 9*64*64+128 + 32*64+128; fc 64*10+10 = 77,754
     * resnet 3x32x32:       77,754 + 2*9*16 (the stem sees 3 channels)                      = 78,042
     */
    @ParameterizedTest
    @CsvSource({
            "mlp, 1, 28, 28, false, 669706",
            "mlp, 1, 28, 28, true, 671754",
            "cnn, 1, 28, 28, false, 421642",
            "lenet, 1, 28, 28, false, 61706",
            "lenet, 3, 32, 32, false, 83126",
            "vgg, 1, 28, 28, false, 468010",
            "vgg, 3, 32, 32, false, 591466",
            "resnet, 1, 28, 28, false, 77754",
            "resnet, 3, 32, 32, false, 78042",
    })
    void parameterCountsAndOutputShapeMatchTheHandCount(String model, int c, int h, int w, boolean bn, long count) {
        Models.Options o = new Models.Options("relu", bn, 0f, 0f);
        try (Layer net = build(model, new int[] {c, h, w}, null, 0f, o, 1)) {
            assertEquals(count, net.parameterCount(), model + " " + c + "x" + h + "x" + w);
            int[] in = Models.inputDims(model, new int[] {c, h, w});
            int[] batch = new int[in.length + 1];
            batch[0] = 3;
            System.arraycopy(in, 0, batch, 1, in.length);
            Tensor y = net.forward(GradCheck.uniform(5, -1, 1, batch), false);
            assertArrayEquals(new int[] {3, 10}, y.dims(), model + " output");
            // a training forward too (BatchNorm batch statistics, every layer's train path)
            assertArrayEquals(new int[] {3, 10}, net.forward(GradCheck.uniform(6, -1, 1, batch), true).dims());
        }
    }

    @Test
    void flatMnistSamplesAreSeenAsImagesByTheImageModels() {
        for (String m : List.of("cnn", "lenet", "vgg", "resnet")) {
            assertArrayEquals(new int[] {1, 28, 28}, Models.inputDims(m, new int[] {784}), m);
            assertArrayEquals(new int[] {3, 32, 32}, Models.inputDims(m, new int[] {3, 32, 32}), m);
        }
        assertArrayEquals(new int[] {3072}, Models.inputDims("mlp", new int[] {3, 32, 32}));
    }

    @Test
    void lenetHasTheCourseLayersInPyTorchOrderAndNames() {
        try (Layer net = build("lenet", new int[] {1, 28, 28})) {
            Map<String, Parameter> p = net.namedParameters();
            assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias",
                    "11.weight", "11.bias"), new ArrayList<>(p.keySet()));
            assertArrayEquals(new int[] {6, 1, 5, 5}, p.get("0.weight").value().dims());
            assertArrayEquals(new int[] {16, 6, 5, 5}, p.get("3.weight").value().dims());
            assertArrayEquals(new int[] {120, 400}, p.get("7.weight").value().dims());
            assertArrayEquals(new int[] {84, 120}, p.get("9.weight").value().dims());
            assertArrayEquals(new int[] {10, 84}, p.get("11.weight").value().dims());
        }
    }

    @Test
    void resnetUsesProjectionShortcutsWhereTheShapeChangesAndIdentityElsewhere() {
        try (Layer net = build("resnet", new int[] {1, 28, 28})) {
            Map<String, Layer> c = net.children();
            assertEquals(false, ((BasicBlock) c.get("3")).hasProjection());
            assertEquals(true, ((BasicBlock) c.get("4")).hasProjection());
            assertEquals(true, ((BasicBlock) c.get("5")).hasProjection());
            assertArrayEquals(new int[] {32, 16, 1, 1}, net.namedParameters().get("4.downsample.weight").value().dims());
        }
    }

    @Test
    void stochasticDepthDecaysLinearlyOverTheResidualBlocks() {
        try (Layer net = build("resnet", new int[] {1, 28, 28}, null, 0f, new Models.Options("relu", false, 0f, 0.3f), 0)) {
            float[] expected = {0.1f, 0.2f, 0.3f};
            for (int b = 0; b < 3; b++) {
                BasicBlock block = (BasicBlock) net.children().get(String.valueOf(3 + b));
                assertEquals(expected[b], ((StochasticDepth) block.layer("drop")).p(), 1e-6f, "block " + b);
            }
        }
    }

    @Test
    void dropConnectReplacesTheHiddenLinearsOfTheMlp() {
        try (Layer net = build("mlp", new int[] {1, 28, 28}, new int[] {64, 32}, 0f,
                new Models.Options("tanh", false, 0.25f, 0f), 0)) {
            Map<String, Layer> c = net.children();
            assertInstanceOf(DropConnect.class, c.get("0"));
            assertInstanceOf(dev.jtrain.nn.layers.Tanh.class, c.get("1"));
            assertInstanceOf(DropConnect.class, c.get("2"));
            assertInstanceOf(dev.jtrain.nn.layers.Linear.class, c.get("4"));
            assertEquals(0.25f, ((DropConnect) c.get("0")).p());
        }
    }

    @Test
    void switchesThatDoNotApplyToTheModelAreErrorsNamingThem() {
        assertMessage("batchNorm applies to mlp and cnn", () -> Models.validate("lenet", new int[0], 0f, new Models.Options("relu", true, 0, 0)));
        assertMessage("dropConnect applies to mlp", () -> Models.validate("cnn", new int[0], 0f, new Models.Options("relu", false, 0.5f, 0)));
        assertMessage("stochasticDepth applies to resnet", () -> Models.validate("mlp", new int[0], 0f, new Models.Options("relu", false, 0, 0.5f)));
        assertMessage("stochasticDepth must be in [0, 1]", () -> Models.validate("resnet", new int[0], 0f,
                new Models.Options("relu", false, 0, 1.5f)));
        assertMessage("activation: unknown nonlinearity 'swish'", () -> Models.validate("mlp", new int[0], 0f,
                new Models.Options("swish", false, 0, 0)));
        assertMessage("hidden applies to mlp and cnn", () -> Models.validate("vgg", new int[] {10}, 0f, Models.Options.DEFAULT));
        assertMessage("dropout applies to", () -> Models.validate("resnet", new int[0], 0.5f, Models.Options.DEFAULT));
        assertMessage("unknown model 'alexnet'", () -> Models.validate("alexnet", new int[0], 0f, Models.Options.DEFAULT));
        assertMessage("lenet needs images of at least 12x12", () -> build("lenet", new int[] {1, 8, 8}));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "message '" + ex.getMessage() + "' should contain '" + part + "'");
    }

    /**
     * Whole-model gradient check on a tiny input (eval mode for BatchNorm so that a sample's output does not
     * depend on the others': the analytic backward then covers the running-statistics path; the train-mode
     * BatchNorm gradient is checked in BatchNormTest). dx is checked everywhere; of each parameter, 8 random
     * elements (the whole model would take minutes). Smooth tanh where the model takes {@code --activation};
     * the ResNet keeps ReLU, and max pooling has kinks too (a bias or weight step moves many pre-activations): an
     * element whose one-sided slopes over [x - h, x] and [x, x + h] disagree has a kink within h and is skipped
     * (at most 15 % of them may be). Central differences with h = 1e-3 on float32 forwards: noise about
     * 6e-8·Σ|y·r|/h ~ 1e-4, truncation O(h²) ~ 1e-6 relative; tolerances 2e-2 relative + 2e-3 absolute.
     */
    @ParameterizedTest
    @CsvSource({"mlp, 1, 6, 6", "cnn, 2, 8, 8", "lenet, 1, 12, 12", "vgg, 2, 8, 8", "resnet, 2, 8, 8"})
    void wholeModelGradientsMatchCentralDifferences(String model, int c, int h, int w) {
        int[] hidden = model.equals("mlp") ? new int[] {7, 5} : model.equals("cnn") ? new int[] {6} : null;
        Models.Options smooth = new Models.Options(model.equals("resnet") ? "relu" : "tanh", false, 0f, 0f);
        try (Layer net = Models.build(model, Models.inputDims(model, new int[] {c, h, w}), 4, hidden, 0f,
                smooth, new Generator(3), Device.CPU)) {
            int[] in = Models.inputDims(model, new int[] {c, h, w});
            int[] batch = new int[in.length + 1];
            batch[0] = model.equals("mlp") ? 2 : 1;  // fewer positions, fewer kinks; eval mode needs no batch
            System.arraycopy(in, 0, batch, 1, in.length);
            Tensor x = GradCheck.uniform(11, -1, 1, batch);
            if (!model.equals("mlp")) {  // BatchNorm running stats away from their init, so eval is not identity
                int[] stats = batch.clone();
                stats[0] = 4;
                net.forward(GradCheck.uniform(12, -1, 2, stats), true);
            }
            sampledGradCheck(net, x, 1e-3, 2e-2, 2e-3);
        }
    }

    private static void sampledGradCheck(Layer net, Tensor x, double h, double rtol, double atol) {
        Tensor y = net.forward(x, false);
        float[] r = GradCheck.random(y.numel(), 99);
        net.zeroGrad();
        float[] dx = net.backward(Tensor.of(r.clone(), y.dims())).toFloatArray();
        List<String> bad = new ArrayList<>();
        float[] xs = x.floats();
        int[] counts = new int[2];  // checked, skipped
        for (int i = 0; i < xs.length; i++) {
            check("dx[" + i + "]", dx[i], net, x, xs, i, r, h, rtol, atol, bad, counts);
        }
        SplittableRandom rnd = new SplittableRandom(7);
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            float[] g = e.getValue().grad().toFloatArray();
            float[] v = e.getValue().value().floats();
            for (int k = 0; k < 8; k++) {
                int i = rnd.nextInt(v.length);
                check(e.getKey() + "[" + i + "]", g[i], net, x, v, i, r, h, rtol, atol, bad, counts);
            }
        }
        assertTrue(counts[1] <= 0.15 * counts[0], counts[1] + " of " + counts[0] + " elements skipped (kink within h)");
        if (!bad.isEmpty()) {
            fail("gradient check failed:\n  " + String.join("\n  ", bad));
        }
    }

    private static void check(String what, double a, Layer net, Tensor x, float[] data, int i, float[] r, double h,
                              double rtol, double atol, List<String> bad, int[] counts) {
        counts[0]++;
        float orig = data[i];
        float xp = (float) (orig + h);
        float xm = (float) (orig - h);
        double f0 = GradCheck.dot(net.forward(x, false), r);
        data[i] = xp;
        double fp = GradCheck.dot(net.forward(x, false), r);
        data[i] = xm;
        double fm = GradCheck.dot(net.forward(x, false), r);
        data[i] = orig;
        double right = (fp - f0) / ((double) xp - orig);
        double left = (f0 - fm) / ((double) orig - xm);
        if (!close(right, left, rtol, 2 * atol)) {
            counts[1]++;    // the one-sided slopes differ: a ReLU/max-pool kink within h, not a wrong gradient
            return;
        }
        double n = (fp - fm) / ((double) xp - (double) xm);
        if (!close(a, n, rtol, atol)) {
            bad.add(what + ": analytic " + a + " numeric " + n);
        }
    }

    private static boolean close(double a, double b, double rtol, double atol) {
        return Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b));
    }

    /**
     * One SGD step (momentum 0.9) of each new model on a batch of 4 on the cpu and on the GPU device from the same
     * initial bits: the loss and every updated parameter agree within float32 rounding of different summation
     * orders (atol 1e-4 times the tensor's largest magnitude + rtol 1e-4). Stochastic depth and DropConnect are on,
     * so their Philox masks must match across devices too.
     */
    @ParameterizedTest
    @CsvSource({"lenet, relu, 0, 0", "vgg, relu, 0, 0", "resnet, relu, 0, 0.5", "mlp, tanh, 0.3, 0"})
    void oneTrainingStepMatchesOnTheGpuDevice(String model, String act, float dropConnect, float depth) {
        Device gpu = TestDevices.gpu();
        Models.Options o = new Models.Options(act, false, dropConnect, depth);
        int[] chw = model.equals("mlp") ? new int[] {1, 12, 12} : new int[] {3, 16, 16};
        int[] hidden = model.equals("mlp") ? new int[] {32, 16} : null;
        List<float[]> cpu = step(model, chw, hidden, o, Device.CPU);
        long before = TestDevices.inUseBytes(gpu);
        List<float[]> dev = step(model, chw, hidden, o, gpu);
        assertEquals(before, TestDevices.inUseBytes(gpu), model + ": device memory left in use");
        assertEquals(cpu.size(), dev.size());
        for (int k = 0; k < cpu.size(); k++) {
            float[] a = cpu.get(k);
            float[] b = dev.get(k);
            double scale = 0;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-4 * scale + 1e-4 * Math.abs(a[i]), model + " tensor " + k + " at " + i);
            }
        }
    }

    private static List<float[]> step(String model, int[] chw, int[] hidden, Models.Options o, Device dev) {
        List<float[]> out = new ArrayList<>();
        Generator gen = new Generator(42);
        int[] in = Models.inputDims(model, chw);
        int[] batch = new int[in.length + 1];
        batch[0] = 4;
        System.arraycopy(in, 0, batch, 1, in.length);
        try (Layer net = Models.build(model, in, 10, hidden, 0f, o, gen, dev);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
             Tensor x = GradCheck.uniform(21, -1, 1, batch).to(dev);
             Tensor labels = Tensor.ofLongs(new long[] {3, 7, 0, 9}, 4).to(dev);
             Sgd sgd = new Sgd(net.parameters(), 0.1, 0.9)) {
            Tensor l = loss.forward(net.forward(x, true), labels);
            out.add(new float[] {l.to(Device.CPU).item()});
            net.zeroGrad();
            net.backward(loss.backward());
            sgd.step();
            for (Parameter p : net.namedParameters().values()) {
                out.add(p.value().to(Device.CPU).toFloatArray());
            }
        }
        return out;
    }

    @Test
    void theDefaultSequentialOfTheMlpIsUnchanged() {
        // The existing 3-arg builders keep their layers (ckpt names, benchmarks): Linear ReLU Linear ReLU Linear.
        Sequential s = Models.mlp(784, new int[] {512, 512}, 10, 0f, new Generator(0));
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"),
                new ArrayList<>(s.namedParameters().keySet()));
        s.close();
    }
}
