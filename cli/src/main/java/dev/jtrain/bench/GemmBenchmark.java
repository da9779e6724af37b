package dev.jtrain.bench;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.gemm.Sgemm;
import java.util.ArrayList;
import dev.jtrain.train.AllocationMeter;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Measures the CPU SGEMM ({@link Sgemm}) in GFLOP/s over lists of shapes ({@link GemmShape}: square n x n
 * x n or any m x n x k, e.g. the training set of shapes), thread counts and transposes, the same workload
 * as {@code bench/scripts/numpy_gemm.py} runs with numpy/OpenBLAS so the two can be compared row by row.
 *
 * <p>Workload: C [m x n] = op(A) op(B), row-major float32, each operand stored densely in its own layout
 * (A m x k, or k x m when transposed; B k x n, or n x k when transposed), alpha = 1, beta = 0;
 * {@code "nt"} means B is used transposed, {@code "tn"} A, {@code "tt"} both. GFLOP/s = 2 m n k / time. Per configuration: a warm-up
 * (the first configuration gets a longer one), then {@code reps} timed repetitions, each running the product enough
 * times to last at least {@code minRepSeconds}; the median and the best repetition are reported.
 *
 * <p>The warm-up lasts at least {@code warmupSeconds} and then until no repetition for {@code quietSeconds} was 5 %
 * faster than the best before it (at most {@code maxWarmupSeconds}). A fixed warm-up measured the JIT instead of the
 * GEMM: a configuration that reaches a new path (a transposed B after plain ones, a second depth block) first runs
 * that path's vector code interpreted or C1-compiled, 30x slower, and its C2 compile (or the recompile after the
 * deoptimisation that the new branch causes) can take a second on a busy core: 64x512x784 nt after 64x784x512 nn
 * measured 4 GFLOP/s with a fixed 0.5 s warm-up, 150 when it ran first.
 *
 * <p>Each thread count runs on its own {@link CpuThreadPool}, bound to the calling thread and closed after
 * its rows.
 */
public final class GemmBenchmark {
    private GemmBenchmark() {}

    /**
     * One measured configuration. {@link #toJson()} uses the field names of numpy_gemm.py; jtrain's rows add how long
     * the warm-up took and the heap bytes allocated per product during the timed repetitions (-1 and NaN in rows
     * measured elsewhere).
     */
    public record Row(String impl, int m, int n, int k, int threads, String transpose, double gflopsMedian,
                      double gflopsMax, double warmupSeconds, long allocBytesPerProduct) {
        /** A row measured by another program (numpy): no warm-up or allocation figures. */
        public Row(String impl, int m, int n, int k, int threads, String transpose, double gflopsMedian,
                   double gflopsMax) {
            this(impl, m, n, k, threads, transpose, gflopsMedian, gflopsMax, Double.NaN, -1);
        }

        public String toJson() {
            String own = Double.isNaN(warmupSeconds) ? "" : String.format(Locale.ROOT,
                    ", \"warmup_s\": %.2f, \"alloc_bytes_per_product\": %d", warmupSeconds, allocBytesPerProduct);
            return String.format(Locale.ROOT,
                    "{\"impl\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, \"threads\": %d, \"transpose\": \"%s\", "
                            + "\"gflops_median\": %.2f, \"gflops_max\": %.2f%s}",
                    impl, m, n, k, threads, transpose, gflopsMedian, gflopsMax, own);
        }

        /**
         * True when the timed repetitions allocated more than {@link #BOXED_BYTES} per product: the kernels allocate
         * nothing once compiled, so the JIT left some vector code boxed in this JVM (see docs/architecture.md).
         */
        public boolean ranBoxed() {
            return allocBytesPerProduct > BOXED_BYTES;
        }

        /** Same product (shape, threads, transpose) as {@code other}, whoever measured it. */
        public boolean sameWorkload(Row other) {
            return m == other.m && n == other.n && k == other.k && threads == other.threads
                    && transpose.equals(other.transpose);
        }

        public String dims() {
            return m + "x" + n + "x" + k;
        }
    }

    /** Timing knobs. */
    public record Options(double warmupSeconds, int reps, double minRepSeconds, double firstWarmupSeconds,
                          double quietSeconds, double maxWarmupSeconds) {
        public static Options defaults() {
            return new Options(0.5, 9, 0.05, 2.0, 1.0, 20.0);
        }

        /** Options with a fixed warm-up of {@code warmupSeconds} (no wait for the speed to settle). */
        public Options(double warmupSeconds, int reps, double minRepSeconds, double firstWarmupSeconds) {
            this(warmupSeconds, reps, minRepSeconds, firstWarmupSeconds, 0.0, warmupSeconds + firstWarmupSeconds);
        }

        public Options {
            if (reps < 1) {
                throw new IllegalArgumentException("reps must be >= 1 (got " + reps + ")");
            }
            if (warmupSeconds < 0 || minRepSeconds <= 0 || firstWarmupSeconds < 0 || quietSeconds < 0
                    || maxWarmupSeconds < 0) {
                throw new IllegalArgumentException("warm-up and repetition times must be positive");
            }
        }
    }

