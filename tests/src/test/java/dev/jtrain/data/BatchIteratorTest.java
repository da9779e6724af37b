package dev.jtrain.data;

import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchIteratorTest {

    /** n samples of 3 features: sample i = (i, i + 0.5, -i), label i % 4. */
    static Dataset toy(int n) {
        float[] x = new float[3 * n];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            x[3 * i] = i;
            x[3 * i + 1] = i + 0.5f;
            x[3 * i + 2] = -i;
            y[i] = i % 4;
        }
        return new Dataset("toy", x, new int[] {3}, y, 4);
    }

    @Test
    void coversEverySampleOnceWithAPartialLastBatch() {
        BatchIterator it = new BatchIterator(toy(10), 4, true, Device.CPU);
        assertEquals(3, it.batchesPerEpoch());
        it.startEpoch(new Generator(7));
        boolean[] seen = new boolean[10];
        int[] sizes = new int[3];
        int k = 0;
        while (it.hasNext()) {
            BatchIterator.Batch b = it.next();
            sizes[k++] = b.size();
            assertArrayEquals(new int[] {b.size(), 3}, b.x().dims());
            for (int r = 0; r < b.size(); r++) {
                int i = (int) b.x().floats()[3 * r];
                assertFalse(seen[i]);
                seen[i] = true;
                assertEquals(i + 0.5f, b.x().floats()[3 * r + 1]);
                assertEquals(i % 4, b.y().longs()[r]);
            }
        }
        assertArrayEquals(new int[] {4, 4, 2}, sizes);
        for (boolean s : seen) {
            assertTrue(s);
        }
    }

    @Test
    void shuffleIsDeterministicAndChangesEveryEpoch() {
        Dataset d = toy(100);
        BatchIterator a = new BatchIterator(d, 16, true, Device.CPU);
        BatchIterator b = new BatchIterator(d, 16, true, Device.CPU);
        Generator ga = new Generator(42);
        Generator gb = new Generator(42);
        a.startEpoch(ga);
        b.startEpoch(gb);
        int[] first = a.order();
        assertArrayEquals(first, b.order());
        a.startEpoch(ga);
        assertNotEquals(Arrays.toString(first), Arrays.toString(a.order()));
        int[] sorted = a.order();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        BatchIterator c = new BatchIterator(d, 16, true, Device.CPU);
        c.startEpoch(new Generator(43));
        assertNotEquals(Arrays.toString(first), Arrays.toString(c.order()));
    }

    @Test
    void withoutShuffleKeepsOrderAndGeneratorUntouched() {
        BatchIterator it = new BatchIterator(toy(5), 2, false, Device.CPU);
        Generator g = new Generator(1);
        it.startEpoch(g);
        assertEquals(0, g.offset());
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, it.order());
    }

    @Test
    void batchTensorsAreReused() {
        BatchIterator it = new BatchIterator(toy(9), 4, true, Device.CPU);
        Generator g = new Generator(3);
        it.startEpoch(g);
        BatchIterator.Batch b1 = it.next();
        var x1 = b1.x();
        it.startEpoch(g);
        BatchIterator.Batch b2 = it.next();
        assertSame(b1, b2);
        assertSame(x1, b2.x());
    }

    @Test
    void epochsAfterTheFirstAllocateNothing() {
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        BatchIterator it = new BatchIterator(toy(1000), 64, true, Device.CPU);
        Generator g = new Generator(5);
        long sum = 0;
        for (int e = 0; e < 3; e++) {
            long before = bean.getCurrentThreadAllocatedBytes();
            it.startEpoch(g);
            while (it.hasNext()) {
                sum += it.next().size();
            }
            long allocated = bean.getCurrentThreadAllocatedBytes() - before;
            if (e > 0) {
                assertEquals(0, allocated, "epoch " + e + " allocated " + allocated + " bytes");
            }
        }
        assertEquals(3000, sum);
    }

    /** Every batch of two epochs, copied to the host: x values then labels, in order. */
    private static java.util.List<float[]> allBatches(BatchIterator it, Generator gen, int epochs, int stopAfter) {
        java.util.List<float[]> out = new java.util.ArrayList<>();
        for (int e = 0; e < epochs; e++) {
            it.startEpoch(gen);
            int k = 0;
            while (it.hasNext() && k++ < stopAfter) {
                BatchIterator.Batch b = it.next();
                float[] x = b.x().to(Device.CPU).floats();
                long[] y = b.y().to(Device.CPU).longs();
                float[] row = Arrays.copyOf(x, x.length + y.length);
                for (int r = 0; r < y.length; r++) {
                    row[x.length + r] = y[r];
                }
                out.add(row);
            }
        }
        return out;
    }

    @Test
    void prefetchingGivesExactlyTheBatchesOfThePlainIteratorOnCpuAndEmu() {
        dev.jtrain.backend.jni.EmuTestSupport.emu();
        Dataset d = toy(37);
        java.util.List<float[]> plain = allBatches(new BatchIterator(d, 8, true, Device.CPU), new Generator(5), 3,
                Integer.MAX_VALUE);
        assertEquals(15, plain.size());
        for (Device dev : new Device[] {Device.CPU, Device.EMU}) {
            try (BatchIterator it = new BatchIterator(d, 8, true, dev, true)) {
                assertTrue(it.prefetches());
                java.util.List<float[]> pre = allBatches(it, new Generator(5), 3, Integer.MAX_VALUE);
                assertEquals(plain.size(), pre.size(), dev.toString());
                for (int i = 0; i < plain.size(); i++) {
                    assertArrayEquals(plain.get(i), pre.get(i), dev + " batch " + i);
                }
            }
        }
    }

    @Test
    void prefetchingAlternatesTwoSlotsSoTheBatchInHandIsNeverTheOneBeingFilled() {
        try (BatchIterator it = new BatchIterator(toy(32), 8, false, Device.CPU, true)) {
            it.startEpoch(0, 0);
            BatchIterator.Batch first = it.next();
            float firstValue = first.x().floats()[0];
            BatchIterator.Batch second = it.next();   // the loader is now filling batch 3
            assertNotEquals(System.identityHashCode(first), System.identityHashCode(second));
            assertEquals(8f, second.x().floats()[0]);
            assertEquals(0f, firstValue);
            BatchIterator.Batch third = it.next();
            assertSame(first, third, "two full slots, used alternately");
            assertEquals(16f, third.x().floats()[0]);
        }
    }

    @Test
    void anAbandonedPrefetchedEpochRestartsCleanlyAndCloseStopsTheLoader() {
        Dataset d = toy(40);
        java.util.List<float[]> plain = allBatches(new BatchIterator(d, 6, true, Device.CPU), new Generator(9), 2, 2);
        java.util.Set<Thread> earlier = loaderThreads();   // other tests' loaders are not this test's business
        BatchIterator it = new BatchIterator(d, 6, true, Device.CPU, true);
        java.util.List<float[]> pre = allBatches(it, new Generator(9), 2, 2); // 2 of 7 batches, then a new epoch
        for (int i = 0; i < plain.size(); i++) {
            assertArrayEquals(plain.get(i), pre.get(i), "batch " + i);
        }
        it.close();
        assertFalse(it.hasNext(), "close ends a prefetched epoch");
        for (Thread t : loaderThreads()) {
            if (!earlier.contains(t)) {
                assertFalse(stillAliveAfter(t, 2000), "a closed iterator's loader thread ends");
            }
        }
        it.startEpoch(new Generator(9));                  // still usable after close
        assertTrue(it.hasNext());
        it.close();
    }

    private static java.util.Set<Thread> loaderThreads() {
        java.util.Set<Thread> s = new java.util.HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("jtrain-batch-loader")) {
                s.add(t);
            }
        }
        return s;
    }

    private static boolean stillAliveAfter(Thread t, long millis) {
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return t.isAlive();
    }
}
