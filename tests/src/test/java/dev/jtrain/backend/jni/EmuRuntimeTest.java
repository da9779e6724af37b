package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import static dev.jtrain.backend.jni.EmuTestSupport.emu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Emu device memory through the native runtime and {@link EmuDeviceRuntime}: copies with offsets,
 * memset, device-to-device copies, and every kind of bad argument (null pointer, negative size, array
 * too short, range past the allocation, freed or foreign memory, double free) as an exception while the
 * JVM carries on; and a kernel failure (a divergent barrier) as a {@link CudaException} with the emu's
 * detail.
 */
class EmuRuntimeTest {

    private static <T extends Throwable> T assertMessage(Class<T> type, String part, Runnable r) {
        T e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        return e;
    }

    @Test
    void copiesRoundTripWithOffsets() {
        NativeApi api = emu();
        long before = api.allocationCount();
        long p = api.malloc(64);
        try {
            float[] src = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
            api.copyFloatsToDevice(src, 2, p + 8, 6);           // floats 3..8 at float offset 2
            float[] back = new float[10];
            api.copyFloatsToHost(p + 8, back, 1, 6);
            assertArrayEquals(new float[] {0, 3, 4, 5, 6, 7, 8, 0, 0, 0}, back);

            api.memset(p, 0, 64);
            long[] longs = {Long.MIN_VALUE, -1, 42, Long.MAX_VALUE};
            api.copyLongsToDevice(longs, 0, p, 4);
            long[] lb = new long[4];
            api.copyLongsToHost(p, lb, 0, 4);
            assertArrayEquals(longs, lb);

            api.copyDeviceToDevice(p + 32, p, 32);              // second half = first half
            long[] lb2 = new long[8];
            api.copyLongsToHost(p, lb2, 0, 8);
            assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 42, Long.MAX_VALUE, Long.MIN_VALUE, -1, 42, Long.MAX_VALUE},
                    lb2);

