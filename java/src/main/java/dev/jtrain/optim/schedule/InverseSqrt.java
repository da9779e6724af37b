package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** Inverse square-root decay: {@code lr0 / sqrt(t)} with t = k + 1 (so lr(0) = lr0). */
public final class InverseSqrt extends AbstractLrSchedule {

    public InverseSqrt(Optimizer optimizer) {
        super(optimizer);
        start();
    }

    public InverseSqrt(double baseLr) {
        super(baseLr);
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() / Math.sqrt(k + 1.0);
    }
}
