package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.cpu.gemm.SerialSgemm;
import dev.jtrain.backend.cpu.gemm.Sgemm;

/**
 * 2-D convolution (cross-correlation, zero padding; FORMAT.md items 16-17) by im2col + SGEMM over
 * chunks of samples.
 *
 * <p>With K = Cin kH kW and P = OH OW, a chunk of S samples is laid out as one column matrix
 * col [K, S P]: sample s's output position q is column s P + q, and
 * {@code col[(c kH + u) kW + v, s P + i OW + j] = xpad[s, c, i sH + u, j sW + v]}. Then one GEMM per
 * chunk does each product: {@code Y = W [Cout, K] col} (scattered to NCHW with the bias added),
 * {@code dW += dY [Cout, S P] col^T} and {@code dcol = W^T dY} (then col2im), where dY is dy of the
 * chunk gathered into the same column order. One sample's GEMM is small (LeNet's conv2:
 * 16 x 150 x 100), so per-sample calls spent their time packing and in call overhead; a chunk's GEMM
 * is wide enough for the GEMM's own blocking and threading. Outputs of {@link #WIDE_OUTPUT} positions or
 * more per sample go forward one sample per GEMM instead (see there).
 *
 * <p>S is the largest count whose col fits {@link #COL_FLOATS} floats (at least 1), a function of the
 * shape only. Threads take whole chunks (see {@link #byChunk}); the backward's chunks form at most
 * {@link #MAX_GROUPS} groups of consecutive chunks, each summing its dW in its own partial, and the
 * partials are added to dW in group order in double, so the bits do not depend on the thread count
 * (the GEMM's do not either). Work arrays are per-thread workspace, reused.
 */
final class CpuConv {
    private CpuConv() {
    }

    /**
     * Floats of one chunk's column matrix: 256 KiB, so that col, the chunk's output and the GEMM's
     * packed panels stay in the L2 cache (LeNet's conv1: 3 samples per chunk, conv2: 4; the cnn's
     * conv1: 9, conv2: 1). Measured (JMH ConvBenchmark, 1 thread, forward + backward): 2^16 and 2^18
     * floats were within noise of each other and 10-50 % faster than 2^21 (the whole batch in one
     * chunk, whose col and output then stream through memory); chunks of 2 samples made the cnn's
     * conv2 (196 positions) 10-20 % slower than 1. Property {@code jtrain.conv.colFloats} overrides
     * it, for tuning only.
     */
    static final int COL_FLOATS = Math.max(1, Integer.getInteger("jtrain.conv.colFloats", 1 << 16));

    /** At most this many dW partial sums (groups of consecutive chunks) per backward call. */
    static final int MAX_GROUPS = 16;

    /**
     * Outputs of at least this many positions per sample (OH OW) go forward one sample per GEMM: such
     * a GEMM is already wide (LeNet's and the cnn's first layers: 784 positions, 24.5 panels of 32), and
     * the chunked path's extra pass (scattering the chunk's output to NCHW) cost those layers 40 %
     * (one-JVM A/B, 1 thread); narrow outputs (100 and 196 positions) gained 3-13 % from chunks.
     */
    static final int WIDE_OUTPUT = 512;

    /** Samples per chunk for a column matrix of k rows and p columns per sample. */
    static int samplesPerChunk(int k, int p, int n, int colFloats) {
        long perSample = Math.max(1L, (long) k * p);
        return (int) Math.max(1, Math.min(n, colFloats / perSample));
    }

