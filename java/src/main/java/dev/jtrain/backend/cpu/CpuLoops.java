package dev.jtrain.backend.cpu;

/**
 * Deterministic parallel loops for the cpu kernels, on top of {@link CpuThreads#parallelFor}.
 *
 * <p>Work is split into chunks whose size is a constant (never a function of the thread count), so
 * elementwise results are trivially independent of the thread count, and reductions are summed per
 * fixed chunk (in double) and the chunk sums combined in chunk order: the result bits are the same
 * for 1 or 64 threads. Loops below {@link #PARALLEL_MIN} elements run on the calling thread without
 * touching the pool or allocating.
 */
final class CpuLoops {
    private CpuLoops() {
    }

    /** Elementwise loops shorter than this run on the calling thread (a hand-off costs a few microseconds). */
    static final int PARALLEL_MIN = Integer.getInteger("jtrain.cpu.parallelMin", 1 << 16);

    /** Elements per task of a parallel elementwise loop. */
    static final int CHUNK = 1 << 14;

    /** Elements per partial sum of a reduction (fixed, so results do not depend on the thread count). */
    static final int REDUCE_CHUNK = 1 << 13;

    /** A loop body over the half-open index range [from, to). */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /** A reduction body: the double sum over [from, to). */
    @FunctionalInterface
    interface RangeSum {
        double sum(int from, int to);
    }

    /** Runs body over [0, n): inline when n is small, else in chunks of {@link #CHUNK} on the pool. */
    static void forRange(int n, Range body) {
        if (n < PARALLEL_MIN || CpuThreads.threads() == 1) {
            body.run(0, n);
            return;
        }
        int tasks = (n + CHUNK - 1) / CHUNK;
        CpuThreads.parallelFor(tasks, t -> body.run(t * CHUNK, Math.min(n, (t + 1) * CHUNK)));
    }

    /** Whether a loop of n elements would go to the pool (callers use it to skip lambda creation). */
    static boolean parallel(int n) {
        return n >= PARALLEL_MIN && CpuThreads.threads() > 1;
    }

    /**
     * Whether a loop of n elements costing about {@code cost} simple operations each (e.g. 10 for an
     * exp) would go to the pool.
     */
    static boolean parallel(int n, int cost) {
        return (long) n * cost >= PARALLEL_MIN && CpuThreads.threads() > 1;
    }

    /** Like {@link #forRange(int, Range)} for costly elements: smaller chunks, parallel from fewer elements. */
    static void forRange(int n, int cost, Range body) {
        if (!parallel(n, cost)) {
            body.run(0, n);
            return;
        }
        int chunk = Math.max(1024, CHUNK / Math.max(1, cost));
        int tasks = (n + chunk - 1) / chunk;
        CpuThreads.parallelFor(tasks, t -> body.run(t * chunk, Math.min(n, (t + 1) * chunk)));
    }

    /**
     * Runs {@code tasks} independent tasks (e.g. one per (n, c) plane or per channel), in the pool when
     * {@code work} (a rough element count) is large enough to pay for the hand-off.
     */
    static void forTasks(int tasks, long work, java.util.function.IntConsumer body) {
        if (tasks <= 1 || work < PARALLEL_MIN || CpuThreads.threads() == 1) {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
            return;
        }
        CpuThreads.parallelFor(tasks, body);
    }

    /**
     * The sum over [0, n) of {@code body}, computed as fixed chunks of {@link #REDUCE_CHUNK} elements
     * (each a double sum) added in chunk order. The grouping depends on n only.
     */
    static double sum(int n, RangeSum body) {
        if (n <= REDUCE_CHUNK) {
            return body.sum(0, n);
        }
        int chunks = (n + REDUCE_CHUNK - 1) / REDUCE_CHUNK;
        double[] partial = new double[chunks];
        if (n < PARALLEL_MIN || CpuThreads.threads() == 1) {
            for (int c = 0; c < chunks; c++) {
                partial[c] = body.sum(c * REDUCE_CHUNK, Math.min(n, (c + 1) * REDUCE_CHUNK));
            }
        } else {
            int perTask = Math.max(1, CHUNK / REDUCE_CHUNK);
            int tasks = (chunks + perTask - 1) / perTask;
            CpuThreads.parallelFor(tasks, t -> {
                int end = Math.min(chunks, (t + 1) * perTask);
                for (int c = t * perTask; c < end; c++) {
                    partial[c] = body.sum(c * REDUCE_CHUNK, Math.min(n, (c + 1) * REDUCE_CHUNK));
                }
            });
        }
        double s = 0;
        for (double p : partial) {
            s += p;
        }
        return s;
    }
}
