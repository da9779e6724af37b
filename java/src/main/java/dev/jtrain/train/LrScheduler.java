package dev.jtrain.train;

import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.LrSchedule;
import dev.jtrain.optim.schedule.ScheduleSpec;
import dev.jtrain.tensor.Tensor;

/**
 * Drives the optimizer's learning rate through a run: a {@link ScheduleSpec} (per epoch or per step, see there)
 * times a linear warm-up over the first {@code warmupSteps} optimizer steps. The LR of 0-based step s in
 * 0-based epoch e is
 *
 * <pre>  lr(s, e) = schedule.lr(k) * min(1, (s + 1) / W)    k = e (per-epoch schedules) or s (per-step ones) </pre>
 *
 * so the warm-up multiplies whatever the schedule gives (PyTorch's ChainedScheduler of
 * {@code LinearLR(start_factor = 1/W, total_iters = W - 1)} stepped per batch) and step W - 1 onwards runs at the
 * schedule's LR. The base LR is fixed when the listener is built (after any large-batch scaling). The LR is a
 * function of (s, e) alone, so a run resumed at epoch k + 1 gets the LRs of the uninterrupted run.
 */
public final class LrScheduler implements TrainingListener {
    private final Optimizer optimizer;
    private final ScheduleSpec spec;     // null: constant base LR
    private int warmupSteps;             // 0: none
    private final int warmupEpochs;      // > 0: the warm-up is this many epochs' steps, known at onTrainStart
    private final double baseLr;
    private LrSchedule schedule;
    private int step;                    // 0-based index of the next optimizer step of the run
    private int epoch;                   // 0-based index of the current epoch
    private int stepsPerEpoch;
    private boolean started;

    public LrScheduler(Optimizer optimizer, ScheduleSpec spec, int warmupSteps, double baseLr) {
        this(optimizer, spec, warmupSteps, 0, baseLr);
    }

    /**
     * As above with the warm-up given in epochs instead ({@code warmupEpochs} > 0: W = warmupEpochs x steps per epoch,
     * and {@code warmupSteps} must be 0).
     */
    public LrScheduler(Optimizer optimizer, ScheduleSpec spec, int warmupSteps, int warmupEpochs, double baseLr) {
        if (warmupEpochs < 0 || (warmupEpochs > 0 && warmupSteps > 0)) {
            throw new IllegalArgumentException("warm-up: give steps or epochs, not both (steps " + warmupSteps
                    + ", epochs " + warmupEpochs + ")");
        }
        this.warmupEpochs = warmupEpochs;
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmupSteps);
        }
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("base LR must be a finite value >= 0, got " + baseLr);
        }
        this.optimizer = optimizer;
        this.spec = spec;
        this.warmupSteps = warmupSteps;
        this.baseLr = baseLr;
    }

    /** The LR of 0-based step {@code s} in 0-based epoch {@code e} (the formula of the class comment). */
    public double lr(int s, int e) {
        double v = schedule == null ? baseLr : schedule.lr(spec.unit() == ScheduleSpec.Unit.STEP ? s : e);
        return warmupSteps > 1 && s < warmupSteps ? v * (s + 1) / warmupSteps : v;
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        schedule = spec == null ? null : spec.build(baseLr, epochs, stepsPerEpoch);
        this.stepsPerEpoch = stepsPerEpoch;
        if (warmupEpochs > 0) {
            warmupSteps = warmupEpochs * stepsPerEpoch;
        }
        step = 0;
        epoch = 0;
        started = false;
        optimizer.setLr(lr(0, 0));
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        if (!started) {
            // a run resumed after epoch k starts at epoch k + 1: every epoch before it had stepsPerEpoch steps
            step = (epoch - 1) * stepsPerEpoch;
            started = true;
        }
        this.epoch = epoch - 1;
        optimizer.setLr(lr(step, this.epoch));
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        this.step++;
        optimizer.setLr(lr(this.step, this.epoch));
    }
}
