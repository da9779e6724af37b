package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/** Shared bookkeeping: the base LR, the step counter and the optional optimizer whose LR is driven. */
public abstract class AbstractLrSchedule implements LrSchedule {
    private final Optimizer optimizer;
    private final double baseLr;
    private int k;

    /** Drives {@code optimizer}; the base LR is its initial LR, and it gets lr(0) now (like PyTorch). */
    protected AbstractLrSchedule(Optimizer optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer is null (use the constructor with a base LR instead)");
        }
        this.optimizer = optimizer;
        this.baseLr = checkBase(optimizer.initialLr());
    }

    /** A stand-alone schedule of base LR {@code baseLr}, driving no optimizer. */
    protected AbstractLrSchedule(double baseLr) {
        this.optimizer = null;
        this.baseLr = checkBase(baseLr);
    }

    /** Subclass constructors call this last, once their fields are set: applies lr(0) to the optimizer. */
    protected final void start() {
        if (optimizer != null) {
            optimizer.setLr(lr(0));
        }
    }

    private static double checkBase(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("base LR must be a finite value >= 0, got " + lr);
        }
        return lr;
    }

    @Override
    public final double baseLr() {
        return baseLr;
    }

    @Override
    public final int stepCount() {
        return k;
    }

    @Override
    public final void step() {
        k++;
        if (optimizer != null) {
            optimizer.setLr(lr(k));
        }
    }

    public final Optimizer optimizer() {
        return optimizer;
    }

    protected static void checkK(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("schedule step must be >= 0, got " + k);
        }
    }

    protected static void requirePositive(String what, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be a finite value > 0, got " + v);
        }
    }
}
