package dev.jtrain.cli;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.loss.Loss;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.plot.CurvePlot;
import dev.jtrain.train.EpochLog;
import dev.jtrain.train.LayerStatistics;
import dev.jtrain.train.NanGuard;
import dev.jtrain.train.SanityCheck;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.UpdateRatioMonitor;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code jtrain train --sanity --monitor --nan-guard --log F.csv --plot F.png}: watching a run. See
 * {@link SanityCheck}, {@link UpdateRatioMonitor}, {@link LayerStatistics}, {@link NanGuard}, {@link EpochLog} and
 * {@link CurvePlot}. {@link #close()} releases the monitors' device tensors.
 */
public final class WatchOptions implements AutoCloseable {
    /** Samples of the sanity checks: the initial loss is measured on the first 1,000, the overfit uses 20. */
    static final int INITIAL_LOSS_SAMPLES = 1000;
    static final int OVERFIT_SAMPLES = 20;
    static final int OVERFIT_MAX_STEPS = 300;
    /** Steps between two update/weight ratio measurements, and the probe batch of the activation statistics. */
    static final int RATIO_EVERY = 10;
    static final int PROBE_SAMPLES = 256;

    @Option(names = "--sanity", description = "before training: initial loss against ln(classes), and overfitting "
            + OVERFIT_SAMPLES + " training samples to 100%% accuracy (a failure stops the run)")
    boolean sanity;

    @Option(names = "--monitor", description = "per epoch: update/weight ratio per layer (warns outside 1e-4..1e-2), "
            + "activation and gradient statistics, dead-ReLU fraction; implies --nan-guard")
    boolean monitor;

    @Option(names = "--nan-guard", description = "check the loss and the weights after every step; stop naming the "
            + "step and the first layer that became NaN/Inf")
    boolean nanGuard;

    @Option(names = "--log", paramLabel = "FILE.csv", description = "write the per-epoch metrics (losses, accuracies, "
            + "lr, time, samples/s) as CSV")
    String log;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "draw the loss and accuracy curves as a PNG")
    String plot;

    private NanGuard guard;
    private UpdateRatioMonitor ratios;
    private Tensor probe;

    /** Checks the file flags (usage errors before anything runs). */
    public void validate() {
        path("--log", log);
        path("--plot", plot);
    }

    private static Path path(String flag, String value) {
        if (value == null) {
            return null;
        }
        Path p;
        try {
            p = Path.of(value);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(flag + ": bad path '" + value + "': " + e.getReason());
        }
        Path parent = p.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException(flag + ": folder " + parent + " does not exist");
        }
        return p;
    }

    /**
     * Runs the sanity checks (when asked, on a fresh run only; a failure stops the run with exit status 1) and registers
     * the monitors, the log and the plot on {@code trainer}.
     */
    public void install(Trainer trainer, Loss loss, Function<Layer, Optimizer> newOptimizer, Dataset train,
                        Generator gen, boolean freshRun, PrintWriter out) {
        Layer model = trainer.model();
        if (sanity && !freshRun) {
            out.println("sanity: skipped (a resumed run is not an untrained model)");
            out.flush();
        } else if (sanity) {
            SanityCheck.InitialLoss il = SanityCheck.initialLoss(trainer, train, INITIAL_LOSS_SAMPLES);
            out.println("sanity: " + il.describe());
            out.flush();
            if (il.verdict() == SanityCheck.Verdict.FAIL) {
                throw new TrainCommand.RunFailure("sanity check failed: " + il.describe(), null);
            }
            SanityCheck.Overfit of = SanityCheck.overfit(model, loss, newOptimizer, trainer.device(), train,
                    OVERFIT_SAMPLES, OVERFIT_MAX_STEPS, gen);
            out.println("sanity: " + of.describe());
            out.flush();
            if (!of.passed()) {
                throw new TrainCommand.RunFailure("sanity check failed: " + of.describe(), null);
            }
        }
        if (nanGuard || monitor) {
            guard = new NanGuard(model);
            trainer.addListener(guard);
        }
        if (monitor) {
            ratios = new UpdateRatioMonitor(model, RATIO_EVERY, out);
            trainer.addListener(ratios);
            probe = train.head(Math.min(PROBE_SAMPLES, train.size())).featuresTensor().to(trainer.device());
            trainer.addListener(new LayerStatistics(model, probe, out));
        }
        if (log != null) {
            Optimizer opt = trainer.optimizer();
            trainer.addListener(new EpochLog(path("--log", log), opt::lr));
        }
        if (plot != null) {
            trainer.addListener(new CurvePlot(path("--plot", plot)));
        }
    }

    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sanity", sanity);
        m.put("monitor", monitor);
        m.put("nan_guard", nanGuard || monitor);
        return m;
    }

    @Override
    public void close() {
        if (guard != null) {
            guard.close();
        }
        if (ratios != null) {
            ratios.close();
        }
        if (probe != null && !probe.device().isHost()) {
            probe.close();
        }
    }
}
