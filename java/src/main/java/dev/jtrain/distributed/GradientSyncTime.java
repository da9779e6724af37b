package dev.jtrain.distributed;

/**
 * Time the training thread spent in {@link DataParallel#averageGradients}: with overlap, the wait for the buckets
 * still running when the backward ended (plus copying back); without, the whole all-reduce.
 *
 * @param seconds total over {@code steps}
 * @param steps   the steps measured
 */
public record GradientSyncTime(double seconds, long steps) {
    /** Mean milliseconds per step (0 before the first). */
    public double millisPerStep() {
        return steps == 0 ? 0 : 1e3 * seconds / steps;
    }
}
