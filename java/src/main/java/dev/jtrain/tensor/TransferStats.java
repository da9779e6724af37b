package dev.jtrain.tensor;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts every host/device transfer made through {@link Tensor#to(Device)}: bytes and nanoseconds
 * per direction, so users see where host-device traffic goes. Process-wide, thread-safe.
 */
public final class TransferStats {

    public enum Direction { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE }

    private static final AtomicLong[] BYTES = counters();
    private static final AtomicLong[] NANOS = counters();
    private static final AtomicLong[] COUNT = counters();

    private TransferStats() {
    }

    private static AtomicLong[] counters() {
        AtomicLong[] a = new AtomicLong[Direction.values().length];
        for (int i = 0; i < a.length; i++) {
            a[i] = new AtomicLong();
        }
        return a;
    }

    public static void record(Direction d, long bytes, long nanos) {
        BYTES[d.ordinal()].addAndGet(bytes);
        NANOS[d.ordinal()].addAndGet(nanos);
        COUNT[d.ordinal()].incrementAndGet();
    }

    public static long bytes(Direction d) {
        return BYTES[d.ordinal()].get();
    }

    public static long nanos(Direction d) {
        return NANOS[d.ordinal()].get();
    }

    public static long count(Direction d) {
        return COUNT[d.ordinal()].get();
    }

    public static void reset() {
        for (Direction d : Direction.values()) {
            BYTES[d.ordinal()].set(0);
            NANOS[d.ordinal()].set(0);
            COUNT[d.ordinal()].set(0);
        }
    }

    public static String summary() {
        StringBuilder sb = new StringBuilder();
        for (Direction d : Direction.values()) {
            sb.append(String.format("%s: %d transfers, %d bytes, %.3f ms%n", d, count(d), bytes(d), nanos(d) / 1e6));
        }
        return sb.toString();
    }
}
