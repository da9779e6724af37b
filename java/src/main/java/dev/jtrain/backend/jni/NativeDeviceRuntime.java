package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Device;

import java.lang.ref.Reference;
import java.util.Objects;

/**
 * A {@link DeviceRuntime} over the native library's own CUDA runtime ({@link NativeApi#malloc} etc.): the
 * emulated runtime for {@code emu}, or libjtrain_cuda's static CUDA runtime where the native library owns
 * device memory itself.
 *
 * <p>Used only by tests today: the GPU backend calls {@link NativeApi} directly (docs/architecture.md,
 * "Where the code differs from the original design").
 *
 * <p>Every native call that takes {@code mem.address()} keeps {@code mem} reachable until it returns
 * ({@code Reference.reachabilityFence}): otherwise its Cleaner could free the memory during the call.
 */
public class NativeDeviceRuntime implements DeviceRuntime {
    /** Allocations are rounded up to this many bytes (and a zero-byte request gets one unit). */
    public static final long ALIGNMENT = 256;

    private final NativeApi api;
    private final Device device;

    public NativeDeviceRuntime(NativeApi api, Device device) {
        this.api = Objects.requireNonNull(api, "api");
        this.device = Objects.requireNonNull(device, "device");
    }

    /** The native entry points this runtime uses (for launching kernels on its memory). */
    public NativeApi api() {
        return api;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public String describe() {
        return api.buildInfo();
    }

    @Override
    public DeviceMemory allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocate: bytes must be >= 0, got " + bytes);
        }
        if (bytes > Long.MAX_VALUE - ALIGNMENT) {
            throw new IllegalArgumentException("allocate: " + bytes + " bytes is too large");
        }
        long rounded = Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        long address = api.malloc(rounded);
        return new DeviceMemory(device, address, bytes, api::free);
    }

    private DeviceMemory mine(String op, String arg, DeviceMemory m) {
        if (m == null) {
            throw new IllegalArgumentException(op + ": " + arg + " is missing (null)");
        }
        if (!m.device().equals(device)) {
            throw new IllegalArgumentException(op + ": " + arg + " is on " + m.device() + " but this runtime is " + device);
        }
        if (m.isFreed()) {
            throw new IllegalStateException(op + ": " + arg + " (" + m.bytes() + " bytes) was freed");
        }
        return m;
    }

    private static void arrayRange(String op, String arg, int length, int offset, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(op + ": " + arg + " has " + length + " elements, too short for offset "
                    + offset + " + count " + count);
        }
    }

    @Override
    public void copyToDevice(float[] src, int srcOffset, DeviceMemory dst, long dstByteOffset, int count) {
        String op = "copyToDevice";
        Objects.requireNonNull(src, "src");
        arrayRange(op, "src", src.length, srcOffset, count);
        long address = mine(op, "dst", dst).address(dstByteOffset, 4L * count);
        try {
            api.copyFloatsToDevice(src, srcOffset, address, count);
        } finally {
            Reference.reachabilityFence(dst);
        }
    }

    @Override
    public void copyToHost(DeviceMemory src, long srcByteOffset, float[] dst, int dstOffset, int count) {
        String op = "copyToHost";
        Objects.requireNonNull(dst, "dst");
        arrayRange(op, "dst", dst.length, dstOffset, count);
        long address = mine(op, "src", src).address(srcByteOffset, 4L * count);
        try {
            api.copyFloatsToHost(address, dst, dstOffset, count);
        } finally {
            Reference.reachabilityFence(src);
        }
    }

    @Override
    public void copyToDevice(long[] src, int srcOffset, DeviceMemory dst, long dstByteOffset, int count) {
        String op = "copyToDevice";
        Objects.requireNonNull(src, "src");
        arrayRange(op, "src", src.length, srcOffset, count);
        long address = mine(op, "dst", dst).address(dstByteOffset, 8L * count);
        try {
            api.copyLongsToDevice(src, srcOffset, address, count);
        } finally {
            Reference.reachabilityFence(dst);
        }
    }

    @Override
    public void copyToHost(DeviceMemory src, long srcByteOffset, long[] dst, int dstOffset, int count) {
        String op = "copyToHost";
        Objects.requireNonNull(dst, "dst");
        arrayRange(op, "dst", dst.length, dstOffset, count);
        long address = mine(op, "src", src).address(srcByteOffset, 8L * count);
        try {
            api.copyLongsToHost(address, dst, dstOffset, count);
        } finally {
            Reference.reachabilityFence(src);
        }
    }

    @Override
    public void copy(DeviceMemory src, long srcByteOffset, DeviceMemory dst, long dstByteOffset, long bytes) {
        String op = "copy";
        long s = mine(op, "src", src).address(srcByteOffset, bytes);
        long d = mine(op, "dst", dst).address(dstByteOffset, bytes);
        try {
            api.copyDeviceToDevice(d, s, bytes);
        } finally {
            Reference.reachabilityFence(src);
            Reference.reachabilityFence(dst);
        }
    }

    @Override
    public void memset(DeviceMemory dst, long byteOffset, int value, long bytes) {
        String op = "memset";
        if (value < 0 || value > 255) {
            throw new IllegalArgumentException(op + ": value must be a byte (0..255), got " + value);
        }
        long d = mine(op, "dst", dst).address(byteOffset, bytes);
        try {
            api.memset(d, value, bytes);
        } finally {
            Reference.reachabilityFence(dst);
        }
    }

    @Override
    public void synchronize() {
        api.synchronize();
    }

    @Override
    public String toString() {
        return "NativeDeviceRuntime(" + device + ")";
    }
}
