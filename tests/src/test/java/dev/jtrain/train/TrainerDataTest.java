package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.BatchTransform;
import dev.jtrain.data.DataPipeline;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.data.augment.Augmentation;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.data.preprocess.Preprocessors;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer with a validation set and a training transform (augmentation, mixup) from the data pipeline. */
class TrainerDataTest {
    private static Mnist.Split mnist;

    @BeforeAll
    static void load() throws Exception {
        mnist = Mnist.load(Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k"));
    }


    static DataPipeline.Prepared prepare(int trainN, Double val, String pre, String augment) {
        return DataPipeline.prepare(mnist.train().head(trainN), mnist.test().head(300), val, 5,
                Preprocessors.parse(pre), augment == null ? null : Augmentation.parse(augment),
                d -> Models.inputDims("mlp", d));
    }

    record Run(List<EpochMetrics> history, Evaluation valAfter, float[] firstWeights) {
    }

    static Run fit(DataPipeline.Prepared p, Device device, int epochs) {
        Generator gen = new Generator(3);
        Layer net = Models.build("mlp", p.inputDims(), 10, new int[] {32}, 0f, gen, device);
        Optimizer opt = Optimizers.create("sgd", net.parameters(), new Optimizers.Settings(null, null, false, null));
        try (net; SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(); opt;
             Trainer t = new Trainer(net, ce, opt, device).setTrainTransform(p.trainTransform())) {
            List<EpochMetrics> h = t.fit(p.train(), p.validation(), p.test(), epochs, 64, gen);
            Evaluation v = p.validation() == null ? null : t.evaluate(p.validation(), 64);
            return new Run(h, v, net.parameters().get(0).value().to(Device.CPU).toFloatArray());
        }
    }

    @Test
    void validationIsEvaluatedEveryEpochOnTheHeldOutSamples() {
        DataPipeline.Prepared p = prepare(1200, 0.25, "standardize", null);
        assertEquals(900, p.train().size());
        assertEquals(300, p.validation().size());
        assertNull(p.trainTransform());
        Run r = fit(p, Device.CPU, 2);
        EpochMetrics last = r.history().get(1);
        assertTrue(last.hasValidation());
        // The last epoch's validation figures are those of evaluating the final model on the validation set.
        assertEquals(r.valAfter().loss(), last.valLoss(), 0.0);
        assertEquals(r.valAfter().accuracy(), last.valAccuracy(), 0.0);
        assertTrue(last.valAccuracy() > 0.6, "val acc " + last.valAccuracy());
        assertEquals(900, last.trainSamples());
        assertFalse(fit(prepare(1200, null, "standardize", null), Device.CPU, 1).history().get(0).hasValidation());
    }

    @Test
    void preprocessingIsFittedOnTheTrainingPartOnly() {
        DataPipeline.Prepared p = prepare(1000, 0.3, "center", null);
        // After centering with the training part's mean, the training part has mean 0, the validation part not exactly.
        double sum = 0;
        for (float v : p.train().features()) {
            sum += v;
        }
        assertEquals(0, sum / p.train().features().length, 1e-6);
        double vs = 0;
        for (float v : p.validation().features()) {
            vs += v;
        }
        assertTrue(Math.abs(vs / p.validation().features().length) > 1e-5);
        assertArrayEquals(new int[] {784}, p.train().sampleDims());
        // pca:K gives the model K inputs.
        DataPipeline.Prepared q = prepare(600, null, "pca:20", null);
        assertArrayEquals(new int[] {20}, q.inputDims());
        assertArrayEquals(new int[] {20}, q.test().sampleDims());
    }

    @Test
    void aRestoredPreprocessingIsAppliedAsItWasFitted() {
        DataPipeline.Prepared a = prepare(500, 0.2, "pca:10", null);
        Preprocessor restored = Preprocessors.fromJson(a.preprocessor().toJson());
        DataPipeline.Prepared b = DataPipeline.prepare(mnist.train().head(500), mnist.test().head(300), 0.2, 5, restored,
                null, d -> Models.inputDims("mlp", d));
        assertArrayEquals(a.train().features(), b.train().features());
        assertArrayEquals(a.validation().features(), b.validation().features());
        assertArrayEquals(a.test().features(), b.test().features());
        assertArrayEquals(new int[] {10}, b.inputDims());
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> DataPipeline.prepare(new Dataset("small", new float[8], new int[] {1, 2, 2}, new long[2], 10), null,
                        null, 0, restored, null, d -> d));
        assertTrue(e.getMessage().contains("[1, 28, 28]") && e.getMessage().contains("[1, 2, 2]"), e.getMessage());
    }

    @Test
    void augmentedTrainingIsReproducibleAndLearns() {
        DataPipeline.Prepared p = prepare(1200, null, "standardize", "crop:2,rotate:10,mixup:0.4");
        BatchTransform t = p.trainTransform();
        assertTrue(t != null && t.mixes());
        assertArrayEquals(new int[] {1, 28, 28}, p.train().sampleDims(), "the training set stays as loaded");
        Run a = fit(p, Device.CPU, 2);
        Run b = fit(prepare(1200, null, "standardize", "crop:2,rotate:10,mixup:0.4"), Device.CPU, 2);
        assertArrayEquals(a.firstWeights(), b.firstWeights(), "same seed, same bits");
        EpochMetrics last = a.history().get(1);
        assertTrue(last.testAccuracy() > 0.6, "test acc " + last.testAccuracy());
        // Mixup's train accuracy counts lambda and 1 - lambda: a fraction that is not k / n in general.
        double correct = last.trainAccuracy() * last.trainSamples();
        assertTrue(Math.abs(correct - Math.rint(correct)) > 1e-6, "fractional correct count " + correct);
        Run plain = fit(prepare(1200, null, "standardize", null), Device.CPU, 2);
        assertFalse(java.util.Arrays.equals(plain.firstWeights(), a.firstWeights()));
    }

    @Test
    void augmentedTrainingOnEmuFollowsTheCpu() {
        Device emu = TestDevices.gpu();
        Run c = fit(prepare(256, 0.25, "standardize", "flip,cutout:6,mixup:0.3"), Device.CPU, 1);
        Run g = fit(prepare(256, 0.25, "standardize", "flip,cutout:6,mixup:0.3"), emu, 1);
        EpochMetrics mc = c.history().get(0);
        EpochMetrics mg = g.history().get(0);
        assertEquals(mc.trainLoss(), mg.trainLoss(), 1e-4 * mc.trainLoss());
        assertEquals(mc.valLoss(), mg.valLoss(), 1e-4 * mc.valLoss());
        assertEquals(mc.trainAccuracy(), mg.trainAccuracy(), 1e-6);
    }
}