            api.memset(p, 0xFF, 8);
            api.copyLongsToHost(p, lb, 0, 1);
            assertEquals(-1L, lb[0]);
            api.synchronize();
            long s = api.streamCreate();
            api.streamSynchronize(s);
            api.streamDestroy(s);
        } finally {
            api.free(p);
        }
        assertEquals(before, api.allocationCount());
        api.free(0);  // like cudaFree(nullptr)
    }

    @Test
    void badArgumentsThrowAndTheJvmCarriesOn() {
        NativeApi api = emu();
        long p = api.malloc(40);   // 10 floats
        try {
            float[] ten = new float[10];
            assertMessage(IllegalArgumentException.class, "bytes must be >= 1", () -> api.malloc(0));
            assertMessage(IllegalArgumentException.class, "bytes must be >= 1", () -> api.malloc(-5));
            assertMessage(IllegalArgumentException.class, "dst is a null device pointer",
                    () -> api.copyFloatsToDevice(ten, 0, 0L, 1));
            assertMessage(IllegalArgumentException.class, "src is a null array",
                    () -> api.copyFloatsToDevice(null, 0, p, 1));
            assertMessage(IllegalArgumentException.class, "count must be >= 0",
                    () -> api.copyFloatsToDevice(ten, 0, p, -1));
            assertMessage(IllegalArgumentException.class, "offset must be >= 0",
                    () -> api.copyFloatsToHost(p, ten, -1, 1));
            assertMessage(IllegalArgumentException.class, "too short",
                    () -> api.copyFloatsToHost(p, new float[3], 1, 3));
            assertMessage(IllegalArgumentException.class, "past its end",
                    () -> api.copyFloatsToDevice(new float[11], 0, p, 11));
            assertMessage(IllegalArgumentException.class, "past its end",
                    () -> api.copyLongsToHost(p + 8, new long[5], 0, 5));
            assertMessage(IllegalArgumentException.class, "bytes must be >= 0", () -> api.memset(p, 0, -1));
            assertMessage(IllegalArgumentException.class, "value must be a byte", () -> api.memset(p, 256, 4));
            assertMessage(IllegalArgumentException.class, "past its end", () -> api.copyDeviceToDevice(p, p + 4, 40));
            assertMessage(IllegalArgumentException.class, "not aligned", () -> api.elementwiseFill(p + 2, 1, 0f, 0));
            // Kernel arguments: null, negative size, range past the allocation, overflow, foreign memory.
            assertMessage(IllegalArgumentException.class, "x is a null device pointer",
                    () -> api.elementwiseFill(0L, 4, 1f, 0));
            assertMessage(IllegalArgumentException.class, "n must be >= 0", () -> api.elementwiseFill(p, -1, 1f, 0));
            assertMessage(IllegalArgumentException.class, "past its end", () -> api.elementwiseFill(p, 11, 1f, 0));
            assertMessage(IllegalArgumentException.class, "size overflow",
                    () -> api.elementwiseFill(p, Long.MAX_VALUE / 2, 1f, 0));
            assertMessage(IllegalArgumentException.class, "size overflow",
                    () -> api.batchnormForwardEval(p, 0, 0, p, p, 1e-5f, p, Integer.MAX_VALUE, Integer.MAX_VALUE,
                            Long.MAX_VALUE / 4, 0));
            assertMessage(IllegalArgumentException.class, "not emu device memory",
                    () -> api.elementwiseFill(0x1000L, 1, 1f, 0));
            assertMessage(IllegalArgumentException.class, "m must be >= 1",
                    () -> api.gemmSgemm(0, false, false, 0, 1, 1, 1f, p, 1, p, 1, 0f, p, 1, 0, false, 0));
            assertMessage(IllegalArgumentException.class, "lda must be >= k",
                    () -> api.gemmSgemm(0, false, false, 2, 2, 3, 1f, p, 2, p, 2, 0f, p, 2, 0, false, 0));
            assertMessage(IllegalArgumentException.class, "config must be",
                    () -> api.gemmSgemm(8, false, false, 1, 1, 1, 1f, p, 1, p, 1, 0f, p, 1, 0, false, 0));
            assertMessage(IllegalArgumentException.class, "kind must be",
                    () -> api.activationsForward(99, p, p, 10, 0f, 0f, 0));
            assertMessage(IllegalArgumentException.class, "padded height",
                    () -> api.poolAvgForward(p, p, 1, 1, 2, 2, 5, 1, 1, 1, 0, 0, 0));
            assertMessage(IllegalArgumentException.class, "momentumBuf is a null device pointer",
                    () -> api.optimSgd(p, p, 0, 10, 0.1f, 0.9f, 0f, 0f, false, true, 0));
            assertMessage(IllegalArgumentException.class, "grads has 1 entries but sizes has 2",
                    () -> api.optimSgdMulti(new long[] {p, p}, new long[] {p}, null, new long[] {1, 1}, 0.1f, 0f, 0f,
                            0f, false, true, 0));
            assertMessage(IllegalArgumentException.class, "params[1]",
                    () -> api.optimSgdMulti(new long[] {p, 0}, new long[] {p, p}, null, new long[] {1, 1}, 0.1f, 0f,
                            0f, 0f, false, true, 0));
            assertMessage(IllegalArgumentException.class, "step must be >= 1",
                    () -> api.optimAdam(p, p, p, p, 0, 10, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 0, 0));
            assertMessage(IllegalArgumentException.class, "stream 0 is the default stream",
                    () -> api.streamDestroy(0));
            // The allocation is intact after all of that.
            api.copyFloatsToDevice(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, p, 10);
            api.elementwiseScale(p, 10, 2f, 0);
            float[] back = new float[10];
            api.copyFloatsToHost(p, back, 0, 10);
            assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12, 14, 16, 18, 20}, back);
        } finally {
            api.free(p);
        }
    }

    @Test
    void freedMemoryIsDetected() {
        NativeApi api = emu();
        long p = api.malloc(16);
        api.free(p);
        assertMessage(IllegalArgumentException.class, "freed", () -> api.elementwiseFill(p, 4, 0f, 0));
        assertMessage(IllegalArgumentException.class, "freed", () -> api.copyFloatsToHost(p, new float[4], 0, 4));
        assertMessage(IllegalArgumentException.class, "double free", () -> api.free(p));
        assertMessage(IllegalArgumentException.class, "not the start of an allocation", () -> api.free(0x1000L));
    }

    @Test
    void aCppExceptionInsideANativeCallBecomesAJavaExceptionNotACrash() {
        NativeApi api = emu();
        OutOfMemoryError oom = assertThrows(OutOfMemoryError.class, () -> api.selfTestCppException(true));
        assertTrue(oom.getMessage().contains("std::bad_alloc"), oom.getMessage());
        IllegalStateException other = assertThrows(IllegalStateException.class, () -> api.selfTestCppException(false));
        assertTrue(other.getMessage().contains("a C++ exception inside a native call"), other.getMessage());
        long p = api.malloc(16);   // the library keeps working
        api.free(p);
    }

    @Test
    void divergentBarrierSurfacesAsCudaException() {
        NativeApi api = emu();
        CudaException e = assertThrows(CudaException.class, api::selfTestDivergentBarrier);
        assertEquals("cudaErrorLaunchFailure", e.statusName());
        assertEquals(719, e.statusCode());
        assertEquals("divergent_barrier_kernel", e.call());
        assertEquals("selfTestDivergentBarrier", e.op());
        assertFalse(e.detail().isEmpty(), "the emu explains the failure: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("selfTestDivergentBarrier: divergent_barrier_kernel failed: "
                + "cudaErrorLaunchFailure (719)"), e.getMessage());
        // The device still works afterwards (emu errors are not sticky).
        long p = api.malloc(16);
        try {
            api.elementwiseFill(p, 4, 3f, 0);
            float[] back = new float[4];
            api.copyFloatsToHost(p, back, 0, 4);
            assertArrayEquals(new float[] {3, 3, 3, 3}, back);
        } finally {
            api.free(p);
        }
    }

    @Test
    void emuDeviceRuntime() {
        emu();
        EmuDeviceRuntime rt = EmuDeviceRuntime.get();
        assertEquals(Device.EMU, rt.device());
        assertTrue(rt.describe().startsWith("emu:"));
        long before = rt.api().allocationCount();
        DeviceMemory a = rt.allocate(40);
        DeviceMemory b = rt.allocate(40);
        DeviceMemory empty = rt.allocate(0);
        try {
            assertEquals(40, a.bytes());
            assertEquals(Device.EMU, a.device());
            rt.copyToDevice(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, a, 0, 10);
            rt.copy(a, 8, b, 0, 32);
            rt.memset(b, 32, 0, 8);
            float[] back = new float[10];
            rt.copyToHost(b, 0, back, 0, 10);
            assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8, 9, 10, 0, 0}, back);
            long[] longs = {5, -6, 7};
            rt.copyToDevice(longs, 0, a, 8, 3);
            long[] lb = new long[3];
            rt.copyToHost(a, 8, lb, 0, 3);
            assertArrayEquals(longs, lb);
            rt.synchronize();

            assertMessage(IllegalArgumentException.class, "outside device memory",
                    () -> rt.copyToDevice(new float[11], 0, a, 0, 11));
            assertMessage(IllegalArgumentException.class, "outside device memory", () -> rt.copy(a, 4, b, 0, 40));
            assertMessage(IllegalArgumentException.class, "too short", () -> rt.copyToHost(a, 0, new float[2], 1, 2));
            assertMessage(IllegalArgumentException.class, "bytes must be >= 0", () -> rt.allocate(-1));
            assertMessage(IllegalArgumentException.class, "value must be a byte", () -> rt.memset(a, 0, -1, 4));
            assertMessage(IllegalArgumentException.class, "dst is missing", () -> rt.memset(null, 0, 0, 4));
            DeviceMemory foreign = new DeviceMemory(Device.cuda(0), 0x1000L, 4, addr -> { });
            assertMessage(IllegalArgumentException.class, "dst is on cuda:0 but this runtime is emu",
                    () -> rt.memset(foreign, 0, 0, 4));
            foreign.close();
        } finally {
            rt.free(a);
            b.close();
            empty.close();
        }
        assertTrue(a.isFreed());
        b.close();  // idempotent
        assertMessage(IllegalStateException.class, "was freed", a::address);
        assertMessage(IllegalStateException.class, "was freed", () -> rt.copyToHost(a, 0, new float[1], 0, 1));
        assertEquals(before, rt.api().allocationCount());
    }

    /**
     * Review items 4 and 5: stream handles not created through streamCreate (or already destroyed) are an
     * IllegalArgumentException naming the argument, never passed to the runtime (streamSynchronize(1)
     * crashed the JVM; a second streamDestroy read freed memory and left a stale last error that the
     * next successful launch reported as its own failure).
     */
    @Test
    void streamHandlesAreValidated() {
        NativeApi api = emu();
        long p = api.malloc(16);
        try {
            assertMessage(IllegalArgumentException.class, "stream", () -> api.streamSynchronize(1));
            assertMessage(IllegalArgumentException.class, "stream", () -> api.streamDestroy(1));
            assertMessage(IllegalArgumentException.class, "stream", () -> api.elementwiseFill(p, 4, 1f, 1));
            long s = api.streamCreate();
            api.elementwiseFill(p, 4, 2f, s);
            api.streamSynchronize(s);
            api.streamDestroy(s);
            assertMessage(IllegalArgumentException.class, "stream", () -> api.streamDestroy(s));
            assertMessage(IllegalArgumentException.class, "stream", () -> api.streamSynchronize(s));
            assertMessage(IllegalArgumentException.class, "stream", () -> api.elementwiseFill(p, 4, 1f, s));
            // No stale error: the next launch on the default stream succeeds.
            api.elementwiseFill(p, 4, 3f, 0);
            float[] back = new float[4];
            api.copyFloatsToHost(p, back, 0, 4);
            assertArrayEquals(new float[] {3, 3, 3, 3}, back);
        } finally {
            api.free(p);
        }
    }

    /**
     * Review item 7: arguments the launchers reject (JT_REQUIRE) are checked in JNI too, so they surface as
     * IllegalArgumentException naming the argument rather than as a CudaException.
     */
    @Test
    void scalarArgumentsAreCheckedBeforeTheLaunch() {
        NativeApi api = emu();
        long f = api.malloc(64);  // 16 floats
        long l = api.malloc(64);  // 8 longs
        try {
            api.memset(l, 0, 64);
            for (float eps : new float[] {Float.NaN, -0.5f, 1.5f}) {
                assertMessage(IllegalArgumentException.class, "eps",
                        () -> api.softmaxXentForward(f, l, 2, 2, eps, f + 16, f + 32, 0, 0));
                assertMessage(IllegalArgumentException.class, "eps",
                        () -> api.softmaxXentBackward(f, l, 2, 2, eps, 1f, f + 16, 0, 0));
            }
            for (float p : new float[] {Float.NaN, -0.1f, 1.5f}) {
                assertMessage(IllegalArgumentException.class, "p must be",
                        () -> api.dropoutForward(f, f + 16, 0, 4, p, 1, 0, 0));
            }
            assertMessage(IllegalArgumentException.class, "lo must be <= hi",
                    () -> api.randomUniform(f, 4, 2f, 1f, 1, 0, 0));
            assertMessage(IllegalArgumentException.class, "finite",
                    () -> api.randomUniform(f, 4, 0f, Float.POSITIVE_INFINITY, 1, 0, 0));
            assertMessage(IllegalArgumentException.class, "std must be >= 0",
                    () -> api.randomNormal(f, 4, 0f, -1f, 1, 0, 0));
            assertMessage(IllegalArgumentException.class, "finite",
                    () -> api.randomNormal(f, 4, Float.NaN, 1f, 1, 0, 0));
            final int softplus = 9;
            for (float a : new float[] {Float.POSITIVE_INFINITY, 0f, -1f, Float.NaN}) {
                assertMessage(IllegalArgumentException.class, "softplus beta",
                        () -> api.activationsForward(softplus, f, f + 16, 4, a, 20f, 0));
            }
            // The boundaries are accepted.
            api.softmaxXentForward(f, l, 2, 2, 1f, f + 16, f + 32, 0, 0);
            api.dropoutForward(f, f + 16, 0, 4, 1f, 1, 0, 0);
            api.randomUniform(f, 4, 1f, 1f, 1, 0, 0);
            api.randomNormal(f, 4, 0f, 0f, 1, 0, 0);
        } finally {
            api.free(f);
            api.free(l);
        }
    }
}
