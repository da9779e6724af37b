package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Device;

/**
 * Device memory and synchronisation for one device: what the GPU backend needs below its kernels.
 * Implementations: {@link NativeDeviceRuntime} over the native library's own CUDA runtime (the emulated
 * one for {@code emu}: {@link EmuDeviceRuntime}). Not used by the GPU backend, which calls
 * {@link NativeApi} directly with its own allocator; kept for the runtime tests (docs/architecture.md,
 * "Where the code differs from the original design").
 *
 * <p>Offsets into device memory are in bytes; offsets into Java arrays and counts are in elements. Copies
 * are synchronous. Arguments are checked (memory of another device or already freed, ranges outside the
 * memory or the array) and throw {@link IllegalArgumentException} / {@link IllegalStateException}; a
 * failing runtime call throws {@link CudaException}.
 */
public interface DeviceRuntime {

    Device device();

    /** A short description, e.g. "emu: libjtrain_emu, ...". */
    String describe();

    /** New device memory of {@code bytes >= 0} bytes (contents undefined). */
    DeviceMemory allocate(long bytes);

    /** Frees {@code memory} (same as {@link DeviceMemory#close()}). */
    default void free(DeviceMemory memory) {
        memory.close();
    }

    void copyToDevice(float[] src, int srcOffset, DeviceMemory dst, long dstByteOffset, int count);

    void copyToHost(DeviceMemory src, long srcByteOffset, float[] dst, int dstOffset, int count);

    void copyToDevice(long[] src, int srcOffset, DeviceMemory dst, long dstByteOffset, int count);

    void copyToHost(DeviceMemory src, long srcByteOffset, long[] dst, int dstOffset, int count);

    /** Copies {@code bytes} bytes between two device allocations of this device. */
    void copy(DeviceMemory src, long srcByteOffset, DeviceMemory dst, long dstByteOffset, long bytes);

    /** Sets {@code bytes} bytes to {@code value} (0..255). */
    void memset(DeviceMemory dst, long byteOffset, int value, long bytes);

    /** Waits for all work on the device. */
    void synchronize();
}