    /**
     * Allocation per product above which a row is flagged: a product allocates a few hundred bytes of bookkeeping
     * (its problem record, the pool's task objects); one boxed vector epilogue allocates ~4 KB per 8 x 32 tile.
     */
    public static final long BOXED_BYTES = 16 * 1024;

    /** A warm-up repetition this much faster than every one before it counts as the JIT still improving the code. */
    static final double WARMUP_GAIN = 1.05;

    /** Runs every (transpose, shape, threads) combination with default options. */
    public static List<Row> run(List<GemmShape> shapes, List<Integer> threads, List<String> transposes) {
        return run(shapes, threads, transposes, Options.defaults(), row -> { });
    }

    /**
     * Runs every combination; {@code onRow} sees each row as soon as it is measured (for progress
     * output). Loops: threads outermost, then transpose, then shape; a shape with its own op runs once, under
     * the first transpose.
     *
     * @throws IllegalArgumentException for a thread count below 1, or a transpose other than nn, nt, tn, tt
     */
    public static List<Row> run(List<GemmShape> shapes, List<Integer> threads, List<String> transposes,
                                Options options, Consumer<Row> onRow) {
        for (int t : threads) {
            if (t < 1) {
                throw new IllegalArgumentException("threads must be >= 1 (got " + t + ")");
            }
        }
        List<String> ops = new ArrayList<>();
        for (String t : transposes) {
            String op = t.trim().toLowerCase(Locale.ROOT);
            if (!GemmShape.OPS.contains(op)) {
                throw new IllegalArgumentException("transpose must be one of nn, nt, tn, tt (got '" + t + "')");
            }
            ops.add(op);
        }
        List<Row> rows = new ArrayList<>();
        boolean first = true;
        for (int th : threads) {
            try (CpuThreadPool pool = new CpuThreadPool(th); CpuThreadPool.Binding bound = pool.bind()) {
                for (int oi = 0; oi < ops.size(); oi++) {
                    for (GemmShape shape : shapes) {
                        if (shape.op() != null && oi > 0) {
                            continue;
                        }
                        String op = shape.op() != null ? shape.op() : ops.get(oi);
                        double warm = options.warmupSeconds() + (first ? options.firstWarmupSeconds() : 0);
                        first = false;
                        Row row = measure(shape, th, op, warm, options);
                        rows.add(row);
                        onRow.accept(row);
                    }
                }
            }
        }
        return rows;
    }

    private static Row measure(GemmShape s, int threads, String op, double warmupSeconds, Options o) {
        boolean ta = op.charAt(0) == 't';
        boolean tb = op.charAt(1) == 't';
        int m = s.m();
        int n = s.n();
        int k = s.k();
        SplittableRandom rnd = new SplittableRandom(1234 + m + 31L * n + 961L * k);
        float[] a = random(rnd, m * k);
        float[] b = random(rnd, k * n);
        float[] c = new float[m * n];
        int lda = ta ? m : k;
        int ldb = tb ? k : n;
        Runnable product = () -> Sgemm.sgemm(ta, tb, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
        // warm-up until the speed has settled (class doc); also finds how many products make one repetition of at
        // least minRepSeconds
        int inner = 1;
        long start = System.nanoTime();
        long lastGain = start;
        double best = 0;
        double maxWarmup = Math.max(warmupSeconds, o.maxWarmupSeconds());
        while (true) {
            double dt = time(product, inner);
            long now = System.nanoTime();
            double rate = inner / Math.max(dt, 1e-9);
            if (rate > WARMUP_GAIN * best) {
                lastGain = now;
            }
            best = Math.max(best, rate);
            double elapsed = (now - start) * 1e-9;
            boolean settled = (now - lastGain) * 1e-9 >= o.quietSeconds();
            if (dt >= o.minRepSeconds() && elapsed >= warmupSeconds && (settled || elapsed >= maxWarmup)) {
                break;
            }
            if (dt < o.minRepSeconds()) {
                inner = Math.max(inner * 2, (int) (inner * o.minRepSeconds() / Math.max(dt, 1e-9)) + 1);
            }
        }
        double warmedSeconds = (System.nanoTime() - start) * 1e-9;
        double[] rates = new double[o.reps()];
        double flops = s.flops();
        AllocationMeter meter = new AllocationMeter();
        meter.start();
        for (int r = 0; r < rates.length; r++) {
            rates[r] = flops * inner / time(product, inner) / 1e9;
        }
        meter.stop();
        Arrays.sort(rates);
        return new Row("jtrain", m, n, k, threads, op, rates[rates.length / 2], rates[rates.length - 1],
                warmedSeconds, meter.perStep((long) inner * rates.length, true));
    }

    private static float[] random(SplittableRandom rnd, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }

    private static double time(Runnable product, int times) {
        long t0 = System.nanoTime();
        for (int i = 0; i < times; i++) {
            product.run();
        }
        return (System.nanoTime() - t0) * 1e-9;
    }
}
