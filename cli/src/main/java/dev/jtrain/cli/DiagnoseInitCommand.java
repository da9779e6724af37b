package dev.jtrain.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.init.ActivationStatistics;
import dev.jtrain.init.ActivationStatistics.LayerStats;
import dev.jtrain.init.InitScheme;
import dev.jtrain.plot.LinePlot;
import dev.jtrain.tensor.Device;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jtrain diagnose init}: the course's activation-statistics experiment ({@link ActivationStatistics}):
 * a table of the mean and std of every layer's activations, optionally as JSON ({@code layers}: [{layer, mean,
 * std}]) and as a PNG plot. Bad options are one line on stderr and status 2; an unwritable output file status 1.
 */
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Per-layer mean and std of the activations of unit-Gaussian inputs through a deep stack of "
                + "fully-connected layers, for a weight initialisation and a nonlinearity.")
public final class DiagnoseInitCommand implements Callable<Integer> {

    @Option(names = "--init", paramLabel = "SCHEME", converter = InitOptions.SchemeConverter.class,
            description = "weight init: normal:0.01, normal:1, xavier, he, ... (as train --init; default: normal:0.01)")
    InitScheme init = InitScheme.parse("normal:0.01");

    @Option(names = "--activation", paramLabel = "NAME", description = "tanh or relu (default: ${DEFAULT-VALUE})")
    String activation = "tanh";

    @Option(names = "--layers", paramLabel = "N", description = "hidden layers (default: ${DEFAULT-VALUE})")
    int layers = 10;

    @Option(names = "--width", paramLabel = "N", description = "units per layer (default: ${DEFAULT-VALUE})")
    int width = 500;

    @Option(names = "--batch", paramLabel = "N", description = "input samples (default: ${DEFAULT-VALUE})")
    int batch = 1000;

    @Option(names = "--seed", paramLabel = "N", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--device", paramLabel = "DEV", description = "cpu, emu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @Option(names = "--json", paramLabel = "FILE", description = "write the statistics as JSON")
    Path json;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "draw mean and std per layer as a PNG")
    Path plot;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<LayerStats> stats;
        ActivationStatistics.Nonlinearity nl;
        Device dev;
        try {
            nl = ActivationStatistics.Nonlinearity.parse(activation);
            positive("--layers", layers);
            positive("--width", width);
            positive("--batch", batch);
            dev = Device.parse(device);
            Backends.forDevice(dev);
            stats = ActivationStatistics.run(init, nl, layers, width, batch, seed, dev);
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.USAGE);
        }
        out.printf(Locale.ROOT, "jtrain diagnose init: %s, %s, %d layers of %d units (no bias), %d N(0, 1) inputs, "
                + "seed %d, %s%n", init, nl.name().toLowerCase(Locale.ROOT), layers, width, batch, seed, dev);
        out.printf(Locale.ROOT, "%5s  %13s  %13s%n", "layer", "mean", "std");
        for (LayerStats s : stats) {
            out.printf(Locale.ROOT, "%5d  %13.6e  %13.6e%n", s.layer(), s.mean(), s.std());
        }
        out.flush();
        try {
            if (json != null) {
                writeJson(json, nl, dev, stats);
                out.println("wrote " + json);
            }
            if (plot != null) {
                double[] x = new double[stats.size()];
                double[] mean = new double[stats.size()];
                double[] std = new double[stats.size()];
                for (int i = 0; i < stats.size(); i++) {
                    x[i] = stats.get(i).layer();
                    mean[i] = stats.get(i).mean();
                    std[i] = stats.get(i).std();
                }
                new LinePlot("Activations per layer: " + init + ", " + nl.name().toLowerCase(Locale.ROOT), "layer",
                        "activation statistic").series("std", x, std).series("mean", x, mean).savePng(plot);
                out.println("wrote " + plot);
            }
        } catch (IOException | IllegalArgumentException e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.SOFTWARE);
        }
        out.flush();
        return 0;
    }

    private void writeJson(Path file, ActivationStatistics.Nonlinearity nl, Device dev, List<LayerStats> stats)
            throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("init", init.toString());
        root.put("activation", nl.name().toLowerCase(Locale.ROOT));
        root.put("depth", layers);
        root.put("width", width);
        root.put("batch", batch);
        root.put("seed", seed);
        root.put("device", dev.toString());
        root.put("layers", stats);  // records serialise as {layer, mean, std}
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new IOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void positive(String flag, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(flag + " must be >= 1, got " + v);
        }
    }

    private static int fail(PrintWriter err, String message, int code) {
        err.println("jtrain diagnose init: error: " + (message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ")));
        err.flush();
        return code;
    }
}
