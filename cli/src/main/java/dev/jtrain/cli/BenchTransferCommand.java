package dev.jtrain.cli;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.bench.TransferBenchmark;
import dev.jtrain.tensor.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code jtrain bench transfer}: host-device copy speed of jtrain's pinned and pageable paths against a native
 * cudaMemcpy, 4 KiB to 256 MiB ({@link TransferBenchmark}). An unavailable device is a one-line error, status 2.
 */
@Command(name = "transfer", mixinStandardHelpOptions = true,
        description = "Host-device copy speed (H2D and D2H, pinned and pageable, 4 KiB..256 MiB) against a native "
                + "cudaMemcpy of the same size, measured in one run.")
public final class BenchTransferCommand implements Callable<Integer> {

    @Option(names = "--device", defaultValue = "cuda:0", paramLabel = "DEV",
            description = "A GPU device: cuda[:N] or emu (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--max-size", defaultValue = "256m", paramLabel = "SIZE",
            description = "Largest copy, e.g. 64m, 256m, 1g (default: ${DEFAULT-VALUE}); sizes are 4k, 16k, 64k, ...")
    String maxSize;

    @Option(names = "--reps", defaultValue = "50",
            description = "Most timed copies per cell (fewer for large sizes, at least 3; default: ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TransferBenchmark.Options o;
        List<TransferBenchmark.Row> rows;
        try {
            Device dev = Device.parse(device);
            if (reps < 1) {
                throw new IllegalArgumentException("--reps must be >= 1, got " + reps);
            }
            long max = parseSize(maxSize);
            o = new TransferBenchmark.Options(dev, TransferBenchmark.sizesUpTo(max), reps);
            Backends.forDevice(dev);
            out.printf(Locale.ROOT, "jtrain bench transfer on %s: jtrain's copies of a Java float[] vs a native "
                    + "cudaMemcpy, medians%n", dev);
            out.println(TransferBenchmark.header());
            out.flush();
            rows = TransferBenchmark.run(o, r -> {
                out.println(TransferBenchmark.line(r));
                out.flush();
            });
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            err.println("jtrain bench transfer: " + e.getMessage());
            err.flush();
            return 2;
        }
        out.println("pinned = jtrain through its pinned staging buffers (Tensor.copyFrom/to), vs cudaMemcpy from "
                + "cudaMallocHost memory; pageable = jtrain's bounce-buffer path vs cudaMemcpy from malloc memory");
        if (o.device().equals(Device.EMU)) {
            out.println("emu: copies are host memcpy; these figures say nothing about a GPU");
        }
        if (json != null) {
            Files.writeString(json, TransferBenchmark.toJson(o, rows));
            out.println("wrote " + json);
        }
        return 0;
    }

    /** "4096", "64k", "256m", "1g" -> bytes. */
    static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            unit = switch (t.charAt(t.length() - 1)) {
                case 'k' -> 1L << 10;
                case 'm' -> 1L << 20;
                default -> 1L << 30;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v < 1 || v > (8L << 30) / unit) {
                throw new NumberFormatException();
            }
            return v * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--max-size must be a size from 4k to 8g such as 4096, 64k, 256m or 1g, got '"
                    + text + "'");
        }
    }
}
