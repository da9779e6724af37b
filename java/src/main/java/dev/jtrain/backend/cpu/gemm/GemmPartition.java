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
     * then the least redundant packing (A is m*k floats packed tn times, B is k*n packed tm times),
     * then more column slabs.
     */
    static GemmPartition choose(int m, int n, int k, int mr, int nr, int threads) {
        int mPanels = (m + mr - 1) / mr;
        int nPanels = (n + nr - 1) / nr;
        int bestTm = 1, bestTn = 1;
        long bestCost = Long.MAX_VALUE;
        int bestTasks = 1;
        for (int tm = 1; tm <= Math.min(threads, mPanels); tm++) {
            int tn = Math.min(threads / tm, nPanels);
            int tasks = tm * tn;
            long cost = (long) m * k * tn + (long) n * k * tm;
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
