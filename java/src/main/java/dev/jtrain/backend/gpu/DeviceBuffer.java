package dev.jtrain.backend.gpu;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Storage;

import java.lang.ref.Cleaner;

/**
 * A tensor's device memory: one block of a {@link DeviceAllocator}. {@link #close()} returns the block to
 * the allocator's cache (idempotent); if the buffer becomes unreachable unclosed, a {@link Cleaner} returns
 * it and the allocator counts that as a leak ({@link MemoryStats#cleanerReleases()}). Using a closed buffer
 * throws {@link IllegalStateException} naming its size and device.
 */
public final class DeviceBuffer implements DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * {@code -Djtrain.debug.leaks=true}: remember where each buffer was allocated and print that stack when
     * the GC safety net has to free it (a tensor that was never closed). Off by default: a stack per buffer.
     */
    private static final boolean TRACE_LEAKS = Boolean.getBoolean("jtrain.debug.leaks");

    private final Device device;
    private final long address;
    private final long bytes;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    /** Returns the block once, from close() (explicit) or from the Cleaner; holds no reference to the buffer. */
    private static final class Release implements Runnable {
        private final DeviceAllocator allocator;
        private final long address;
        private final long blockBytes;
        private final Throwable origin;
        private volatile boolean explicit;
        private volatile boolean released;

        Release(DeviceAllocator allocator, long address, long blockBytes) {
            this.allocator = allocator;
            this.address = address;
            this.blockBytes = blockBytes;
            this.origin = TRACE_LEAKS ? new Throwable("allocated here") : null;
        }

        @Override
        public void run() {
            released = true;
            if (!explicit && origin != null) {
                System.err.println("jtrain: a " + blockBytes + "-byte block of " + allocator.device()
                        + " was never closed; the GC safety net freed it. It was allocated at:");
                origin.printStackTrace();
            }
            allocator.release(address, blockBytes, !explicit);
        }
    }

    DeviceBuffer(DeviceAllocator allocator, long address, long bytes, long blockBytes) {
        this.device = allocator.device();
        this.address = address;
        this.bytes = bytes;
        this.release = new Release(allocator, address, blockBytes);
        this.cleanable = CLEANER.register(this, release);
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    /** The device address; throws when the buffer was closed. */
    @Override
    public long address() {
        if (release.released) {
            throw new IllegalStateException("device memory of " + bytes + " bytes on " + device
                    + " was released (its tensor was closed); it cannot be used any more");
        }
        return address;
    }

    @Override
    public boolean isReleased() {
        return release.released;
    }

    @Override
    public void close() {
        release.explicit = true;
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "DeviceBuffer(" + bytes + " bytes on " + device + (isReleased() ? ", released)" : ")");
    }
}
