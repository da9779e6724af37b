package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution forward for layers with few input channels (a network's first layer: 1 or 3 channels and a
 * 3x3 or 5x5 window over a wide image), output positions in the vector lanes: for two vectors of one output
 * row and four output channels, every window step (c, u, v) loads the two input vectors that step reads
 * (contiguous: stride 1) and adds them, times the step's weight, into 8 accumulators. No column matrix: for
 * LeNet's conv1 im2col wrote 25 copies of the image per sample, and the GEMM then ran at a depth of 25, too
 * short to amortise its tiles.
 *
 * <p>Each sample is first copied into zero-padded planes whose rows are wide enough for whole vectors (the
 * lanes past the output row compute garbage that is never stored), so the inner loop has no bounds or
 * padding tests. Numerics: each output is {@code fma} over the window in (c, u, v) order from 0, then plus the
 * bias, as the im2col GEMM computes it (depth below one GEMM block): the same bits. Samples are independent
 * tasks. Only referenced behind {@link CpuSimd#VECTOR}.
 */
final class CpuRowConv {
    private CpuRowConv() {
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /**
     * Whether this path takes the layer: stride 1, a small window (at most 7x7) over few input channels (at
     * most 3: the depth cin kH kW stays where GEMM tiles are short), and output rows of at least 1.5 vectors
     * (two vectors per row step waste at most a quarter of the lanes).
     */
    static boolean applies(int cin, int ow, ConvSpec s) {
        return L >= 8 && s.strideH() == 1 && s.strideW() == 1 && cin <= 3 && s.kernelH() <= 7 && s.kernelW() <= 7
                && 2 * ow >= 3 * L;
    }

    static void forward(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                        int oh, int ow, ConvSpec s) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int k = cin * kh * kw;
        int ph = s.padH();
        int pw = s.padW();
        int owr = (ow + 2 * L - 1) / (2 * L) * (2 * L);  // output columns computed per row: whole pairs of vectors
        int hp = h + 2 * ph;
        int wp = Math.max(wd + 2 * pw, owr + kw - 1);     // padded row: every vector load stays inside it
        int plane = hp * wp;
        int xs = cin * h * wd;
        int ys = cout * oh * ow;
        int[] kofs = CpuDirectConv.windowOffsets(cin, kh, kw, hp, wp);   // window step (c, u, v) -> offset
        CpuLoops.forTasks(n, (long) n * cout * k * oh * ow, t -> {
            float[] xp = CpuWorkspace.floats(CpuWorkspace.COL, cin * plane + wp);
            java.util.Arrays.fill(xp, 0, cin * plane + wp, 0f);
            for (int c = 0; c < cin; c++) {
                for (int i = 0; i < h; i++) {
                    System.arraycopy(x, t * xs + (c * h + i) * wd, xp, c * plane + (i + ph) * wp + pw, wd);
                }
            }
            float[] out = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, 8 * L);
            int o = 0;
            for (; o + 4 <= cout; o += 4) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < owr; j += 2 * L) {
                        tile4x2(xp, i * wp + j, w, k, kofs, o, out);
                        store(out, 4, b, o, y, t * ys, oh, ow, i, j);
                    }
                }
            }
            for (; o < cout; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < owr; j += 2 * L) {
                        tile1x2(xp, i * wp + j, w, k, kofs, o, out);
                        store(out, 1, b, o, y, t * ys, oh, ow, i, j);
                    }
                }
            }
        });
    }

    /** Channels [o, o + 4), output row i, columns [j, j + 2L): out[r * 2L + col]. One flat loop over the window. */
    private static void tile4x2(float[] xp, int base, float[] w, int k, int[] kofs, int o, float[] out) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int w0 = o * k;
        for (int q = 0; q < k; q++) {
            int at = base + kofs[q];
            FloatVector x0 = FloatVector.fromArray(S, xp, at);
            FloatVector x1 = FloatVector.fromArray(S, xp, at + L);
            FloatVector g = FloatVector.broadcast(S, w[w0 + q]);
            a00 = x0.fma(g, a00);
            a01 = x1.fma(g, a01);
            g = FloatVector.broadcast(S, w[w0 + k + q]);
            a10 = x0.fma(g, a10);
            a11 = x1.fma(g, a11);
            g = FloatVector.broadcast(S, w[w0 + 2 * k + q]);
            a20 = x0.fma(g, a20);
            a21 = x1.fma(g, a21);
            g = FloatVector.broadcast(S, w[w0 + 3 * k + q]);
            a30 = x0.fma(g, a30);
            a31 = x1.fma(g, a31);
        }
        a00.intoArray(out, 0);
        a01.intoArray(out, L);
        a10.intoArray(out, 2 * L);
        a11.intoArray(out, 3 * L);
        a20.intoArray(out, 4 * L);
        a21.intoArray(out, 5 * L);
        a30.intoArray(out, 6 * L);
        a31.intoArray(out, 7 * L);
    }

    /** Channel o, output row i, columns [j, j + 2L): out[col]. */
    private static void tile1x2(float[] xp, int base, float[] w, int k, int[] kofs, int o, float[] out) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0;
        int w0 = o * k;
        for (int q = 0; q < k; q++) {
            int at = base + kofs[q];
            FloatVector g = FloatVector.broadcast(S, w[w0 + q]);
            a0 = FloatVector.fromArray(S, xp, at).fma(g, a0);
            a1 = FloatVector.fromArray(S, xp, at + L).fma(g, a1);
        }
        a0.intoArray(out, 0);
        a1.intoArray(out, L);
    }

    /** The first ow - j columns of each of the {@code rows} channel rows in out, plus the bias, into y's row i. */
    private static void store(float[] out, int rows, float[] b, int o, float[] y, int yOff, int oh, int ow, int i,
                              int j) {
        int n = Math.min(2 * L, ow - j);
        for (int r = 0; r < rows; r++) {
            int dst = yOff + ((o + r) * oh + i) * ow + j;
            int src = r * 2 * L;
            if (b == null) {
                System.arraycopy(out, src, y, dst, n);
            } else {
                float bias = b[o + r];
                for (int q = 0; q < n; q++) {
                    y[dst + q] = out[src + q] + bias;
                }
            }
        }
    }
}
