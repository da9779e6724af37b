package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** {@code torch.optim.lr_scheduler.ExponentialLR}: {@code lr0 gamma^k}. */
public final class ExponentialLR extends AbstractLrSchedule {
    private final double gamma;

    public ExponentialLR(Optimizer optimizer, double gamma) {
        super(optimizer);
        requirePositive("gamma", gamma);
        this.gamma = gamma;
        start();
    }

    public ExponentialLR(double baseLr, double gamma) {
        super(baseLr);
        requirePositive("gamma", gamma);
        this.gamma = gamma;
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() * Math.pow(gamma, k);
    }
}
