package dev.jtrain.train;

import dev.jtrain.optim.Optimizer;
import dev.jtrain.tensor.Tensor;

/**
 * The default recipes' learning-rate decay: PyTorch's {@code CosineAnnealingLR} stepped after every optimizer
 * step, from the optimizer's lr down to 0 over the whole run (epochs × steps per epoch), so the last epoch trains
 * at a small lr and the final weights are not the noisy ones of a constant lr. The lr of step s of T is
 * {@code lr0 · (1 + cos(π s / T)) / 2}, computed from the run's absolute step (not counted from this listener's
 * start), so a run resumed after epoch k continues the curve where it stopped. The per-step hook reads no tensor,
 * so it adds no device synchronisation. Used only when no {@code --schedule} is given.
 */
public final class CosineDecayListener implements TrainingListener {
    private final Optimizer optimizer;
    private final double baseLr;
    private long totalSteps;
    private int stepsPerEpoch;
    private long step;              // the run's 0-based index of the next optimizer step

    public CosineDecayListener(Optimizer optimizer) {
        this.optimizer = optimizer;
        this.baseLr = optimizer.lr();
    }

    /** The lr of 0-based step {@code s} of a run of {@code total} steps that starts at {@code base}. */
    public static double lrAt(double base, long s, long total) {
        return base * (1 + Math.cos(Math.PI * Math.min(s, total) / total)) / 2;
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        this.stepsPerEpoch = stepsPerEpoch;
        this.totalSteps = Math.max(1L, (long) epochs * stepsPerEpoch);
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        step = (long) (epoch - 1) * stepsPerEpoch; // every epoch before this one had stepsPerEpoch steps
        optimizer.setLr(lrAt(baseLr, step, totalSteps));
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        this.step++;
        optimizer.setLr(lrAt(baseLr, this.step, totalSteps));
    }
}
