package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;

import java.util.Arrays;

/**
 * Max and average pooling over the (n, c) planes of NCHW tensors (FORMAT.md items 17-20). Windows are
 * scanned row-major; max pooling keeps the first maximum (strict &gt;; a NaN wins like PyTorch's) and
 * records its flat index h * W + w within the plane; its backward adds dy at each argmax, so
 * overlapping windows accumulate. Average pooling divides by kH * kW (padding counts as zeros).
 * Planes are independent tasks; within a plane the order is fixed.
 */
final class CpuPooling {
    private CpuPooling() {
    }

    static void maxForward(float[] x, float[] y, long[] idx, int planes, int h, int w, int oh, int ow, ConvSpec s) {
        boolean twoByTwo = s.kernelH() == 2 && s.kernelW() == 2 && s.strideH() == 2 && s.strideW() == 2
                && s.padH() == 0 && s.padW() == 0;
        CpuLoops.forTasks(planes, (long) planes * oh * ow * s.kernelH() * s.kernelW(), p -> {
            if (twoByTwo) {
                maxPlane2x2(x, y, idx, p, h, w, oh, ow);
            } else {
                maxPlane(x, y, idx, p, h, w, oh, ow, s);
            }
        });
    }

    /**
     * The 2x2 stride-2 unpadded window every model here uses, without the general loop's clipping, and with
     * the same result as {@link #maxPlane}: the first maximum in row-major order, or the last NaN. The four
     * candidates a b / c d are compared as {@link #orderKey}s (ints) in a tree, (a vs b) vs (c vs d), with
     * strict &gt; at every level, so the earlier candidate wins every tie. Ints because C2 selects ints with
     * cmov while float selects compile to branches on x86, which random activations made mispredict half the
     * time (this loop ran 4-5x slower).
     */
    private static void maxPlane2x2(float[] x, float[] y, long[] idx, int p, int h, int w, int oh, int ow) {
        int xb = p * h * w;
        int yb = p * oh * ow;
        // a vector of outputs at a time (the same values and indices); here only what it leaves at the end of x
        // (indices travel as floats there: exact below 2^24 positions per plane)
        CpuPoolingVector.Scratch scratch = CpuSimd.VECTOR && h * w < (1 << 24) ? CpuPoolingVector.scratch() : null;
        for (int i = 0; i < oh; i++) {
            int top = xb + 2 * i * w;
            int out = yb + i * ow;
            int done = scratch != null ? CpuPoolingVector.row(x, top, w, xb, y, idx, out, ow, scratch) : 0;
            for (int j = done; j < ow; j++) {
                int at = top + 2 * j;
                int ka = orderKey(x[at], 0);
                int kb = orderKey(x[at + 1], 1);
                int kc = orderKey(x[at + w], 2);
                int kd = orderKey(x[at + w + 1], 3);
                int upperAt = kb > ka ? at + 1 : at;
                int lowerAt = kd > kc ? at + w + 1 : at + w;
                int bi = Math.max(kc, kd) > Math.max(ka, kb) ? lowerAt : upperAt;
                y[out + j] = x[bi];
                if (idx != null) {
                    idx[out + j] = bi - xb;
                }
            }
        }
    }

    /**
     * An int whose order is the pooling rule's: for non-NaN floats the float order with -0 equal to +0
     * (-0 made +0 by adding 0, then negatives' magnitude bits flipped: sign-magnitude to two's complement
     * order); every NaN above +inf, a later one ({@code position} 0..3 in the window) above an earlier one.
     */
    private static int orderKey(float f, int position) {
        int bits = Float.floatToRawIntBits(f + 0.0f);   // -0 + 0 = +0
        int key = bits ^ ((bits >> 31) & 0x7fffffff);
        int nan = (0x7f800000 - (bits & 0x7fffffff)) >> 31;   // -1 for a NaN, else 0
        return (key & ~nan) | (nan & (0x7ffffff0 + position));
    }

