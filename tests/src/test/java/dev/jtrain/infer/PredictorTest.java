package dev.jtrain.infer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.data.preprocess.Preprocessors;
import dev.jtrain.ensemble.ModelFactory;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PredictorTest {
    @TempDir
    Path tmp;

    /** A small CNN with BatchNorm and dropout (both behave differently in eval mode) on 1 x 8 x 8 images. */
    private static Supplier<Layer> cnn(Device device) {
        return () -> Models.cnn(new int[] {1, 8, 8}, new int[] {16}, 5, 0.3f,
                new Models.Options("relu", true, 0f, 0f), new Generator(11), device);
    }

    private static Supplier<Layer> mlp(Device device) {
        return () -> Models.mlp(12, new int[] {16, 16}, 4, 0.2f, new Models.Options("relu", true, 0f, 0f),
                new Generator(5), device);
    }

    private static Tensor randn(long seed, int... dims) {
        Random r = new Random(seed);
        float[] a = new float[Shape.of(dims).numel()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return Tensor.of(a, dims);
    }

    /** A few SGD steps so that weights and BatchNorm's running statistics are not the initial ones. */
    private static Layer trained(Supplier<Layer> arch, int... sampleDims) {
        Layer model = arch.get();
        int[] dims = new int[sampleDims.length + 1];
        dims[0] = 16;
        System.arraycopy(sampleDims, 0, dims, 1, sampleDims.length);
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Sgd opt = new Sgd(model.parameters(), 0.05, 0.9, 0, 0, false)) {
            for (int step = 0; step < 5; step++) {
                Tensor x = randn(100 + step, dims).to(model.parameters().get(0).value().device());
                long[] y = new long[16];
                for (int i = 0; i < 16; i++) {
                    y[i] = (i * 7 + step) % 4;
                }
                Tensor labels = Tensor.ofLongs(y, 16).to(x.device());
                model.zeroGrad();
                loss.forward(model.forward(x, true), labels);
                model.backward(loss.backward());
                opt.step();
                x.close();
                labels.close();
            }
        }
        return model;
    }

    @Test
    void predictIsTheModelsEvalForwardAndTheCallerOwnsIt() {
        try (Layer model = trained(cnn(Device.CPU), 1, 8, 8);
             Predictor p = Predictor.of(model, cnn(Device.CPU))) {
            Tensor x = randn(1, 3, 1, 8, 8);
            float[] expected = model.forward(x, false).toFloatArray();
            Tensor first = p.predict(x);
            assertArrayEquals(expected, first.floats(), 0f, "the replica computes what the trained model computes");
            Tensor second = p.predict(randn(2, 3, 1, 8, 8));
            assertNotSame(first, second);
            assertArrayEquals(expected, first.floats(), 0f, "a later prediction leaves an earlier result alone");
        }
    }

    @Test
    void manyThreadsGetTheBitsOfOneThread() throws Exception {
        int threads = 8;
        int batches = 24;
        try (Layer model = trained(cnn(Device.CPU), 1, 8, 8);
             Predictor p = Predictor.builder(model, cnn(Device.CPU)).maxReplicas(5).build()) {
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> single = new ArrayList<>();
            for (int b = 0; b < batches; b++) {
                inputs.add(randn(1000 + b, 1 + b % 7, 1, 8, 8)); // batch sizes 1..7: buffers are re-shaped under load
                single.add(p.predict(inputs.get(b)).floats());
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<List<float[]>>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int offset = t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        List<float[]> out = new ArrayList<>();
                        for (int k = 0; k < batches; k++) {
                            out.add(p.predict(inputs.get((k + offset) % batches)).floats());
                        }
                        return out;
                    }));
                }
                start.countDown();
                for (int t = 0; t < threads; t++) {
                    List<float[]> got = futures.get(t).get();
                    for (int k = 0; k < batches; k++) {
                        assertArrayEquals(single.get((k + t) % batches), got.get(k), 0f,
                                "thread " + t + ", batch " + (k + t) % batches);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(p.replicas() > 1 && p.replicas() <= 5, "replicas: " + p.replicas());
        }
    }

    @Test
    void emuPredictsFromManyThreadsAsFromOne() throws Exception {
        Device emu = TestDevices.gpu();
        long before = TestDevices.inUseBytes(emu);
        try (Layer model = trained(mlp(emu), 12);
             Predictor p = Predictor.builder(model, mlp(emu)).maxReplicas(4).build()) {
            Tensor x = randn(7, 5, 12);
            float[] expected;
            try (Tensor y = p.predict(x)) { // a host batch is uploaded; the result is read back to the host
                assertEquals(Device.CPU, y.device());
                expected = y.floats();
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    futures.add(pool.submit(() -> {
                        float[] last = null;
                        for (int k = 0; k < 5; k++) {
                            last = p.predict(x).floats();
                        }
                        return last;
                    }));
                }
                for (Future<float[]> f : futures) {
                    assertArrayEquals(expected, f.get(), 0f);
                }
            } finally {
                pool.shutdownNow();
            }
            try (Layer onCpu = trained(mlp(Device.CPU), 12); Predictor cpu = Predictor.of(onCpu, mlp(Device.CPU))) {
                assertArrayEquals(cpu.predict(x).floats(), expected, 1e-4f, "emu agrees with the cpu");
            }
        }
        assertEquals(before, TestDevices.inUseBytes(emu), "closing the predictor and the model returned every block");
    }

    @Test
    void foldedBatchNormPredictsTheSameUpToRounding() {
        try (Layer model = trained(cnn(Device.CPU), 1, 8, 8);
             Predictor plain = Predictor.of(model, cnn(Device.CPU));
             Predictor folded = Predictor.builder(model, cnn(Device.CPU)).foldBatchNorm(true).build()) {
            Tensor x = randn(3, 6, 1, 8, 8);
            float[] a = plain.predict(x).floats();
            float[] b = folded.predict(x).floats();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-4f * (1 + Math.abs(a[i])), "logit " + i);
            }
            boolean anyDiffers = false;
            for (int i = 0; i < a.length; i++) {
                anyDiffers |= a[i] != b[i];
            }
            assertTrue(anyDiffers, "folding changes the arithmetic (else it did not happen)");
            assertArrayEquals(b, folded.predict(x).floats(), 0f);
        }
    }

    @Test
    void foldingReplacesEachBatchNormAfterALinearOrConv() {
        Layer folded = SequentialFolding.fold(trained(cnn(Device.CPU), 1, 8, 8));
        try (folded) {
            for (String name : folded.namedParameters().keySet()) {
                assertTrue(!name.contains("running"), "no BatchNorm left, found " + name);
            }
            assertTrue(folded.namedParameters().containsKey("0.bias"));
            assertTrue(((Sequential) folded).get(1) instanceof dev.jtrain.nn.layers.Identity);
            assertTrue(((Sequential) folded).layers().stream().noneMatch(l -> l instanceof BatchNorm));
        }
    }

    @Test
    void probabilitiesAreTheSoftmaxAndClassesTheArgmaxOfTheLogits() {
        try (Layer model = trained(mlp(Device.CPU), 12); Predictor p = Predictor.of(model, mlp(Device.CPU))) {
            Tensor x = randn(9, 7, 12);
            float[] logits = p.predict(x).floats();
            float[] probs = p.predictProbabilities(x).floats();
            int[] classes = p.predictClasses(x);
            assertEquals(7, classes.length);
            for (int n = 0; n < 7; n++) {
                double max = Double.NEGATIVE_INFINITY;
                int arg = 0;
                for (int c = 0; c < 4; c++) {
                    if (logits[n * 4 + c] > max) {
                        max = logits[n * 4 + c];
                        arg = c;
                    }
                }
                double sum = 0;
                for (int c = 0; c < 4; c++) {
                    sum += Math.exp(logits[n * 4 + c] - max);
                }
                for (int c = 0; c < 4; c++) {
                    assertEquals(Math.exp(logits[n * 4 + c] - max) / sum, probs[n * 4 + c], 1e-6, "p[" + n + "," + c + "]");
                }
                assertEquals(arg, classes[n], "sample " + n);
            }
        }
    }

    @Test
    void inputDimsReshapeFlatSamples() {
        try (Layer model = trained(cnn(Device.CPU), 1, 8, 8);
             Predictor p = Predictor.builder(model, cnn(Device.CPU)).inputDims(1, 8, 8).build()) {
            Tensor images = randn(4, 2, 1, 8, 8);
            Tensor flat = Tensor.of(images.floats().clone(), 2, 64);
            assertArrayEquals(p.predict(images).floats(), p.predict(flat).floats(), 0f);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.predict(randn(1, 2, 63)));
            assertTrue(e.getMessage().contains("[1, 8, 8]") && e.getMessage().contains("[2, 63]"), e.getMessage());
        }
    }

    @Test
    void badInputAndMisuseAreNamed() {
        Layer model = trained(mlp(Device.CPU), 12);
        try (model) {
            Predictor p = Predictor.of(model, mlp(Device.CPU));
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> p.predict(Tensor.zeros(Device.CPU, DType.INT64, Shape.of(2, 12))));
            assertTrue(dtype.getMessage().contains("float32"), dtype.getMessage());
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> p.predict(Tensor.zeros(Device.CPU, 0, 12)));
            assertTrue(empty.getMessage().contains("N >= 1"), empty.getMessage());
            p.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> p.predict(randn(1, 1, 12)));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertEquals(4, model.forward(randn(1, 1, 12), false).dim(1), "the trained model is still usable");

            IllegalArgumentException arch = assertThrows(IllegalArgumentException.class, () -> Predictor.of(model,
                    () -> Models.mlp(12, new int[] {16}, 4, 0f, new Generator(0), Device.CPU)));
            assertTrue(arch.getMessage().contains("parameters"), arch.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Predictor.of(model,
                    () -> Models.mlp(12, new int[] {16, 17}, 4, 0.2f, new Models.Options("relu", true, 0f, 0f),
                            new Generator(0), Device.CPU)));
            assertTrue(shape.getMessage().contains("shape"), shape.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Predictor.builder(model, mlp(Device.CPU)).maxReplicas(0));
        }
    }

    @Test
    void aLoadedCheckpointPredictsThroughItsPreprocessing() throws Exception {
        Path f = tmp.resolve("mlp.safetensors");
        Dataset raw = new Dataset("raw", randn(21, 30, 12).floats(), new int[] {12}, new long[30], 4);
        Preprocessor pre = Preprocessors.fit("standardize", raw);
        try (Layer model = trained(mlp(Device.CPU), 12)) {
            ObjectNode info = JsonNodeFactory.instance.objectNode();
            info.set("preprocessing", pre.toJson());
            Checkpoint.ofInference(StateDict.of(model), info).save(f);
        }
        ModelFactory factory = (c, dims, device) -> new ModelFactory.Built(mlp(device).get(), dims);
        Tensor x = randn(22, 3, 12);
        float[] standardized = x.floats().clone();
        pre.apply(standardized, standardized, 3);
        float[] expected;
        try (Layer reference = mlp(Device.CPU).get()) {
            Checkpoint.load(f).restoreModel(reference, n -> false);
            expected = reference.forward(Tensor.of(standardized, 3, 12), false).toFloatArray();
        }
        try (Predictor p = Predictor.load(f, factory, new int[] {12}, Device.CPU, false)) {
            assertArrayEquals(expected, p.predict(x).floats(), 0f);
            assertArrayEquals(expected, p.predict(x).floats(), 0f, "the raw batch was not changed in place");
        }
        try (Predictor p = Predictor.load(f, factory, new int[] {12}, Device.CPU, true)) {
            assertArrayEquals(expected, p.predict(x).floats(), 1e-4f);
        }
        assertThrows(dev.jtrain.io.CheckpointException.class,
                () -> Predictor.load(f, factory, new int[] {13}, Device.CPU, false));
    }
}
