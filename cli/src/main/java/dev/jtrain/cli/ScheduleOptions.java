package dev.jtrain.cli;

import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.ScheduleSpec;
import dev.jtrain.train.LrScheduler;
import dev.jtrain.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code jtrain train --schedule SPEC --warmup N (or --warmup-epochs E) --lr-scale linear|workers}: the learning rate over the run (see
 * {@link ScheduleSpec} for the schedules and whether each advances per epoch or per step, {@link LrScheduler} for
 * how the warm-up combines with them). Without these flags the LR stays constant, as before.
 */
public final class ScheduleOptions {
    /** The batch size at which the given --lr holds under --lr-scale linear (Goyal et al. 2017). */
    public static final int REFERENCE_BATCH = 256;

    static final class SpecConverter implements CommandLine.ITypeConverter<ScheduleSpec> {
        @Override
        public ScheduleSpec convert(String value) {
            try {
                return ScheduleSpec.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("--schedule: " + e.getMessage());
            }
        }
    }

    @Option(names = "--schedule", paramLabel = "SPEC", converter = SpecConverter.class,
            description = "LR schedule: step:S[:G], multistep:M1,M2[:G], exp:G, cosine[:MIN], linear[:END], 1/t[:K] "
                    + "(per epoch); cosine-restarts:T0[:MULT[:MIN]] (T0 in epochs), inv-sqrt (per step) (default: constant)")
    ScheduleSpec schedule;

    @Option(names = "--warmup", paramLabel = "N",
            description = "linear LR warm-up over the first N optimizer steps: step s runs at lr*(s+1)/N (default: 0)")
    int warmup = 0;

    @Option(names = "--warmup-epochs", paramLabel = "E",
            description = "linear LR warm-up over the first E epochs (E x steps per epoch optimizer steps; instead of "
                    + "--warmup) (default: 0)")
    int warmupEpochs = 0;

    @Option(names = "--lr-scale", paramLabel = "RULE",
            description = "none; linear: lr * batch / " + REFERENCE_BATCH + " (large-batch scaling; --batch is the global "
                    + "batch); workers: lr * number of --distributed ranks (default: none)")
    String lrScale = "none";

    /** The number of data-parallel ranks (1 without --distributed), for {@code --lr-scale workers}. */
    int workers = 1;

    private Double baseLr;

    /** The base LR of the run: {@code lr}, scaled for the batch size when asked. */
    public double baseLr(double lr, int batch) {
        return switch (lrScale.trim().toLowerCase(Locale.ROOT)) {
            case "none" -> lr;
            case "linear" -> lr * batch / REFERENCE_BATCH;
            case "workers" -> lr * workers;
            default -> throw new IllegalArgumentException("--lr-scale: unknown rule '" + lrScale
                    + "' (expected none, linear or workers)");
        };
    }

    /** Checks the flags (usage errors before anything runs). */
    public void validate(int batch) {
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0 steps, got " + warmup);
        }
        if (warmupEpochs < 0) {
            throw new IllegalArgumentException("--warmup-epochs must be >= 0, got " + warmupEpochs);
        }
        if (warmup > 0 && warmupEpochs > 0) {
            throw new IllegalArgumentException("--warmup and --warmup-epochs: give one of them");
        }
        baseLr(1.0, batch);
    }

    /**
     * Sets the optimizer's LR to the (scaled) base LR now, so the run's header shows it, and drives it through the
     * run; register this before listeners that read the LR.
     */
    public void install(Trainer trainer, Optimizer opt, int batch) {
        double base = baseLr(opt.lr(), batch);
        baseLr = base;
        opt.setLr(base);
        if (schedule != null || warmup > 0 || warmupEpochs > 0 || base != opt.initialLr()) {
            trainer.addListener(new LrScheduler(opt, schedule, warmup, warmupEpochs, base));
        }
    }

    /** The flags as report settings. */
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schedule", schedule == null ? "constant" : schedule.toString());
        m.put("warmup_steps", warmup);
        m.put("warmup_epochs", warmupEpochs);
        m.put("lr_scale", lrScale.trim().toLowerCase(Locale.ROOT));
        m.put("base_lr", baseLr);
        return m;
    }
}
