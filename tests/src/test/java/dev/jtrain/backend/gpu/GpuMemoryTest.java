package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.CheckedBackend;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.jni.EmuNative;
import dev.jtrain.backend.jni.EmuTestSupport;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.GradClipping;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU backend's memory, transfers and faults, on emu: the caching allocator (reuse, statistics, no device
 * malloc in steady-state training, nothing in use after close, nothing left for the GC safety net), counted
 * transfers, released tensors, the lost-device state, and unavailable devices.
 */
class GpuMemoryTest {
    private static final Device EMU = Device.EMU;

    /** A fresh backend over the emu library, with its own allocator and stream (not the shared registry's). */
    private static GpuBackend freshEmu(Boolean sync) {
        return new GpuBackend(EmuNative.api(), EMU, "emu (test)", sync);
    }

    /**
     * Out of memory on emu with a memory limit (what JTRAIN_EMU_MEMORY sets): the first refusal flushes the
     * cache and retries once; a request that still does not fit throws a DeviceOutOfMemoryException naming
     * the request and the pool, and the backend keeps working afterwards.
     */
    @Test
    void outOfMemoryFlushesTheCacheRetriesOnceThenNamesTheRequestAndKeepsWorking() {
        NativeApi api = EmuTestSupport.emu();
        long previousLimit = api.emuMemoryLimit();
        long mib = 1L << 20;
        try (GpuBackend gpu = freshEmu(false)) {
            DeviceAllocator alloc = gpu.allocator();
            api.emuSetMemoryLimit(api.allocatedBytes() + 8 * mib); // 8 MiB above what the process holds now
            alloc.allocate(4 * mib).close();                       // a 4 MiB block, now cached
            assertEquals(4 * mib, alloc.stats().cachedBytes());

            DeviceBuffer six = alloc.allocate(6 * mib);            // 4 cached + 6 > 8: refused, cache flushed, retried
            MemoryStats afterRetry = alloc.stats();
            assertEquals(1, afterRetry.oomRetries(), afterRetry.toString());
            assertEquals(0, afterRetry.cachedBytes(), "the cache was returned to the device");

            DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> alloc.allocate(6 * mib));
            assertEquals(6 * mib, e.requestedBytes());
            assertTrue(e.getMessage().contains("request of " + (6 * mib) + " bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("in use 6.0 MiB"), e.getMessage());
            assertEquals(6 * mib, e.stats().inUseBytes());

            six.close();                                           // the engine keeps working
            try (Tensor a = Tensor.of(new float[] {1, 2, 3}, 3).to(EMU);
                 Tensor b = gpu.zeros(3)) {
                gpu.add(a, a, b);
                assertArrayEquals(new float[] {2, 4, 6}, b.to(Device.CPU).floats());
            }
        } finally {
            api.emuSetMemoryLimit(previousLimit);
        }
        assertEquals(previousLimit, api.emuMemoryLimit());
    }

    @Test
    void emuMemoryLimitIsAnEmuOnlySettingThatRejectsNegativeSizes() {
        NativeApi api = EmuTestSupport.emu();
        assertThrows(IllegalArgumentException.class, () -> api.emuSetMemoryLimit(-1));
    }

    @Test
    void sizeClassesRoundUp() {
        assertEquals(512, DeviceAllocator.blockSize(0));
        assertEquals(512, DeviceAllocator.blockSize(1));
        assertEquals(1024, DeviceAllocator.blockSize(513));
        assertEquals(1L << 20, DeviceAllocator.blockSize(1L << 20));
        assertEquals(2L << 20, DeviceAllocator.blockSize((1L << 20) + 1));
        assertEquals(4L << 20, DeviceAllocator.blockSize((2L << 20) + 1));
    }

    @Test
    void releasedBlocksAreReusedWithoutAskingTheDevice() {
        try (GpuBackend gpu = freshEmu(false)) {
            MemoryStats s0 = gpu.memoryStats();
            Tensor a = gpu.zeros(DType.FLOAT32, Shape.of(1000));
            MemoryStats s1 = gpu.memoryStats();
            assertEquals(s0.deviceMallocs() + 1, s1.deviceMallocs());
            assertEquals(4096, s1.inUseBytes());
            a.close();
            a.close(); // idempotent
            MemoryStats s2 = gpu.memoryStats();
            assertEquals(0, s2.inUseBytes());
            assertEquals(4096, s2.cachedBytes());
            Tensor b = gpu.zeros(DType.FLOAT32, Shape.of(900)); // same size class
            MemoryStats s3 = gpu.memoryStats();
            assertEquals(s1.deviceMallocs(), s3.deviceMallocs(), "served from the cache");
            assertEquals(1, s3.cacheHits());
            assertEquals(4096, s3.peakBytes());
            b.close();
            gpu.allocator().emptyCache();
            MemoryStats s4 = gpu.memoryStats();
            assertEquals(0, s4.cachedBytes());
            assertEquals(s0.deviceFrees() + 1, s4.deviceFrees());
        }
    }

    @Test
    void aReleasedTensorCannotBeUsed() {
        Backend emu = Backends.forDevice(EMU);
        Tensor t = emu.zeros(4);
        t.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> emu.fill(t, 1f));
        assertTrue(e.getMessage().contains("released") && e.getMessage().contains("emu"), e.getMessage());
    }