    static void forward(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                        int oh, int ow, ConvSpec s) {
        forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s, COL_FLOATS);
    }

    static void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db, int n, int cin,
                         int h, int wd, int cout, int oh, int ow, ConvSpec s) {
        backward(x, w, dy, dx, dw, db, n, cin, h, wd, cout, oh, ow, s, COL_FLOATS);
    }

    /**
     * Runs one task per chunk on the pool when there are at least as many chunks as threads (each
     * chunk's GEMMs then run on its thread alone, through {@link SerialSgemm}: no barrier inside a
     * chunk, which a loaded machine punishes, and no panel packed twice); otherwise the chunks in
     * turn, each GEMM using the pool. Either way every output is computed the same way, so the bits
     * do not change with the thread count.
     */
    private static void byChunk(int chunks, long work, java.util.function.IntConsumer body) {
        if (chunks >= CpuThreads.threads()) {
            CpuLoops.forTasks(chunks, work, body);
        } else {
            for (int c = 0; c < chunks; c++) {
                body.accept(c);
            }
        }
    }

    /**
     * Whether forward takes {@link CpuDirectConv} or {@link CpuRowConv} for layers they apply to (property
     * {@code jtrain.conv.direct}, default true; false forces im2col + GEMM, for A/B benchmarks and tests).
     */
    static final boolean DIRECT = Boolean.parseBoolean(System.getProperty("jtrain.conv.direct", "true"));

    /** {@link #forward} with a chosen chunk budget (tests place chunk boundaries with it). */
    static void forward(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                        int oh, int ow, ConvSpec s, int colFloats) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        if (DIRECT && CpuSimd.VECTOR && CpuDirectConv.applies(cin, cout, k, p)) {
            CpuDirectConv.forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s);
            return;
        }
        if (DIRECT && CpuSimd.VECTOR && CpuRowConv.applies(cin, ow, s)) {
            CpuRowConv.forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s);
            return;
        }
        forwardIm2col(x, w, b, y, n, cin, h, wd, cout, oh, ow, s, colFloats);
    }

    /** The im2col + GEMM forward, whatever the layer (tests compare the direct path with it). */
    static void forwardIm2col(float[] x, float[] w, float[] b, float[] y, int n, int cin, int h, int wd, int cout,
                              int oh, int ow, ConvSpec s, int colFloats) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        int xs = cin * h * wd;
        int ys = cout * p;
        // wide outputs: chunks of one sample, whose GEMM writes y directly
        int chunk = p >= WIDE_OUTPUT ? 1 : samplesPerChunk(k, p, n, colFloats);
        int chunks = (n + chunk - 1) / chunk;
        boolean serial = chunks >= CpuThreads.threads(); // see byChunk
        byChunk(chunks, (long) n * cout * k * p, c -> {
            int first = c * chunk;
            int sc = Math.min(chunk, n - first);
            int ld = sc * p;
            float[] col = CpuWorkspace.floats(CpuWorkspace.COL, k * ld);
            for (int t = 0; t < sc; t++) {
                im2col(x, (first + t) * xs, cin, h, wd, oh, ow, s, col, t * p, ld);
            }
            if (sc == 1) {
                gemm(serial, false, false, cout, p, k, w, 0, k, col, 0, p, 0f, y, first * ys, p);
                if (b != null) {
                    for (int o = 0; o < cout; o++) {
                        addConstant(y, first * ys + o * p, p, b[o]);
                    }
                }
                return;
            }
            float[] yc = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, cout * ld);
            gemm(serial, false, false, cout, ld, k, w, 0, k, col, 0, ld, 0f, yc, 0, ld);
            for (int t = 0; t < sc; t++) {
                int dst = (first + t) * ys;
                for (int o = 0; o < cout; o++) {
                    float bo = b == null ? 0f : b[o];
                    int src = o * ld + t * p;
                    int d = dst + o * p;
                    for (int q = 0; q < p; q++) {
                        y[d + q] = yc[src + q] + bo;
                    }
                }
            }
        });
    }

    /** {@link #backward} with a chosen chunk budget (tests place chunk boundaries with it). */
    static void backward(float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db, int n, int cin,
                         int h, int wd, int cout, int oh, int ow, ConvSpec s, int colFloats) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        int xs = cin * h * wd;
        int ys = cout * p;
        if (db != null) {
            CpuLoops.forTasks(cout, (long) n * ys,
                    o -> db[o] = (float) (db[o] + CpuBias.channelSum(dy, n, cout, p, o)));
        }
        if (dw == null && dx == null) {
            return;
        }
        // at least MAX_GROUPS chunks where the batch allows, so that the groups (the tasks) are even
        int chunk = Math.min(samplesPerChunk(k, p, n, colFloats),
                Math.max(1, (n + MAX_GROUPS - 1) / MAX_GROUPS));
        int chunks = (n + chunk - 1) / chunk;
        int groups = Math.min(MAX_GROUPS, chunks);
        int wsize = cout * k;
        // one dW partial per group of chunks, summed in group order below (taken before the tasks: the
        // calling thread runs tasks too, and they use the other slots)
        float[] partial = dw == null ? null : CpuWorkspace.floats(CpuWorkspace.CONV_PARTIAL, groups * wsize);
        boolean serial = groups >= CpuThreads.threads(); // see byChunk
        // the direct weight gradient leaves each partial transposed, [K][Cout]
        boolean direct = DIRECT && CpuSimd.VECTOR && CpuDirectConv.applies(cin, cout, k, p);
        boolean rows = DIRECT && CpuSimd.VECTOR && !direct && CpuRowConv.applies(cin, ow, s);
        byChunk(groups, 2L * n * cout * k * p, g -> {
            // group g: chunks [g chunks / groups, (g + 1) chunks / groups), sizes differing by at most one
            int c0 = (int) ((long) g * chunks / groups);
            int c1 = (int) ((long) (g + 1) * chunks / groups);
            for (int c = c0; c < c1; c++) {
                backwardChunk(serial, direct, rows, x, w, dy, dx, dw == null ? null : partial, g * wsize, c == c0,
                        c * chunk, Math.min(chunk, n - c * chunk), cin, h, wd, cout, oh, ow, s);
            }
        });
        if (dw != null) {
            CpuLoops.forRange(wsize, (from, to) -> {
                for (int i = from; i < to; i++) {
                    int at = direct ? (i % k) * cout + i / k : i;
                    double sum = dw[i];
                    for (int c = 0; c < groups; c++) {
                        sum += partial[c * wsize + at];
                    }
                    dw[i] = (float) sum;
                }
            });
        }
    }

    /**
     * The samples [first, first + sc) of a backward: their dW into partial at pOff (overwritten when
     * {@code firstInGroup}, else added), their dx (overwritten).
     */
    private static void backwardChunk(boolean serial, boolean direct, boolean rows, float[] x, float[] w, float[] dy, float[] dx,
                                      float[] partial, int pOff, boolean firstInGroup, int first, int sc,
                                      int cin, int h, int wd, int cout, int oh, int ow, ConvSpec s) {
        int k = cin * s.kernelH() * s.kernelW();
        int p = oh * ow;
        int xs = cin * h * wd;
        int ys = cout * p;
        int ld = sc * p;
        if (partial != null && direct) {
            // before dyc is gathered below: the direct path uses the CONV_OUT slot itself
            CpuDirectConv.weightGradient(x, dy, first, sc, cin, h, wd, cout, oh, ow, s, partial, pOff, firstInGroup);
        } else if (partial != null && rows) {
            CpuRowConv.weightGradient(x, dy, first, sc, cin, h, wd, cout, oh, ow, s, partial, pOff, firstInGroup);
        }
        // dy of the chunk in column order: for one sample that is dy itself
        float[] dyc = dy;
        int dyOff = first * ys;
        if (sc > 1) {
            dyc = CpuWorkspace.floats(CpuWorkspace.CONV_OUT, cout * ld);
            dyOff = 0;
            for (int t = 0; t < sc; t++) {
                int src = (first + t) * ys;
                for (int o = 0; o < cout; o++) {
                    System.arraycopy(dy, src + o * p, dyc, o * ld + t * p, p);
                }
            }
        }
        if (partial != null && !direct && !rows) {
            float[] col = CpuWorkspace.floats(CpuWorkspace.COL, k * ld);
            for (int t = 0; t < sc; t++) {
                im2col(x, (first + t) * xs, cin, h, wd, oh, ow, s, col, t * p, ld);
            }
            gemm(serial, false, true, cout, k, ld, dyc, dyOff, ld, col, 0, ld, firstInGroup ? 0f : 1f,
                    partial, pOff, k);
        }
        if (dx != null) {
            // the vector col2im reads a little before and after the runs it uses: dcol gets that room
            boolean vectorCol2im = DIRECT && CpuSimd.VECTOR && CpuCol2imVector.applies(s);
            int pad = vectorCol2im ? CpuCol2imVector.slack(s) : 0;
            float[] dcol = CpuWorkspace.floats(CpuWorkspace.DCOL, k * ld + 2 * pad);
            gemm(serial, true, false, k, ld, cout, w, 0, k, dyc, dyOff, ld, 0f, dcol, pad, ld);
            if (vectorCol2im && CpuCol2imVector.fits(dcol, pad, ld, k, s)) {
                CpuCol2imVector.Plan plan = CpuCol2imVector.plan(h, wd, oh, ow, ld, s);
                for (int t = 0; t < sc; t++) {
                    CpuCol2imVector.col2im(dcol, pad + t * p, ld, cin, s, plan, dx, (first + t) * xs);
                }
            } else {
                for (int t = 0; t < sc; t++) {
                    col2im(dcol, t * p, ld, cin, h, wd, oh, ow, s, dx, (first + t) * xs);
                }
            }
        }
    }

    /**
     * C = op(A) op(B) + beta C on the calling thread ({@code serial}: inside a chunk task) or on the
     * pool; the same bits either way.
     */
    private static void gemm(boolean serial, boolean transA, boolean transB, int m, int n, int k, float[] a,
                             int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff,
                             int ldc) {
        if (serial) {
            SerialSgemm.sgemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            Sgemm.sgemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    private static void addConstant(float[] a, int from, int len, float v) {
        for (int i = from; i < from + len; i++) {
            a[i] += v;
        }
    }

    /**
     * The columns of the sample at xOff into col: its row {@code (c kH + u) kW + v} starts at
     * {@code colOff + row * ld} and holds P values (zero where the window reaches into the padding).
     */
    static void im2col(float[] x, int xOff, int cin, int h, int wd, int oh, int ow, ConvSpec s, float[] col,
                       int colOff, int ld) {
        if (s.strideH() == 1 && s.strideW() == 1 && ow == wd) {
            im2colSame(x, xOff, cin, h, wd, oh, ow, s, col, colOff, ld);
        } else {
            im2colRows(x, xOff, cin, h, wd, oh, ow, s, col, colOff, ld);
        }
    }

    /** {@link #im2col} for any stride and padding: one copy (or strided loop) per output row and tap. */
    static void im2colRows(float[] x, int xOff, int cin, int h, int wd, int oh, int ow, ConvSpec s, float[] col,
                           int colOff, int ld) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int sh = s.strideH();
        int sw = s.strideW();
        int ph = s.padH();
        int pw = s.padW();
        for (int c = 0; c < cin; c++) {
            int plane = xOff + c * h * wd;
            for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                    int row = colOff + ((c * kh + u) * kw + v) * ld;
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

    /**
     * {@link #im2col} for stride 1 and an output as wide as the input ("same" padding, e.g. 3x3 pad 1): a column row
     * is then the input plane shifted by one offset, {@code col[row + q] = x[base + q]} for every position q whose
     * window tap lies inside the input, so each row is one copy of its run of valid positions plus zeros at the
     * padded edges, not one short copy per output row (the cnn's conv2: 14-float rows, 8 % of a training step).
     */
    static void im2colSame(float[] x, int xOff, int cin, int h, int wd, int oh, int ow, ConvSpec s,
                           float[] col, int colOff, int ld) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int ph = s.padH();
        int pw = s.padW();
        int p = oh * ow;
        for (int c = 0; c < cin; c++) {
            int plane = xOff + c * h * wd;
            for (int u = 0; u < kh; u++) {
                // output rows i whose input row i - ph + u lies in [0, h)
                int iLo = Math.max(0, Math.min(oh, ph - u));
                int iHi = Math.max(iLo, Math.min(oh, h + ph - u));
                for (int v = 0; v < kw; v++) {
                    int row = colOff + ((c * kh + u) * kw + v) * ld;
                    int jLo = Math.max(0, Math.min(ow, pw - v));
                    int jHi = Math.max(jLo, Math.min(ow, wd + pw - v));
                    if (iLo == iHi || jLo == jHi) {
                        java.util.Arrays.fill(col, row, row + p, 0f);
                        continue;
                    }
                    int q0 = iLo * ow + jLo;
                    int q1 = (iHi - 1) * ow + jHi;
                    int base = plane + (u - ph) * wd + (v - pw);
                    java.util.Arrays.fill(col, row, row + q0, 0f);
                    System.arraycopy(x, base + q0, col, row + q0, q1 - q0);
                    java.util.Arrays.fill(col, row + q1, row + p, 0f);
                    // inside the run, the columns whose tap falls in the left or right padding
                    for (int i = iLo; i < iHi; i++) {
                        int r = row + i * ow;
                        for (int j = 0; j < jLo; j++) {
                            col[r + j] = 0f;
                        }
                        for (int j = jHi; j < ow; j++) {
                            col[r + j] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * dx[sample at xOff] = the sum of its columns in dcol (laid out as {@link #im2col} writes them) over
     * the positions each input element appears in; overwrites.
     */
    static void col2im(float[] dcol, int colOff, int ld, int cin, int h, int wd, int oh, int ow, ConvSpec s,
                       float[] dx, int xOff) {
        int kh = s.kernelH();
        int kw = s.kernelW();
        int sh = s.strideH();
        int sw = s.strideW();
        int ph = s.padH();
        int pw = s.padW();
        java.util.Arrays.fill(dx, xOff, xOff + cin * h * wd, 0f);
        for (int c = 0; c < cin; c++) {
            int plane = xOff + c * h * wd;
            for (int u = 0; u < kh; u++) {
                for (int v = 0; v < kw; v++) {
                    int row = colOff + ((c * kh + u) * kw + v) * ld;
                    int jLo = Math.max(0, Math.min(ow, ceilDiv(pw - v, sw)));
                    int jHi = Math.max(jLo, Math.min(ow, ceilDiv(wd + pw - v, sw)));
                    for (int i = 0; i < oh; i++) {
                        int hh = i * sh - ph + u;
                        if (hh < 0 || hh >= h) {
                            continue;
                        }
                        int src = row + i * ow;
                        int dst = plane + hh * wd - pw + v;
                        if (sw == 1) {
                            addRun(dcol, src + jLo, dx, dst + jLo, jHi - jLo);
                        } else {
                            for (int j = jLo; j < jHi; j++) {
                                dx[dst + j * sw] += dcol[src + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /** dst[d, d+len) += src[s, s+len): a unit-stride loop of its own, which C2 vectorises. */
    private static void addRun(float[] src, int s, float[] dst, int d, int len) {
        for (int j = 0; j < len; j++) {
            dst[d + j] += src[s + j];
        }
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
