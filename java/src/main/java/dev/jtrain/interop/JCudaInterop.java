package dev.jtrain.interop;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.gpu.BorrowedDeviceMemory;
import dev.jtrain.backend.gpu.DeviceStorage;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import jcuda.Pointer;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaStream_t;

import java.lang.reflect.Constructor;

/**
 * Interop with JCuda 12.6 (docs/architecture.md, section 4 "The GPU path"): jtrain's native library owns its CUDA
 * runtime, JCuda brings its own; both work in the device's primary context, so device pointers and streams
 * are valid in both (as in PyTorch/CuPy interop).
 *
 * <ul>
 *   <li>{@link #wrap}: an application's JCuda device allocation as a jtrain tensor, without a copy. jtrain
 *       never frees it; the application frees it after jtrain's work on it is done.</li>
 *   <li>{@link #pointer}: a JCuda {@link Pointer} to a jtrain tensor's device memory (valid while the tensor
 *       is open), and {@link #stream}: jtrain's stream on a device as a JCuda {@link cudaStream_t}, so JCuda
 *       code can be ordered with jtrain's kernels (or synchronise it before reading).</li>
 * </ul>
 * Only {@code cuda:n} devices take part: emu memory is host memory of the emulation, not a device address.
 */
public final class JCudaInterop {
    private JCudaInterop() {
    }

    /** Reads a JCuda pointer's address (its protected parts are reachable from a subclass). */
    private static final class Address extends Pointer {
        Address(Pointer p) {
            super(p);
        }

        Address(long address) {
            super(address);
        }

        long value() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** The device address a JCuda pointer holds (its byte offset included). */
    public static long address(Pointer p) {
        if (p == null) {
            throw new IllegalArgumentException("JCudaInterop: the pointer is missing (null)");
        }
        return new Address(p).value();
    }

    /** A JCuda pointer holding {@code address}. */
    static Pointer pointerAt(long address) {
        return new Address(address);
    }

    /**
     * A tensor over {@code bytes} of an application's device memory at {@code devicePointer} on {@code device}
     * (a cuda device), without a copy. Closing the tensor only ends jtrain's use of the memory.
     */
    public static Tensor wrap(Pointer devicePointer, DType dtype, Shape shape, Device device) {
        requireCuda(device, "wrap a JCuda pointer");
        Backends.forDevice(device); // the device must be usable by jtrain too
        long bytes = (long) shape.numel() * dtype.bytes();
        return new Tensor(shape, dtype, new BorrowedDeviceMemory(device, address(devicePointer), bytes));
    }

    /** A JCuda pointer to the device memory of {@code t} (a tensor on a cuda device), valid while t is open. */
    public static Pointer pointer(Tensor t) {
        requireCuda(t.device(), "hand a tensor to JCuda");
        return pointerAt(((DeviceStorage) t.storage()).address());
    }

    /** jtrain's stream on {@code device} as a JCuda stream handle. */
    public static cudaStream_t stream(Device device) {
        requireCuda(device, "hand jtrain's stream to JCuda");
        long handle = Backends.gpu(device).stream();
        try {
            Constructor<cudaStream_t> c = cudaStream_t.class.getDeclaredConstructor(long.class);
            c.setAccessible(true); // JCuda keeps this constructor package-private
            return c.newInstance(handle);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("JCudaInterop: cannot build a cudaStream_t from jtrain's stream: " + e, e);
        }
    }

    /**
     * The number of CUDA devices JCuda sees. Without a driver or JCuda's native library this throws
     * {@link DeviceUnavailableException} with one line saying why (never crashes the JVM).
     */
    public static int jcudaDeviceCount() {
        try {
            JCuda.setExceptionsEnabled(false);
            int[] n = new int[1];
            int status = JCuda.cudaGetDeviceCount(n);
            if (status != 0) {
                throw new DeviceUnavailableException("JCuda: cudaGetDeviceCount failed with status " + status + " ("
                        + JCuda.cudaGetErrorString(status) + "): no usable CUDA driver or GPU");
            }
            return n[0];
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new DeviceUnavailableException("JCuda cannot load its native library (" + e.getMessage()
                    + "): JCuda 12.6 needs an NVIDIA driver", e);
        }
    }

    private static void requireCuda(Device device, String what) {
        if (device == null || device.kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("JCudaInterop: cannot " + what + " on " + device
                    + ": only cuda devices share memory with JCuda (emu memory is the emulation's host memory)");
        }
    }
}
