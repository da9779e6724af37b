package dev.jtrain.bench;

import dev.jtrain.distributed.Communicator;
import dev.jtrain.distributed.MpiCommunicator;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * All-reduce bandwidth ({@code jtrain bench allreduce}, run under mpirun): for each size, the sum of a Java
 * {@code float[]} through {@link Communicator#allReduceSum(float[], int, int)} against a loop of
 * {@code MPI_Allreduce} in C on a malloc'd buffer (the MPI library's own figure), in the same run.
 *
 * <p>Each cell: warm-up calls, a barrier, then {@code reps} timed calls; the time is the slowest rank's mean (a
 * collective ends when its last rank does). Algorithm bandwidth = bytes / time; bus bandwidth = algorithm
 * bandwidth x 2(N-1)/N, the bytes each rank's link carries in a ring all-reduce, comparable across N
 * (NCCL's nccl-tests define it the same way).
 */
public final class AllReduceBenchmark {

    /** One size; seconds per all-reduce, slowest rank's mean. */
    public record Row(long bytes, int ranks, int reps, double javaSeconds, double nativeSeconds,
                      double nativeChunkedSeconds) {
        public double algGBps(double seconds) {
            return bytes / seconds / 1e9;
        }

        public double busGBps(double seconds) {
            return algGBps(seconds) * 2.0 * (ranks - 1) / ranks;
        }

        /** The Java path's speed as a fraction of the C loop's (one MPI call per all-reduce). */
        public double ratio() {
            return nativeSeconds / javaSeconds;
        }
    }

    private static final int WARMUP = 2;

    private AllReduceBenchmark() {
    }

    /** 4 KiB, 16 KiB, ... up to {@code max} bytes (powers of four). */
    public static List<Long> sizesUpTo(long max) {
        List<Long> s = new ArrayList<>();
        for (long b = 4096; b <= max; b *= 4) {
            s.add(b);
        }
        return s;
    }

    /** Collective: every rank runs the same sizes; {@code onRow} sees each row (on every rank). */
    public static List<Row> run(MpiCommunicator comm, List<Long> sizes, int maxReps, Consumer<Row> onRow) {
        List<Row> rows = new ArrayList<>();
        for (long bytes : sizes) {
            if (bytes < 4 || bytes % 4 != 0 || bytes / 4 > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("all-reduce sizes must be positive multiples of 4 bytes below 8 GiB, got "
                        + bytes);
            }
            int n = (int) (bytes / 4);
            // Fewer repetitions for large sizes: about 512 MiB reduced per cell, at least 3 calls.
            int reps = (int) Math.max(3, Math.min(maxReps, (512L << 20) / bytes));
            double javaSeconds = javaLoop(comm, n, reps);
            double nativeSeconds = comm.nativeAllReduceSeconds(n, WARMUP, reps, false);
            double nativeChunkedSeconds = comm.nativeAllReduceSeconds(n, WARMUP, reps, true);
            Row row = new Row(bytes, comm.size(), reps, javaSeconds, nativeSeconds, nativeChunkedSeconds);
            rows.add(row);
            onRow.accept(row);
        }
        return rows;
    }

    private static double javaLoop(Communicator comm, int n, int reps) {
        float[] data = new float[n];   // zeros: the sums stay finite however often they are taken
        for (int i = 0; i < WARMUP; i++) {
            comm.allReduceSum(data, 0, n);
        }
        comm.barrier();
        long t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            comm.allReduceSum(data, 0, n);
        }
        double mean = (System.nanoTime() - t0) / 1e9 / reps;
        double[] perRank = new double[comm.size()];
        perRank[comm.rank()] = mean;
        comm.allReduceSum(perRank, 0, perRank.length);
        double slowest = 0;
        for (double s : perRank) {
            slowest = Math.max(slowest, s);
        }
        return slowest;
    }

    /** One cell of a device run: the slowest rank's mean seconds per all-reduce of a device tensor. */
    public record DeviceRow(long bytes, int ranks, int reps, double seconds) {
        public double algGBps() {
            return bytes / seconds / 1e9;
        }

        public double busGBps() {
            return algGBps() * 2.0 * (ranks - 1) / ranks;
        }
    }

    /**
     * All-reduces of a float32 tensor on {@code device} through {@link Communicator#allReduceSum(Tensor)} (NCCL on a
     * cuda device, on the backend's stream; a host copy on emu), timed to the backend's synchronize after the
     * last call; sizes and repetitions as {@link #run}.
     */
    public static List<DeviceRow> runOnDevice(Communicator comm, Device device, List<Long> sizes, int maxReps,
                                              Consumer<DeviceRow> onRow) {
        Backend be = Backends.forDevice(device);
        List<DeviceRow> rows = new ArrayList<>();
        for (long bytes : sizes) {
            if (bytes < 4 || bytes % 4 != 0 || bytes / 4 > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("all-reduce sizes must be positive multiples of 4 bytes below 8 GiB, got "
                        + bytes);
            }
            int n = (int) (bytes / 4);
            int reps = (int) Math.max(3, Math.min(maxReps, (512L << 20) / bytes));
            try (Tensor t = be.zeros(DType.FLOAT32, Shape.of(n))) {   // zeros: the sums stay finite
                for (int i = 0; i < WARMUP; i++) {
                    comm.allReduceSum(t);
                }
                be.synchronize();
                comm.barrier();
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    comm.allReduceSum(t);
                }
                be.synchronize();
                double mean = (System.nanoTime() - t0) / 1e9 / reps;
                double[] perRank = new double[comm.size()];
                perRank[comm.rank()] = mean;
                comm.allReduceSum(perRank, 0, perRank.length);
                double slowest = 0;
                for (double x : perRank) {
                    slowest = Math.max(slowest, x);
                }
                DeviceRow row = new DeviceRow(bytes, comm.size(), reps, slowest);
                rows.add(row);
                onRow.accept(row);
            }
        }
        return rows;
    }

    public static String deviceHeader() {
        return String.format(Locale.ROOT, "%8s %5s %10s %9s %9s", "size", "reps", "ms", "alg GB/s", "bus GB/s");
    }

    public static String deviceLine(DeviceRow r) {
        return String.format(Locale.ROOT, "%8s %5d %10.3f %9.3f %9.3f", size(r.bytes()), r.reps(), r.seconds() * 1e3,
                r.algGBps(), r.busGBps());
    }

    public static String header() {
        return String.format(Locale.ROOT, "%8s %5s %10s %10s %10s %9s %9s %9s %9s %6s", "size", "reps", "java ms",
                "C ms", "C chunk ms", "java alg", "java bus", "C alg", "C bus", "ratio");
    }

    public static String line(Row r) {
        return String.format(Locale.ROOT, "%8s %5d %10.3f %10.3f %10.3f %9.3f %9.3f %9.3f %9.3f %6.2f", size(r.bytes()),
                r.reps(), r.javaSeconds() * 1e3, r.nativeSeconds() * 1e3, r.nativeChunkedSeconds() * 1e3,
                r.algGBps(r.javaSeconds()), r.busGBps(r.javaSeconds()), r.algGBps(r.nativeSeconds()),
                r.busGBps(r.nativeSeconds()), r.ratio());
    }

    static String size(long bytes) {
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }
}