    /** Max pooling of plane p with PyTorch's exact rule: replace when val &gt; best or val is NaN. */
    private static void maxPlane(float[] x, float[] y, long[] idx, int p, int h, int w, int oh, int ow,
                                      ConvSpec s) {
        int xb = p * h * w;
        int yb = p * oh * ow;
        for (int i = 0; i < oh; i++) {
            int h0 = i * s.strideH() - s.padH();
            int u0 = Math.max(0, -h0);
            int u1 = Math.min(s.kernelH(), h - h0);
            for (int j = 0; j < ow; j++) {
                int w0 = j * s.strideW() - s.padW();
                int v0 = Math.max(0, -w0);
                int v1 = Math.min(s.kernelW(), w - w0);
                float best = Float.NEGATIVE_INFINITY;
                int bi = -1;
                for (int u = u0; u < u1; u++) {
                    int row = (h0 + u) * w;
                    for (int v = v0; v < v1; v++) {
                        int at = row + w0 + v;
                        float val = x[xb + at];
                        if (bi < 0 || val > best || Float.isNaN(val)) {
                            best = val;
                            bi = at;
                        }
                    }
                }
                y[yb + i * ow + j] = best;
                if (idx != null) {
                    idx[yb + i * ow + j] = bi;
                }
            }
        }
    }

    /**
     * dx = 0, then dx[plane, idx] += dy for every output. Returns -1 when every index was inside its
     * plane, else the position of the first bad index (dx is then incomplete).
     */
    static long maxBackward(float[] dy, long[] idx, float[] dx, int planes, int hw, int ohw) {
        long[] bad = {-1};
        CpuLoops.forTasks(planes, (long) planes * (hw + ohw), p -> {
            int xb = p * hw;
            int yb = p * ohw;
            Arrays.fill(dx, xb, xb + hw, 0f);
            for (int o = yb; o < yb + ohw; o++) {
                long at = idx[o];
                if (at < 0 || at >= hw) {
                    synchronized (bad) {
                        if (bad[0] < 0 || o < bad[0]) {
                            bad[0] = o;
                        }
                    }
                    continue;
                }
                dx[xb + (int) at] += dy[o];
            }
        });
        return bad[0];
    }

    static void avgForward(float[] x, float[] y, int planes, int h, int w, int oh, int ow, ConvSpec s) {
        double inv = 1.0 / (s.kernelH() * s.kernelW());
        CpuLoops.forTasks(planes, (long) planes * oh * ow * s.kernelH() * s.kernelW(), p -> {
            int xb = p * h * w;
            int yb = p * oh * ow;
            for (int i = 0; i < oh; i++) {
                int h0 = i * s.strideH() - s.padH();
                int u0 = Math.max(0, -h0);
                int u1 = Math.min(s.kernelH(), h - h0);
                for (int j = 0; j < ow; j++) {
                    int w0 = j * s.strideW() - s.padW();
                    int v0 = Math.max(0, -w0);
                    int v1 = Math.min(s.kernelW(), w - w0);
                    double sum = 0;
                    for (int u = u0; u < u1; u++) {
                        int row = xb + (h0 + u) * w + w0;
                        for (int v = v0; v < v1; v++) {
                            sum += x[row + v];
                        }
                    }
                    y[yb + i * ow + j] = (float) (sum * inv);
                }
            }
        });
    }

    static void avgBackward(float[] dy, float[] dx, int planes, int h, int w, int oh, int ow, ConvSpec s) {
        float div = s.kernelH() * s.kernelW();
        CpuLoops.forTasks(planes, (long) planes * oh * ow * s.kernelH() * s.kernelW(), p -> {
            int xb = p * h * w;
            int yb = p * oh * ow;
            Arrays.fill(dx, xb, xb + h * w, 0f);
            for (int i = 0; i < oh; i++) {
                int h0 = i * s.strideH() - s.padH();
                int u0 = Math.max(0, -h0);
                int u1 = Math.min(s.kernelH(), h - h0);
                for (int j = 0; j < ow; j++) {
                    int w0 = j * s.strideW() - s.padW();
                    int v0 = Math.max(0, -w0);
                    int v1 = Math.min(s.kernelW(), w - w0);
                    float g = dy[yb + i * ow + j] / div;
                    for (int u = u0; u < u1; u++) {
                        int row = xb + (h0 + u) * w + w0;
                        for (int v = v0; v < v1; v++) {
                            dx[row + v] += g;
                        }
                    }
                }
            }
        });
    }
}
