package dev.jtrain.interop;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import jcuda.Pointer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JCuda interop where no GPU is needed: pointer addresses survive the round trip (byte offsets included),
 * only cuda devices take part, and a machine without a driver gets a one-line error, not a crash. Wrapping a
 * JCuda allocation and running jtrain ops on it needs a GPU (bench/scripts/gpu_bundle.sh runs that check).
 */
class JCudaInteropTest {

    @Test
    void addressesRoundTripThroughJCudaPointers() {
        long a = 0x7f00_1234_5000L;
        Pointer p = JCudaInterop.pointerAt(a);
        assertEquals(a, JCudaInterop.address(p));
        assertEquals(a + 64, JCudaInterop.address(p.withByteOffset(64)), "the byte offset is part of the address");
        assertThrows(IllegalArgumentException.class, () -> JCudaInterop.address(null));
    }

    @Test
    void onlyCudaDevicesShareMemoryWithJCuda() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JCudaInterop.wrap(JCudaInterop.pointerAt(4096), DType.FLOAT32, Shape.of(4), Device.EMU));
        assertTrue(e.getMessage().contains("emu") && e.getMessage().contains("only cuda"), e.getMessage());
        try (Tensor t = Backends.forDevice(Device.EMU).zeros(4)) {
            e = assertThrows(IllegalArgumentException.class, () -> JCudaInterop.pointer(t));
            assertTrue(e.getMessage().contains("emu"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> JCudaInterop.stream(Device.CPU));
    }

    @Test
    void withoutADriverJCudaSaysSoInOneLine() {
        int n;
        try {
            n = JCudaInterop.jcudaDeviceCount();
        } catch (DeviceUnavailableException e) {
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().startsWith("JCuda"), e.getMessage());
            return;
        }
        assertTrue(n >= 0);
    }

    @Test
    void wrappingOnAMissingGpuFailsClearly() {
        boolean gpu;
        try {
            Backends.forDevice(Device.cuda(0));
            gpu = true;
        } catch (DeviceUnavailableException e) {
            gpu = false;
        }
        if (!gpu) {
            DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                    () -> JCudaInterop.wrap(JCudaInterop.pointerAt(4096), DType.FLOAT32, Shape.of(4), Device.cuda(0)));
            assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
        }
    }

    /**
     * On a real GPU (-Djtrain.test.gpu=cuda[:N], as the GPU bundle runs it): memory JCuda allocated and filled is
     * read and written by a jtrain op through a wrapped tensor, jtrain's result is read back by JCuda through
     * pointer(tensor), and JCuda synchronises jtrain's stream. Skipped on emu (JCuda shares memory with CUDA
     * devices only) and where JCuda's own native library cannot load (the reason is printed).
     */
    @Test
    void onAGpuJCudaAndJtrainShareDeviceMemoryAndTheStream() {
        String requested = System.getProperty("jtrain.test.gpu", "emu");
        org.junit.jupiter.api.Assumptions.assumeTrue(requested.startsWith("cuda"),
                "needs -Djtrain.test.gpu=cuda[:N] (a real GPU); this run uses " + requested);
        Device gpu = dev.jtrain.backend.gpu.TestDevices.gpu();
        try {
            JCudaInterop.jcudaDeviceCount();
        } catch (DeviceUnavailableException e) {
            org.junit.jupiter.api.Assumptions.abort("JCuda is not usable here: " + e.getMessage());
        }
        float[] host = {-2f, -0.5f, 0f, 1.5f, 3f};
        jcuda.Pointer mem = new jcuda.Pointer();
        assertEquals(0, jcuda.runtime.JCuda.cudaMalloc(mem, 4L * host.length));
        try {
            assertEquals(0, jcuda.runtime.JCuda.cudaMemcpy(mem, jcuda.Pointer.to(host), 4L * host.length,
                    jcuda.runtime.cudaMemcpyKind.cudaMemcpyHostToDevice));
            try (Tensor wrapped = JCudaInterop.wrap(mem, DType.FLOAT32, Shape.of(host.length), gpu);
                 Tensor out = Backends.forDevice(gpu).zeros(host.length)) {
                Backends.forDevice(gpu).activationForward(dev.jtrain.backend.Activation.relu(), wrapped, out);
                assertArrayEquals(new float[] {0f, 0f, 0f, 1.5f, 3f}, out.to(Device.CPU).floats(),
                        "jtrain read JCuda's memory");
                Backends.forDevice(gpu).scale(wrapped, 2f);           // jtrain writes into JCuda's memory
                assertEquals(0, jcuda.runtime.JCuda.cudaStreamSynchronize(JCudaInterop.stream(gpu)));
                float[] back = new float[host.length];
                assertEquals(0, jcuda.runtime.JCuda.cudaMemcpy(jcuda.Pointer.to(back), JCudaInterop.pointer(wrapped),
                        4L * host.length, jcuda.runtime.cudaMemcpyKind.cudaMemcpyDeviceToHost));
                assertArrayEquals(new float[] {-4f, -1f, 0f, 3f, 6f}, back, "JCuda read what jtrain wrote");
            }
        } finally {
            jcuda.runtime.JCuda.cudaFree(mem);
        }
    }
}
