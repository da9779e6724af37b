package dev.jtrain.backend.cpu.gemm;

import java.util.Arrays;

/**
 * The fallback micro-kernel in plain Java, used when the JVM runs without
 * {@code --add-modules jdk.incubator.vector} (or with {@code -Djtrain.gemm.scalar=true}).
 *
 * <p>It leans on C2's auto-vectoriser, which (in JDK 17) only vectorises loops whose array
 * indexes are the bare loop variable: {@code acc[j] += a * b[bo + j]} stays scalar,
 * {@code acc[j] += a * b[j]} becomes SIMD. So this kernel keeps B as one array per depth step
 * (packed by {@link #packB} into per-thread row arrays instead of the shared panel buffer) and
 * its accumulators as 4 rows indexed by the same column j; a tile is 4 rows x 128 columns, the
 * inner loop runs over the columns with the bare index. B micro-panel "bo = jr * kc" from the
 * driver is read as the column jr. Multiply-then-add (no fma), so its bits differ slightly from
 * the vector kernels'; the same blocking and partition keep them independent of the thread count.
 */
final class ScalarMicroKernel implements GemmKernel {
    static final int MR = 4;
    static final int NR = 128;

    /** Per-thread packed B rows and accumulator rows. */
    private static final class Work {
        float[][] rows = new float[0][];
        float[] acc0 = new float[0], acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int kc;
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public String describe() {
        return "scalar (jdk.incubator.vector not enabled), tile " + MR + "x" + NR;
    }

    @Override
    public int packedBFloats(int kc, int nc) {
        return 0;
    }

    @Override
    public void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        PackA.pack(transA, a, aOff, lda, i0, mc, p0, kc, MR, dst);
    }

    /** op(B)[p0 + p][j0 + j] into row p, column j of this thread's row arrays; zero past nc. */
    @Override
    public void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        Work w = WORK.get();
        int len = GemmDriver.roundUp(nc, NR);
        if (w.rows.length < kc || w.rows[0].length < len) {
            int rows = Math.max(kc, w.rows.length);
            int cols = Math.max(len, w.rows.length == 0 ? 0 : w.rows[0].length);
            w.rows = new float[rows][cols];
            w.acc0 = new float[cols];
            w.acc1 = new float[cols];
            w.acc2 = new float[cols];
            w.acc3 = new float[cols];
        }
        w.kc = kc;
        for (int p = 0; p < kc; p++) {
            float[] row = w.rows[p];
            if (!transB) {
                System.arraycopy(b, bOff + (p0 + p) * ldb + j0, row, 0, nc);
            } else {
                int src = bOff + j0 * ldb + p0 + p;
                for (int j = 0; j < nc; j++, src += ldb) {
                    row[j] = b[src];
                }
            }
            Arrays.fill(row, nc, len, 0f);
        }
    }

    @Override
    public void setDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
        compute(kc, ap, ao, PackA.GROUP, 1, bo / kc, c, co, ldc);
    }

    @Override
    public void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
        compute(kc, ap, ao, 1, kc, bo / kc, c, co, ldc);
    }

    /** A element (r, p) at ap[ao + p*depthStride + r*rowStride]; stores the raw sums (C is not read). */
    private static void compute(int kc, float[] ap, int ao, int depthStride, int rowStride, int j0,
                                float[] c, int co, int ldc) {
        Work w = WORK.get();
        float[][] rows = w.rows;
        float[] acc0 = w.acc0, acc1 = w.acc1, acc2 = w.acc2, acc3 = w.acc3;
        int j1 = j0 + NR;
        Arrays.fill(acc0, j0, j1, 0f);
        Arrays.fill(acc1, j0, j1, 0f);
        Arrays.fill(acc2, j0, j1, 0f);
        Arrays.fill(acc3, j0, j1, 0f);
        int p = 0;
        for (; p + 1 < kc; p += 2) {
            // two depth steps per pass halve the accumulator traffic; the roundings stay those of
            // adding one product at a time, in depth order
            int ai = ao + p * depthStride;
            int aj = ai + depthStride;
            float a0 = ap[ai], a1 = ap[ai + rowStride], a2 = ap[ai + 2 * rowStride], a3 = ap[ai + 3 * rowStride];
            float e0 = ap[aj], e1 = ap[aj + rowStride], e2 = ap[aj + 2 * rowStride], e3 = ap[aj + 3 * rowStride];
            float[] brow = rows[p];
            float[] erow = rows[p + 1];
            for (int j = j0; j < j1; j++) {
                float bv = brow[j];
                float ev = erow[j];
                acc0[j] = (acc0[j] + a0 * bv) + e0 * ev;
                acc1[j] = (acc1[j] + a1 * bv) + e1 * ev;
                acc2[j] = (acc2[j] + a2 * bv) + e2 * ev;
                acc3[j] = (acc3[j] + a3 * bv) + e3 * ev;
            }
        }
        if (p < kc) {
            int ai = ao + p * depthStride;
            float a0 = ap[ai], a1 = ap[ai + rowStride], a2 = ap[ai + 2 * rowStride], a3 = ap[ai + 3 * rowStride];
            float[] brow = rows[p];
            for (int j = j0; j < j1; j++) {
                float bv = brow[j];
                acc0[j] += a0 * bv;
                acc1[j] += a1 * bv;
                acc2[j] += a2 * bv;
                acc3[j] += a3 * bv;
            }
        }
        System.arraycopy(acc0, j0, c, co, NR);
        System.arraycopy(acc1, j0, c, co + ldc, NR);
        System.arraycopy(acc2, j0, c, co + 2 * ldc, NR);
        System.arraycopy(acc3, j0, c, co + 3 * ldc, NR);
    }

    @Override
    public void storeEdge(float[] t, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        for (int r = 0; r < rows; r++) {
            int ti = r * NR;
            int ci = co + r * ldc;
            if (beta == 0f) {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = alpha * t[ti + j];
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = alpha * t[ti + j] + beta * c[ci + j];
                }
            }
        }
    }
}
