package dev.jtrain.distributed;

import dev.jtrain.data.BatchIterator;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * N ranks (threads of one {@link LocalGroup}) with batch B/N each against one process with batch B. The reference is
 * an independent run of the plain {@link Trainer}. Exact equality is not expected for N > 1: each rank sums its part of
 * the batch (GEMM over the batch dimension, bias sums) and the all-reduce adds the parts, a different order of float
 * additions than one sum over B. The tolerances below are a few float ulps grown over the steps run.
 */
class DataParallelTrainingTest {
    private static final int FEATURES = 12;
    private static final int CLASSES = 4;

    /** Gaussian blobs, one per class: learnable in a few epochs, so losses move. */
    static Dataset blobs(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * FEATURES];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(CLASSES);
            y[i] = c;
            for (int f = 0; f < FEATURES; f++) {
                x[i * FEATURES + f] = (float) (r.nextGaussian() + (f % CLASSES == c ? 1.5 : 0));
            }
        }
        return new Dataset("blobs", x, new int[] {FEATURES}, y, CLASSES);
    }

    record Run(List<EpochMetrics> history, Map<String, float[]> params) {
    }

    static Layer mlp(Generator gen) {
        return Models.mlp(FEATURES, new int[] {16}, CLASSES, 0f, gen);
    }

    static Layer bnNet(Generator gen) {
        return new Sequential(new Linear(FEATURES, 16, true, gen), new BatchNorm1d(16), new ReLU(),
                new Linear(16, CLASSES, true, gen));
    }

    /** One rank's run (comm null: the plain single-process trainer). */
    static Run train(Communicator comm, Function<Generator, Layer> model, Dataset train, Dataset test, int batch,
                     int epochs, boolean syncBn) {
        Generator gen = new Generator(7);
        Layer net = model.apply(gen);
        Sgd opt = new Sgd(net.parameters(), 0.1, 0.9);
        try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), opt, Device.CPU);
             DataParallel dp = comm == null ? null : new DataParallel(comm).setBucketBytes(256)) { // several buckets
            if (dp != null) {
                t.setDataParallel(dp);
                if (syncBn) {
                    assertEquals(1, dp.synchronizeBatchNorm(net));
                }
            }
            List<EpochMetrics> h = t.fit(train, test, epochs, batch, gen);
            Map<String, float[]> w = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                w.put(e.getKey(), e.getValue().value().toFloatArray());
            }
            return new Run(h, w);
        }
    }

    static List<Run> ranks(int n, Function<Generator, Layer> model, Dataset train, Dataset test, int batch, int epochs,
                           boolean syncBn) {
        return LocalGroup.run(n, c -> train(c, model, train, test, batch, epochs, syncBn));
    }

    static void assertClose(Run expected, Run actual, double tol) {
        for (int e = 0; e < expected.history().size(); e++) {
            EpochMetrics a = expected.history().get(e);
            EpochMetrics b = actual.history().get(e);
            assertEquals(a.trainSamples(), b.trainSamples(), "global sample count");
            assertEquals(a.steps(), b.steps());
            assertEquals(a.trainLoss(), b.trainLoss(), tol * Math.abs(a.trainLoss()), "train loss of epoch " + (e + 1));
            assertEquals(a.testLoss(), b.testLoss(), tol * Math.abs(a.testLoss()), "test loss of epoch " + (e + 1));
            assertEquals(a.trainAccuracy(), b.trainAccuracy(), 2.0 / a.trainSamples(), "train accuracy");
            assertEquals(a.testAccuracy(), b.testAccuracy(), 2.0 / 100, "test accuracy");
        }
        for (String name : expected.params().keySet()) {
            float[] x = expected.params().get(name);
            float[] y = actual.params().get(name);
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], y[i], tol * (1 + Math.abs(x[i])), name + "[" + i + "]");
            }
        }
    }

    /** Every rank holds the same bits: the all-reduce gives all ranks the same sums. */
    static void assertRanksIdentical(List<Run> runs) {
        for (Run r : runs.subList(1, runs.size())) {
            for (String name : runs.get(0).params().keySet()) {
                assertArrayEquals(runs.get(0).params().get(name), r.params().get(name), name);
            }
            for (int e = 0; e < r.history().size(); e++) {
                assertEquals(runs.get(0).history().get(e).trainLoss(), r.history().get(e).trainLoss(), 0.0);
                assertEquals(runs.get(0).history().get(e).testAccuracy(), r.history().get(e).testAccuracy(), 0.0);
            }
        }
    }

    @Test
    void twoAndThreeRanksMatchOneProcessWithTheGlobalBatch() {
        Dataset train = blobs(240, 1);
        Dataset test = blobs(100, 2);
        Run single = train(null, DataParallelTrainingTest::mlp, train, test, 24, 3, false);
        for (int n : new int[] {2, 3}) {
            List<Run> runs = ranks(n, DataParallelTrainingTest::mlp, train, test, 24, 3, false);
            assertRanksIdentical(runs);
            assertClose(single, runs.get(0), 2e-5);
        }
        assertTrue(single.history().get(2).trainLoss() < 0.7 * single.history().get(0).trainLoss(), "the run learns");
    }

    @Test
    void unevenSharesAreWeightedByTheirSamples() {
        // batch 20 over 3 ranks: 6, 7, 7; 250 samples: a last batch of 10 (3, 3, 4)
        Dataset train = blobs(250, 3);
        Dataset test = blobs(50, 4);
        Run single = train(null, DataParallelTrainingTest::mlp, train, test, 20, 2, false);
        List<Run> runs = ranks(3, DataParallelTrainingTest::mlp, train, test, 20, 2, false);
        assertRanksIdentical(runs);
        assertClose(single, runs.get(0), 2e-5);
        assertEquals(250, runs.get(1).history().get(0).trainSamples(), "metrics count every rank's samples");
    }

    @Test
    void oneRankIsBitExact() {
        Dataset train = blobs(100, 5);
        Dataset test = blobs(30, 6);
        Run single = train(null, DataParallelTrainingTest::mlp, train, test, 16, 2, false);
        Run one = ranks(1, DataParallelTrainingTest::mlp, train, test, 16, 2, false).get(0);
        assertClose(single, one, 0.0);
    }

    @Test
    void synchronizedBatchNormMatchesOneProcessAndPerRankStatisticsDoNot() {
        Dataset train = blobs(192, 7);
        Dataset test = blobs(64, 8);
        Run single = train(null, DataParallelTrainingTest::bnNet, train, test, 32, 2, false);
        List<Run> synced = ranks(2, DataParallelTrainingTest::bnNet, train, test, 32, 2, true);
        assertRanksIdentical(synced);
        assertClose(single, synced.get(0), 1e-4);
        List<Run> perRank = ranks(2, DataParallelTrainingTest::bnNet, train, test, 32, 2, false);
        assertRanksIdentical(perRank); // running statistics are averaged after each epoch
        float[] a = single.params().get("0.weight");
        float[] b = perRank.get(0).params().get("0.weight");
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        assertTrue(maxDiff > 1e-3, "per-rank statistics of 16 samples differ from those of 32: " + maxDiff);
    }

    @Test
    void shardsOfEveryBatchCoverTheSingleProcessBatch() {
        Dataset train = blobs(50, 9);
        int[] seen = new int[50];
        for (int r = 0; r < 3; r++) {
            try (BatchIterator it = BatchIterator.sharded(train, 20, true, Device.CPU, false, null, r, 3);
                 BatchIterator whole = new BatchIterator(train, 20, true, Device.CPU)) {
                it.startEpoch(11, 5);
                whole.startEpoch(11, 5);
                assertArrayEquals(whole.order(), it.order(), "the same permutation on every rank");
                int batchStart = 0;
                while (it.hasNext()) {
                    BatchIterator.Batch b = it.next();
                    int from = batchStart + BatchIterator.shardStart(b.globalSize(), r, 3);
                    long[] y = b.y().longs();
                    for (int i = 0; i < b.size(); i++) {
                        seen[it.order()[from + i]]++;
                        assertEquals(train.labels()[it.order()[from + i]], y[i]);
                    }
                    batchStart += b.globalSize();
                }
            }
        }
        for (int s : seen) {
            assertEquals(1, s, "every sample on exactly one rank");
        }
    }

    @Test
    void batchesThatLeaveARankEmptyAreRefused() {
        Dataset train = blobs(50, 9);
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> BatchIterator.sharded(train, 2, true, Device.CPU, false, null, 0, 3));
        assertTrue(small.getMessage().contains("must be >= the number of ranks"), small.getMessage());
        IllegalArgumentException last = assertThrows(IllegalArgumentException.class,
                () -> BatchIterator.sharded(train, 24, true, Device.CPU, false, null, 0, 3)); // 50 % 24 = 2 < 3
        assertTrue(last.getMessage().contains("last batch has 2 samples"), last.getMessage());
    }

    @Test
    void dropoutStreamsDifferByRankWhileTheShuffleIsShared() {
        Generator a = new Generator(3);
        Generator b = new Generator(3);
        b.setStream(1);
        assertEquals(a.nextSharedOffset(), b.nextSharedOffset());
        long da = a.nextOffset();
        long db = b.nextOffset();
        assertTrue(da != db, "dropout offsets differ between ranks");
        assertEquals(da, db & ((1L << Generator.STREAM_SHIFT) - 1), "the same call counter");
        assertEquals(a.offset(), b.offset(), "checkpoints save the shared counter");
    }

    @Test
    void aDeadRankStopsTheOthersWithAnErrorNamingTheStep() {
        Dataset train = blobs(96, 10);
        long t0 = System.nanoTime();
        RuntimeException e = assertThrows(RuntimeException.class, () -> LocalGroup.run(2, Duration.ofSeconds(60), c -> {
            Generator gen = new Generator(1);
            Layer net = mlp(gen);
            try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), new Sgd(net.parameters(), 0.1), Device.CPU);
                 DataParallel dp = new DataParallel(c).setWatchdog(CollectiveWatchdog.interrupting(Duration.ofSeconds(1)))) {
                t.setDataParallel(dp);
                if (c.rank() == 1) {
                    t.addListener(new TrainingListener() {
                        @Override
                        public void onStep(int epoch, int step, int batchSize, dev.jtrain.tensor.Tensor loss) {
                            if (step == 2) {
                                try {
                                    Thread.sleep(4000); // hangs: rank 0 waits in step 3's all-reduce
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
        List<String> messages = new ArrayList<>();
        messages.add(e.getMessage());
        for (Throwable s : e.getSuppressed()) {
            messages.add(s.getMessage());
        }
        assertTrue(messages.stream().anyMatch(m -> m.contains("gradient all-reduce") && m.contains("epoch 1 step 3")
                && m.contains("did not complete within 1 s")), messages.toString());
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L);
    }
}
