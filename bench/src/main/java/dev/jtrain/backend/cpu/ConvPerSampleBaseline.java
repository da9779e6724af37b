package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.cpu.gemm.Sgemm;

/**
 * FROZEN BASELINE for {@link ConvAbComparison} only: CpuConv as it was before issue 10's chunked
 * version (main at 3a575dd), so the two can be timed alternately in one JVM. Not used by jtrain.
 *
 * <p>2-D convolution (cross-correlation, zero padding; FORMAT.md items 16-17) by im2col + SGEMM per sample.
 *
 * <p>With K = Cin kH kW and P = OH OW, sample n's columns col [K, P] hold
 * {@code col[(c kH + u) kW + v, i OW + j] = xpad[n, c, i sH + u, j sW + v]}; then
 * {@code y[n] = W [Cout, K] col + b}, {@code dW += dy[n] [Cout, P] col^T} and
 * {@code dx[n] = col2im(W^T dy[n])}. A 1x1 kernel with stride 1 and no padding uses x itself as col.
 *
 * <p>Threads: forward and dx run one task per sample (each sample's GEMM is then single-threaded;
 * with fewer samples than threads the samples run in turn and each GEMM goes parallel). dW is summed per fixed group of samples into its own
 * buffer and the groups are added in group order in double, so the bits do not depend on the thread
 * count. Column buffers are per-thread workspace, reused across calls.
 */
final class ConvPerSampleBaseline {
    private ConvPerSampleBaseline() {
    }

    /** At most this many dW partial sums (groups of samples) per backward call. */
    private static final int MAX_GROUPS = 16;

    /**
     * Runs one task per sample (or group) on the pool when there are at least as many as threads (each
     * task's GEMM then runs on its own thread); otherwise one after the other, each GEMM using the pool.
     * Either way every output is computed the same way, so the bits do not change.
     */
    private static void bySample(int tasks, long work, java.util.function.IntConsumer body) {
        if (tasks >= CpuThreads.threads()) {
            CpuLoops.forTasks(tasks, work, body);
        } else {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
        }
    }

    static boolean direct(ConvSpec s) {
        return s.kernelH() == 1 && s.kernelW() == 1 && s.strideH() == 1 && s.strideW() == 1
                && s.padH() == 0 && s.padW() == 0;
    }

