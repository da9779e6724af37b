package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** Inverse-time decay: {@code lr0 / (1 + decay k)}. */
public final class InverseTimeDecay extends AbstractLrSchedule {
    private final double decay;

    public InverseTimeDecay(Optimizer optimizer, double decay) {
        super(optimizer);
        if (!(decay >= 0) || Double.isInfinite(decay)) {
            throw new IllegalArgumentException("decay must be a finite value >= 0, got " + decay);
        }
        this.decay = decay;
        start();
    }

    public InverseTimeDecay(double baseLr, double decay) {
        super(baseLr);
        if (!(decay >= 0) || Double.isInfinite(decay)) {
            throw new IllegalArgumentException("decay must be a finite value >= 0, got " + decay);
        }
        this.decay = decay;
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() / (1 + decay * k);
    }
}
