package dev.jtrain.backend.cpu.gemm;

import java.util.Arrays;

/**
 * Packs a block of op(A) (rows [i0, i0+mc), depth [p0, p0+kc)) for the micro-kernel, usually in whichever
 * layout is a plain copy of the source (the micro-kernel reads A with scalar broadcasts; but a plain A of
 * several mc blocks is transposed into the depth-major layout, {@link GemmKernel#packPlainADepthMajor}, whose
 * one contiguous stream measured faster at 2048^3):
 * <ul>
 *   <li>{@code transA == false} (A stored m x k): <em>row-major</em> micro-panels of mr rows,
 *       one after the other; element (r, p) of the panel starting at row i is at
 *       {@code i*kc + r*kc + p}: each row is one contiguous copy of kc floats.</li>
 *   <li>{@code transA == true} (A stored k x m): <em>depth-major</em> groups of {@link #GROUP}
 *       rows; element (i, p) of the block is at {@code (i/GROUP)*GROUP*kc + p*GROUP + i%GROUP}, so
 *       each depth step of a group copies GROUP contiguous floats (one 512-bit vector). A
 *       micro-panel of mr rows (mr divides GROUP) starting at row i then begins at
 *       {@link #depthMajorOffset} and has depth stride GROUP.</li>
 * </ul>
 * Rows past mc (up to the next multiple of mr, or of GROUP) are zero, so edge panels can be fed
 * to the full-size kernel. This class is the plain-Java packer (used by {@link ScalarMicroKernel},
 * and by {@link VectorPack} for edges).
 */
final class PackA {
    private PackA() {}

    /** Rows per depth step in the depth-major layout; a multiple of every kernel's mr. */
    static final int GROUP = 16;

    /** Start of the depth-major micro-panel for block row i (a multiple of mr). */
    static int depthMajorOffset(int i, int kc) {
        return (i / GROUP) * GROUP * kc + i % GROUP;
    }

    /** Floats the packed block occupies (including zero padding). */
    static int packedSize(boolean transA, int mc, int kc, int mr) {
        return transA ? GemmDriver.roundUp(mc, GROUP) * kc : GemmDriver.roundUp(mc, mr) * kc;
    }

    static void pack(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                     int mr, float[] dst) {
        if (!transA) {
            packRows(a, aOff, lda, i0, mc, p0, kc, mr, dst);
        } else {
            packDepthMajor(a, aOff, lda, i0, mc, p0, kc, 0, dst);
        }
    }

    static void packRows(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, int mr,
                         float[] dst) {
        for (int i = 0; i < mc; i++) {
            System.arraycopy(a, aOff + (i0 + i) * lda + p0, dst, i * kc, kc);
        }
        Arrays.fill(dst, mc * kc, GemmDriver.roundUp(mc, mr) * kc, 0f);
    }

    /** Depth-major packing of groups {@code fromGroup ..}; full groups by plain loops. */
    static void packDepthMajor(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                               int fromGroup, float[] dst) {
        for (int g = fromGroup * GROUP; g < mc; g += GROUP) {
            int rows = Math.min(GROUP, mc - g);
            int d = g * kc;
            int src = aOff + p0 * lda + i0 + g;
            for (int p = 0; p < kc; p++, src += lda, d += GROUP) {
                for (int r = 0; r < rows; r++) {
                    dst[d + r] = a[src + r];
                }
                for (int r = rows; r < GROUP; r++) {
                    dst[d + r] = 0f;
                }
            }
        }
    }
}
