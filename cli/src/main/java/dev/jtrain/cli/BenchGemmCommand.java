package dev.jtrain.cli;

import dev.jtrain.bench.GemmBenchmark;
import dev.jtrain.bench.GemmShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code jtrain bench gemm}: our SGEMM in GFLOP/s per shape (square sizes, or m x n x k shapes such as the
 * training set), thread count and transpose; with {@code --numpy} the same workload runs in numpy/OpenBLAS in
 * the same run and the ratio is printed.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "SGEMM GFLOP/s of the pure-Java engine (optionally against numpy/OpenBLAS).")
public final class BenchGemmCommand implements Callable<Integer> {

    @Option(names = "--sizes", split = ",", description = "Square sizes n (default: 256,512,1024,2048 unless --shapes is given).")
    List<Integer> sizes;

    @Option(names = "--shapes", split = ",", paramLabel = "MxNxK[:op]|training",
            description = "m x n x k products (C is m x n), each optionally with its own transpose, e.g. 128x512x784:nt;"
                    + " 'training' = the Linear products of a 784-512-512-128 MLP at batch 64, 128, 256 (forward nt,"
                    + " input gradient nn, weight gradient tn).")
    List<String> shapes;

    @Option(names = "--threads", split = ",", description = "Thread counts, e.g. 1,2 (default: all cores).")
    List<Integer> threads;

    @Option(names = "--transpose", split = ",", defaultValue = "nn", description = "nn, nt, tn, tt (default: ${DEFAULT-VALUE}).")
    List<String> transposes;

    @Option(names = "--json", paramLabel = "FILE", description = "Write the rows as a JSON array.")
    Path json;

    @Option(names = "--numpy", description = "Also run bench/scripts/numpy_gemm.py (needs python3 with numpy) and print ratios.")
    boolean numpy;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "Python for --numpy (default: ${DEFAULT-VALUE}).")
    String python;

    @Override
    public Integer call() throws Exception {
        List<Integer> th = threads != null ? threads : List.of(Runtime.getRuntime().availableProcessors());
        System.out.printf("%-6s %14s %7s %5s %14s %11s %9s %15s%n", "impl", "m x n x k", "threads", "op", "GFLOP/s median",
                "GFLOP/s max", "warm-up s", "B alloc/product");
        List<GemmShape> work = workload();
        List<GemmBenchmark.Row> rows = new ArrayList<>(GemmBenchmark.run(work, th, transposes,
                GemmBenchmark.Options.defaults(), BenchGemmCommand::print));
        if (numpy) {
            List<GemmBenchmark.Row> peer = runNumpy(work, th);
            rows.addAll(peer);
            System.out.println();
            System.out.printf("%14s %7s %5s %10s %10s %7s%n", "m x n x k", "threads", "op", "jtrain", "numpy", "ratio");
            for (GemmBenchmark.Row ours : rows) {
                if (!ours.impl().equals("numpy")) {
                    for (GemmBenchmark.Row theirs : peer) {
                        if (theirs.sameWorkload(ours)) {
                            System.out.printf(Locale.ROOT, "%14s %7d %5s %10.1f %10.1f %6.2fx%n", ours.dims(), ours.threads(),
                                    ours.transpose(), ours.gflopsMedian(), theirs.gflopsMedian(),
                                    ours.gflopsMedian() / theirs.gflopsMedian());
                        }
                    }
                }
            }
        }
        if (json != null) {
            StringBuilder sb = new StringBuilder("[\n");
            for (int i = 0; i < rows.size(); i++) {
                sb.append("  ").append(rows.get(i).toJson()).append(i + 1 < rows.size() ? ",\n" : "\n");
            }
            Files.writeString(json, sb.append("]\n").toString());
        }
        return 0;
    }

    /** --sizes as square shapes, then --shapes (with 'training' expanded); the default sizes when neither is given. */
    List<GemmShape> workload() {
        List<GemmShape> out = new ArrayList<>();
        List<Integer> square = sizes != null ? sizes : shapes == null ? List.of(256, 512, 1024, 2048) : List.of();
        for (int n : square) {
            if (n < 1) {
                throw new IllegalArgumentException("--sizes must be >= 1 (got " + n + ")");
            }
            out.add(GemmShape.square(n));
        }
        if (shapes != null) {
            for (String s : shapes) {
                if (s.trim().equalsIgnoreCase("training")) {
                    out.addAll(GemmShape.training());
                } else {
                    out.add(GemmShape.parse(s));
                }
            }
        }
        return out;
    }

    private static void print(GemmBenchmark.Row r) {
        boolean own = !Double.isNaN(r.warmupSeconds());
        System.out.printf(Locale.ROOT, "%-6s %14s %7d %5s %14.1f %11.1f %9s %15s%n", r.impl(), r.dims(), r.threads(),
                r.transpose(), r.gflopsMedian(), r.gflopsMax(),
                own ? String.format(Locale.ROOT, "%.1f", r.warmupSeconds()) : "-",
                own && r.allocBytesPerProduct() >= 0 ? Long.toString(r.allocBytesPerProduct()) : "-");
        if (r.ranBoxed()) {
            System.out.printf(Locale.ROOT, "  warning: %s allocated %d bytes per product: the JIT left vector code boxed in"
                    + " this JVM, so this row measured that, not the kernel; rerun in a fresh JVM%n", r.dims(),
                    r.allocBytesPerProduct());
        }
    }

    private List<GemmBenchmark.Row> runNumpy(List<GemmShape> work, List<Integer> th) throws IOException, InterruptedException {
        Path script = ProjectPaths.root().resolve("bench/scripts/numpy_gemm.py");
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("--numpy: " + script + " not found");
        }
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(),
                "--shapes", joinShapes(work), "--threads", join(th), "--transpose", String.join(",", transposes)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IllegalArgumentException("--numpy: cannot run " + python + " (" + e.getMessage() + ")");
        }
        List<GemmBenchmark.Row> out = new ArrayList<>();
        Pattern field = Pattern.compile("\"(\\w+)\": \"?([^,\"}]+)\"?");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.startsWith("{")) {
                    continue;
                }
                Map<String, String> f = new java.util.HashMap<>();
                Matcher m = field.matcher(line);
                while (m.find()) {
                    f.put(m.group(1), m.group(2).trim());
                }
                GemmBenchmark.Row row = new GemmBenchmark.Row("numpy", Integer.parseInt(f.get("m")),
                        Integer.parseInt(f.get("n")), Integer.parseInt(f.get("k")),
                        Integer.parseInt(f.get("threads")), f.get("transpose"),
                        Double.parseDouble(f.get("gflops_median")), Double.parseDouble(f.get("gflops_max")));
                print(row);
                out.add(row);
            }
        }
        if (p.waitFor() != 0) {
            throw new IllegalArgumentException("--numpy: " + String.join(" ", cmd) + " exited with status " + p.exitValue());
        }
        return out;
    }

    private static String joinShapes(List<GemmShape> xs) {
        StringBuilder sb = new StringBuilder();
        for (GemmShape x : xs) {
            sb.append(sb.length() > 0 ? "," : "").append(x);
        }
        return sb.toString();
    }

    private static String join(List<Integer> xs) {
        StringBuilder sb = new StringBuilder();
        for (int x : xs) {
            sb.append(sb.length() > 0 ? "," : "").append(x);
        }
        return sb.toString();
    }
}
