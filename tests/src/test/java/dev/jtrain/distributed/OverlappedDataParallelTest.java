package dev.jtrain.distributed;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.GradientReadyListener;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.Models;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingListener;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gradient all-reduce overlapped with the backward ({@link DataParallel#setOverlap}) against the plain one after
 * the backward, on {@link LocalGroup} ranks. The sums are element-wise and LocalGroup adds the ranks in rank order
 * whatever the bucketing, so the two must give the same bits: losses, accuracies and final weights compared exactly.
 */
class OverlappedDataParallelTest {
    private static final int CLASSES = 4;

    record Run(List<EpochMetrics> history, Map<String, float[]> params) {
    }

    /** 1x8x8 images: Gaussian noise plus a class-dependent bright row, learnable in a few steps. */
    static Dataset images(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 64];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(CLASSES);
            y[i] = c;
            for (int p = 0; p < 64; p++) {
                x[i * 64 + p] = (float) (r.nextGaussian() + (p / 8 == 2 * c ? 1.5 : 0));
            }
        }
        return new Dataset("rows", x, new int[] {1, 8, 8}, y, CLASSES);
    }

    static Layer mlp(Generator gen, Device device) {
        return Models.mlp(12, new int[] {16}, CLASSES, 0f, Models.Options.DEFAULT, gen, device);
    }

    static Layer cnnWithBatchNorm(Generator gen, Device device) {
        return Models.cnn(new int[] {1, 8, 8}, new int[] {16}, CLASSES, 0f, new Models.Options("relu", true, 0f, 0f), gen,
                device);
    }

    static Run train(Communicator comm, Function<Generator, Layer> model, Dataset data, Device device, boolean overlap,
                     int bucketBytes, boolean syncBn) {
        Generator gen = new Generator(11);
        Layer net = model.apply(gen);
        Sgd opt = new Sgd(net.parameters(), 0.05, 0.9);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
        try (net; loss; opt; Trainer t = new Trainer(net, loss, opt, device);
             DataParallel dp = new DataParallel(comm).setBucketBytes(bucketBytes).setOverlap(overlap)) {
            t.setDataParallel(dp);
            if (syncBn) {
                assertTrue(dp.synchronizeBatchNorm(net) > 0);
            }
            List<EpochMetrics> h = t.fit(data, null, 2, 24, gen);
            assertEquals(2L * ((data.size() + 23) / 24), dp.gradientSyncTime().steps(), "one reduction per step");
            Map<String, float[]> w = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                try (Tensor host = e.getValue().value().to(Device.CPU)) {
                    w.put(e.getKey(), host.toFloatArray());
                }
            }
            return new Run(h, w);
        }
    }

    static void assertSameBits(List<Run> plain, List<Run> overlapped) {
        assertEquals(plain.size(), overlapped.size());
        for (int r = 0; r < plain.size(); r++) {
            Run a = plain.get(r);
            Run b = overlapped.get(r);
            for (int e = 0; e < a.history().size(); e++) {
                assertEquals(a.history().get(e).trainLoss(), b.history().get(e).trainLoss(), 0.0, "rank " + r + " epoch " + e);
                assertEquals(a.history().get(e).trainAccuracy(), b.history().get(e).trainAccuracy(), 0.0);
            }
            for (String name : a.params().keySet()) {
                assertArrayEquals(a.params().get(name), b.params().get(name), "rank " + r + " " + name);
            }
        }
    }

    static void compare(int ranks, Function<Generator, Layer> model, Dataset data, Device device, int bucketBytes,
                        boolean syncBn) {
        List<Run> plain = LocalGroup.run(ranks, c -> train(c, model, data, device, false, bucketBytes, syncBn));
        List<Run> overlapped = LocalGroup.run(ranks, c -> train(c, model, data, device, true, bucketBytes, syncBn));
        assertSameBits(plain, overlapped);
        // and the training moved: not two runs that both did nothing
        assertTrue(plain.get(0).history().get(1).trainLoss() < plain.get(0).history().get(0).trainLoss());
    }

    @Test
    void mlpOverlappedHasThePlainBitsOnTwoAndThreeRanks() {
        Dataset data = DataParallelTrainingTest.blobs(96, 3);
        for (int ranks : new int[] {2, 3}) {
            compare(ranks, g -> mlp(g, Device.CPU), data, Device.CPU, 256, false);                            // 5 buckets
            compare(ranks, g -> mlp(g, Device.CPU), data, Device.CPU, DataParallel.DEFAULT_BUCKET_BYTES, false); // 1
        }
    }

    @Test
    void cnnWithBatchNormOverlappedHasThePlainBits() {
        Dataset data = images(72, 5);
        compare(2, g -> cnnWithBatchNorm(g, Device.CPU), data, Device.CPU, 16 << 10, false);
        compare(3, g -> cnnWithBatchNorm(g, Device.CPU), data, Device.CPU, 16 << 10, false);
    }

    /** Synchronized BatchNorm all-reduces inside the backward: it must queue behind the buckets already running. */
    @Test
    void synchronizedBatchNormInsideTheOverlappedBackwardHasThePlainBits() {
        compare(2, g -> cnnWithBatchNorm(g, Device.CPU), images(48, 6), Device.CPU, 4 << 10, true);
    }

    /** Device gradients (emu by default) go through host copies into the same buckets. */
    @Test
    void deviceGradientsOverlappedHaveThePlainBits() {
        Device device = TestDevices.gpu();
        compare(2, g -> mlp(g, device), DataParallelTrainingTest.blobs(48, 4), device, 256, false);
    }

    /** Throws in its {@code failAt}-th float all-reduce (1-based), on every rank alike (so no rank waits). */
    static final class FailingCommunicator implements Communicator {
        private final Communicator inner;
        private final int failAt;
        private int floatCalls;

        FailingCommunicator(Communicator inner, int failAt) {
            this.inner = inner;
            this.failAt = failAt;
        }

        @Override
        public int rank() {
            return inner.rank();
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public void allReduceSum(float[] data, int offset, int length) {
            if (++floatCalls == failAt) {
                throw new IllegalStateException("injected failure in call " + floatCalls);
            }
            inner.allReduceSum(data, offset, length);
        }

        @Override
        public void allReduceSum(double[] data, int offset, int length) {
            inner.allReduceSum(data, offset, length);
        }

        @Override
        public void allReduceSum(Tensor t) {
            inner.allReduceSum(t);
        }

        @Override
        public void broadcast(byte[] data, int root) {
            inner.broadcast(data, root);
        }

        @Override
        public void barrier() {
            inner.barrier();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @Test
    void aCommunicatorErrorMidBackwardNamesTheBucketAndTheStep() {
        Dataset data = DataParallelTrainingTest.blobs(96, 3);
        long t0 = System.nanoTime();
        // the mlp's 276 floats in buckets of 64: 5 all-reduces per step; call 12 is step 3's second bucket
        RuntimeException e = assertThrows(RuntimeException.class, () -> LocalGroup.run(2, c ->
                train(new FailingCommunicator(c, 12), g -> mlp(g, Device.CPU), data, Device.CPU, true, 256, false)));
        GradientReductionException g = assertInstanceOf(GradientReductionException.class, e, e.toString());
        assertTrue(g.getMessage().contains("bucket 2/5") && g.getMessage().contains("epoch 1 step 3"), g.getMessage());
        assertTrue(g.getCause().getMessage().contains("injected failure in call 12"), g.getCause().toString());
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "no hang");
    }

    /** One step by hand: forward, hooked backward, reduction. */
    static void step(Layer net, DataParallel dp, Parameter[] params, Tensor x, Tensor y, int step) {
        dp.beginStep(1, step, 8, 16);
        for (Parameter p : params) {
            p.zeroGrad();
        }
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
        loss.forward(net.forward(x, true), y);
        Tensor dl = loss.backward();
        GradientReadyListener ready = dp.startGradientReduction(params);
        if (ready == null) {
            net.backward(dl, false);
        } else {
            net.backward(dl, false, ready);
        }
        dp.averageGradients(params);
    }

    @Test
    void theStepAfterAFailedReductionIsNotCorrupted() {
        List<Boolean> ok = LocalGroup.run(2, c -> {
            Random r = new Random(c.rank());
            float[] xs = new float[8 * 12];
            long[] ys = new long[8];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < ys.length; i++) {
                ys[i] = r.nextInt(CLASSES);
            }
            Tensor x = Tensor.of(xs, 8, 12);
            Tensor y = Tensor.ofLongs(ys, 8);
            Layer net = mlp(new Generator(1), Device.CPU);
            Layer reference = mlp(new Generator(1), Device.CPU);
            Parameter[] params = net.parameters().toArray(new Parameter[0]);
            Parameter[] refParams = reference.parameters().toArray(new Parameter[0]);
            try (DataParallel dp = new DataParallel(new FailingCommunicator(c, 2)).setBucketBytes(256);
                 DataParallel plain = new DataParallel(c).setBucketBytes(256).setOverlap(false)) {
                GradientReductionException e = assertThrows(GradientReductionException.class,
                        () -> step(net, dp, params, x, y, 1));
                assertTrue(e.getMessage().contains("bucket 2/5") && e.getMessage().contains("epoch 1 step 1"), e.getMessage());
                step(net, dp, params, x, y, 2);           // the same weights (no optimizer step): the same gradients
                step(reference, plain, refParams, x, y, 2);
                for (int i = 0; i < params.length; i++) {
                    assertArrayEquals(refParams[i].grad().toFloatArray(), params[i].grad().toFloatArray(), params[i].name());
                }
            }
            return true;
        });
        assertEquals(List.of(true, true), ok);
    }

    /**
     * A parameter the backward never reports (here: not in the model at all, as a parameter of an unused branch the
     * hook missed) is still reduced, as 0, in its bucket; the others get the plain path's bits.
     */
    @Test
    void aParameterWithoutGradientIsReducedAsZero() {
        LocalGroup.run(2, c -> {
            Random r = new Random(10 + c.rank());
            float[] xs = new float[8 * 12];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) r.nextGaussian();
            }
            Tensor x = Tensor.of(xs, 8, 12);
            Tensor y = Tensor.ofLongs(new long[] {0, 1, 2, 3, 0, 1, 2, 3}, 8);
            Layer net = mlp(new Generator(2), Device.CPU);
            Layer reference = mlp(new Generator(2), Device.CPU);
            Parameter unused = Parameter.trainable("unused", Tensor.of(new float[70], 70));
            Parameter unusedRef = Parameter.trainable("unused", Tensor.of(new float[70], 70));
            List<Parameter> ps = new ArrayList<>(net.parameters());
            ps.add(1, unused);      // between the layers: it shares buckets with reported parameters
            List<Parameter> refPs = new ArrayList<>(reference.parameters());
            refPs.add(1, unusedRef);
            Parameter[] params = ps.toArray(new Parameter[0]);
            Parameter[] refParams = refPs.toArray(new Parameter[0]);
            try (DataParallel dp = new DataParallel(c).setBucketBytes(256);
                 DataParallel plain = new DataParallel(c).setBucketBytes(256).setOverlap(false)) {
                step(net, dp, params, x, y, 1);
                step(reference, plain, refParams, x, y, 1);
            }
            assertArrayEquals(new float[70], unused.grad().toFloatArray(), "reduced as zero");
            for (int i = 0; i < params.length; i++) {
                assertArrayEquals(refParams[i].grad().toFloatArray(), params[i].grad().toFloatArray(), params[i].name());
            }
            float sum = 0;
            for (float v : params[0].grad().toFloatArray()) {
                sum += Math.abs(v);
            }
            assertTrue(sum > 0, "the used parameters have gradients");
            return null;
        });
    }

    @Test
    void aDeadRankStopsTheOverlappedReductionWithAnErrorNamingBucketAndStep() {
        Dataset train = DataParallelTrainingTest.blobs(96, 10);
        long t0 = System.nanoTime();
        RuntimeException e = assertThrows(RuntimeException.class, () -> LocalGroup.run(2, Duration.ofSeconds(60), c -> {
            Generator gen = new Generator(1);
            Layer net = mlp(gen, Device.CPU);
            try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), new Sgd(net.parameters(), 0.1), Device.CPU);
                 DataParallel dp = new DataParallel(c).setOverlap(true).setBucketBytes(256)
                         .setWatchdog(CollectiveWatchdog.interrupting(Duration.ofSeconds(1)))) {
                t.setDataParallel(dp);
                if (c.rank() == 1) {
                    t.addListener(new TrainingListener() {
                        @Override
                        public void onStep(int epoch, int step, int batchSize, Tensor loss) {
                            if (step == 2) {
                                try {
                                    Thread.sleep(4000); // hangs: rank 0 waits in step 3's first bucket
                                } catch (InterruptedException ie) {
                                    Thread.currentThread().interrupt();
                                }
                                throw new IllegalStateException("rank 1 gave up");
                            }
                        }
                    });
                }
                t.fit(train, null, 1, 16, gen);
            }
            return null;
        }));
        List<Throwable> all = new ArrayList<>(List.of(e));
        all.addAll(List.of(e.getSuppressed()));
        assertTrue(all.stream().anyMatch(x -> x instanceof CollectiveTimeoutException
                && x.getMessage().contains("gradient all-reduce of bucket 1/5") && x.getMessage().contains("epoch 1 step 3")
                && x.getMessage().contains("did not complete within 1 s")), all.toString());
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L);
    }
}
