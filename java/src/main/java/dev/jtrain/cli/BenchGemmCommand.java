package dev.jtrain.cli;

import dev.jtrain.bench.GemmBenchmark;
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
 * {@code jtrain bench gemm}: our SGEMM in GFLOP/s per size, thread count and transpose; with
 * {@code --numpy} the same workload runs in numpy/OpenBLAS in the same run and the ratio is printed.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Square SGEMM GFLOP/s of the pure-Java engine (optionally against numpy/OpenBLAS).")
public final class BenchGemmCommand implements Callable<Integer> {

    @Option(names = "--sizes", split = ",", defaultValue = "256,512,1024,2048", description = "Square sizes n (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

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
        System.out.printf("%-6s %6s %7s %5s %14s %11s%n", "impl", "n", "threads", "op", "GFLOP/s median", "GFLOP/s max");
        List<GemmBenchmark.Row> rows = new ArrayList<>(GemmBenchmark.run(sizes, th, transposes,
                GemmBenchmark.Options.defaults(), BenchGemmCommand::print));
        if (numpy) {
            List<GemmBenchmark.Row> peer = runNumpy(th);
            rows.addAll(peer);
            System.out.println();
            System.out.printf("%6s %7s %5s %10s %10s %7s%n", "n", "threads", "op", "jtrain", "numpy", "ratio");
            for (GemmBenchmark.Row ours : rows) {
                if (!ours.impl().equals("numpy")) {
                    for (GemmBenchmark.Row theirs : peer) {
                        if (theirs.n() == ours.n() && theirs.threads() == ours.threads()
                                && theirs.transpose().equals(ours.transpose())) {
                            System.out.printf(Locale.ROOT, "%6d %7d %5s %10.1f %10.1f %6.2fx%n", ours.n(), ours.threads(),
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

    private static void print(GemmBenchmark.Row r) {
        System.out.printf(Locale.ROOT, "%-6s %6d %7d %5s %14.1f %11.1f%n", r.impl(), r.n(), r.threads(), r.transpose(),
                r.gflopsMedian(), r.gflopsMax());
    }

    private List<GemmBenchmark.Row> runNumpy(List<Integer> th) throws IOException, InterruptedException {
        Path script = ProjectPaths.root().resolve("bench/scripts/numpy_gemm.py");
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("--numpy: " + script + " not found");
        }
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(),
                "--sizes", join(sizes), "--threads", join(th), "--transpose", String.join(",", transposes)));
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
                GemmBenchmark.Row row = new GemmBenchmark.Row("numpy", Integer.parseInt(f.get("n")),
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

    private static String join(List<Integer> xs) {
        StringBuilder sb = new StringBuilder();
        for (int x : xs) {
            sb.append(sb.length() > 0 ? "," : "").append(x);
        }
        return sb.toString();
    }
}
