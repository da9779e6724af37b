package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The device the GPU parity tests run on: {@code -Djtrain.test.gpu=emu|cuda|cuda:N} (default emu). A device
 * whose backend cannot be created fails the test with the reason; the one exception is the default emu
 * device with an explicit {@code -Djtrain.native.skip=true} (no native build), which skips, like
 * {@code EmuTestSupport.emu()}. An explicitly requested cuda device that is missing is a failure.
 * {@code -Djtrain.test.kernels=vendor} runs the device's shared backend on cuBLAS/cuDNN instead of our
 * kernels ({@link GpuBackend#useKernels}), so the same parity suites check the vendor paths on a GPU.
 */
public final class TestDevices {
    public static final String PROPERTY = "jtrain.test.gpu";
    public static final String KERNELS = "jtrain.test.kernels";

    private TestDevices() {
    }

    /** The GPU device under test, its backend created (or the test failed/skipped). */
    public static Device gpu() {
        Device d = Device.parse(System.getProperty(PROPERTY, "emu"));
        if (d.isHost()) {
            fail("-D" + PROPERTY + "=" + System.getProperty(PROPERTY) + " names the cpu; the GPU tests need emu or cuda[:N]");
        }
        try {
            Backends.forDevice(d);
            String kernels = System.getProperty(KERNELS);
            if (kernels != null && Backends.gpu(d).kernels() != KernelChoice.parse(kernels)) {
                Backends.gpu(d).useKernels(KernelChoice.parse(kernels));
            }
            return d;
        } catch (RuntimeException e) {
            String why = "device " + d + " cannot be used: " + e.getMessage();
            if (d.kind() == Device.Kind.EMU && Boolean.getBoolean("jtrain.native.skip")) {
                Assumptions.abort(why + " (skipped: -Djtrain.native.skip=true)");
            }
            fail(why + (d.kind() == Device.Kind.EMU ? " (build the emu library, or skip the native parts explicitly"
                    + " with -Djtrain.native.skip=true)" : ""), e);
            throw e; // not reached
        }
    }

    /** Bytes the device's allocator has handed out and not yet had back. */
    public static long inUseBytes(Device d) {
        return Backends.gpu(d).memoryStats().inUseBytes();
    }
}
