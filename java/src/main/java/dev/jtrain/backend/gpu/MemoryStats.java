package dev.jtrain.backend.gpu;

/**
 * A snapshot of one device's memory as its {@link DeviceAllocator} sees it: bytes handed out to tensors
 * ({@code inUseBytes}, the most so far {@code peakBytes}), bytes kept in the cache for reuse
 * ({@code cachedBytes}), the backend's own long-lived workspaces ({@code reservedBytes}), and how often the
 * device itself was asked ({@code deviceMallocs}, {@code deviceFrees}); {@code cleanerReleases} counts
 * blocks the garbage collector's safety net had to return because nobody closed their tensor (a leak to
 * fix: tests require 0); {@code oomRetries} counts allocations that succeeded only after flushing the cache.
 */
public record MemoryStats(long inUseBytes, long peakBytes, long cachedBytes, long reservedBytes, long deviceMallocs,
                          long deviceFrees, long allocations, long cacheHits, long cleanerReleases, long oomRetries) {

    @Override
    public String toString() {
        return String.format("in use %s (peak %s), cached %s, reserved %s, %d device mallocs, %d frees, "
                        + "%d allocations (%d from cache), %d released by the GC safety net",
                human(inUseBytes), human(peakBytes), human(cachedBytes), human(reservedBytes), deviceMallocs,
                deviceFrees, allocations, cacheHits, cleanerReleases);
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return String.format("%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1024L * 1024 * 1024) {
            return String.format("%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
