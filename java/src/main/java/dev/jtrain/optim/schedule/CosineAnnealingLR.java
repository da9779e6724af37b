package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** {@code torch.optim.lr_scheduler.CosineAnnealingLR} (closed form): {@code etaMin + (lr0 - etaMin)(1 + cos(pi k / tMax)) / 2}. */
public final class CosineAnnealingLR extends AbstractLrSchedule {
    private final int tMax;
    private final double etaMin;

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax < 1) {
            throw new IllegalArgumentException("T_max must be >= 1, got " + tMax);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        start();
    }

    public CosineAnnealingLR(double baseLr, int tMax, double etaMin) {
        super(baseLr);
        if (tMax < 1) {
            throw new IllegalArgumentException("T_max must be >= 1, got " + tMax);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return etaMin + (baseLr() - etaMin) * (1 + Math.cos(Math.PI * k / tMax)) / 2;
    }
}
