package dev.jtrain.cli;

import dev.jtrain.backend.jni.CudaNative;
import dev.jtrain.backend.jni.EmuNative;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.backend.jni.NativeLibrary;
import dev.jtrain.bench.KernelBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code jtrain bench kernels}: our GPU kernels against cuBLAS/cuDNN and against the device's copy bandwidth
 * ({@link KernelBenchmark}). {@code --device emu} runs small sizes whose speeds are meaningless (it shows the
 * path works); {@code --device cuda} needs libjtrain_cuda.so and a GPU, and otherwise exits with status 2 and
 * one line saying what is missing.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = {"GPU kernels vs cuBLAS/cuDNN and vs the device's copy bandwidth (GFLOP/s, GB/s, ratios), "
                + "measured in one run.",
            "SGEMM n^3, BatchNorm fwd+bwd, Adam on 4 tensors, ReLU and dropout forward."})
public final class BenchKernelsCommand implements Callable<Integer> {

    @Option(names = "--device", defaultValue = "emu", paramLabel = "emu|cuda",
            description = "Device (default: ${DEFAULT-VALUE}). On emu the speeds are meaningless.")
    String device;

    @Option(names = "--sizes", paramLabel = "small|full",
            description = "Problem sizes: full = SGEMM 4096^3, BatchNorm [128,64,56,56], 64 Mi floats; small = tiny "
                    + "(default: small on emu, full on cuda).")
    String sizes;

    @Option(names = "--reps", description = "Timed repetitions, the median is reported (default: 3 on emu, 15 on cuda).")
    Integer reps;

    @Option(names = "--warmup", description = "Warm-up repetitions (default: 1 on emu, 3 on cuda).")
    Integer warmup;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the report as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String mode = device.toLowerCase(Locale.ROOT);
        if (!mode.equals("emu") && !mode.equals("cuda")) {
            err.println("jtrain bench kernels: --device must be emu or cuda, got '" + device + "'");
            return 2;
        }
        NativeLibrary.Kind kind = mode.equals("emu") ? NativeLibrary.Kind.EMU : NativeLibrary.Kind.CUDA;
        String why = NativeLibrary.unavailableReason(kind);
        if (why != null) {
            err.println("jtrain bench kernels: --device " + mode + ": " + why);
            return 2;
        }
        NativeApi api = mode.equals("emu") ? EmuNative.api() : CudaNative.api();
        int devices;
        try {
            devices = api.deviceCount();
        } catch (RuntimeException e) {
            devices = 0;
            why = e.getMessage();
        }
        if (devices < 1) {
            err.println("jtrain bench kernels: --device " + mode + ": no CUDA device"
                    + (why != null ? " (" + why + ")" : " (the CUDA library loaded but sees no GPU; driver CUDA version "
                    + api.driverVersion() + ")"));
            return 2;
        }
        KernelBenchmark.Sizes sz;
        KernelBenchmark.Options o;
        try {
            sz = sizes != null ? KernelBenchmark.Sizes.named(sizes)
                    : mode.equals("emu") ? KernelBenchmark.Sizes.SMALL : KernelBenchmark.Sizes.FULL;
            KernelBenchmark.Options d = mode.equals("emu") ? KernelBenchmark.Options.emu(sz) : KernelBenchmark.Options.cuda(sz);
            o = new KernelBenchmark.Options(sz, warmup != null ? warmup : d.warmup(), reps != null ? reps : d.reps(),
                    d.minRepSeconds());
        } catch (IllegalArgumentException e) {
            err.println("jtrain bench kernels: " + e.getMessage());
            return 2;
        }
        boolean emu = mode.equals("emu");
        out.printf(Locale.ROOT, "jtrain bench kernels: %s [%s build], sizes %s, median of %d after %d warm-up%n",
                api.deviceName(0), api.buildKind(), sz.name(), o.reps(), o.warmup());
        if (emu) {
            out.println("emu: correctness only, speeds meaningless");
        }
        out.println(KernelBenchmark.header());
        out.flush();
        KernelBenchmark.Report report = KernelBenchmark.run(api, mode, o, row -> {
            out.println(KernelBenchmark.line(row, !emu));
            out.flush();
        });
        out.println("ratio: sgemm = ours GFLOP/s / cuBLAS; batchnorm and relu-vs-cuDNN = cuDNN time / ours; adam, relu, "
                + "dropout vs copy = ours GB/s / copy GB/s (read + write counted)");
        out.println("vendor libraries:");
        for (String line : report.vendor().split("\n")) {
            out.println("  " + line);
        }
        for (String c : report.checks()) {
            out.println("check " + c);
        }
        if (emu) {
            out.println("emu: correctness only, speeds meaningless");
        }
        if (json != null) {
            Files.writeString(json, report.toJson());
            out.println("wrote " + json);
        }
        out.flush();
        if (!report.checksPassed()) {
            err.println("jtrain bench kernels: a result check failed (see the check lines)");
            return 1;
        }
        return 0;
    }
}
