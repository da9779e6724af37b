package dev.jtrain.backend.cpu.gemm;

/**
 * The blocked GEMM loop nest for one rectangle of C (GotoBLAS/BLIS order):
 * <pre>
 * for jc over columns, step nc:              B block kc x nc packed once per (jc, pc)
 *   for pc over depth, step kc:
 *     pack op(B)[pc.., jc..]
 *     for ic over rows, step mc:              A block mc x kc packed once per (jc, pc, ic)
 *       pack op(A)[ic.., pc..]
 *       for jr over the block's nr-wide panels:   kc x nr micro-panel of B reused from L1/L2
 *         for ir over the block's mr-high panels: micro-kernel on an mr x nr tile of C
 * </pre>
 * The first kc block applies beta (or ignores C when beta == 0); later blocks add to C. Tiles are
 * aligned to multiples of mr and nr counted from the rectangle's corner, which callers place on
 * such multiples, so every element of C sees the same sequence of roundings whatever the
 * partition into rectangles.
 */
final class GemmDriver {
    private GemmDriver() {}

    static void run(GemmKernel kern, GemmProblem pr, int m0, int m1, int n0, int n1) {
        if (m0 >= m1 || n0 >= n1) {
            return;
        }
        final int mr = kern.mr();
        final int nr = kern.nr();
        final int k = pr.k;
        final int kcb = GemmBlocking.kcFor(k);
        final int mcMax = Math.max(mr, GemmBlocking.MC / mr * mr);
        final int ncMax = Math.max(nr, GemmBlocking.NC / nr * nr);
        final int mcNeed = Math.min(mcMax, roundUp(m1 - m0, mr));
        final int ncNeed = Math.min(ncMax, roundUp(n1 - n0, nr));
        GemmWorkspace ws = GemmWorkspace.get();
        ws.ensure(mcNeed * kcb, ncNeed * kcb, mr * nr);
        final float[] wa = ws.a;
        final float[] wb = ws.b;
        final float[] wt = ws.tile;
        final float alpha = pr.alpha;
        final float[] c = pr.c;
        final int ldc = pr.ldc;
        final boolean rowA = !pr.transA;

        for (int jc = n0; jc < n1; jc += ncMax) {
            final int nc = Math.min(ncMax, n1 - jc);
            for (int pc = 0; pc < k; pc += kcb) {
                final int kc = Math.min(kcb, k - pc);
                final float be = pc == 0 ? pr.beta : 1f;
                PackB.pack(pr.transB, pr.b, pr.bOff, pr.ldb, pc, kc, jc, nc, nr, wb);
                for (int ic = m0; ic < m1; ic += mcMax) {
                    final int mc = Math.min(mcMax, m1 - ic);
                    PackA.pack(pr.transA, pr.a, pr.aOff, pr.lda, ic, mc, pc, kc, mr, wa);
                    if (IR_OUTER) {
                        for (int ir = 0; ir < mc; ir += mr) {
                            final int rows = Math.min(mr, mc - ir);
                            final int ao = ir * kc;
                            for (int jr = 0; jr < nc; jr += nr) {
                                tileAt(kern, rowA, kc, wa, ao, wb, jr * kc, alpha, be, c,
                                        pr.cOff + (ic + ir) * ldc + jc + jr, ldc, rows, Math.min(nr, nc - jr), wt);
                            }
                        }
                    } else {
                        for (int jr = 0; jr < nc; jr += nr) {
                            final int cols = Math.min(nr, nc - jr);
                            for (int ir = 0; ir < mc; ir += mr) {
                                tileAt(kern, rowA, kc, wa, ir * kc, wb, jr * kc, alpha, be, c,
                                        pr.cOff + (ic + ir) * ldc + jc + jr, ldc, Math.min(mr, mc - ir), cols, wt);
                            }
                        }
                    }
                }
            }
        }
    }

    static final boolean IR_OUTER = Boolean.getBoolean("jtrain.gemm.irOuter");

    private static void tileAt(GemmKernel kern, boolean rowA, int kc, float[] wa, int ao, float[] wb, int bo,
                               float alpha, float be, float[] c, int co, int ldc, int rows, int cols, float[] wt) {
        if (rows == kern.mr() && cols == kern.nr()) {
            if (be == 0f) {
                if (rowA) {
                    kern.setRowA(kc, wa, ao, wb, bo, alpha, c, co, ldc);
                } else {
                    kern.setDepthA(kc, wa, ao, wb, bo, alpha, c, co, ldc);
                }
            } else {
                if (rowA) {
                    kern.addRowA(kc, wa, ao, wb, bo, alpha, be, c, co, ldc);
                } else {
                    kern.addDepthA(kc, wa, ao, wb, bo, alpha, be, c, co, ldc);
                }
            }
        } else {
            if (rowA) {
                kern.setRowA(kc, wa, ao, wb, bo, 1f, wt, 0, kern.nr());
            } else {
                kern.setDepthA(kc, wa, ao, wb, bo, 1f, wt, 0, kern.nr());
            }
            kern.storeEdge(wt, rows, cols, alpha, be, c, co, ldc);
        }
    }

    static int roundUp(int x, int q) {
        return (x + q - 1) / q * q;
    }
}
