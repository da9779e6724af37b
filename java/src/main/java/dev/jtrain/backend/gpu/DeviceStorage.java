package dev.jtrain.backend.gpu;

import dev.jtrain.tensor.Storage;

/**
 * Storage in a GPU device's memory: what a {@link GpuBackend} hands to kernels. Either a block of jtrain's
 * own allocator ({@link DeviceBuffer}) or memory borrowed from another library ({@link BorrowedDeviceMemory},
 * e.g. a JCuda allocation wrapped without a copy).
 */
public interface DeviceStorage extends Storage {
    /** The device address of the first byte; throws {@link IllegalStateException} once released. */
    long address();
}
