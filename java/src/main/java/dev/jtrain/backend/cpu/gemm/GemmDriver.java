package dev.jtrain.backend.cpu.gemm;

/**
 * The blocked GEMM loop nest for one rectangle of C (GotoBLAS/BLIS order):
 * <pre>
 * for jc over columns, step nc:
 *   for pc over depth, step kc:                 B block kc x nc packed once per (jc, pc)
 *     pack op(B)[pc.., jc..]
 *     for ic over rows, step mc:                A block mc x kc packed once per (jc, pc, ic)
 *       pack op(A)[ic.., pc..]
 *       for jr over the block's nr-wide panels:     one kc x nr micro-panel of B ...
 *         for ir over the block's mr-high panels:   ... meets every A micro-panel (from L2)
 *           micro-kernel on the mr x nr tile of C
 * </pre>
 * The first kc block applies beta (or ignores C when beta == 0); later blocks add to C. Tiles are
 * aligned to multiples of mr and nr counted from the rectangle's corner, which callers place on
 * such multiples, so every element of C sees the same sequence of roundings whatever the
 * partition into rectangles.
 *
 * <p>(The other inner order, ir outside jr, keeps the A micro-panel in L1 and walks C rows
 * sequentially, but needs a small nc to keep B in L2; it measured 2-8 % slower here.)
 */
final class GemmDriver {
    private GemmDriver() {}

    /**
     * Whether a plain A of more than one mc block of rows is packed depth-major (transposed while packing, 16 x 16
     * vector transposes) instead of as row panels. The kernel's broadcasts then read one contiguous stream instead
     * of mr rows kc floats apart: 2048^3 NN/NT on one thread +4-6 % and +5-11 % (four interleaved pairs), on two
     * threads +3-4 %; 512^3 and 1024^3 within noise; a plain A of one mc block (every product of a training step
     * with m = batch) keeps the plain copy. Same bits either way (each element is the same fma chain). Property
     * {@code jtrain.gemm.depthPlainA=false} turns it off.
     */
    static final boolean DEPTH_PLAIN_A = Boolean.parseBoolean(System.getProperty("jtrain.gemm.depthPlainA", "true"));

    static void run(GemmKernel kern, GemmProblem pr, int m0, int m1, int n0, int n1) {
        if (m0 >= m1 || n0 >= n1) {
            return;
        }
        final int mr = kern.mr();
        final int nr = kern.nr();
        final int k = pr.k;
        final int kcb = GemmBlocking.kcFor(k);
        final int mcMax = Math.max(mr, GemmBlocking.MC / PackA.GROUP * PackA.GROUP);
        final int ncMax = Math.max(nr, GemmBlocking.ncFor(pr.transB, m1 - m0, mcMax, kcb) / nr * nr);
        final int mcNeed = Math.min(mcMax, m1 - m0);
        final int ncNeed = Math.min(ncMax, roundUp(n1 - n0, nr));
        // a plain A packed depth-major (transposed while packing) where it spans several mc blocks (DEPTH_PLAIN_A)
        final boolean rowA = !pr.transA && !(DEPTH_PLAIN_A && m1 - m0 > mcMax);
        GemmWorkspace ws = GemmWorkspace.get();
        ws.ensure(PackA.packedSize(!rowA, mcNeed, kcb, mr), kern.packedBFloats(kcb, ncNeed), mr * nr);
        final float[] wa = ws.a;
        final float[] wb = ws.b;
        final float[] wt = ws.tile;
        final float alpha = pr.alpha;
        final float[] c = pr.c;
        final int ldc = pr.ldc;

        for (int jc = n0; jc < n1; jc += ncMax) {
            final int nc = Math.min(ncMax, n1 - jc);
            for (int pc = 0; pc < k; pc += kcb) {
                final int kc = Math.min(kcb, k - pc);
                final float be = pc == 0 ? pr.beta : 1f;
                kern.packB(pr.transB, pr.b, pr.bOff, pr.ldb, pc, kc, jc, nc, wb);
                for (int ic = m0; ic < m1; ic += mcMax) {
                    final int mc = Math.min(mcMax, m1 - ic);
                    if (rowA || pr.transA) {
                        kern.packA(pr.transA, pr.a, pr.aOff, pr.lda, ic, mc, pc, kc, wa);
                    } else {
                        kern.packPlainADepthMajor(pr.a, pr.aOff, pr.lda, ic, mc, pc, kc, wa);
                    }
                    for (int jr = 0; jr < nc; jr += nr) {
                        final int cols = Math.min(nr, nc - jr);
                        final int bo = jr * kc;
                        for (int ir = 0; ir < mc; ir += mr) {
                            final int ao = rowA ? ir * kc : PackA.depthMajorOffset(ir, kc);
                            final int co = pr.cOff + (ic + ir) * ldc + jc + jr;
                            tile(kern, rowA, kc, wa, ao, wb, bo, alpha, be, c, co, ldc,
                                    Math.min(mr, mc - ir), cols, wt);
                        }
                    }
                }
            }
        }
    }

    /**
     * One tile; the kernel method is chosen here so that each kernel method is branch-free. A tile with alpha = 1
     * and beta = 0 is stored straight into C; any other is computed into {@code wt} and merged by
     * {@link GemmKernel#storeTile} (whole) or {@link GemmKernel#storeEdge} (partial); a partial tile of at most
     * {@link GemmKernel#narrowCols} columns is computed narrow.
     */
    private static void tile(GemmKernel kern, boolean rowA, int kc, float[] wa, int ao, float[] wb,
                             int bo, float alpha, float be, float[] c, int co, int ldc, int rows,
                             int cols, float[] wt) {
        boolean whole = rows == kern.mr() && cols == kern.nr();
        if (whole && be == 0f && alpha == 1f) {
            if (rowA) {
                kern.setRowA(kc, wa, ao, wb, bo, c, co, ldc);
            } else {
                kern.setDepthA(kc, wa, ao, wb, bo, c, co, ldc);
            }
            return;
        }
        if (!whole && cols <= kern.narrowCols()) {
            // an edge of at most one vector of columns: compute only that vector (same bits per column)
            if (rowA) {
                kern.setRowANarrow(kc, wa, ao, wb, bo, wt, 0, kern.nr());
            } else {
                kern.setDepthANarrow(kc, wa, ao, wb, bo, wt, 0, kern.nr());
            }
        } else if (rowA) {
            kern.setRowA(kc, wa, ao, wb, bo, wt, 0, kern.nr());
        } else {
            kern.setDepthA(kc, wa, ao, wb, bo, wt, 0, kern.nr());
        }
        if (whole) {
            kern.storeTile(wt, alpha, be, c, co, ldc);
        } else {
            kern.storeEdge(wt, rows, cols, alpha, be, c, co, ldc);
        }
    }

    static int roundUp(int x, int q) {
        return (x + q - 1) / q * q;
    }
}
