package dev.jtrain.backend.cpu;

import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.Models;
import dev.jtrain.train.Optimizers;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingListener;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thread pools are per instance: two models train at the same time in one JVM with the thread counts each
 * asked for and the results each gets alone; a default model on the cpu starts no thread; a pool's life
 * (lazy workers, bind and unbind, close) and its errors.
 */
class CpuThreadPoolTest {
    private static Dataset train;
    private static Dataset test;

    @BeforeAll
    static void load() throws Exception {
        Mnist.Split data = Mnist.load(Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k")).flattened();
        data.normalize();
        train = data.train().head(384);
        test = data.test().head(128);
    }

    /** One run's final weights and the pool sizes its steps saw. */
    record Run(Map<String, float[]> weights, double trainLoss, Set<Integer> threadsSeen) {
    }

    /** Two epochs of a small MLP (its 128 x 784 x 64 GEMMs are large enough to be split over threads). */
    private static Run train(CpuThreadPool pool) {
        Generator gen = new Generator(11);
        Layer net = Models.build("mlp", new int[] {784}, 10, new int[] {64}, 0.1f, gen);
        Optimizer opt = Optimizers.create("sgd", net.parameters(), new Optimizers.Settings(null, null, false, null));
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), opt, Device.CPU).useThreads(pool)) {
            t.addListener(new TrainingListener() {
                @Override
                public void onStep(int epoch, int step, int batchSize, dev.jtrain.tensor.Tensor loss) {
                    seen.add(CpuThreads.threads());
                }
            });
            List<EpochMetrics> h = t.fit(train, test, 2, 128, gen);
            Map<String, float[]> w = new LinkedHashMap<>();
            for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                w.put(e.getKey(), e.getValue().value().toFloatArray());
            }
            return new Run(w, h.get(1).trainLoss(), seen);
        }
    }

    @Test
    void twoModelsTrainConcurrentlyWithTheirOwnThreadCountsAndGetTheirResultsAlone() throws Exception {
        Run alone1;
        Run alone2;
        try (CpuThreadPool one = new CpuThreadPool(1); CpuThreadPool two = new CpuThreadPool(2)) {
            alone1 = train(one);
            alone2 = train(two);
            assertEquals(0, one.liveWorkers(), "a one-thread pool starts no worker");
            assertEquals(1, two.liveWorkers(), "a two-thread pool runs its loops on the caller and one worker");
        }
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try (CpuThreadPool one = new CpuThreadPool(1); CpuThreadPool two = new CpuThreadPool(2)) {
            Future<Run> a = callers.submit((Callable<Run>) () -> train(one));
            Future<Run> b = callers.submit((Callable<Run>) () -> train(two));
            Run together1 = a.get();
            Run together2 = b.get();
            assertEquals(Set.of(1), together1.threadsSeen(), "model 1's steps ran on its own 1-thread pool");
            assertEquals(Set.of(2), together2.threadsSeen(), "model 2's steps ran on its own 2-thread pool");
            assertEquals(0, one.liveWorkers());
            assertEquals(1, two.liveWorkers());
            assertSameRun(alone1, together1, "1 thread");
            assertSameRun(alone2, together2, "2 threads");
        } finally {
            callers.shutdownNow();
        }
        // the thread count does not change the bits (CpuLoops' determinism rule)
        assertSameRun(alone1, alone2, "1 vs 2 threads");
        assertSame(CpuThreads.defaultPool(), CpuThreads.current(), "fit left no binding on this thread");
    }

    private static void assertSameRun(Run expected, Run actual, String what) {
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        for (String k : expected.weights().keySet()) {
            assertArrayEquals(expected.weights().get(k), actual.weights().get(k), what + ": " + k);
        }
        assertEquals(Double.doubleToRawLongBits(expected.trainLoss()), Double.doubleToRawLongBits(actual.trainLoss()), what);
    }

    private static Set<Long> liveThreadIds() {
        Set<Long> ids = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            ids.add(t.getId());
        }
        return ids;
    }

    /** jtrain's threads (pool workers, batch loader) and Cleaner threads started since {@code before}. */
    private static List<String> newLibraryThreads(Set<Long> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t.getId()))
                .map(Thread::getName)
                .filter(n -> n.startsWith("jtrain") || n.contains("Cleaner"))
                .toList();
    }

    @Test
    void creatingAndTrainingADefaultModelOnTheCpuStartsNoThread() {
        Set<Long> before = liveThreadIds();
        Run run = train(null); // no pool: the thread's default
        assertEquals(Set.of(1), run.threadsSeen(), "the default is one thread (no -Djtrain.threads in the tests)");
        assertEquals(List.of(), newLibraryThreads(before), "threads the caller did not ask for");

        // the check sees a worker when one is asked for (so it can fail)
        try (CpuThreadPool two = new CpuThreadPool(2)) {
            train(two);
            assertEquals(List.of("jtrain-cpu-1"), newLibraryThreads(before));
        }
    }

    @Test
    void aPoolStartsWorkersOnlyWhenALoopCanUseThemAndStopsThemAtClose() throws Exception {
        AtomicInteger sum = new AtomicInteger();
        try (CpuThreadPool one = new CpuThreadPool(1)) {
            one.parallelFor(64, sum::addAndGet);
            assertEquals(0, one.liveWorkers(), "one thread: the caller runs every task");
        }
        assertEquals(64 * 63 / 2, sum.get());

        CpuThreadPool three = new CpuThreadPool(3);
        assertEquals(0, three.liveWorkers(), "no worker before the first loop");
        three.parallelFor(1, i -> { });
        assertEquals(0, three.liveWorkers(), "a single task runs on the caller");
        Set<String> ran = ConcurrentHashMap.newKeySet();
        // workers wait (up to 5 s) until the caller has run a task, so that on a loaded machine they cannot
        // take all 64 before the caller gets one: the caller takes part or the wait times out
        Thread caller = Thread.currentThread();
        java.util.concurrent.CountDownLatch callerRan = new java.util.concurrent.CountDownLatch(1);
        three.parallelFor(64, i -> {
            if (Thread.currentThread() == caller) {
                callerRan.countDown();
            } else {
                try {
                    callerRan.await(5, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ran.add(Thread.currentThread().getName());
        });
        assertEquals(2, three.liveWorkers());
        assertTrue(ran.contains(Thread.currentThread().getName()), "the caller takes part: " + ran);
        three.close();
        three.close(); // idempotent
        for (int i = 0; i < 200 && three.liveWorkers() > 0; i++) {
            Thread.sleep(5);
        }
        assertEquals(0, three.liveWorkers(), "close stops the workers");
        IllegalStateException closed = assertThrows(IllegalStateException.class, three::bind);
        assertTrue(closed.getMessage().contains("CpuThreadPool(3 threads, closed)"), closed.getMessage());
        assertThrows(IllegalStateException.class, () -> three.parallelFor(4, i -> { }));
    }

    @Test
    void bindingsNestAndRestoreThePreviousPool() throws Exception {
        CpuThreadPool outerPool = new CpuThreadPool(2);
        CpuThreadPool innerPool = new CpuThreadPool(3);
        try (outerPool; innerPool) {
            assertSame(CpuThreads.defaultPool(), CpuThreads.current());
            try (CpuThreadPool.Binding outer = outerPool.bind()) {
                assertEquals(2, CpuThreads.threads());
                assertEquals(3, innerPool.call(CpuThreads::threads));
                assertEquals(2, CpuThreads.threads(), "call() restored the outer binding");
                // another thread does not see this thread's binding
                ExecutorService other = Executors.newSingleThreadExecutor();
                try {
                    assertEquals(CpuThreads.defaultPool().threads(), other.submit(CpuThreads::threads).get());
                    IllegalStateException wrongThread = assertThrows(IllegalStateException.class,
                            () -> {
                                try {
                                    other.submit(outer::close).get();
                                } catch (java.util.concurrent.ExecutionException e) {
                                    throw e.getCause();
                                }
                            });
                    assertTrue(wrongThread.getMessage().contains("closed on the thread that made it"),
                            wrongThread.getMessage());
                } finally {
                    other.shutdownNow();
                }
            }
            assertSame(CpuThreads.defaultPool(), CpuThreads.current());
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new CpuThreadPool(0));
        assertTrue(bad.getMessage().contains("threads must be >= 1 (got 0)"), bad.getMessage());
        Layer net = Models.build("mlp", new int[] {4}, 2, new int[] {3}, 0f, new Generator(1));
        Optimizer opt = Optimizers.create("sgd", net.parameters(), new Optimizers.Settings(null, null, false, null));
        try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), opt, Device.CPU)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.useThreads(outerPool));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }
}
