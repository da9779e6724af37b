package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** {@code torch.optim.lr_scheduler.StepLR}: {@code lr0 gamma^floor(k / stepSize)}; with (10, 0.1), lr(10) = 0.01 lr0. */
public final class StepLR extends AbstractLrSchedule {
    private final int stepSize;
    private final double gamma;

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize < 1) {
            throw new IllegalArgumentException("step_size must be >= 1, got " + stepSize);
        }
        requirePositive("gamma", gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
        start();
    }

    public StepLR(double baseLr, int stepSize, double gamma) {
        super(baseLr);
        if (stepSize < 1) {
            throw new IllegalArgumentException("step_size must be >= 1, got " + stepSize);
        }
        requirePositive("gamma", gamma);
        this.stepSize = stepSize;
        this.gamma = gamma;
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() * Math.pow(gamma, k / stepSize);
    }
}
