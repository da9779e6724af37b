package dev.jtrain.backend.cpu.gemm;

/**
 * Packs a block of op(B) (depth [p0, p0+kc), columns [j0, j0+nc)) into ceil(nc/nr) micro-panels
 * of kc x nr floats each, one after the other: within a panel, the nr values of one depth step are
 * contiguous (element (p, q) at {@code p*nr + q}), which is what the micro-kernel's vector loads
 * need. Columns past nc are zero.
 * <ul>
 *   <li>{@code transB == false} (B stored k x n): a copy; the source is walked row by row (each
 *       stored row feeds every panel) so reads stay sequential.</li>
 *   <li>{@code transB == true} (B stored n x k): a transpose, done in 16-deep strips so that the
 *       strip being written stays in L1 while nr source rows are read along k.</li>
 * </ul>
 */
final class PackB {
    private PackB() {}

    /** Depth of the strips of the transposing pack. */
    private static final int STRIP = 16;

    static void pack(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                     int nr, float[] dst) {
        int full = nc / nr;
        int rest = nc - full * nr;
        int panelSize = kc * nr;
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                int src = bOff + (p0 + p) * ldb + j0;
                int d = p * nr;
                for (int q = 0; q < full; q++, src += nr, d += panelSize) {
                    for (int j = 0; j < nr; j++) {
                        dst[d + j] = b[src + j];
                    }
                }
                if (rest != 0) {
                    for (int j = 0; j < rest; j++) {
                        dst[d + j] = b[src + j];
                    }
                    for (int j = rest; j < nr; j++) {
                        dst[d + j] = 0f;
                    }
                }
            }
            return;
        }
        for (int q = 0; q * nr < nc; q++) {
            int cols = Math.min(nr, nc - q * nr);
            int d0 = q * panelSize;
            int rowBase = bOff + (j0 + q * nr) * ldb + p0;
            for (int ps = 0; ps < kc; ps += STRIP) {
                int depth = Math.min(STRIP, kc - ps);
                for (int j = 0; j < cols; j++) {
                    int src = rowBase + j * ldb + ps;
                    int w = d0 + ps * nr + j;
                    for (int p = 0; p < depth; p++, w += nr) {
                        dst[w] = b[src + p];
                    }
                }
                for (int j = cols; j < nr; j++) {
                    int w = d0 + ps * nr + j;
                    for (int p = 0; p < depth; p++, w += nr) {
                        dst[w] = 0f;
                    }
                }
            }
        }
    }
}
