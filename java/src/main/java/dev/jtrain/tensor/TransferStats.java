package dev.jtrain.tensor;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The transfers of one device backend ({@link Tensor#to(Device)}, {@link Tensor#copyFrom(Tensor)}): per
 * direction, the number of moves, bytes, nanoseconds (host time spent in the call: an asynchronous
 * host-to-device copy returns once the data is staged) and the bytes that went through pinned staging memory
 * (the rest were pageable), so users see where host-device traffic goes. Each backend instance owns one
 * ({@link TensorDevice#transferStats()}); a move is counted by the backend of its non-host end, a
 * device-to-device move by the destination's. Thread-safe; {@link #snapshot} gives totals to diff across an
 * epoch.
 */
public final class TransferStats {

    /** The direction of a counted copy (a device-to-device copy goes through the host). */
    public enum Direction { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE }

    private static final int FIELDS = 4; // count, bytes, nanos, pinned bytes

    private final Device device;
    private final AtomicLongArray counters = new AtomicLongArray(Direction.values().length * FIELDS);

    /** Counters for the backend of {@code device} (named in {@link #summary()}). */
    public TransferStats(Device device) {
        this.device = java.util.Objects.requireNonNull(device, "device");
    }

    public Device device() {
        return device;
    }

    /** One move; {@code pinned}: it went through pinned (page-locked) staging memory. */
    public void record(Direction d, long bytes, long nanos, boolean pinned) {
        int base = d.ordinal() * FIELDS;
        counters.incrementAndGet(base);
        counters.addAndGet(base + 1, bytes);
        counters.addAndGet(base + 2, nanos);
        if (pinned) {
            counters.addAndGet(base + 3, bytes);
        }
    }

    private long get(Direction d, int field) {
        return counters.get(d.ordinal() * FIELDS + field);
    }

    public long count(Direction d) {
        return get(d, 0);
    }

    public long bytes(Direction d) {
        return get(d, 1);
    }

    public long nanos(Direction d) {
        return get(d, 2);
    }

    /** Bytes of {@code bytes(d)} that went through pinned staging memory. */
    public long pinnedBytes(Direction d) {
        return get(d, 3);
    }

    /** The totals now. */
    public Totals snapshot() {
        return new Totals(bytes(Direction.HOST_TO_DEVICE), bytes(Direction.DEVICE_TO_HOST),
                nanos(Direction.HOST_TO_DEVICE) / 1e9, nanos(Direction.DEVICE_TO_HOST) / 1e9,
                count(Direction.HOST_TO_DEVICE), count(Direction.DEVICE_TO_HOST),
                pinnedBytes(Direction.HOST_TO_DEVICE) + pinnedBytes(Direction.DEVICE_TO_HOST));
    }

    /**
     * Host-to-device and device-to-host totals: bytes, seconds and number of moves, and the bytes of both
     * directions that went through pinned staging memory.
     */
    public record Totals(long h2dBytes, long d2hBytes, double h2dSeconds, double d2hSeconds, long h2dCount,
                         long d2hCount, long pinnedBytes) {
        public static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0);

        public Totals plus(Totals other) {
            return new Totals(h2dBytes + other.h2dBytes, d2hBytes + other.d2hBytes, h2dSeconds + other.h2dSeconds,
                    d2hSeconds + other.d2hSeconds, h2dCount + other.h2dCount, d2hCount + other.d2hCount,
                    pinnedBytes + other.pinnedBytes);
        }

        /** This minus an earlier snapshot: the traffic in between. */
        public Totals minus(Totals earlier) {
            return new Totals(h2dBytes - earlier.h2dBytes, d2hBytes - earlier.d2hBytes,
                    h2dSeconds - earlier.h2dSeconds, d2hSeconds - earlier.d2hSeconds, h2dCount - earlier.h2dCount,
                    d2hCount - earlier.d2hCount, pinnedBytes - earlier.pinnedBytes);
        }
    }

    /** Sets every counter to zero. */
    public void reset() {
        for (int i = 0; i < counters.length(); i++) {
            counters.set(i, 0);
        }
    }

    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (Direction d : Direction.values()) {
            sb.append(String.format("%s %s: %d transfers, %d bytes (%d pinned), %.3f ms%n", device, d, count(d), bytes(d),
                    pinnedBytes(d), nanos(d) / 1e6));
        }
        return sb.toString();
    }
}
