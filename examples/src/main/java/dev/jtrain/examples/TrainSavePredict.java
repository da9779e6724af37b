package dev.jtrain.examples;

import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.infer.Predictor;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.Trainer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * An application of jtrain-core alone: trains an MLP on MNIST for one epoch on the cpu, saves a checkpoint,
 * loads it, predicts the test set from 4 threads at once and prints the accuracy. Exits with status 1 when
 * the accuracy is below {@value #MIN_ACCURACY} or when a thread's predictions differ from the single-threaded
 * ones. Argument: the MNIST folder (default ../data/mnist-10k, the copy bundled with jtrain).
 */
public final class TrainSavePredict {
    static final double MIN_ACCURACY = 0.90;
    static final int THREADS = 4;
    static final int BATCH = 250;

    private TrainSavePredict() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args.length > 0 ? args[0] : "../data/mnist-10k");
        Mnist.Split data = Mnist.load(dataDir).flattened();
        data.normalize();  // the training set's mean and std, applied to both sets
        Dataset test = data.test();

        // Train one epoch and save a checkpoint (weights as safetensors, training state in a JSON sidecar).
        Path checkpoint = Files.createTempDirectory("jtrain-example").resolve("mlp.safetensors");
        Generator gen = new Generator(0);
        try (Layer model = mlp(gen)) {
            Optimizer opt = new Sgd(model.parameters(), 0.05, 0.9, 0, 0, false);
            try (Trainer trainer = new Trainer(model, new SoftmaxCrossEntropy(0f), opt, Device.CPU)) {
                List<EpochMetrics> history = trainer.fit(data.train(), test, 1, 64, gen);
                System.out.printf(Locale.ROOT, "trained 1 epoch: train loss %.4f%n", history.get(0).trainLoss());
                Checkpoint.ofTraining(model, opt, gen, history.size(), null, null, null, null).save(checkpoint);
            }
        }

        // Load it and predict single-threaded, then from 4 threads at once through one Predictor: each
        // concurrent call borrows a replica of the model that reads the loaded weights (no copy), since a layer
        // reuses its output buffer on its next forward and so serves one caller at a time.
        Checkpoint saved = Checkpoint.load(checkpoint);
        float[] reference;
        List<Future<float[]>> results = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try (Layer model = load(saved);
             Predictor predictor = Predictor.builder(model, () -> mlp(new Generator(1))).maxReplicas(THREADS).build()) {
            reference = predict(predictor, test);
            for (int t = 0; t < THREADS; t++) {
                results.add(pool.submit(() -> predict(predictor, test)));
            }
            for (Future<float[]> f : results) {
                f.get(); // all done before the predictor closes
            }
        }
        boolean same = true;
        for (int t = 0; t < THREADS; t++) {
            if (!Arrays.equals(reference, results.get(t).get())) {
                System.out.println("thread " + t + ": predictions differ from the single-threaded ones");
                same = false;
            }
        }
        pool.shutdown();

        double accuracy = accuracy(reference, test);
        System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d images), %d threads agree with 1 thread: %s%n",
                100 * accuracy, test.size(), THREADS, same);
        if (!same || accuracy < MIN_ACCURACY) {
            System.out.println("FAILED" + (accuracy < MIN_ACCURACY ? ": accuracy below " + MIN_ACCURACY : ""));
            System.exit(1);
        }
    }

    /** 784-512-512-10 with ReLU, PyTorch's default initialisation from {@code gen}. */
    static Sequential mlp(Generator gen) {
        return new Sequential(
                new Linear(784, 512, true, gen), new ReLU(),
                new Linear(512, 512, true, gen), new ReLU(),
                new Linear(512, 10, true, gen));
    }

    static Layer load(Checkpoint saved) throws Exception {
        Sequential model = mlp(new Generator(1));  // initial values are overwritten by the checkpoint's
        saved.restoreModel(model, name -> false);  // restore every weight
        return model;
    }

    /** The logits of every sample of {@code data}, in batches of {@value #BATCH} (eval mode: no dropout, no grads). */
    static float[] predict(Predictor predictor, Dataset data) {
        int d = data.sampleSize();
        float[] logits = new float[data.size() * data.numClasses()];
        for (int from = 0; from < data.size(); from += BATCH) {
            int n = Math.min(BATCH, data.size() - from);
            Tensor x = Tensor.of(Arrays.copyOfRange(data.features(), from * d, (from + n) * d), n, d);
            float[] out;
            try (Tensor logitsOfBatch = predictor.predict(x)) { // a host tensor the caller owns
                out = logitsOfBatch.toFloatArray();
            }
            System.arraycopy(out, 0, logits, from * data.numClasses(), out.length);
        }
        return logits;
    }

    static double accuracy(float[] logits, Dataset data) {
        int c = data.numClasses();
        long[] labels = data.labels();
        int correct = 0;
        for (int i = 0; i < data.size(); i++) {
            int best = 0;
            for (int k = 1; k < c; k++) {
                if (logits[i * c + k] > logits[i * c + best]) {
                    best = k;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return (double) correct / data.size();
    }
}
