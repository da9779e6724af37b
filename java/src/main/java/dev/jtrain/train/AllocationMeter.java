package dev.jtrain.train;

import java.lang.management.ManagementFactory;

/**
 * Heap bytes allocated between {@link #start()} and {@link #stop()}: by the calling thread, and by all
 * live threads (the CPU pool's workers included), read from HotSpot's per-thread allocation counters.
 * Reports -1 where the JVM does not support them. Used by the trainer ({@code alloc_bytes_per_step}) and by
 * {@code jtrain bench gemm}: in steady state the cpu kernels allocate nothing, so megabytes here mean that the JIT left
 * vector code boxed in this JVM, and the figure measured that, not the kernel.
 */
public final class AllocationMeter {
    private final com.sun.management.ThreadMXBean bean;
    private long self0;
    private long self1;
    private java.util.Map<Long, Long> all0;
    private long allDelta;

    /** A meter; enables HotSpot's per-thread allocation counters if they are off. */
    public AllocationMeter() {
        java.lang.management.ThreadMXBean b = ManagementFactory.getThreadMXBean();
        com.sun.management.ThreadMXBean sb = b instanceof com.sun.management.ThreadMXBean s ? s : null;
        if (sb != null) {
            try {
                if (!sb.isThreadAllocatedMemorySupported()) {
                    sb = null;
                } else if (!sb.isThreadAllocatedMemoryEnabled()) {
                    sb.setThreadAllocatedMemoryEnabled(true);
                }
            } catch (UnsupportedOperationException | SecurityException e) {
                sb = null;
            }
        }
        bean = sb;
    }

    /** Remembers every live thread's counter and the calling thread's. */
    public void start() {
        if (bean == null) {
            return;
        }
        long[] ids = bean.getAllThreadIds();
        long[] bytes = bean.getThreadAllocatedBytes(ids);
        all0 = new java.util.HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            all0.put(ids[i], bytes[i]);
        }
        self0 = bean.getCurrentThreadAllocatedBytes();
    }

    /** Reads the counters again; threads started in between count from zero. */
    public void stop() {
        if (bean == null) {
            return;
        }
        self1 = bean.getCurrentThreadAllocatedBytes();
        long[] ids = bean.getAllThreadIds();
        long[] bytes = bean.getThreadAllocatedBytes(ids);
        long d = 0;
        for (int i = 0; i < ids.length; i++) {
            if (bytes[i] >= 0) {
                d += bytes[i] - Math.max(0, all0.getOrDefault(ids[i], 0L));
            }
        }
        allDelta = d;
    }

    /**
     * Bytes allocated between {@link #start()} and {@link #stop()} divided by {@code steps}, by all threads or by the
     * calling thread only; -1 where the JVM has no counters.
     */
    public long perStep(long steps, boolean allThreads) {
        if (bean == null || steps == 0) {
            return -1;
        }
        return (allThreads ? allDelta : self1 - self0) / steps;
    }
}
