package dev.jtrain.backend.gpu;

import dev.jtrain.backend.jni.CudaException;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.tensor.Device;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A caching, stream-ordered device allocator (the idea of PyTorch's CUDA caching allocator, much
 * simplified). Requests are rounded up to a size class (multiples of 512 B up to 1 MiB, of 2 MiB above);
 * a released block goes to its class's free list and the next request of that class takes it without
 * asking the device, so a training step allocates no device memory after the first.
 *
 * <p>Why reuse is safe: every op of a {@link GpuBackend} runs on its one stream, in issue order, host copies
 * included (the native stager issues them as async copies through pinned chunks on that stream). A block released by a tensor is therefore only ever reused by work issued later on the same
 * stream, which the device runs after every kernel that may still be using the block.
 *
 * <p>Out of memory: when the device refuses, the cache is returned to the device and the request retried
 * once; if it still fails, a {@link DeviceOutOfMemoryException} names the request and the pool's state,
 * and the allocator stays usable.
 */
public final class DeviceAllocator implements AutoCloseable {
    static final long SMALL_LIMIT = 1L << 20;
    static final long SMALL_STEP = 512;
    static final long LARGE_STEP = 2L << 20;

    private final NativeApi api;
    private final Device device;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private final ConcurrentLinkedQueue<long[]> releasedByCleaner = new ConcurrentLinkedQueue<>();

    private long inUse;
    private long peak;
    private long cached;
    private long mallocs;
    private long frees;
    private long allocations;
    private long cacheHits;
    private long cleanerReleases;
    private long oomRetries;
    private long reserved;
    private final java.util.List<Long> reservedBlocks = new java.util.ArrayList<>();
    private boolean closed;
    private long limit = Long.MAX_VALUE;   // device memory this allocator may hold: in use + cached + reserved

    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public DeviceAllocator(NativeApi api, Device device) {
        this.api = api;
        this.device = device;
    }

    public Device device() {
        return device;
    }

    /** The size class of a request: what the block really holds. */
    static long blockSize(long bytes) {
        if (bytes <= SMALL_LIMIT) {
            return Math.max(SMALL_STEP, (bytes + SMALL_STEP - 1) / SMALL_STEP * SMALL_STEP);
        }
        return (bytes + LARGE_STEP - 1) / LARGE_STEP * LARGE_STEP;
    }

