package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small seeded problems for the tests of the training listeners: runs in milliseconds on any device. */
final class TinyRuns {
    private TinyRuns() {
    }

    /** {@code n} samples of {@code d} features in {@code classes} classes: class c has its mean at feature c. */
    static Dataset blobs(int n, int d, int classes, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] x = new float[n * d];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = i % classes;
            y[i] = c;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (r.nextGaussian() * 0.5 + (j == c ? 2 : 0));
            }
        }
        return new Dataset("blobs", x, new int[] {d}, y, classes);
    }

    /** An MLP d -> hidden -> classes on {@code device}, seeded. */
    static Layer mlp(int d, int hidden, int classes, long seed, Device device) {
        return Models.build("mlp", new int[] {d}, classes, new int[] {hidden}, 0f, new Generator(seed), device);
    }

    /** Plain SGD (no momentum, no decay) at {@code lr}. */
    static Optimizer sgd(Layer model, double lr) {
        return Optimizers.create("sgd", model.parameters(), new Optimizers.Settings(lr, 0.0, false, 0.0));
    }

    /** A trainer with a fresh cross-entropy loss (on a GPU device, use the overload and close the loss). */
    static Trainer trainer(Layer model, Optimizer opt, Device device) {
        return new Trainer(model, new SoftmaxCrossEntropy(0f), opt, device);
    }

    static Trainer trainer(Layer model, SoftmaxCrossEntropy loss, Optimizer opt, Device device) {
        return new Trainer(model, loss, opt, device);
    }

    /** Host copies of every named tensor of the model. */
    static Map<String, float[]> weights(Layer model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, StateTensor> e : model.namedState().entrySet()) {
            out.put(e.getKey(), host(e.getValue().value()));
        }
        return out;
    }

    static float[] host(Tensor t) {
        return t.to(Device.CPU).toFloatArray();
    }

    /** Records the optimizer's LR as each step used it (register before any LR-changing listener). */
    static final class LrRecorder implements TrainingListener {
        final List<Double> lrs = new ArrayList<>();
        private final Optimizer opt;

        LrRecorder(Optimizer opt) {
            this.opt = opt;
        }

        @Override
        public void onStep(int epoch, int step, int batchSize, Tensor loss) {
            lrs.add(opt.lr());
        }
    }
}
