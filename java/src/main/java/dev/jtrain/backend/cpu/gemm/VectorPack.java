package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packing for the Vector API kernel: the same layouts as {@link PackA} and {@link PackB}, with the
 * bulk moved by whole vectors (plain Java loops over 8..32 floats ran 3-5x slower, and slow
 * packing costs 10-25 % of a 256^3 product). Edges fall back to the plain packers.
 * <ul>
 *   <li>A not transposed: row copies ({@code System.arraycopy} of kc floats is already fast).</li>
 *   <li>A transposed: one vector copy per depth step and 16-row group.</li>
 *   <li>B not transposed: nr/VL vector copies per depth step and panel, walking each source row
 *       once.</li>
 *   <li>B transposed (512-bit vectors only): 16 x 16 in-register transposes, four rounds of lane
 *       rotations and blends.</li>
 * </ul>
 * Only the kernel's own species is used: JDK 17 failed to intrinsify 256-bit stores on this
 * AVX-512 machine, and a non-intrinsified vector op is ~20x slower than scalar code.
 *
 * <p>{@link #transpose16} is unrolled (its 16 vectors must be separate locals, not an array).
 */
final class VectorPack {
    private VectorPack() {}

    static final VectorSpecies<Float> S = VectorMicroKernel.S;
    static final int VL = S.length();
    private static final boolean T16 = VL == 16;
    private static final VectorShuffle<Float> UP1 = rotation(1), UP2 = rotation(2), UP4 = rotation(4),
            UP8 = rotation(8), DN1 = rotation(-1), DN2 = rotation(-2), DN4 = rotation(-4), DN8 = rotation(-8);
    private static final VectorMask<Float> M1 = oddBlocks(1), M2 = oddBlocks(2), M4 = oddBlocks(4),
            M8 = oddBlocks(8);

    /** Lane j takes lane j - b (mod VL). */
    private static VectorShuffle<Float> rotation(int b) {
        int[] ix = new int[VL];
        for (int j = 0; j < VL; j++) {
            ix[j] = Math.floorMod(j - b, VL);
        }
        return VectorShuffle.fromArray(S, ix, 0);
    }

    /** Lanes j with (j & b) != 0 (none past VL). */
    private static VectorMask<Float> oddBlocks(int b) {
        boolean[] m = new boolean[VL];
        for (int j = 0; j < VL; j++) {
            m[j] = (j & b) != 0;
        }
        return VectorMask.fromArray(S, m, 0);
    }

    static void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc,
                      int mr, float[] dst) {
        if (!transA) {
            PackA.packRows(a, aOff, lda, i0, mc, p0, kc, mr, dst);
            return;
        }
        final int g = PackA.GROUP;
        if (g % VL != 0) {
            PackA.packDepthMajor(a, aOff, lda, i0, mc, p0, kc, 0, dst);
            return;
        }
        int groups = mc / g;
        int groupSize = g * kc;
        for (int p = 0; p < kc; p++) {
            int src = aOff + (p0 + p) * lda + i0;
            int d = p * g;
            for (int q = 0; q < groups; q++, src += g, d += groupSize) {
                for (int v = 0; v < g; v += VL) {
                    FloatVector.fromArray(S, a, src + v).intoArray(dst, d + v);
                }
            }
        }
        PackA.packDepthMajor(a, aOff, lda, i0, mc, p0, kc, groups, dst);
    }

    static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc,
                      int nr, float[] dst) {
        int full = nc / nr;
        if (!transB) {
            if (nr % VL != 0) {
                PackB.packCopy(b, bOff, ldb, p0, kc, j0, nc, nr, 0, dst);
                return;
            }
            int panelSize = kc * nr;
            for (int p = 0; p < kc; p++) {
                int src = bOff + (p0 + p) * ldb + j0;
                int d = p * nr;
                for (int q = 0; q < full; q++, src += nr, d += panelSize) {
                    for (int v = 0; v < nr; v += VL) {
                        FloatVector.fromArray(S, b, src + v).intoArray(dst, d + v);
                    }
                }
            }
            PackB.packCopy(b, bOff, ldb, p0, kc, j0, nc, nr, full * nr, dst);
            return;
        }
        if (!T16 || nr % 16 != 0) {
            PackB.packTranspose(b, bOff, ldb, p0, kc, j0, nc, nr, 0, nc, 0, kc, dst);
            return;
        }
        int kc16 = kc / 16 * 16;
        for (int q = 0; q < full; q++) {
            int j = q * nr;
            for (int h = 0; h < nr; h += 16) {
                int so = bOff + (j0 + j + h) * ldb + p0;
                int d = j * kc + h;
                for (int p = 0; p < kc16; p += 16) {
                    transpose16(b, so + p, ldb, dst, d + p * nr, nr);
                }
            }
        }
        if (kc16 < kc) {
            PackB.packTranspose(b, bOff, ldb, p0, kc, j0, nc, nr, 0, full * nr, kc16, kc, dst);
        }
        PackB.packTranspose(b, bOff, ldb, p0, kc, j0, nc, nr, full * nr, nc, 0, kc, dst);
    }

    /** Merges an edge tile computed with alpha = 1 into C the way the vector kernels' full tiles do. */
    static void storeEdge(float[] t, int nr, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        for (int r = 0; r < rows; r++) {
            int ti = r * nr;
            int ci = co + r * ldc;
            if (beta == 0f) {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = alpha * t[ti + j];
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = Math.fma(alpha, t[ti + j], beta * c[ci + j]);
                }
            }
        }
    }

    /** dst[d + p*ldd + q] = src[so + q*lds + p] for p, q < 16 (needs VL == 16). */
    private static void transpose16(float[] src, int so, int lds, float[] dst, int d, int ldd) {
        FloatVector v0 = FloatVector.fromArray(S, src, so),
                v1 = FloatVector.fromArray(S, src, so + 1 * lds),
                v2 = FloatVector.fromArray(S, src, so + 2 * lds),
                v3 = FloatVector.fromArray(S, src, so + 3 * lds),
                v4 = FloatVector.fromArray(S, src, so + 4 * lds),
                v5 = FloatVector.fromArray(S, src, so + 5 * lds),
                v6 = FloatVector.fromArray(S, src, so + 6 * lds),
                v7 = FloatVector.fromArray(S, src, so + 7 * lds),
                v8 = FloatVector.fromArray(S, src, so + 8 * lds),
                v9 = FloatVector.fromArray(S, src, so + 9 * lds),
                v10 = FloatVector.fromArray(S, src, so + 10 * lds),
                v11 = FloatVector.fromArray(S, src, so + 11 * lds),
                v12 = FloatVector.fromArray(S, src, so + 12 * lds),
                v13 = FloatVector.fromArray(S, src, so + 13 * lds),
                v14 = FloatVector.fromArray(S, src, so + 14 * lds),
                v15 = FloatVector.fromArray(S, src, so + 15 * lds);
        FloatVector t;
        // rows i and i+8 (i & 8 == 0) exchange their off-diagonal 8-lane blocks
        t = v0.blend(v8.rearrange(UP8), M8);
        v8 = v0.rearrange(DN8).blend(v8, M8);
        v0 = t;
        t = v1.blend(v9.rearrange(UP8), M8);
        v9 = v1.rearrange(DN8).blend(v9, M8);
        v1 = t;
        t = v2.blend(v10.rearrange(UP8), M8);
        v10 = v2.rearrange(DN8).blend(v10, M8);
        v2 = t;
        t = v3.blend(v11.rearrange(UP8), M8);
        v11 = v3.rearrange(DN8).blend(v11, M8);
        v3 = t;
        t = v4.blend(v12.rearrange(UP8), M8);
        v12 = v4.rearrange(DN8).blend(v12, M8);
        v4 = t;
        t = v5.blend(v13.rearrange(UP8), M8);
        v13 = v5.rearrange(DN8).blend(v13, M8);
        v5 = t;
        t = v6.blend(v14.rearrange(UP8), M8);
        v14 = v6.rearrange(DN8).blend(v14, M8);
        v6 = t;
        t = v7.blend(v15.rearrange(UP8), M8);
        v15 = v7.rearrange(DN8).blend(v15, M8);
        v7 = t;
        // rows i and i+4 (i & 4 == 0) exchange their off-diagonal 4-lane blocks
        t = v0.blend(v4.rearrange(UP4), M4);
        v4 = v0.rearrange(DN4).blend(v4, M4);
        v0 = t;
        t = v1.blend(v5.rearrange(UP4), M4);
        v5 = v1.rearrange(DN4).blend(v5, M4);
        v1 = t;
        t = v2.blend(v6.rearrange(UP4), M4);
        v6 = v2.rearrange(DN4).blend(v6, M4);
        v2 = t;
        t = v3.blend(v7.rearrange(UP4), M4);
        v7 = v3.rearrange(DN4).blend(v7, M4);
        v3 = t;
        t = v8.blend(v12.rearrange(UP4), M4);
        v12 = v8.rearrange(DN4).blend(v12, M4);
        v8 = t;
        t = v9.blend(v13.rearrange(UP4), M4);
        v13 = v9.rearrange(DN4).blend(v13, M4);
        v9 = t;
        t = v10.blend(v14.rearrange(UP4), M4);
        v14 = v10.rearrange(DN4).blend(v14, M4);
        v10 = t;
        t = v11.blend(v15.rearrange(UP4), M4);
        v15 = v11.rearrange(DN4).blend(v15, M4);
        v11 = t;
        // rows i and i+2 (i & 2 == 0) exchange their off-diagonal 2-lane blocks
        t = v0.blend(v2.rearrange(UP2), M2);
        v2 = v0.rearrange(DN2).blend(v2, M2);
        v0 = t;
        t = v1.blend(v3.rearrange(UP2), M2);
        v3 = v1.rearrange(DN2).blend(v3, M2);
        v1 = t;
        t = v4.blend(v6.rearrange(UP2), M2);
        v6 = v4.rearrange(DN2).blend(v6, M2);
        v4 = t;
        t = v5.blend(v7.rearrange(UP2), M2);
        v7 = v5.rearrange(DN2).blend(v7, M2);
        v5 = t;
        t = v8.blend(v10.rearrange(UP2), M2);
        v10 = v8.rearrange(DN2).blend(v10, M2);
        v8 = t;
        t = v9.blend(v11.rearrange(UP2), M2);
        v11 = v9.rearrange(DN2).blend(v11, M2);
        v9 = t;
        t = v12.blend(v14.rearrange(UP2), M2);
        v14 = v12.rearrange(DN2).blend(v14, M2);
        v12 = t;
        t = v13.blend(v15.rearrange(UP2), M2);
        v15 = v13.rearrange(DN2).blend(v15, M2);
        v13 = t;
        // rows i and i+1 (i & 1 == 0) exchange their off-diagonal 1-lane blocks
        t = v0.blend(v1.rearrange(UP1), M1);
        v1 = v0.rearrange(DN1).blend(v1, M1);
        v0 = t;
        t = v2.blend(v3.rearrange(UP1), M1);
        v3 = v2.rearrange(DN1).blend(v3, M1);
        v2 = t;
        t = v4.blend(v5.rearrange(UP1), M1);
        v5 = v4.rearrange(DN1).blend(v5, M1);
        v4 = t;
        t = v6.blend(v7.rearrange(UP1), M1);
        v7 = v6.rearrange(DN1).blend(v7, M1);
        v6 = t;
        t = v8.blend(v9.rearrange(UP1), M1);
        v9 = v8.rearrange(DN1).blend(v9, M1);
        v8 = t;
        t = v10.blend(v11.rearrange(UP1), M1);
        v11 = v10.rearrange(DN1).blend(v11, M1);
        v10 = t;
        t = v12.blend(v13.rearrange(UP1), M1);
        v13 = v12.rearrange(DN1).blend(v13, M1);
        v12 = t;
        t = v14.blend(v15.rearrange(UP1), M1);
        v15 = v14.rearrange(DN1).blend(v15, M1);
        v14 = t;
        v0.intoArray(dst, d + 0 * ldd);
        v1.intoArray(dst, d + 1 * ldd);
        v2.intoArray(dst, d + 2 * ldd);
        v3.intoArray(dst, d + 3 * ldd);
        v4.intoArray(dst, d + 4 * ldd);
        v5.intoArray(dst, d + 5 * ldd);
        v6.intoArray(dst, d + 6 * ldd);
        v7.intoArray(dst, d + 7 * ldd);
        v8.intoArray(dst, d + 8 * ldd);
        v9.intoArray(dst, d + 9 * ldd);
        v10.intoArray(dst, d + 10 * ldd);
        v11.intoArray(dst, d + 11 * ldd);
        v12.intoArray(dst, d + 12 * ldd);
        v13.intoArray(dst, d + 13 * ldd);
        v14.intoArray(dst, d + 14 * ldd);
        v15.intoArray(dst, d + 15 * ldd);
    }
}