    /** A block of at least {@code bytes} bytes (contents undefined). */
    public synchronized DeviceBuffer allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("allocate: bytes must be >= 0, got " + bytes + " (" + device + ")");
        }
        requireOpen();
        drainCleanerReleases();
        long block = blockSize(bytes);
        allocations++;
        ArrayDeque<Long> list = free.get(block);
        long address;
        if (list != null && !list.isEmpty()) {
            address = list.pop();
            cached -= block;
            cacheHits++;
        } else {
            address = deviceMalloc(bytes, block);
        }
        inUse += block;
        peak = Math.max(peak, inUse);
        return new DeviceBuffer(this, address, bytes, block);
    }

    /**
     * Caps the device memory this allocator holds (blocks in use, cached blocks and the backend's reserved
     * workspaces; PyTorch's {@code set_per_process_memory_fraction} caps the same), so several engines can
     * share a device. A request that would pass the cap first returns the cache to the device, then fails with
     * a {@link DeviceOutOfMemoryException} naming the limit. {@code Long.MAX_VALUE}: no cap (the default).
     *
     * @throws IllegalArgumentException if {@code bytes <= 0}
     */
    public synchronized void setMemoryLimit(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("memory limit of " + device + " must be > 0 bytes, got " + bytes
                    + " (Long.MAX_VALUE: no limit)");
        }
        limit = bytes;
    }

    /** The cap set by {@link #setMemoryLimit}, or {@code Long.MAX_VALUE}. */
    public synchronized long memoryLimit() {
        return limit;
    }

    private long held() {
        return inUse + cached + reserved;
    }

    private long deviceMalloc(long bytes, long block) {
        if (held() + block > limit) {
            long flushed = cached;
            emptyCacheLocked();
            if (held() + block > limit) {
                MemoryStats s = statsLocked();
                throw new DeviceOutOfMemoryException(device + " is out of memory under its limit of "
                        + MemoryStats.human(limit) + ": a request of " + bytes + " bytes (block " + MemoryStats.human(block)
                        + ") would pass it even after returning " + MemoryStats.human(flushed) + " of cached blocks; pool: "
                        + s + ". Close tensors you no longer need, use a smaller batch or raise the limit.", bytes, s, null);
            }
        }
        try {
            long a = api.malloc(block);
            mallocs++;
            return a;
        } catch (CudaException first) {
            if (!first.isOutOfMemory()) {
                throw first;
            }
            long flushed = cached;
            emptyCacheLocked();
            try {
                long a = api.malloc(block);
                mallocs++;
                oomRetries++;
                return a;
            } catch (CudaException second) {
                if (!second.isOutOfMemory()) {
                    throw second;
                }
                MemoryStats s = statsLocked();
                throw new DeviceOutOfMemoryException(device + " is out of memory: a request of " + bytes + " bytes (block "
                        + MemoryStats.human(block) + ") failed even after returning " + MemoryStats.human(flushed)
                        + " of cached blocks to the device; pool: " + s + ". Close tensors you no longer need or "
                        + "use a smaller batch.", bytes, s, second);
            }
        }
    }

    /** Called by {@link DeviceBuffer} exactly once per block. */
    void release(long address, long block, boolean byCleaner) {
        if (byCleaner) {
            releasedByCleaner.add(new long[] {address, block}); // the Cleaner's thread: hand over, no lock
            return;
        }
        synchronized (this) {
            putBack(address, block);
        }
    }

    private void putBack(long address, long block) {
        inUse -= block;
        if (closed) {
            freeOnDevice(address);
            return;
        }
        free.computeIfAbsent(block, k -> new ArrayDeque<>()).push(address);
        cached += block;
    }

    private void drainCleanerReleases() {
        long[] r;
        while ((r = releasedByCleaner.poll()) != null) {
            cleanerReleases++;
            putBack(r[0], r[1]);
        }
    }

    private void freeOnDevice(long address) {
        api.free(address);
        frees++;
    }

    /** Returns every cached block to the device (blocks in use are untouched). */
    public synchronized void emptyCache() {
        drainCleanerReleases();
        emptyCacheLocked();
    }

    private void emptyCacheLocked() {
        for (ArrayDeque<Long> list : free.values()) {
            while (!list.isEmpty()) {
                freeOnDevice(list.pop());
            }
        }
        free.clear();
        cached = 0;
    }

    /** Device memory the backend keeps for itself for its lifetime (reduction workspaces); freed by close. */
    synchronized long reserve(long bytes) {
        requireOpen();
        long a = api.malloc(Math.max(SMALL_STEP, bytes));
        mallocs++;
        reserved += Math.max(SMALL_STEP, bytes);
        reservedBlocks.add(a);
        return a;
    }

    public synchronized MemoryStats stats() {
        drainCleanerReleases();
        return statsLocked();
    }

    private MemoryStats statsLocked() {
        return new MemoryStats(inUse, peak, cached, reserved, mallocs, frees, allocations, cacheHits, cleanerReleases,
                oomRetries);
    }

    /** Starts a new peak measurement at the current in-use bytes. */
    public synchronized void resetPeak() {
        peak = inUse;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the allocator of " + device + " was closed");
        }
    }

    /** Frees the cache and the reserved workspaces; blocks still in use are freed when their tensors are closed. */
    @Override
    public synchronized void close() {
        if (!closed) {
            drainCleanerReleases();
            emptyCacheLocked();
            for (long a : reservedBlocks) {
                freeOnDevice(a);
            }
            reservedBlocks.clear();
            reserved = 0;
            closed = true;
        }
    }
}
