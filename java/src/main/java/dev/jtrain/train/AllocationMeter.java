package dev.jtrain.train;

import java.lang.management.ManagementFactory;

/**
 * Heap bytes allocated between {@link #start()} and {@link #stop()}: by the calling thread, and by all
 * live threads (the CPU pool's workers included), read from HotSpot's per-thread allocation counters.
 * Reports -1 where the JVM does not support them.
 */
final class AllocationMeter {
    private final com.sun.management.ThreadMXBean bean;
    private long self0;
    private long self1;
    private java.util.Map<Long, Long> all0;
    private long allDelta;

    AllocationMeter() {
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

    void start() {
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

    void stop() {
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

    long perStep(int steps, boolean allThreads) {
        if (bean == null || steps == 0) {
            return -1;
        }
        return (allThreads ? allDelta : self1 - self0) / steps;
    }
}
