package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** 1/t decay: {@code lr0 / t} with t = k + 1 (so lr(0) = lr0). */
public final class InverseTime extends AbstractLrSchedule {

    public InverseTime(Optimizer optimizer) {
        super(optimizer);
        start();
    }

    public InverseTime(double baseLr) {
        super(baseLr);
        start();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() / (k + 1.0);
    }
}
