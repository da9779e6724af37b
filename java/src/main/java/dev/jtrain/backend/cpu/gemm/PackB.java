package dev.jtrain.backend.cpu.gemm;

/**
 * Packs a block of op(B) (depth [p0, p0+kc), columns [j0, j0+nc)) into ceil(nc/nr) micro-panels
 * of kc x nr floats each, one after the other: within a panel, the nr values of one depth step are
 * contiguous (element (p, q) of the panel starting at column j is at {@code j*kc + p*nr + q}),
 * which is what the micro-kernel's vector loads need. Columns past nc are zero.
 * <ul>
 *   <li>{@code transB == false} (B stored k x n): a copy; the source is walked row by row (each
 *       stored row feeds every panel) so reads stay sequential.</li>
 *   <li>{@code transB == true} (B stored n x k): a transpose, done in short strips of depth so the
 *       strip being written stays in L1 while the nr source rows are read along k.</li>
 * </ul>
 * This class is the plain-Java packer (used by {@link ScalarMicroKernel}, and by
 * {@link VectorPack} for edges).
 */
final class PackB {
    private PackB() {}

    /** Depth of the strips of the transposing pack. */
    private static final int STRIP = 16;

    static void pack(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                     int nr, float[] dst) {
        if (!transB) {
            packCopy(b, bOff, ldb, p0, kc, j0, nc, nr, 0, dst);
        } else {
            packTranspose(b, bOff, ldb, p0, kc, j0, nc, nr, 0, nc, 0, kc, dst);
        }
    }

    /** Copying pack of the panels from column {@code fromCol} (a multiple of nr) on. */
    static void packCopy(float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, int nr,
                         int fromCol, float[] dst) {
        for (int j = fromCol; j < nc; j += nr) {
            int cols = Math.min(nr, nc - j);
            int src = bOff + p0 * ldb + j0 + j;
            int d = j * kc;
            for (int p = 0; p < kc; p++, src += ldb, d += nr) {
                for (int q = 0; q < cols; q++) {
                    dst[d + q] = b[src + q];
                }
                for (int q = cols; q < nr; q++) {
                    dst[d + q] = 0f;
                }
            }
        }
    }

    /** Transposing pack of the panels at columns [colFrom, colTo) (multiples of nr, or nc), depths [pFrom, pTo). */
    static void packTranspose(float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, int nr,
                              int colFrom, int colTo, int pFrom, int pTo, float[] dst) {
        for (int j = colFrom; j < colTo; j += nr) {
            int cols = Math.min(nr, nc - j);
            int d0 = j * kc;
            int rowBase = bOff + (j0 + j) * ldb + p0;
            for (int ps = pFrom; ps < pTo; ps += STRIP) {
                int depth = Math.min(STRIP, pTo - ps);
                for (int q = 0; q < cols; q++) {
                    int src = rowBase + q * ldb + ps;
                    int w = d0 + ps * nr + q;
                    for (int p = 0; p < depth; p++, w += nr) {
                        dst[w] = b[src + p];
                    }
                }
                for (int q = cols; q < nr; q++) {
                    int w = d0 + ps * nr + q;
                    for (int p = 0; p < depth; p++, w += nr) {
                        dst[w] = 0f;
                    }
                }
            }
        }
    }
}
