package dev.jtrain.backend.gpu;

import dev.jtrain.tensor.Device;

/**
 * Device memory that belongs to someone else (an application's JCuda allocation): jtrain reads and writes it
 * but never frees it. {@link #close()} only ends jtrain's use: later accesses through this storage throw, and
 * the owner stays responsible for freeing the memory, after jtrain's work on it has finished (synchronise the
 * device or jtrain's stream first).
 */
public final class BorrowedDeviceMemory implements DeviceStorage {
    private final Device device;
    private final long address;
    private final long bytes;
    private volatile boolean closed;

    public BorrowedDeviceMemory(Device device, long address, long bytes) {
        if (address == 0) {
            throw new IllegalArgumentException("cannot wrap a null device pointer (" + device + ")");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot wrap " + bytes + " bytes of device memory");
        }
        this.device = device;
        this.address = address;
        this.bytes = bytes;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public long address() {
        if (closed) {
            throw new IllegalStateException("borrowed device memory of " + bytes + " bytes on " + device
                    + " was closed; it cannot be used through jtrain any more");
        }
        return address;
    }

    @Override
    public void close() {
        closed = true;
    }
}
