package dev.jtrain.backend.gpu;

/**
 * A device allocation that failed even after the allocator flushed its cache and retried once. The
 * message names the device, the request and the pool's state; the engine stays usable (free tensors, or
 * use a smaller batch, and try again).
 */
public final class DeviceOutOfMemoryException extends RuntimeException {
    private final long requestedBytes;
    private final transient MemoryStats stats;

    public DeviceOutOfMemoryException(String message, long requestedBytes, MemoryStats stats, Throwable cause) {
        super(message, cause);
        this.requestedBytes = requestedBytes;
        this.stats = stats;
    }

    public long requestedBytes() {
        return requestedBytes;
    }

    /** The allocator's state when the request failed. */
    public MemoryStats stats() {
        return stats;
    }
}
