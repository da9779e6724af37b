package dev.jtrain.bench;

import dev.jtrain.backend.jni.NativeApi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Our GPU kernels against the vendor libraries and against the device's copy bandwidth, measured in one run
 * through the Java bindings ({@link NativeApi}): the same workloads as the native {@code bench_kernels}
 * (tests/native/bench_kernels.cpp), which times with CUDA events; here each repetition is timed on the host
 * around a device synchronisation, with enough calls per repetition that the synchronisation does not count.
 *
 * <ul>
 *   <li>SGEMM n x n x n FP32: ours ({@code gemmSgemm}) vs cuBLAS ({@code cublasSgemm}, TF32 off); ratio = our
 *       GFLOP/s / cuBLAS's, target 0.90 at 4096;</li>
 *   <li>BatchNorm forward (training) + backward on [N, C, H, W]: ours vs cuDNN; ratio = cuDNN time / ours,
 *       target 1.00 at [128, 64, 56, 56];</li>
 *   <li>Adam on 4 tensors (param, grad, m, v) of n floats: 7 n floats moved (4 read, 3 written) against a
 *       device-to-device copy of the same 4 n floats (2 x moved: read + write); target 0.85 at 64 Mi;</li>
 *   <li>ReLU forward and dropout forward (no mask) on n floats, 2 n moved, against a copy of n floats;
 *       target 0.90 at 64 Mi. ReLU also against cuDNN's activation.</li>
 * </ul>
 * On emu the sizes are small and the speeds meaningless (the emulation runs CUDA threads as fibers on the CPU):
 * the run shows that the whole path works. Besides timing, a few results are checked (SGEMM against float64
 * on samples, ours against the vendor where it ran); {@link Report#checks()} lists them.
 */
public final class KernelBenchmark {
    private KernelBenchmark() {
    }

    /** The problem sizes of one run. */
    public record Sizes(String name, int gemm, int bnN, int bnC, int bnH, int bnW, long adam, long elementwise) {
        /** The full sizes (for a GPU): 4096^3 GEMM, BatchNorm [128, 64, 56, 56], 64 Mi-element Adam and maps. */
        public static final Sizes FULL = new Sizes("full", 4096, 128, 64, 56, 56, 64L << 20, 64L << 20);
        /** Sizes that run in well under a second on emu (tests, smoke runs). */
        public static final Sizes SMALL = new Sizes("small", 128, 2, 8, 10, 10, 64L << 10, 256L << 10);

        public static Sizes named(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "full" -> FULL;
                case "small" -> SMALL;
                default -> throw new IllegalArgumentException("sizes must be small or full, got '" + name + "'");
            };
        }
    }

    /**
     * Timing knobs: warm-up repetitions, timed repetitions (the median is reported), and the shortest time
     * one repetition should take (calls are repeated within a repetition until it does; 0 = one call).
     */
    public record Options(Sizes sizes, int warmup, int reps, double minRepSeconds) {
        public Options {
            if (reps < 1 || warmup < 0 || minRepSeconds < 0) {
                throw new IllegalArgumentException("reps must be >= 1, warmup >= 0, minRepSeconds >= 0");
            }
        }

        public static Options emu(Sizes sizes) {
            return new Options(sizes, 1, 3, 0);
        }

        public static Options cuda(Sizes sizes) {
            return new Options(sizes, 3, 15, 0.005);
        }
    }

    /**
     * One measurement. {@code ratio} is the speed of ours relative to the reference (>= 1: ours faster);
     * NaN fields were not measured ({@code note} says why).
     */
    public record Row(String op, String size, String unit, double oursMs, double oursRate, String reference,
                      double refMs, double refRate, double ratio, double target, String note) {
        public String toJson() {
            return String.format(Locale.ROOT,
                    "{\"op\": %s, \"size\": %s, \"unit\": %s, \"ours_ms\": %s, \"ours_rate\": %s, \"reference\": %s, "
                            + "\"ref_ms\": %s, \"ref_rate\": %s, \"ratio\": %s, \"target\": %s, \"note\": %s}",
                    str(op), str(size), str(unit), num(oursMs), num(oursRate), str(reference), num(refMs),
                    num(refRate), num(ratio), num(target), str(note));
        }
    }

    /** A run: where, what the vendor libraries are, the rows and the checks ("what = value (limit) ok|FAILED"). */
    public record Report(String mode, String device, String vendor, Sizes sizes, boolean speedsMeaningful,
                         List<Row> rows, List<String> checks) {
        public boolean checksPassed() {
            return checks.stream().noneMatch(c -> c.endsWith("FAILED"));
        }

        public String toJson() {
            StringBuilder sb = new StringBuilder("{\n");
            sb.append("  \"tool\": \"jtrain bench kernels\",\n");
            sb.append("  \"mode\": ").append(str(mode)).append(",\n");
            sb.append("  \"device\": ").append(str(device)).append(",\n");
            sb.append("  \"sizes\": ").append(str(sizes.name())).append(",\n");
            sb.append("  \"speeds_meaningful\": ").append(speedsMeaningful).append(",\n");
            sb.append("  \"vendor\": ").append(str(vendor)).append(",\n");
            sb.append("  \"results\": [\n");
            for (int i = 0; i < rows.size(); i++) {
                sb.append("    ").append(rows.get(i).toJson()).append(i + 1 < rows.size() ? ",\n" : "\n");
            }
            sb.append("  ],\n  \"checks\": [\n");
            for (int i = 0; i < checks.size(); i++) {
                sb.append("    ").append(str(checks.get(i))).append(i + 1 < checks.size() ? ",\n" : "\n");
            }
            sb.append("  ],\n  \"ok\": ").append(checksPassed()).append("\n}\n");
            return sb.toString();
        }
    }

    /** The table header and one line per row, as {@code jtrain bench kernels} prints them. */
    public static String header() {
        return String.format(Locale.ROOT, "%-18s %-16s %-7s %9s %10s %-6s %9s %10s %7s %6s  %s", "op", "size", "unit",
                "ours ms", "ours rate", "vs", "ref ms", "ref rate", "ratio", "target", "verdict / note");
    }

    public static String line(Row r, boolean speedsMeaningful) {
        String verdict = !speedsMeaningful ? "not measured (emu)"
                : Double.isNaN(r.target()) ? ""
                : Double.isNaN(r.ratio()) ? "not measured"
                : r.ratio() >= r.target() ? "meets" : "below";
        String tail = verdict + (r.note().isEmpty() ? "" : (verdict.isEmpty() ? "" : "; ") + r.note());
        return String.format(Locale.ROOT, "%-18s %-16s %-7s %9s %10s %-6s %9s %10s %7s %6s  %s", r.op(), r.size(),
                r.unit(), fmt(r.oursMs(), "%.3f"), fmt(r.oursRate(), "%.1f"), r.reference(), fmt(r.refMs(), "%.3f"),
                fmt(r.refRate(), "%.1f"), fmt(r.ratio(), "%.3f"), fmt(r.target(), "%.2f"), tail);
    }

    /**
     * Runs every measurement on the device behind {@code api} (device 0, the default stream). {@code mode} is
     * "emu" or "cuda"; {@code onRow} sees each row when it is measured. Device memory is freed at the end.
     */
    public static Report run(NativeApi api, String mode, Options o, Consumer<Row> onRow) {
        boolean emu = mode.equals("emu");
        Run run = new Run(api, o, onRow);
        try {
            run.sgemm();
            run.batchnorm();
            run.adam();
            run.relu();
            run.dropout();
        } finally {
            run.freeAll();
        }
        String vendor = api.vendorReport().strip().replace('\t', ' ');
        return new Report(mode, api.deviceName(0), vendor, o.sizes(), !emu, List.copyOf(run.rows),
                List.copyOf(run.checks));
    }

    // ------------------------------------------------------------------ the measurements

    /** A timed operation: enqueues one call (or throws). */
    @FunctionalInterface
    private interface Op {
        void call();
    }

    private static final class Run {
        final NativeApi api;
        final Options o;
        final Consumer<Row> onRow;
        final List<Row> rows = new ArrayList<>();
        final List<String> checks = new ArrayList<>();
        final List<Long> live = new ArrayList<>();

        Run(NativeApi api, Options o, Consumer<Row> onRow) {
            this.api = api;
            this.o = o;
            this.onRow = onRow;
        }

        long floats(long n) {
            long p = api.malloc(Math.max(4 * n, 4));
            live.add(p);
            return p;
        }

        void free(long p) {
            if (live.remove(Long.valueOf(p))) {
                api.free(p);
            }
        }

        void freeAll() {
            for (long p : live) {
                api.free(p);
            }
            live.clear();
        }

        void fill(long p, long n, float lo, float hi, long seed) {
            api.randomUniform(p, n, lo, hi, seed, 0, 0);
        }

        float[] get(long p, int n) {
            float[] out = new float[n];
            api.copyFloatsToHost(p, out, 0, n);
            return out;
        }

        void add(Row r) {
            rows.add(r);
            onRow.accept(r);
        }

        void check(String what, double value, double limit) {
            boolean ok = value <= limit;  // NaN fails
            checks.add(String.format(Locale.ROOT, "%s = %.3g (limit %.3g) %s", what, value, limit, ok ? "ok" : "FAILED"));
        }

        /** Median seconds per call of op (after warm-up), calls repeated within a repetition to minRepSeconds. */
        double time(Op op) {
            int inner = 1;
            for (int r = 0; r < Math.max(o.warmup(), 1); r++) {
                double dt = timeOnce(op, inner);
                if (o.minRepSeconds() > 0 && dt < o.minRepSeconds()) {
                    inner = (int) Math.min(1 << 16, Math.max(inner * 2L, (long) Math.ceil(inner * o.minRepSeconds()
                            / Math.max(dt, 1e-7))));
                }
            }
            double[] per = new double[o.reps()];
            for (int r = 0; r < per.length; r++) {
                per[r] = timeOnce(op, inner) / inner;
            }
            Arrays.sort(per);
            return per[per.length / 2];
        }

        double timeOnce(Op op, int times) {
            api.synchronize();
            long t0 = System.nanoTime();
            for (int i = 0; i < times; i++) {
                op.call();
            }
            api.synchronize();
            return (System.nanoTime() - t0) * 1e-9;
        }

        /** Seconds per call of the vendor op, or NaN with the reason in why[0]. */
        double timeVendor(Op op, String[] why) {
            try {
                op.call();
                api.synchronize();
                return time(op);
            } catch (UnsupportedOperationException | IllegalStateException e) {
                why[0] = e.getMessage();
                return Double.NaN;
            } catch (RuntimeException e) {  // CudaException: the library ran and failed
                why[0] = e.toString();
                return Double.NaN;
            }
        }

        double copySeconds(long bytes) {
            long src = api.malloc(bytes);
            live.add(src);
            long dst = api.malloc(bytes);
            live.add(dst);
            try {
                api.memset(src, 1, bytes);
                return time(() -> api.copyDeviceToDevice(dst, src, bytes));
            } finally {
                free(src);
                free(dst);
            }
        }

        void sgemm() {
            int s = o.sizes().gemm();
            long nn = (long) s * s;
            long a = floats(nn), b = floats(nn), c = floats(nn), cv = floats(nn);
            fill(a, nn, -1f, 1f, 11);
            fill(b, nn, -1f, 1f, 12);
            double flop = 2.0 * s * s * (double) s;
            double ours = time(() -> api.gemmSgemm(0, false, false, s, s, s, 1f, a, s, b, s, 0f, c, s, 0, false, 0));
            String[] why = {""};
            double ref = timeVendor(() -> api.cublasSgemm(false, false, s, s, s, 1f, a, s, b, s, 0f, cv, s, false, 0),
                    why);
            // checks: 32 samples against float64; all of C against cuBLAS where it ran
            float[] ha = get(a, (int) nn), hb = get(b, (int) nn), hc = get(c, (int) nn);
            double worst = 0, scale = 0;
            for (int t = 0; t < 32; t++) {
                int i = (int) ((t * 2654435761L) % s), j = (int) ((t * 40503L + 7) % s);
                double r = 0, abs = 0;
                for (int p = 0; p < s; p++) {
                    double prod = (double) ha[i * s + p] * hb[p * s + j];
                    r += prod;
                    abs += Math.abs(prod);
                }
                worst = Math.max(worst, Math.abs(hc[i * s + j] - r));
                scale = Math.max(scale, abs);
            }
            check("sgemm ours vs float64, max |err| / max sum|a b| (32 samples)", worst / scale,
                    1e-5 * Math.sqrt(s / 256.0));
            if (!Double.isNaN(ref)) {
                check("sgemm ours vs cuBLAS, max |diff| / max |C|", relDiff(hc, get(cv, (int) nn)),
                        1e-5 * Math.sqrt(s / 256.0));
            }
            double oursRate = flop / ours / 1e9, refRate = flop / ref / 1e9;
            add(new Row("sgemm", s + "^3", "GFLOP/s", ours * 1e3, oursRate, "cuBLAS", ref * 1e3, refRate,
                    oursRate / refRate, 0.90, why[0].isEmpty() ? "" : "cuBLAS: " + why[0]));
            for (long p : new long[] {a, b, c, cv}) {
                free(p);
            }
        }

        void batchnorm() {
            Sizes z = o.sizes();
            int n = z.bnN(), c = z.bnC(), h = z.bnH(), w = z.bnW();
            long inner = (long) h * w, total = n * (long) c * inner;
            float eps = 1e-5f, momentum = 0.1f;
            long x = floats(total), dy = floats(total), y = floats(total), dx = floats(total), yv = floats(total),
                    dxv = floats(total);
            long[] p = new long[14];
            for (int i = 0; i < p.length; i++) {
                p[i] = floats(c);
                api.memset(p[i], 0, 4L * c);
            }
            long gamma = p[0], beta = p[1], rm = p[2], rv = p[3], sm = p[4], sv = p[5], dg = p[6], db = p[7];
            long rm2 = p[8], rv2 = p[9], sm2 = p[10], sinv2 = p[11], dg2 = p[12], db2 = p[13];
            fill(x, total, -2f, 3f, 21);
            fill(dy, total, -1f, 1f, 22);
            fill(gamma, c, 0.5f, 1.5f, 23);
            fill(beta, c, -0.5f, 0.5f, 24);
            fill(rv, c, 1f, 1f, 0);
            fill(rv2, c, 1f, 1f, 0);
            long ws = floats((api.batchnormWorkspaceBytes(n, c, inner) + 3) / 4);
            Op ours = () -> {
                api.batchnormForwardTrain(x, gamma, beta, eps, momentum, rm, rv, y, sm, sv, n, c, inner, ws, 0);
                api.batchnormBackward(x, dy, gamma, sm, sv, eps, true, dx, dg, db, n, c, inner, ws, 0);
            };
            Op vendor = () -> {
                api.cudnnBatchnormForwardTrain(x, gamma, beta, eps, momentum, rm2, rv2, yv, sm2, sinv2, n, c, h, w, 0);
                api.cudnnBatchnormBackward(x, dy, gamma, sm2, sinv2, eps, dxv, dg2, db2, n, c, h, w, 0);
            };
            ours.call();
            String[] why = {""};
            boolean vendorRan = true;
            try {
                vendor.call();
                api.synchronize();
            } catch (RuntimeException e) {
                why[0] = e instanceof UnsupportedOperationException ? e.getMessage() : e.toString();
                vendorRan = false;
            }
            if (vendorRan) {
                check("batchnorm y ours vs cuDNN, max |diff| / max |y|", relDiff(get(y, (int) total), get(yv, (int) total)),
                        1e-5);
                check("batchnorm dx ours vs cuDNN, max |diff| / max |dx|",
                        relDiff(get(dx, (int) total), get(dxv, (int) total)), 1e-4);
                check("batchnorm running var ours vs cuDNN, rel", relDiff(get(rv, c), get(rv2, c)), 1e-4);
            }
            double tOurs = time(ours);
            double tRef = vendorRan ? timeVendor(vendor, why) : Double.NaN;
            double bytes = 5.0 * total * 4;
            add(new Row("batchnorm fwd+bwd", "[" + n + "," + c + "," + h + "," + w + "]", "GB/s", tOurs * 1e3,
                    bytes / tOurs / 1e9, "cuDNN", tRef * 1e3, bytes / tRef / 1e9, tRef / tOurs, 1.00,
                    why[0].isEmpty() ? "" : "cuDNN: " + why[0]));
            for (long q : new long[] {x, dy, y, dx, yv, dxv}) {
                free(q);
            }
            for (long q : p) {
                free(q);
            }
        }

        Row bandwidthRow(String op, String size, double seconds, double moved, long copyBytes, double target) {
            double copy = copySeconds(copyBytes);
            double oursRate = moved / seconds / 1e9, copyRate = 2.0 * copyBytes / copy / 1e9;
            return new Row(op, size, "GB/s", seconds * 1e3, oursRate, "copy", copy * 1e3, copyRate,
                    oursRate / copyRate, target, "");
        }

        void adam() {
            long n = o.sizes().adam();
            long prm = floats(n), g = floats(n), m = floats(n), v = floats(n);
            fill(prm, n, -1f, 1f, 31);
            fill(g, n, -1f, 1f, 32);
            api.memset(m, 0, 4 * n);
            api.memset(v, 0, 4 * n);
            float[] p0 = get(prm, 16), g0 = get(g, 16);
            int[] step = {0};
            Op adam = () -> api.optimAdam(prm, g, m, v, 0, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, ++step[0], 0);
            adam.call();
            float[] p1 = get(prm, 16);
            double worst = 0;
            for (int i = 0; i < 16; i++) {
                worst = Math.max(worst, Math.abs(p1[i] - (p0[i] - 1e-3 * g0[i] / (Math.abs((double) g0[i]) + 1e-8))));
            }
            check("adam first step vs formula, max |err|", worst, 1e-6);
            double t = time(adam);
            add(bandwidthRow("adam", "4 x " + size(n), t, 7.0 * n * 4, 16 * n, 0.85));
            for (long q : new long[] {prm, g, m, v}) {
                free(q);
            }
        }

        void relu() {
            long n = o.sizes().elementwise();
            long x = floats(n), y = floats(n), yv = floats(n);
            fill(x, n, -1f, 1f, 41);
            Op ours = () -> api.activationsForward(0, x, y, n, 0f, 0f, 0);  // Activation.Kind.RELU
            double t = time(ours);
            Row vsCopy = bandwidthRow("relu fwd", size(n), t, 2.0 * n * 4, 4 * n, 0.90);
            add(vsCopy);
            String[] why = {""};
            double tv = timeVendor(() -> api.cudnnActivationForward(0, x, yv, n, 0f, 0), why);
            if (!Double.isNaN(tv)) {
                int k = (int) Math.min(n, 1 << 16);
                check("relu ours vs cuDNN, max |diff| (first 64 Ki)", maxDiff(get(y, k), get(yv, k)), 0);
            }
            add(new Row("relu fwd", size(n), "GB/s", t * 1e3, vsCopy.oursRate(), "cuDNN", tv * 1e3,
                    2.0 * n * 4 / tv / 1e9, tv / t, Double.NaN, why[0].isEmpty() ? "" : "cuDNN: " + why[0]));
            for (long q : new long[] {x, y, yv}) {
                free(q);
            }
        }

        void dropout() {
            long n = o.sizes().elementwise();
            long x = floats(n), y = floats(n);
            fill(x, n, -1f, 1f, 51);
            long[] offset = {0};
            double t = time(() -> api.dropoutForward(x, y, 0, n, 0.5f, 42, offset[0]++, 0));
            int k = (int) Math.min(n, 4096);
            float[] hx = get(x, k), hy = get(y, k);
            int bad = 0;
            for (int i = 0; i < k; i++) {
                if (hy[i] != 0f && hy[i] != hx[i] * 2f) {
                    bad++;
                }
            }
            check("dropout kept elements equal to 2 x (first 4096), mismatches", bad, 0);
            add(bandwidthRow("dropout fwd", size(n) + ", p 0.5", t, 2.0 * n * 4, 4 * n, 0.90));
            free(x);
            free(y);
        }
    }

    // ------------------------------------------------------------------ helpers

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            double x = Math.abs((double) a[i] - b[i]);
            if (!(x <= d)) {
                d = x;  // NaN wins
            }
        }
        return d;
    }

    static double relDiff(float[] a, float[] ref) {
        double m = 1e-30;
        for (float v : ref) {
            m = Math.max(m, Math.abs(v));
        }
        return maxDiff(a, ref) / m;
    }

    static String size(long n) {
        if (n % (1L << 20) == 0) {
            return (n >> 20) + " Mi";
        }
        if (n % 1024 == 0) {
            return (n >> 10) + " Ki";
        }
        return Long.toString(n);
    }

    private static String fmt(double v, String f) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "-" : String.format(Locale.ROOT, f, v);
    }

    private static String num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "null" : String.format(Locale.ROOT, "%.6g", v);
    }

    private static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            if (ch == '"' || ch == '\\') {
                sb.append('\\').append(ch);
            } else if (ch < 0x20) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            } else {
                sb.append(ch);
            }
        }
        return sb.append('"').toString();
    }
}
