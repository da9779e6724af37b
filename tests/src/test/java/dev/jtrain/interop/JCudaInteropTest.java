package dev.jtrain.interop;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import jcuda.Pointer;
import org.junit.jupiter.api.Test;

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
}
