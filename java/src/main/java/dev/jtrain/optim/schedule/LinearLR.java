package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/**
 * {@code torch.optim.lr_scheduler.LinearLR}: the factor goes linearly from {@code startFactor} to
 * {@code endFactor} over {@code totalIters} steps and stays there:
 * {@code lr0 (start + (end - start) min(k, total) / total)}. Warm-up: (0.1, 1.0, 5) gives 0.01, 0.028, ...,
 * 0.1 from k = 5 (lr0 = 0.1); linear decay to zero: (1.0, 0.0, 40) gives {@code lr0 (1 - k / 40)}.
 */
public final class LinearLR extends AbstractLrSchedule {
    private final double startFactor;
    private final double endFactor;
    private final int totalIters;

    public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = check(startFactor, endFactor, totalIters);
        start();
    }

    public LinearLR(double baseLr, double startFactor, double endFactor, int totalIters) {
        super(baseLr);
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = check(startFactor, endFactor, totalIters);
        start();
    }

    /** A linear warm-up from {@code startFactor lr0} to lr0 over {@code totalIters} steps. */
    public static LinearLR warmup(Optimizer optimizer, double startFactor, int totalIters) {
        return new LinearLR(optimizer, startFactor, 1.0, totalIters);
    }

    /** A linear decay from lr0 to 0 over {@code totalIters} steps. */
    public static LinearLR decayToZero(Optimizer optimizer, int totalIters) {
        return new LinearLR(optimizer, 1.0, 0.0, totalIters);
    }

    private static int check(double start, double end, int total) {
        if (!(start > 0 && start <= 1)) {
            throw new IllegalArgumentException("start_factor must be in (0, 1], got " + start);
        }
        if (!(end >= 0 && end <= 1)) {
            throw new IllegalArgumentException("end_factor must be in [0, 1], got " + end);
        }
        if (total < 1) {
            throw new IllegalArgumentException("total_iters must be >= 1, got " + total);
        }
        return total;
    }

    @Override
    public double lr(int k) {
        checkK(k);
        return baseLr() * (startFactor + (endFactor - startFactor) * Math.min(k, totalIters) / totalIters);
    }
}
