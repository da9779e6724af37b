package dev.jtrain.backend.cpu.gemm;

import java.util.Arrays;

/**
 * Packs a block of op(A) (rows [i0, i0+mc), depth [p0, p0+kc)) into ceil(mc/mr) micro-panels of
 * mr x kc floats each, one after the other, in whichever layout is a plain copy of the source, so
 * packing never transposes (the micro-kernel reads A with scalar broadcasts, which cost the same
 * from either layout):
 * <ul>
 *   <li>{@code transA == false} (A stored m x k): <em>row-major</em> panels, element (r, p) of a
 *       panel at {@code r*kc + p}; each row is one contiguous copy of kc floats.</li>
 *   <li>{@code transA == true} (A stored k x m): <em>depth-major</em> panels, element (r, p) at
 *       {@code p*mr + r}; each depth step copies mr contiguous floats. The source is walked row by
 *       row (one row of the stored k x m matrix feeds every panel) so reads stay sequential.</li>
 * </ul>
 * Rows past mc are zero, so an edge panel can be fed to the full-size kernel.
 */
final class PackA {
    private PackA() {}

    static void pack(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                     int mr, float[] dst) {
        int panels = (mc + mr - 1) / mr;
        if (!transA) {
            for (int i = 0; i < mc; i++) {
                System.arraycopy(a, aOff + (i0 + i) * lda + p0, dst, (i / mr) * kc * mr + (i % mr) * kc, kc);
            }
            int padFrom = (mc / mr) * kc * mr + (mc % mr) * kc;
            if (mc % mr != 0) {
                Arrays.fill(dst, padFrom, panels * kc * mr, 0f);
            }
            return;
        }
        int full = mc / mr;
        int rest = mc - full * mr;
        int panelSize = kc * mr;
        for (int p = 0; p < kc; p++) {
            int src = aOff + (p0 + p) * lda + i0;
            int d = p * mr;
            if (mr == 8) {
                for (int q = 0; q < full; q++, src += 8, d += panelSize) {
                    dst[d] = a[src];
                    dst[d + 1] = a[src + 1];
                    dst[d + 2] = a[src + 2];
                    dst[d + 3] = a[src + 3];
                    dst[d + 4] = a[src + 4];
                    dst[d + 5] = a[src + 5];
                    dst[d + 6] = a[src + 6];
                    dst[d + 7] = a[src + 7];
                }
            } else {
                for (int q = 0; q < full; q++, src += mr, d += panelSize) {
                    for (int r = 0; r < mr; r++) {
                        dst[d + r] = a[src + r];
                    }
                }
            }
            if (rest != 0) {
                for (int r = 0; r < rest; r++) {
                    dst[d + r] = a[src + r];
                }
                for (int r = rest; r < mr; r++) {
                    dst[d + r] = 0f;
                }
            }
        }
    }
}
