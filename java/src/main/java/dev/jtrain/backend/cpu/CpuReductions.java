package dev.jtrain.backend.cpu;

/**
 * Reductions accumulated in double: sum, sum of squares, sum of absolute values (fixed chunking from
 * {@link CpuLoops#sum}, so the bits do not depend on the thread count), row argmax and equality counts.
 */
final class CpuReductions {
    private CpuReductions() {
    }

    /**
     * Sum of x[from..to) in double. The order, the same on every path: element {@code from + 16 t + i} of the whole
     * blocks of 16 goes to accumulator i (i = 0..15); accumulators i and i + 8 are added, the eight results summed as
     * a balanced tree; the last (to - from) % 16 elements are summed in order and added last. Sixteen accumulators are
     * two AVX-512 double vectors, so the vector path ({@link CpuVector#sumRange}) gives these bits at about 4x the
     * speed of the four scalar chains it replaced (the conv bias gradient was 6 % of a cnn step).
     */
    static double sumRange(float[] x, int from, int to) {
        return CpuSimd.VECTOR && CpuVector.SUM_RANGE ? CpuVector.sumRange(x, from, to) : sumRangeScalar(x, from, to);
    }

    /** {@link #sumRange} in plain Java (the twin the vector path is tested against). */
    static double sumRangeScalar(float[] x, int from, int to) {
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        double a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0, a14 = 0, a15 = 0;
        int i = from;
        for (; i + 16 <= to; i += 16) {
            a0 += x[i];
            a1 += x[i + 1];
            a2 += x[i + 2];
            a3 += x[i + 3];
            a4 += x[i + 4];
            a5 += x[i + 5];
            a6 += x[i + 6];
            a7 += x[i + 7];
            a8 += x[i + 8];
            a9 += x[i + 9];
            a10 += x[i + 10];
            a11 += x[i + 11];
            a12 += x[i + 12];
            a13 += x[i + 13];
            a14 += x[i + 14];
            a15 += x[i + 15];
        }
        double blocks = sumTree8(a0 + a8, a1 + a9, a2 + a10, a3 + a11, a4 + a12, a5 + a13, a6 + a14, a7 + a15);
        double tail = 0;
        for (; i < to; i++) {
            tail += x[i];
        }
        return blocks + tail;
    }

    /** ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)): the fixed combining order of {@link #sumRange}. */
    static double sumTree8(double v0, double v1, double v2, double v3, double v4, double v5, double v6, double v7) {
        return ((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7));
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
