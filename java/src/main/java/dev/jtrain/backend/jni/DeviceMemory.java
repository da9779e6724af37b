package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Storage;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * One device allocation: its device, address and size. Made by a {@link DeviceRuntime}; freed by
 * {@link #close()} (idempotent) or, if it becomes unreachable first, by a {@link Cleaner}. Using it
 * after it was freed throws {@link IllegalStateException} (on the Java side; the native library checks
 * kernel arguments against its live allocations as well).
 */
public final class DeviceMemory implements Storage, AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Device device;
    private final long address;
    private final long bytes;
    private final Release release;
    private final Cleaner.Cleanable cleanable;

    /** Frees the address once, from close() or from the Cleaner; holds no reference to the DeviceMemory. */
    private static final class Release implements Runnable {
        private final AtomicBoolean freed = new AtomicBoolean();
        private final long address;
        private final LongConsumer free;

        Release(long address, LongConsumer free) {
            this.address = address;
            this.free = free;
        }

        @Override
        public void run() {
            if (freed.compareAndSet(false, true)) {
                free.accept(address);
            }
        }
    }

    /** Wraps {@code address} (from the runtime's allocator); {@code free} releases it exactly once. */
    DeviceMemory(Device device, long address, long bytes, LongConsumer free) {
        if (address == 0) {
            throw new IllegalArgumentException("device memory at address 0");
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("device memory of " + bytes + " bytes");
        }
        this.device = device;
        this.address = address;
        this.bytes = bytes;
        this.release = new Release(address, free);
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

    /** The device address; throws when freed. */
    public long address() {
        if (release.freed.get()) {
            throw new IllegalStateException("device memory of " + bytes + " bytes on " + device + " was freed");
        }
        return address;
    }

    /** The address of byte {@code offset}, checking that [offset, offset + length) lies inside. */
    public long address(long offset, long length) {
        if (offset < 0 || length < 0 || offset > bytes - length) {
            throw new IllegalArgumentException("range [" + offset + ", " + offset + " + " + length
                    + ") is outside device memory of " + bytes + " bytes");
        }
        return address() + offset;
    }

    public boolean isFreed() {
        return release.freed.get();
    }

    /** Frees the memory (once; later calls do nothing). */
    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "DeviceMemory(" + bytes + " bytes on " + device + (isFreed() ? ", freed)" : ")");
    }
}
