package dev.jtrain.cli;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.gpu.KernelChoice;
import dev.jtrain.bench.TrainBenchmark;
import dev.jtrain.data.DataFileException;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.data.Normalizer;
import dev.jtrain.tensor.Device;
import dev.jtrain.train.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code jtrain bench train}: training steps per second of the named models on each device, with the ratio to
 * the cpu measured in the same run, the host overhead per native call and the transfer traffic
 * ({@link TrainBenchmark}). An unavailable device is a one-line error with status 2.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training throughput per device (samples/s, ratio to cpu, host overhead per call, transfers), "
                + "measured in one run on the bundled MNIST.")
public final class BenchTrainCommand implements Callable<Integer> {
    /** The models it accepts, for the help text: every model of {@link Models#NAMES}. */
    static final class ModelNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return Models.NAMES.iterator();
        }
    }

    @Option(names = "--device", split = ",", defaultValue = "cpu,emu", paramLabel = "DEV[,DEV...]",
            description = "Devices, the cpu first for the ratios (default: ${DEFAULT-VALUE}).")
    List<String> devices;

    @Option(names = "--model", split = ",", defaultValue = "mlp,cnn", paramLabel = "M[,M...]",
            completionCandidates = ModelNames.class,
            description = "Models, any of: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    List<String> models;

    @Option(names = "--kernels", split = ",", defaultValue = "custom", paramLabel = "K[,K...]",
            description = "On GPU devices: custom, vendor, auto (default: ${DEFAULT-VALUE}).")
    List<String> kernels;

    @Option(names = "--batch", defaultValue = "128", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", description = "Timed steps per cell (default: 50; 10 when emu is measured).")
    Integer steps;

    @Option(names = "--warmup", description = "Warm-up steps per cell (default: 20; 3 when emu is measured).")
    Integer warmup;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of init and shuffling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "MNIST IDX folder (default: the bundled data/mnist-10k).")
    Path data;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the rows as JSON.")
    Path json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TrainBenchmark.Options o;
        Dataset train;
        try {
            List<Device> devs = new ArrayList<>();
            for (String d : devices) {
                Device dev = Device.parse(d);
                Backends.forDevice(dev);
                devs.add(dev);
            }
            List<KernelChoice> ks = new ArrayList<>();
            for (String k : kernels) {
                ks.add(KernelChoice.parse(k));
            }
            for (String m : models) {
                Models.defaultHidden(m);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
            }
            boolean emu = devs.contains(Device.EMU);
            o = new TrainBenchmark.Options(models.stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).toList(), devs, ks,
                    batch, warmup != null ? warmup : emu ? 3 : 20, steps != null ? steps : emu ? 10 : 50, seed);
            if (o.steps() < 1 || o.warmupSteps() < 0) {
                throw new IllegalArgumentException("--steps must be >= 1 and --warmup >= 0");
            }
            Path dir = data != null ? data : ProjectPaths.root().resolve("data").resolve("mnist-10k");
            train = Mnist.load(dir).train();
            Normalizer.fit(train).apply(train);
        } catch (IllegalArgumentException | DeviceUnavailableException | DataFileException e) {
            err.println("jtrain bench train: " + e.getMessage());
            err.flush();
            return 2;
        }
        out.printf(Locale.ROOT, "jtrain bench train: batch %d, %d warm-up + %d timed steps per cell, SGD momentum 0.9%n",
                o.batch(), o.warmupSteps(), o.steps());
        out.println(TrainBenchmark.header());
        out.flush();
        List<TrainBenchmark.Row> rows;
        // the cpu cells use every processor (or -Djtrain.threads), as jtrain train does by default
        try (CpuThreadPool pool = new CpuThreadPool(CpuThreadPool.processorCount()); CpuThreadPool.Binding bound = pool.bind()) {
            rows = TrainBenchmark.run(o, train, r -> {
                out.println(TrainBenchmark.line(r));
                out.flush();
            });
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            err.println("jtrain bench train: " + e.getMessage());
            err.flush();
            return 2;
        }
        out.println("host us = wall time outside native calls per call (Java graph, checks, JNI); native us = inside "
                + "them (on emu that includes the kernels, which run on the host)");
        if (o.devices().contains(Device.EMU)) {
            out.println("emu: the CUDA model emulated on the host, for correctness; its speed says nothing about a GPU");
        }
        if (json != null) {
            Files.writeString(json, TrainBenchmark.toJson(o, rows));
            out.println("wrote " + json);
        }
        return 0;
    }
}
