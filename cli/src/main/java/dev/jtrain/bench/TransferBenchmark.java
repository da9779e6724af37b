package dev.jtrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.DeviceStorage;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Host-device copy speed ({@code jtrain bench transfer}): for each size and direction, jtrain's copies of a
 * Java {@code float[]} — through the backend's pinned stager (what {@link Tensor#copyFrom} and
 * {@link Tensor#to} use) and through the pageable path — against a native {@code cudaMemcpy} of the same
 * size from pinned and from pageable host memory, timed in the same run. The ratio that matters is jtrain
 * pinned / native pinned: the Java array has to be staged, so it measures what the staging costs.
 *
 * <p>Each cell: one warm-up copy, then {@code reps} copies, each timed on the host until the data is where
 * it goes (a host-to-device copy is followed by a stream synchronisation); GB/s are computed from the
 * median. A jtrain device-to-host copy includes its read of the device error record (32 bytes): that is
 * what {@link Tensor#to} costs.
 */
public final class TransferBenchmark {

    public record Options(Device device, List<Long> sizes, int maxReps) {
    }

    /** One size and direction; seconds are medians per copy. */
    public record Row(long bytes, boolean h2d, double jtrainPinnedSeconds, double jtrainPageableSeconds,
                      double nativePinnedSeconds, double nativePageableSeconds) {
        public double gbps(double seconds) {
            return bytes / seconds / 1e9;
        }

        /** jtrain pinned speed as a fraction of the native pinned memcpy (target >= 0.9). */
        public double pinnedRatio() {
            return nativePinnedSeconds / jtrainPinnedSeconds;
        }

        public double pageableRatio() {
            return nativePageableSeconds / jtrainPageableSeconds;
        }
    }

    /** 4 KiB, 16 KiB, ... up to {@code max} bytes (powers of four). */
    public static List<Long> sizesUpTo(long max) {
        List<Long> s = new ArrayList<>();
        for (long b = 4096; b <= max; b *= 4) {
            s.add(b);
        }
        return s;
    }

    private TransferBenchmark() {
    }

    public static List<Row> run(Options o, Consumer<Row> onRow) {
        if (o.device().isHost()) {
            throw new IllegalArgumentException("bench transfer measures host-device copies: give a GPU device "
                    + "(emu, cuda:N), not cpu");
        }
        GpuBackend gpu = Backends.gpu(o.device());
        List<Row> rows = new ArrayList<>();
        for (long bytes : o.sizes()) {
            if (bytes < 4 || bytes % 4 != 0 || bytes / 4 > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("transfer sizes must be positive multiples of 4 bytes below 8 GiB, got "
                        + bytes);
            }
            int n = (int) (bytes / 4);
            int reps = (int) Math.max(3, Math.min(o.maxReps(), (256L << 20) / bytes));
            float[] host = new float[n];
            Arrays.fill(host, 1.5f);
            Tensor hostTensor = Tensor.of(host, n);
            try (Tensor dev = gpu.zeros(n)) {
                long address = ((DeviceStorage) dev.storage()).address();
                for (boolean h2d : new boolean[] {true, false}) {
                    double pinned = median(reps, () -> {
                        if (h2d) {
                            dev.copyFrom(hostTensor);
                            // the staged copy returns early: time it until it landed (a plain stream sync, not
                            // synchronize(), which also reads the device error record)
                            gpu.api().streamSynchronize(gpu.stream());
                        } else {
                            hostTensor.copyFrom(dev);
                        }
                    });
                    double pageable = median(reps, () -> {
                        if (h2d) {
                            gpu.api().copyFloatsToDevice(host, 0, address, n);
                        } else {
                            gpu.api().copyFloatsToHost(address, host, 0, n);
                        }
                    });
                    double nativePinned = gpu.api().transferBenchMemcpy(bytes, h2d, true, reps)[1];
                    double nativePageable = gpu.api().transferBenchMemcpy(bytes, h2d, false, reps)[1];
                    Row r = new Row(bytes, h2d, pinned, pageable, nativePinned, nativePageable);
                    rows.add(r);
                    onRow.accept(r);
                }
            }
        }
        return rows;
    }

    /** One warm-up, then the median wall time of {@code reps} runs. */
    private static double median(int reps, Runnable copy) {
        copy.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            copy.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    public static String header() {
        return String.format(Locale.ROOT, "%-9s %-4s %13s %12s %13s %12s %9s %9s", "size", "dir", "pinned GB/s",
                "native GB/s", "pageable GB/s", "native GB/s", "pinned %", "pageable %");
    }

    public static String line(Row r) {
        return String.format(Locale.ROOT, "%-9s %-4s %13.2f %12.2f %13.2f %12.2f %8.0f%% %9.0f%%", size(r.bytes()),
                r.h2d() ? "h2d" : "d2h", r.gbps(r.jtrainPinnedSeconds()), r.gbps(r.nativePinnedSeconds()),
                r.gbps(r.jtrainPageableSeconds()), r.gbps(r.nativePageableSeconds()), 100 * r.pinnedRatio(),
                100 * r.pageableRatio());
    }

    static String size(long bytes) {
        if (bytes >= 1L << 20) {
            return (bytes >> 20) + " MiB";
        }
        return (bytes >> 10) + " KiB";
    }

    public static String toJson(Options o, List<Row> rows) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("device", o.device().toString());
        root.put("java", Runtime.version().toString());
        root.put("staging_chunk_bytes", GpuBackend.STAGING_CHUNK_BYTES);
        ArrayNode a = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode n = a.addObject();
            n.put("bytes", r.bytes());
            n.put("direction", r.h2d() ? "h2d" : "d2h");
            n.put("jtrain_pinned_gbps", r.gbps(r.jtrainPinnedSeconds()));
            n.put("jtrain_pageable_gbps", r.gbps(r.jtrainPageableSeconds()));
            n.put("native_pinned_gbps", r.gbps(r.nativePinnedSeconds()));
            n.put("native_pageable_gbps", r.gbps(r.nativePageableSeconds()));
            n.put("pinned_ratio", r.pinnedRatio());
            n.put("pageable_ratio", r.pageableRatio());
        }
        return m.enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
    }
}
