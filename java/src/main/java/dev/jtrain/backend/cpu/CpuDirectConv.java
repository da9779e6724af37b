package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution forward without a column matrix, output channels in the vector lanes (oneDNN's layout idea for
 * narrow layers): for a tile of 8 output positions and one vector of L output channels, every step of the
 * window (c, u, v) loads one vector of weights and broadcasts 8 input values into 8 accumulators. The weights
 * are repacked once per call as wt[(c kH + u) kW + v][o] (K x Cout, a few KiB), the input of a sample is read
 * in place (or from a zero-padded copy when the layer pads), and each position's input offset is precomputed,
 * so strides, padding and tiles across output rows need no branches in the inner loop.
 *
 * <p>Why: LeNet's conv2 (6 -> 16, 5x5 on 14x14) is a GEMM of 16 x 150 x 100 per sample; im2col writes and the
 * GEMM then packs 150 x 100 floats per sample for only 16 rows of output, and the 16 rows fill two 8-row
 * register tiles. Here nothing is copied per sample and all 16 lanes compute.
 *
 * <p>Numerics: each output is {@code fma} over the window in (c, u, v) order starting from 0, then plus the
 * bias: what the im2col GEMM computes when its depth fits one block, and in any case a sum in the same order.
 * Samples are independent tasks, so the bits do not depend on the thread count. Only referenced behind
 * {@link CpuSimd#VECTOR} (this class loads the incubator module).
 */
final class CpuDirectConv {
    private CpuDirectConv() {
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Output positions per register tile. */
    private static final int TILE = 8;

    /**
     * Whether the direct path takes this layer: whole vectors of output channels, a window of at least 32
     * (first layers with one input channel and 9-25 taps keep the GEMM path: too few steps per tile), and
     * repacked weights that fit the L1 cache (8 Ki floats), since every tile reads all of them. Measured in
     * one JVM against im2col + GEMM, 1 thread: LeNet's conv2 (16 x 150) 1.6-1.85x faster; the cnn's conv2
     * (64 x 288 = 18 Ki floats, streamed from L2 per tile) 0.8x, so it keeps the GEMM.
     */
    static boolean applies(int cin, int cout, int k, int p) {
        return L >= 8 && cout % L == 0 && k >= 32 && (long) k * cout <= 8192;
    }

    static void forward(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                        int oh, int ow, ConvSpec s) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int k = cin * kh * kw;
        int p = oh * ow;
        int ph = s.padH();
        int pw = s.padW();
        boolean padded = ph > 0 || pw > 0;
        int hp = h + 2 * ph;
        int wp = wd + 2 * pw;
        float[] wt = new float[k * cout];
        for (int o = 0; o < cout; o++) {
            for (int q = 0; q < k; q++) {
                wt[q * cout + o] = w[o * k + q];
            }
        }
        int[] kofs = windowOffsets(cin, kh, kw, hp, wp);
        int[] base = positionOffsets(oh, ow, s, wp);
        float[] bias = b == null ? null : b.clone();
        int xs = cin * h * wd;
        int ys = cout * p;
        CpuLoops.forTasks(n, (long) n * cout * k * p, t -> {
            float[] in = x;
            int inOff = t * xs;
            if (padded) {
                in = CpuWorkspace.floats(CpuWorkspace.COL, cin * hp * wp);
                pad(x, t * xs, cin, h, wd, ph, pw, in);
                inOff = 0;
            }
            float[] out = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, 16 * L);
            sample(in, inOff, wt, bias, y, t * ys, cout, k, p, kofs, base, out);
        });
    }

    /** Offset of window step (c, u, v), numbered (c kH + u) kW + v, within a sample's (padded) planes. */
    static int[] windowOffsets(int cin, int kh, int kw, int hp, int wp) {
        int[] kofs = new int[cin * kh * kw];
        for (int c = 0, q = 0; c < cin; c++) {
            for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                    kofs[q++] = (c * hp + u) * wp + v;
                }
            }
        }
        return kofs;
    }

    /** Offset of output position i OW + j's window corner within a sample's (padded) planes. */
    static int[] positionOffsets(int oh, int ow, ConvSpec s, int wp) {
        int[] base = new int[oh * ow];
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                base[i * ow + j] = i * s.strideH() * wp + j * s.strideW();
            }
        }
        return base;
    }

    /**
     * The weight gradient of samples [first, first + count) into {@code dwt} at {@code off}, laid out
     * transposed, [K][Cout] (the caller transposes when it merges partials): each element continues the fma
     * chain from the value there ({@code overwrite}: from 0), over the samples in order and each sample's
     * output positions in order. Channels in lanes again: a tile is 8 window steps x one vector of channels,
     * each position loads one vector of dy (the sample's dy transposed to [P][Cout] first) and broadcasts 8
     * inputs. No column matrix and no GEMM packing (the im2col path wrote the columns, then the GEMM
     * transposed them into panels).
     */
    static void weightGradient(float[] x, float[] dy, int first, int count, int cin, int h, int wd, int cout,
                               int oh, int ow, ConvSpec s, float[] dwt, int off, boolean overwrite) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int k = cin * kh * kw;
        int p = oh * ow;
        int ph = s.padH();
        int pw = s.padW();
        boolean padded = ph > 0 || pw > 0;
        int hp = h + 2 * ph;
        int wp = wd + 2 * pw;
        int[] kofs = windowOffsets(cin, kh, kw, hp, wp);
        int[] base = positionOffsets(oh, ow, s, wp);
        int xs = cin * h * wd;
        int ys = cout * p;
        if (overwrite) {
            java.util.Arrays.fill(dwt, off, off + k * cout, 0f);
        }
        float[] dyt = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, p * cout);
        float[] in = padded ? CpuWorkspace.floats(CpuWorkspace.COL, cin * hp * wp) : x;
        for (int t = first; t < first + count; t++) {
            int inOff = t * xs;
            if (padded) {
                pad(x, t * xs, cin, h, wd, ph, pw, in);
                inOff = 0;
            }
            for (int o = 0; o < cout; o++) {
                int src = t * ys + o * p;
                for (int q = 0; q < p; q++) {
                    dyt[q * cout + o] = dy[src + q];
                }
            }
            for (int o = 0; o < cout; o += L) {
                int q = 0;
                for (; q + 8 <= k; q += 8) {
                    gradTile8(in, inOff, dyt, o, cout, p, kofs, base, q, dwt, off);
                }
                for (; q < k; q++) {
                    int at = off + q * cout + o;
                    FloatVector acc = FloatVector.fromArray(S, dwt, at);
                    int ko = inOff + kofs[q];
                    for (int r = 0; r < p; r++) {
                        acc = FloatVector.broadcast(S, in[ko + base[r]]).fma(FloatVector.fromArray(S, dyt, r * cout + o), acc);
                    }
                    acc.intoArray(dwt, at);
                }
            }
        }
    }

    /** Window steps [q, q + 8), channels [o, o + L) of the transposed weight gradient, over one sample. */
    private static void gradTile8(float[] in, int inOff, float[] dyt, int o, int cout, int p, int[] kofs, int[] base,
                                  int q, float[] dwt, int off) {
        int k0 = inOff + kofs[q];
        int k1 = inOff + kofs[q + 1];
        int k2 = inOff + kofs[q + 2];
        int k3 = inOff + kofs[q + 3];
        int k4 = inOff + kofs[q + 4];
        int k5 = inOff + kofs[q + 5];
        int k6 = inOff + kofs[q + 6];
        int k7 = inOff + kofs[q + 7];
        int at = off + q * cout + o;
        FloatVector a0 = FloatVector.fromArray(S, dwt, at);
        FloatVector a1 = FloatVector.fromArray(S, dwt, at + cout);
        FloatVector a2 = FloatVector.fromArray(S, dwt, at + 2 * cout);
        FloatVector a3 = FloatVector.fromArray(S, dwt, at + 3 * cout);
        FloatVector a4 = FloatVector.fromArray(S, dwt, at + 4 * cout);
        FloatVector a5 = FloatVector.fromArray(S, dwt, at + 5 * cout);
        FloatVector a6 = FloatVector.fromArray(S, dwt, at + 6 * cout);
        FloatVector a7 = FloatVector.fromArray(S, dwt, at + 7 * cout);
        for (int r = 0; r < p; r++) {
            int b = base[r];
            FloatVector g = FloatVector.fromArray(S, dyt, r * cout + o);
            a0 = FloatVector.broadcast(S, in[k0 + b]).fma(g, a0);
            a1 = FloatVector.broadcast(S, in[k1 + b]).fma(g, a1);
            a2 = FloatVector.broadcast(S, in[k2 + b]).fma(g, a2);
            a3 = FloatVector.broadcast(S, in[k3 + b]).fma(g, a3);
            a4 = FloatVector.broadcast(S, in[k4 + b]).fma(g, a4);
            a5 = FloatVector.broadcast(S, in[k5 + b]).fma(g, a5);
            a6 = FloatVector.broadcast(S, in[k6 + b]).fma(g, a6);
            a7 = FloatVector.broadcast(S, in[k7 + b]).fma(g, a7);
        }
        a0.intoArray(dwt, at);
        a1.intoArray(dwt, at + cout);
        a2.intoArray(dwt, at + 2 * cout);
        a3.intoArray(dwt, at + 3 * cout);
        a4.intoArray(dwt, at + 4 * cout);
        a5.intoArray(dwt, at + 5 * cout);
        a6.intoArray(dwt, at + 6 * cout);
        a7.intoArray(dwt, at + 7 * cout);
    }

    /** The zero-padded planes of one sample: [cin, h + 2 ph, w + 2 pw]. */
    private static void pad(float[] x, int off, int cin, int h, int wd, int ph, int pw, float[] dst) {
        int hp = h + 2 * ph;
        int wp = wd + 2 * pw;
        java.util.Arrays.fill(dst, 0, cin * hp * wp, 0f);
        for (int c = 0; c < cin; c++) {
            for (int i = 0; i < h; i++) {
                System.arraycopy(x, off + (c * h + i) * wd, dst, (c * hp + i + ph) * wp + pw, wd);
            }
        }
    }

    private static void sample(float[] in, int inOff, float[] wt, float[] bias, float[] y, int yOff, int cout,
                               int k, int p, int[] kofs, int[] base, float[] out) {
        int o = 0;
        // channel blocks of 4, 2, then 1 vector: the wider the block, the fewer loads per multiply-add
        for (; o + 4 * L <= cout; o += 4 * L) {
            int q = 0;
            for (; q + 4 <= p; q += 4) {
                tile4x4(in, inOff, wt, bias, o, cout, k, kofs, base, q, out);
                scatter(out, 4, 4 * L, y, yOff, o, p, q);
            }
            for (int v = 0; v < 4; v++) {
                positions(in, inOff, wt, bias, y, yOff, o + v * L, cout, k, p, kofs, base, q, out);
            }
        }
        for (; o + 2 * L <= cout; o += 2 * L) {
            int q = 0;
            for (; q + 8 <= p; q += 8) {
                tile8x2(in, inOff, wt, bias, o, cout, k, kofs, base, q, out);
                scatter(out, 8, 2 * L, y, yOff, o, p, q);
            }
            for (int v = 0; v < 2; v++) {
                positions(in, inOff, wt, bias, y, yOff, o + v * L, cout, k, p, kofs, base, q, out);
            }
        }
        for (; o < cout; o += L) {
            int q = 0;
            for (; q + TILE <= p; q += TILE) {
                tile8(in, inOff, wt, bias == null ? null : FloatVector.fromArray(S, bias, o), o, cout, k, kofs,
                        base, q, out);
                scatter(out, TILE, L, y, yOff, o, p, q);
            }
            positions(in, inOff, wt, bias, y, yOff, o, cout, k, p, kofs, base, q, out);
        }
    }

    /** out holds {@code rows} positions x {@code width} channels (row-major): into y's NCHW planes. */
    private static void scatter(float[] out, int rows, int width, float[] y, int yOff, int o, int p, int q) {
        for (int t = 0; t < rows; t++) {
            for (int l = 0; l < width; l++) {
                y[yOff + (o + l) * p + q + t] = out[t * width + l];
            }
        }
    }

    /** Positions [q, p) one at a time, channels [o, o + L) (the tiles' remainder). */
    private static void positions(float[] in, int inOff, float[] wt, float[] bias, float[] y, int yOff, int o,
                                  int cout, int k, int p, int[] kofs, int[] base, int q, float[] out) {
        FloatVector bv = bias == null ? null : FloatVector.fromArray(S, bias, o);
        for (; q < p; q++) {
            FloatVector acc = FloatVector.zero(S);
            int b0 = inOff + base[q];
            for (int s = 0; s < k; s++) {
                acc = FloatVector.broadcast(S, in[b0 + kofs[s]]).fma(FloatVector.fromArray(S, wt, s * cout + o), acc);
            }
            finish(acc, bv).intoArray(out, 0);
            for (int l = 0; l < L; l++) {
                y[yOff + (o + l) * p + q] = out[l];
            }
        }
    }

    /** Positions [q, q + 4), channels [o, o + 4L): 16 accumulators, 4 broadcasts and 4 loads per 16 fma. */
    private static void tile4x4(float[] in, int inOff, float[] wt, float[] bias, int o, int cout, int k, int[] kofs,
                                int[] base, int q, float[] out) {
        int b0 = inOff + base[q];
        int b1 = inOff + base[q + 1];
        int b2 = inOff + base[q + 2];
        int b3 = inOff + base[q + 3];
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int s = 0; s < k; s++) {
            int ko = kofs[s];
            int wo = s * cout + o;
            FloatVector w0 = FloatVector.fromArray(S, wt, wo);
            FloatVector w1 = FloatVector.fromArray(S, wt, wo + L);
            FloatVector w2 = FloatVector.fromArray(S, wt, wo + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, wt, wo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, in[b0 + ko]);
            a00 = x.fma(w0, a00);
            a01 = x.fma(w1, a01);
            a02 = x.fma(w2, a02);
            a03 = x.fma(w3, a03);
            x = FloatVector.broadcast(S, in[b1 + ko]);
            a10 = x.fma(w0, a10);
            a11 = x.fma(w1, a11);
            a12 = x.fma(w2, a12);
            a13 = x.fma(w3, a13);
            x = FloatVector.broadcast(S, in[b2 + ko]);
            a20 = x.fma(w0, a20);
            a21 = x.fma(w1, a21);
            a22 = x.fma(w2, a22);
            a23 = x.fma(w3, a23);
            x = FloatVector.broadcast(S, in[b3 + ko]);
            a30 = x.fma(w0, a30);
            a31 = x.fma(w1, a31);
            a32 = x.fma(w2, a32);
            a33 = x.fma(w3, a33);
        }
        int w = 4 * L;
        store(a00, bias, o, out, 0);
        store(a01, bias, o + L, out, L);
        store(a02, bias, o + 2 * L, out, 2 * L);
        store(a03, bias, o + 3 * L, out, 3 * L);
        store(a10, bias, o, out, w);
        store(a11, bias, o + L, out, w + L);
        store(a12, bias, o + 2 * L, out, w + 2 * L);
        store(a13, bias, o + 3 * L, out, w + 3 * L);
        store(a20, bias, o, out, 2 * w);
        store(a21, bias, o + L, out, 2 * w + L);
        store(a22, bias, o + 2 * L, out, 2 * w + 2 * L);
        store(a23, bias, o + 3 * L, out, 2 * w + 3 * L);
        store(a30, bias, o, out, 3 * w);
        store(a31, bias, o + L, out, 3 * w + L);
        store(a32, bias, o + 2 * L, out, 3 * w + 2 * L);
        store(a33, bias, o + 3 * L, out, 3 * w + 3 * L);
    }

    /** Positions [q, q + 8), channels [o, o + 2L): 16 accumulators, 8 broadcasts and 2 loads per 16 fma. */
    private static void tile8x2(float[] in, int inOff, float[] wt, float[] bias, int o, int cout, int k, int[] kofs,
                                int[] base, int q, float[] out) {
        int b0 = inOff + base[q];
        int b1 = inOff + base[q + 1];
        int b2 = inOff + base[q + 2];
        int b3 = inOff + base[q + 3];
        int b4 = inOff + base[q + 4];
        int b5 = inOff + base[q + 5];
        int b6 = inOff + base[q + 6];
        int b7 = inOff + base[q + 7];
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        FloatVector a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        for (int s = 0; s < k; s++) {
            int ko = kofs[s];
            int wo = s * cout + o;
            FloatVector w0 = FloatVector.fromArray(S, wt, wo);
            FloatVector w1 = FloatVector.fromArray(S, wt, wo + L);
            FloatVector x = FloatVector.broadcast(S, in[b0 + ko]);
            a00 = x.fma(w0, a00);
            a01 = x.fma(w1, a01);
            x = FloatVector.broadcast(S, in[b1 + ko]);
            a10 = x.fma(w0, a10);
            a11 = x.fma(w1, a11);
            x = FloatVector.broadcast(S, in[b2 + ko]);
            a20 = x.fma(w0, a20);
            a21 = x.fma(w1, a21);
            x = FloatVector.broadcast(S, in[b3 + ko]);
            a30 = x.fma(w0, a30);
            a31 = x.fma(w1, a31);
            x = FloatVector.broadcast(S, in[b4 + ko]);
            a40 = x.fma(w0, a40);
            a41 = x.fma(w1, a41);
            x = FloatVector.broadcast(S, in[b5 + ko]);
            a50 = x.fma(w0, a50);
            a51 = x.fma(w1, a51);
            x = FloatVector.broadcast(S, in[b6 + ko]);
            a60 = x.fma(w0, a60);
            a61 = x.fma(w1, a61);
            x = FloatVector.broadcast(S, in[b7 + ko]);
            a70 = x.fma(w0, a70);
            a71 = x.fma(w1, a71);
        }
        int w = 2 * L;
        store(a00, bias, o, out, 0);
        store(a01, bias, o + L, out, L);
        store(a10, bias, o, out, w);
        store(a11, bias, o + L, out, w + L);
        store(a20, bias, o, out, 2 * w);
        store(a21, bias, o + L, out, 2 * w + L);
        store(a30, bias, o, out, 3 * w);
        store(a31, bias, o + L, out, 3 * w + L);
        store(a40, bias, o, out, 4 * w);
        store(a41, bias, o + L, out, 4 * w + L);
        store(a50, bias, o, out, 5 * w);
        store(a51, bias, o + L, out, 5 * w + L);
        store(a60, bias, o, out, 6 * w);
        store(a61, bias, o + L, out, 6 * w + L);
        store(a70, bias, o, out, 7 * w);
        store(a71, bias, o + L, out, 7 * w + L);
    }

    /** acc plus the bias of channels [o, o + L) (nothing added without a bias) into out at {@code at}. */
    private static void store(FloatVector acc, float[] bias, int o, float[] out, int at) {
        (bias == null ? acc : acc.add(FloatVector.fromArray(S, bias, o))).intoArray(out, at);
    }

    /** Output positions [q, q + 8), channels [o, o + L): the accumulators stay in registers over the window. */
    private static void tile8(float[] in, int inOff, float[] wt, FloatVector bv, int o, int cout, int k, int[] kofs,
                              int[] base, int q, float[] out) {
        int b0 = inOff + base[q];
        int b1 = inOff + base[q + 1];
        int b2 = inOff + base[q + 2];
        int b3 = inOff + base[q + 3];
        int b4 = inOff + base[q + 4];
        int b5 = inOff + base[q + 5];
        int b6 = inOff + base[q + 6];
        int b7 = inOff + base[q + 7];
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), a5 = FloatVector.zero(S);
        FloatVector a6 = FloatVector.zero(S), a7 = FloatVector.zero(S);
        for (int s = 0; s < k; s++) {
            int ko = kofs[s];
            FloatVector wv = FloatVector.fromArray(S, wt, s * cout + o);
            a0 = FloatVector.broadcast(S, in[b0 + ko]).fma(wv, a0);
            a1 = FloatVector.broadcast(S, in[b1 + ko]).fma(wv, a1);
            a2 = FloatVector.broadcast(S, in[b2 + ko]).fma(wv, a2);
            a3 = FloatVector.broadcast(S, in[b3 + ko]).fma(wv, a3);
            a4 = FloatVector.broadcast(S, in[b4 + ko]).fma(wv, a4);
            a5 = FloatVector.broadcast(S, in[b5 + ko]).fma(wv, a5);
            a6 = FloatVector.broadcast(S, in[b6 + ko]).fma(wv, a6);
            a7 = FloatVector.broadcast(S, in[b7 + ko]).fma(wv, a7);
        }
        finish(a0, bv).intoArray(out, 0);
        finish(a1, bv).intoArray(out, L);
        finish(a2, bv).intoArray(out, 2 * L);
        finish(a3, bv).intoArray(out, 3 * L);
        finish(a4, bv).intoArray(out, 4 * L);
        finish(a5, bv).intoArray(out, 5 * L);
        finish(a6, bv).intoArray(out, 6 * L);
        finish(a7, bv).intoArray(out, 7 * L);
    }

    private static FloatVector finish(FloatVector acc, FloatVector bias) {
        return bias == null ? acc : acc.add(bias);
    }
}