    static void forward(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                        int oh, int ow, ConvSpec s) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        boolean direct = direct(s);
        bySample(n, (long) n * cout * k * p, r -> {
            float[] col;
            int colOff;
            if (direct) {
                col = x;
                colOff = r * cin * h * wd;
            } else {
                col = CpuWorkspace.floats(CpuWorkspace.COL, k * p);
                colOff = 0;
                im2col(x, r * cin * h * wd, cin, h, wd, oh, ow, s, col);
            }
            int yOff = r * cout * p;
            Sgemm.sgemm(false, false, cout, p, k, 1f, w, 0, k, col, colOff, p, 0f, y, yOff, p);
            if (b != null) {
                for (int o = 0; o < cout; o++) {
                    float bo = b[o];
                    int base = yOff + o * p;
                    for (int i = base; i < base + p; i++) {
                        y[i] += bo;
                    }
                }
            }
        });
    }

    static void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db, int n, int cin,
                         int h, int wd, int cout, int oh, int ow, ConvSpec s) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        int xs = cin * h * wd;
        if (db != null) {
            CpuLoops.forTasks(cout, (long) n * cout * p, o -> db[o] = (float) (db[o] + CpuBias.channelSum(dy, n, cout, p, o)));
        }
        if (dw == null && dx == null) {
            return;
        }
        boolean direct = direct(s);
        int groupSize = (n + MAX_GROUPS - 1) / MAX_GROUPS;
        int groups = n == 0 ? 0 : (n + groupSize - 1) / groupSize;
        int wsize = cout * k;
        float[] partial = dw == null ? null : CpuWorkspace.floats(CpuWorkspace.CONV_PARTIAL, groups * wsize);
        bySample(groups, 2L * n * cout * k * p, g -> {
            int r0 = g * groupSize;
            int r1 = Math.min(n, r0 + groupSize);
            for (int r = r0; r < r1; r++) {
                int xOff = r * xs;
                int dyOff = r * cout * p;
                if (dw != null) {
                    float[] col;
                    int colOff;
                    if (direct) {
                        col = x;
                        colOff = xOff;
                    } else {
                        col = CpuWorkspace.floats(CpuWorkspace.COL, k * p);
                        colOff = 0;
                        im2col(x, xOff, cin, h, wd, oh, ow, s, col);
                    }
                    Sgemm.sgemm(false, true, cout, k, p, 1f, dy, dyOff, p, col, colOff, p,
                            r == r0 ? 0f : 1f, partial, g * wsize, k);
                }
                if (dx != null) {
                    if (direct) {
                        Sgemm.sgemm(true, false, k, p, cout, 1f, w, 0, k, dy, dyOff, p, 0f, dx, xOff, p);
                    } else {
                        float[] dcol = CpuWorkspace.floats(CpuWorkspace.DCOL, k * p);
                        Sgemm.sgemm(true, false, k, p, cout, 1f, w, 0, k, dy, dyOff, p, 0f, dcol, 0, p);
                        col2im(dcol, cin, h, wd, oh, ow, s, dx, xOff);
                    }
                }
            }
        });
        if (dw != null && groups > 0) {
            CpuLoops.forRange(wsize, (from, to) -> {
                for (int i = from; i < to; i++) {
                    double sum = dw[i];
                    for (int g = 0; g < groups; g++) {
                        sum += partial[g * wsize + i];
                    }
                    dw[i] = (float) sum;
                }
            });
        }
    }

    /** col [cin kH kW, oh ow] of the sample at xOff (zero where the window reaches into the padding). */
    static void im2col(float[] x, int xOff, int cin, int h, int wd, int oh, int ow, ConvSpec s, float[] col) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int sh = s.strideH();
        int sw = s.strideW();
        int ph = s.padH();
        int pw = s.padW();
        int p = oh * ow;
        for (int c = 0; c < cin; c++) {
            int plane = xOff + c * h * wd;
            for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                    int row = ((c * kh + u) * kw + v) * p;
                    // output columns j whose input column j*sw - pw + v lies in [0, wd)
                    int jLo = Math.max(0, Math.min(ow, ceilDiv(pw - v, sw)));
                    int jHi = Math.max(jLo, Math.min(ow, ceilDiv(wd + pw - v, sw)));
                    for (int i = 0; i < oh; i++) {
                        int hh = i * sh - ph + u;
                        int dst = row + i * ow;
                        if (hh < 0 || hh >= h) {
                            java.util.Arrays.fill(col, dst, dst + ow, 0f);
                            continue;
                        }
                        int src = plane + hh * wd - pw + v;
                        for (int j = 0; j < jLo; j++) {
                            col[dst + j] = 0f;
                        }
                        if (sw == 1) {
                            System.arraycopy(x, src + jLo, col, dst + jLo, jHi - jLo);
                        } else {
                            for (int j = jLo; j < jHi; j++) {
                                col[dst + j] = x[src + j * sw];
                            }
                        }
                        for (int j = jHi; j < ow; j++) {
                            col[dst + j] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** dx[sample at xOff] = sum of dcol over the positions each input element appears in (overwrites). */
    static void col2im(float[] dcol, int cin, int h, int wd, int oh, int ow, ConvSpec s, float[] dx, int xOff) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int sh = s.strideH();
        int sw = s.strideW();
        int ph = s.padH();
        int pw = s.padW();
        int p = oh * ow;
        java.util.Arrays.fill(dx, xOff, xOff + cin * h * wd, 0f);
        for (int c = 0; c < cin; c++) {
            int plane = xOff + c * h * wd;
            for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                    int row = ((c * kh + u) * kw + v) * p;
                    int jLo = Math.max(0, Math.min(ow, ceilDiv(pw - v, sw)));
                    int jHi = Math.max(jLo, Math.min(ow, ceilDiv(wd + pw - v, sw)));
                    for (int i = 0; i < oh; i++) {
                        int hh = i * sh - ph + u;
                        if (hh < 0 || hh >= h) {
                            continue;
                        }
                        int src = row + i * ow;
                        int dst = plane + hh * wd - pw + v;
                        for (int j = jLo; j < jHi; j++) {
                            dx[dst + j * sw] += dcol[src + j];
                        }
                    }
                }
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
