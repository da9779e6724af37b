package dev.jtrain.backend.cpu;

/**
 * Bias along dim 1 of [N, C, inner]: {@code y[n, c, :] += b[c]} and its gradient
 * {@code db[c] += sum over n and inner of dy[n, c, :]} (accumulated in double, then added to db once).
 * The sums run over n (and inner) in index order for every channel, whatever the thread count.
 */
final class CpuBias {
    private CpuBias() {
    }

    /** Columns per task of the parallel gradient over [N, C]. */
    private static final int COLS_PER_TASK = 256;

    static void addBias(float[] y, float[] b, int n, int c, int inner) {
        int total = n * c * inner;
        if (!CpuLoops.parallel(total)) {
            addBiasRows(y, b, c, inner, 0, n);
            return;
        }
        int rowLen = c * inner;
        int rowsPerTask = Math.max(1, CpuLoops.CHUNK / Math.max(1, rowLen));
        int tasks = (n + rowsPerTask - 1) / rowsPerTask;
        CpuThreads.parallelFor(tasks, t -> addBiasRows(y, b, c, inner, t * rowsPerTask, Math.min(n, (t + 1) * rowsPerTask)));
    }

    private static void addBiasRows(float[] y, float[] b, int c, int inner, int n0, int n1) {
        if (inner == 1) {
            for (int r = n0; r < n1; r++) {
                if (CpuSimd.VECTOR) {
                    CpuVector.addRow(y, r * c, b, c);
                } else {
                    addRowScalar(y, r * c, b, c);
                }
            }
            return;
        }
        for (int r = n0; r < n1; r++) {
            for (int j = 0; j < c; j++) {
                float bj = b[j];
                int base = (r * c + j) * inner;
                for (int i = 0; i < inner; i++) {
                    y[base + i] += bj;
                }
            }
        }
    }

    /** y[yOff + j] += b[j] (the scalar twin of {@link CpuVector#addRow}). */
    static void addRowScalar(float[] y, int yOff, float[] b, int n) {
        for (int j = 0; j < n; j++) {
            y[yOff + j] += b[j];
        }
    }

    /** acc[j] += dy[off + j] in double (the scalar twin of {@link CpuVector#accumulateRow}). */
    static void accumulateRowScalar(double[] acc, float[] dy, int off, int n) {
        for (int j = 0; j < n; j++) {
            acc[j] += dy[off + j];
        }
    }

    static void biasGrad(float[] dy, float[] db, int n, int c, int inner) {
        long total = (long) n * c * inner;
        if (inner == 1) {
            if (total < CpuLoops.PARALLEL_MIN || c <= COLS_PER_TASK || CpuThreads.threads() == 1) {
                columnSums(dy, db, n, c, 0, c);
            } else {
                int tasks = (c + COLS_PER_TASK - 1) / COLS_PER_TASK;
                CpuThreads.parallelFor(tasks, t -> columnSums(dy, db, n, c, t * COLS_PER_TASK,
                        Math.min(c, (t + 1) * COLS_PER_TASK)));
            }
            return;
        }
        CpuLoops.forTasks(c, total, j -> db[j] = (float) (db[j] + channelSum(dy, n, c, inner, j)));
    }

    /** db[j] += sum over rows of dy[r, j] for columns j in [c0, c1). */
    private static void columnSums(float[] dy, float[] db, int n, int c, int c0, int c1) {
        int w = c1 - c0;
        double[] acc = CpuWorkspace.doubles(CpuWorkspace.ACC, w);
        for (int j = 0; j < w; j++) {
            acc[j] = 0;
        }
        for (int r = 0; r < n; r++) {
            if (CpuSimd.VECTOR) {
                CpuVector.accumulateRow(acc, dy, r * c + c0, w);
            } else {
                accumulateRowScalar(acc, dy, r * c + c0, w);
            }
        }
        for (int j = 0; j < w; j++) {
            db[c0 + j] = (float) (db[c0 + j] + acc[j]);
        }
    }

    /** Sum over n and inner of dy[n, j, :] in double. */
    static double channelSum(float[] dy, int n, int c, int inner, int j) {
        double s = 0;
        for (int r = 0; r < n; r++) {
            s += CpuReductions.sumRange(dy, (r * c + j) * inner, (r * c + j + 1) * inner);
        }
        return s;
    }
}