    @Test
    void transfersAreCountedPerDeviceAndDirection() {
        Tensor host = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        long h2d = Backends.forDevice(EMU).transferStats().bytes(TransferStats.Direction.HOST_TO_DEVICE);
        long d2h = Backends.forDevice(EMU).transferStats().bytes(TransferStats.Direction.DEVICE_TO_HOST);
        long cpuH2d = Backends.cpu().transferStats().bytes(TransferStats.Direction.HOST_TO_DEVICE);
        try (Tensor dev = host.to(EMU)) {
            Tensor back = dev.to(Device.CPU);
            assertEquals(6f, back.floats()[5]);
            dev.copyFrom(Tensor.of(new float[] {6, 5, 4, 3, 2, 1}, 2, 3));
            Tensor back2 = Tensor.of(new float[6], 2, 3).copyFrom(dev);
            assertEquals(6f, back2.floats()[0]);
        }
        assertEquals(h2d + 48, Backends.forDevice(EMU).transferStats().bytes(TransferStats.Direction.HOST_TO_DEVICE));
        assertEquals(d2h + 48, Backends.forDevice(EMU).transferStats().bytes(TransferStats.Direction.DEVICE_TO_HOST));
        assertEquals(cpuH2d, Backends.cpu().transferStats().bytes(TransferStats.Direction.HOST_TO_DEVICE));
        assertThrows(IllegalArgumentException.class, () -> host.copyFrom(Tensor.of(new float[4], 4)));
    }

    private static Layer mlp(Generator gen, Device d) {
        return new Sequential(new Linear(20, 16, true, gen, d), new BatchNorm1d(16, d), new ReLU(),
                new Dropout(0.25f, gen), new Linear(16, 5, true, gen, d));
    }

