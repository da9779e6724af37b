package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
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

    /**
     * The weight gradient of samples [first, first + count) added into {@code dw} at {@code off} ([Cout][K],
     * K = (c, u, v); overwritten first when {@code overwrite}), by rows: for four output channels and two window
     * steps, the sample's dy rows (copied into rows of whole vectors, zeros past the output row) times the
     * shifted input rows, lane-wise partial sums over the sample's positions, added to dw at the end of each
     * sample. Sums run over samples in order, so the bits depend on the chunking (fixed by the shape) and not
     * on the thread count. For layers {@link #applies} takes (their im2col wrote 25 copies of each image).
     */
    static void weightGradient(float[] x, float[] dy, int first, int count, int cin, int h, int wd, int cout, int oh,
                               int ow, ConvSpec s, float[] dw, int off, boolean overwrite) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int k = cin * kh * kw;
        int ph = s.padH();
        int pw = s.padW();
        int owr = (ow + L - 1) / L * L;                   // dy rows in whole vectors
        int hp = h + 2 * ph;
        int wp = Math.max(wd + 2 * pw, owr + kw - 1);
        int plane = hp * wp;
        int xs = cin * h * wd;
        int ys = cout * oh * ow;
        int[] kofs = CpuDirectConv.windowOffsets(cin, kh, kw, hp, wp);
        // vector segment g of the dy rows (dyr[g L ...]) meets the input at segment[g] + the window step's offset
        int[] segment = new int[oh * owr / L];
        for (int i = 0, g = 0; i < oh; i++) {
            for (int j = 0; j < owr; j += L) {
                segment[g++] = i * wp + j;
            }
        }
        if (overwrite) {
            java.util.Arrays.fill(dw, off, off + cout * k, 0f);
        }
        float[] xp = CpuWorkspace.floats(CpuWorkspace.COL, cin * plane + wp);
        float[] dyr = CpuWorkspace.floats(CpuWorkspace.DCOL, cout * oh * owr);
        float[] sums = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, 8);
        for (int t = first; t < first + count; t++) {
            java.util.Arrays.fill(xp, 0, cin * plane + wp, 0f);
            for (int c = 0; c < cin; c++) {
                for (int i = 0; i < h; i++) {
                    System.arraycopy(x, t * xs + (c * h + i) * wd, xp, c * plane + (i + ph) * wp + pw, wd);
                }
            }
            java.util.Arrays.fill(dyr, 0, cout * oh * owr, 0f);
            for (int r = 0; r < cout * oh; r++) {
                System.arraycopy(dy, t * ys + r * ow, dyr, r * owr, ow);
            }
            int o = 0;
            for (; o + 4 <= cout; o += 4) {
                int q = 0;
                for (; q + 2 <= k; q += 2) {
                    grad4x2(xp, segment, dyr, oh * owr, o, kofs[q], kofs[q + 1], sums);
                    for (int r = 0; r < 4; r++) {
                        dw[off + (o + r) * k + q] += sums[2 * r];
                        dw[off + (o + r) * k + q + 1] += sums[2 * r + 1];
                    }
                }
                for (; q < k; q++) {
                    for (int r = 0; r < 4; r++) {
                        dw[off + (o + r) * k + q] += grad1(xp, segment, dyr, oh * owr, o + r, kofs[q]);
                    }
                }
            }
            for (; o < cout; o++) {
                for (int q = 0; q < k; q++) {
                    dw[off + o * k + q] += grad1(xp, segment, dyr, oh * owr, o, kofs[q]);
                }
            }
        }
    }

    /**
     * Sums over one sample of dy (channels o..o+3, each {@code rows} floats) times the input at window steps with
     * offsets k0, k1: one flat loop over the vector segments (nested row/column loops kept the vectors boxed).
     */
    private static void grad4x2(float[] xp, int[] segment, float[] dyr, int rows, int o, int k0, int k1,
                                float[] sums) {
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int d = o * rows;
        for (int g = 0; g < segment.length; g++, d += L) {
            int at = segment[g];
            FloatVector x0 = FloatVector.fromArray(S, xp, at + k0);
            FloatVector x1 = FloatVector.fromArray(S, xp, at + k1);
            FloatVector y = FloatVector.fromArray(S, dyr, d);
            a00 = x0.fma(y, a00);
            a01 = x1.fma(y, a01);
            y = FloatVector.fromArray(S, dyr, d + rows);
            a10 = x0.fma(y, a10);
            a11 = x1.fma(y, a11);
            y = FloatVector.fromArray(S, dyr, d + 2 * rows);
            a20 = x0.fma(y, a20);
            a21 = x1.fma(y, a21);
            y = FloatVector.fromArray(S, dyr, d + 3 * rows);
            a30 = x0.fma(y, a30);
            a31 = x1.fma(y, a31);
        }
        sums[0] = a00.reduceLanes(VectorOperators.ADD);
        sums[1] = a01.reduceLanes(VectorOperators.ADD);
        sums[2] = a10.reduceLanes(VectorOperators.ADD);
        sums[3] = a11.reduceLanes(VectorOperators.ADD);
        sums[4] = a20.reduceLanes(VectorOperators.ADD);
        sums[5] = a21.reduceLanes(VectorOperators.ADD);
        sums[6] = a30.reduceLanes(VectorOperators.ADD);
        sums[7] = a31.reduceLanes(VectorOperators.ADD);
    }

    /** The sum over one sample of dy (channel o) times the input at the window step with offset k0. */
    private static float grad1(float[] xp, int[] segment, float[] dyr, int rows, int o, int k0) {
        FloatVector a = FloatVector.zero(S);
        int d = o * rows;
        for (int g = 0; g < segment.length; g++, d += L) {
            a = FloatVector.fromArray(S, xp, segment[g] + k0).fma(FloatVector.fromArray(S, dyr, d), a);
        }
        return a.reduceLanes(VectorOperators.ADD);
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
