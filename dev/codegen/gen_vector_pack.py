import os
ld = ",\n                ".join(f"v{i} = FloatVector.fromArray(S, src, so + {i} * lds)" if i else "v0 = FloatVector.fromArray(S, src, so)" for i in range(16))
stages=[]
for b in (8,4,2,1):
    stages.append(f"        // rows i and i+{b} (i & {b} == 0) exchange their off-diagonal {b}-lane blocks")
    for i in range(16):
        if i & b: continue
        j=i+b
        stages.append(f"        t = v{i}.blend(v{j}.rearrange(UP{b}), M{b});")
        stages.append(f"        v{j} = v{i}.rearrange(DN{b}).blend(v{j}, M{b});")
        stages.append(f"        v{i} = t;")
stages="\n".join(stages)
st="\n".join(f"        v{i}.intoArray(dst, d + {i} * ldd);" for i in range(16))
src='''package dev.jtrain.backend.cpu.gemm;

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
        FloatVector @LD@;
        FloatVector t;
@STAGES@
@ST@
    }
}
'''
src=src.replace("@LD@",ld).replace("@STAGES@",stages).replace("@ST@",st)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../java/src/main/java/dev/jtrain/backend/cpu/gemm/VectorPack.java"),"w").write(src)
