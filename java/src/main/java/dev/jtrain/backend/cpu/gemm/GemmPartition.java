package dev.jtrain.backend.cpu.gemm;

/**
 * Splits C into a grid of tm x tn rectangles, one task each, for the thread pool. Rectangle edges
 * fall on multiples of the micro-tile (mr rows, nr columns), so the split never changes which
 * tiles exist or how they round: the result bits are the same for every thread count. Each task
 * packs its own panels (no shared buffers, no barriers); the cost is that A is packed tn times
 * and B tm times in all, which the grid choice keeps small.
 */
final class GemmPartition {
    final int tm, tn;
    private final int m, n, mPanels, nPanels, mr, nr;

    private GemmPartition(int m, int n, int mr, int nr, int tm, int tn) {
        this.m = m;
        this.n = n;
        this.mr = mr;
        this.nr = nr;
        this.mPanels = (m + mr - 1) / mr;
        this.nPanels = (n + nr - 1) / nr;
        this.tm = tm;
        this.tn = tn;
    }

    /**
     * The grid for up to {@code threads} tasks: as many tasks as possible (at most one per thread),
     * then the least redundant packing (A is m*k floats packed tn times, B is k*n packed tm times,
     * weighted by what packing an element costs: a copy 2, a transpose of B 6, and 3 for the
     * depth-major copy of a transposed A, roughly as measured), then more column slabs.
     *
     * <p>Measured on 2 threads (Zen 5): for TN the row split (A packed once, B twice) beat the
     * column split by 15 % at n = 256 and 5 % at 1024, but lost 0-4 % at 2048, where every thread
     * then streams a full-width B block; so the transposed-A weight applies up to 2^30 fma's only.
     */
    static GemmPartition choose(int m, int n, int k, int mr, int nr, int threads, boolean transA,
                                boolean transB) {
        long wA = transA && (long) m * n * k <= (1L << 30) ? 3 : 2;
        long wB = transB ? 6 : 2;
        int mPanels = (m + mr - 1) / mr;
        int nPanels = (n + nr - 1) / nr;
        int bestTm = 1, bestTn = 1;
        long bestCost = Long.MAX_VALUE;
        int bestTasks = 1;
        for (int tm = 1; tm <= Math.min(threads, mPanels); tm++) {
            int tn = Math.min(threads / tm, nPanels);
            int tasks = tm * tn;
            long cost = wA * m * k * tn + wB * n * k * tm;
            if (tasks > bestTasks || (tasks == bestTasks && (cost < bestCost
                    || (cost == bestCost && tn > bestTn)))) {
                bestTasks = tasks;
                bestCost = cost;
                bestTm = tm;
                bestTn = tn;
            }
        }
        return new GemmPartition(m, n, mr, nr, bestTm, bestTn);
    }

    int tasks() {
        return tm * tn;
    }

    int rowStart(int task) {
        return split(task / tn, tm, mPanels) * mr;
    }

    int rowEnd(int task) {
        return Math.min(m, split(task / tn + 1, tm, mPanels) * mr);
    }

    int colStart(int task) {
        return split(task % tn, tn, nPanels) * nr;
    }

    int colEnd(int task) {
        return Math.min(n, split(task % tn + 1, tn, nPanels) * nr);
    }

    /** First panel of part i when {@code panels} panels are split into {@code parts} near-equal parts. */
    private static int split(int i, int parts, int panels) {
        return (int) ((long) panels * i / parts);
    }
}
