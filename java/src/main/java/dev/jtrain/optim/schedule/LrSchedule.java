package dev.jtrain.optim.schedule;

/**
 * A learning-rate schedule (FORMAT.md items 36-37). {@link #lr(int)} is the closed form: {@code lr(k)} is
 * the LR used by the (k+1)-th {@code optimizer.step()}, so {@code lr(0)} is the LR before any schedule step.
 *
 * <p>Used with an optimizer like PyTorch's schedulers: build it over the optimizer (which immediately gets
 * {@code lr(0)}), then each iteration: record {@code optimizer.lr()}; {@code optimizer.step()};
 * {@code schedule.step()} (which sets {@code lr(k + 1)}). The base LR is the optimizer's
 * {@code initialLr()}, so several schedules over one optimizer (e.g. inside {@link SequentialLR}) agree.
 */
public interface LrSchedule {

    /** The LR of optimizer step k + 1 (k >= 0), in closed form. */
    double lr(int k);

    /** The base LR (lr0) this schedule scales. */
    double baseLr();

    /** Number of {@link #step()} calls so far (PyTorch's {@code last_epoch}). */
    int stepCount();

    /** Advances the schedule by one and writes the new LR into the optimizer (if attached). */
    void step();

    /** The LR in effect now: {@code lr(stepCount())}. */
    default double currentLr() {
        return lr(stepCount());
    }

    /** The first {@code n} values lr(0) ... lr(n - 1). */
    default double[] values(int n) {
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = lr(k);
        }
        return out;
    }
}
