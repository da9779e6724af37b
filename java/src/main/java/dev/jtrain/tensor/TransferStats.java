package dev.jtrain.tensor;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts every host/device transfer ({@link Tensor#to(Device)}, {@link Tensor#copyFrom(Tensor)}): per
 * device (the non-host end) and direction, the number of moves, bytes, nanoseconds (host time spent in
 * the call: an asynchronous host-to-device copy returns once the data is staged) and the bytes that went
 * through pinned staging memory (the rest were pageable), so users see where host-device traffic goes. Process-wide and thread-safe; {@link #snapshot} gives totals to diff across
 * an epoch. Device-to-device moves are counted under the destination device.
 */
public final class TransferStats {

    /** The direction of a counted copy (a device-to-device copy goes through the host). */
    public enum Direction { HOST_TO_DEVICE, DEVICE_TO_HOST, DEVICE_TO_DEVICE }

    private static final int FIELDS = 4; // count, bytes, nanos, pinned bytes
    private static final Map<Device, AtomicLongArray> PER_DEVICE = new ConcurrentHashMap<>();

    private TransferStats() {
    }

    private static AtomicLongArray of(Device device) {
        return PER_DEVICE.computeIfAbsent(device, d -> new AtomicLongArray(Direction.values().length * FIELDS));
    }

    public static void record(Device device, Direction d, long bytes, long nanos) {
        record(device, d, bytes, nanos, false);
    }

    /** One move; {@code pinned}: it went through pinned (page-locked) staging memory. */
    public static void record(Device device, Direction d, long bytes, long nanos, boolean pinned) {
        AtomicLongArray a = of(device);
        int base = d.ordinal() * FIELDS;
        a.incrementAndGet(base);
        a.addAndGet(base + 1, bytes);
        a.addAndGet(base + 2, nanos);
        if (pinned) {
            a.addAndGet(base + 3, bytes);
        }
    }

    private static long get(Device device, Direction d, int field) {
        AtomicLongArray a = device == null ? null : PER_DEVICE.get(device);
        if (device == null) {
            long s = 0;
            for (AtomicLongArray x : PER_DEVICE.values()) {
                s += x.get(d.ordinal() * FIELDS + field);
            }
            return s;
        }
        return a == null ? 0 : a.get(d.ordinal() * FIELDS + field);
    }

    public static long count(Device device, Direction d) {
        return get(device, d, 0);
    }

    public static long bytes(Device device, Direction d) {
        return get(device, d, 1);
    }

    public static long nanos(Device device, Direction d) {
        return get(device, d, 2);
    }

    /** Bytes of {@code bytes(device, d)} that went through pinned staging memory. */
    public static long pinnedBytes(Device device, Direction d) {
        return get(device, d, 3);
    }

    /** Totals over every device. */
    public static long count(Direction d) {
        return count(null, d);
    }

    public static long bytes(Direction d) {
        return bytes(null, d);
    }

    public static long nanos(Direction d) {
        return nanos(null, d);
    }

    /** The totals of one device (or of all, device null) now. */
    public static Totals snapshot(Device device) {
        return new Totals(bytes(device, Direction.HOST_TO_DEVICE), bytes(device, Direction.DEVICE_TO_HOST),
                nanos(device, Direction.HOST_TO_DEVICE) / 1e9, nanos(device, Direction.DEVICE_TO_HOST) / 1e9,
                count(device, Direction.HOST_TO_DEVICE), count(device, Direction.DEVICE_TO_HOST),
                pinnedBytes(device, Direction.HOST_TO_DEVICE) + pinnedBytes(device, Direction.DEVICE_TO_HOST));
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

    public static void reset() {
        PER_DEVICE.clear();
    }

    public static String summary() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Device, AtomicLongArray> e : PER_DEVICE.entrySet()) {
            for (Direction d : Direction.values()) {
                sb.append(String.format("%s %s: %d transfers, %d bytes (%d pinned), %.3f ms%n", e.getKey(), d,
                        count(e.getKey(), d), bytes(e.getKey(), d), pinnedBytes(e.getKey(), d),
                        nanos(e.getKey(), d) / 1e6));
            }
        }
        return sb.toString();
    }
}