    @Test
    void steadyTrainingAllocatesNoDeviceMemoryAndCloseReturnsEverything() {
        GpuBackend gpu = Backends.gpu(EMU);
        gpu.allocator().emptyCache();
        MemoryStats before = gpu.memoryStats();
        SplittableRandom rnd = new SplittableRandom(1);
        float[] xs = new float[32 * 20];
        long[] ys = new long[32];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < ys.length; i++) {
            ys[i] = rnd.nextInt(5);
        }
        Generator gen = new Generator(7);
        Layer model = mlp(gen, EMU);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0.1f);
        Optimizer opt = new Adam(model.parameters(), 1e-3);
        Tensor x = Tensor.of(xs, 32, 20).to(EMU);
        Tensor y = Tensor.ofLongs(ys, 32).to(EMU);
        Tensor hostX = Tensor.of(xs.clone(), 32, 20);
        long mallocsAfterFirstStep = 0;
        for (int step = 1; step <= 1000; step++) {
            x.copyFrom(hostX);                       // a fresh batch each step, into the same device buffer
            model.zeroGrad();
            loss.forward(model.forward(x, true), y);
            model.backward(loss.backward());
            GradClipping.clipGradNorm(model.parameters(), 5f).close();
            opt.step();
            if (step == 1) {
                mallocsAfterFirstStep = gpu.memoryStats().deviceMallocs();
            }
        }
        MemoryStats during = gpu.memoryStats();
        assertEquals(mallocsAfterFirstStep, during.deviceMallocs(), "steps 2..1000 asked the device for memory: " + during);
        assertTrue(Float.isFinite(loss.forward(model.forward(x, false), y).to(Device.CPU).item()));
        model.close();
        loss.close();
        opt.close();
        x.close();
        y.close();
        MemoryStats after = gpu.memoryStats();
        assertEquals(before.inUseBytes(), after.inUseBytes(), "bytes still in use after close: " + after);
        assertEquals(before.cleanerReleases(), after.cleanerReleases(), "the GC safety net had to free blocks");
        System.gc();
        assertEquals(before.cleanerReleases(), gpu.memoryStats().cleanerReleases(),
                "tensors were left unclosed: the GC safety net freed them");
    }

    @Test
    void theSafetyNetCountsForgottenTensors() throws InterruptedException {
        try (GpuBackend gpu = freshEmu(false)) {
            Backend checked = new CheckedBackend(gpu);
            for (int i = 0; i < 10; i++) {
                checked.zeros(16); // never closed
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (gpu.memoryStats().cleanerReleases() < 10 && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
            }
            MemoryStats s = gpu.memoryStats();
            assertEquals(10, s.cleanerReleases(), s.toString());
            assertEquals(0, s.inUseBytes());
        }
    }

    @Test
    void aFatalKernelErrorLosesTheDeviceAndNamesTheFirstFailingOp() {
        try (GpuBackend gpu = freshEmu(true)) {
            assertNull(gpu.lostReason());
            DeviceUnavailableException first = assertThrows(DeviceUnavailableException.class,
                    () -> gpu.api().selfTestDivergentBarrier());
            assertTrue(first.getMessage().contains("selfTestDivergentBarrier")
                    && first.getMessage().contains("restart"), first.getMessage());
            assertNotNull(gpu.lostReason());
            Backend checked = new CheckedBackend(gpu);
            DeviceUnavailableException later = assertThrows(DeviceUnavailableException.class, () -> checked.zeros(4));
            assertEquals(first.getMessage(), later.getMessage(), "every later call names the first failure");
        }
        // The shared emu device is untouched: a fault is per backend instance.
        Backends.forDevice(EMU).zeros(2).close();
    }

    @Test
    void unavailableCudaDevicesSayWhy() {
        Device d = Device.cuda(7);
        DeviceUnavailableException e;
        try {
            Backends.forDevice(d);
            return; // a machine with eight GPUs: nothing to check here
        } catch (DeviceUnavailableException x) {
            e = x;
        }
        assertTrue(e.getMessage().contains("cuda:7"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void theRegistryHandsOutOneCheckedFrontPerDevice() {
        assertSame(Backends.forDevice(EMU), Backends.forDevice(EMU));
        assertTrue(Backends.forDevice(EMU) instanceof CheckedBackend);
        assertTrue(Backends.cpu() instanceof CheckedBackend);
        assertNull(Backends.memoryStats(Device.CPU));
        IllegalArgumentException e;
        try (Tensor b = Backends.forDevice(EMU).zeros(2, 2); Tensor c = Backends.forDevice(EMU).zeros(2, 2)) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> Backends.forDevice(EMU).gemm(false, false, 1f, Tensor.of(new float[4], 2, 2), b, 0f, c));
        }
        assertTrue(e.getMessage().contains("gemm: a is on cpu but this backend is emu"), e.getMessage());
    }
}
