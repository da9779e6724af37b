package dev.jtrain.backend.cpu;

/**
 * Reductions accumulated in double: sum, sum of squares, sum of absolute values (fixed chunking from
 * {@link CpuLoops#sum}, so the bits do not depend on the thread count), row argmax and equality counts.
 */
final class CpuReductions {
    private CpuReductions() {
    }

    /**
     * Sum of x[from..to) in double, with four interleaved accumulators combined in a fixed order. (A Vector API
     * version, one float vector widened to two double accumulators, ran the conv bias gradient 3x faster but in
     * some fresh JVMs its widening was not intrinsified and every vector was boxed: 74-121 MB allocated per cnn step
     * on two threads. Sixteen scalar accumulators measured no faster than four. Kept scalar.)
     */
    static double sumRange(float[] x, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < to; i++) {
            s0 += x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double sumSquaresRange(float[] x, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            double a = x[i], b = x[i + 1], c = x[i + 2], d = x[i + 3];
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += d * d;
        }
        for (; i < to; i++) {
            double a = x[i];
            s0 += a * a;
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double sumAbsRange(float[] x, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 3 < to; i += 4) {
            s0 += Math.abs(x[i]);
            s1 += Math.abs(x[i + 1]);
            s2 += Math.abs(x[i + 2]);
            s3 += Math.abs(x[i + 3]);
        }
        for (; i < to; i++) {
            s0 += Math.abs(x[i]);
        }
        return (s0 + s1) + (s2 + s3);
    }

    static double sum(float[] x, int n) {
        return n <= CpuLoops.REDUCE_CHUNK ? sumRange(x, 0, n) : CpuLoops.sum(n, (from, to) -> sumRange(x, from, to));
    }

    static double sumSquares(float[] x, int n) {
        return n <= CpuLoops.REDUCE_CHUNK ? sumSquaresRange(x, 0, n)
                : CpuLoops.sum(n, (from, to) -> sumSquaresRange(x, from, to));
    }

    static double sumAbs(float[] x, int n) {
        return n <= CpuLoops.REDUCE_CHUNK ? sumAbsRange(x, 0, n) : CpuLoops.sum(n, (from, to) -> sumAbsRange(x, from, to));
    }

    /** out[r] = index of the first maximum of row r of x [rows, cols]; a NaN counts as the maximum (like torch.argmax). */
    static void argmaxRows(float[] x, long[] out, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            int best = 0;
            float bv = x[base];
            if (!Float.isNaN(bv)) {
                for (int j = 1; j < cols; j++) {
                    float v = x[base + j];
                    if (v > bv) {
                        bv = v;
                        best = j;
                    } else if (Float.isNaN(v)) {
                        best = j;
                        break;
                    }
                }
            }
            out[r] = best;
        }
    }

    static long countEqual(long[] a, long[] b, int n) {
        long count = 0;
        for (int i = 0; i < n; i++) {
            if (a[i] == b[i]) {
                count++;
            }
        }
        return count;
    }
}
