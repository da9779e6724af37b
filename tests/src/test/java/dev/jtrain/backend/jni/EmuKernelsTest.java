package dev.jtrain.backend.jni;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.jni.EmuTestSupport.assertBits;
import static dev.jtrain.backend.jni.EmuTestSupport.assertClose;
import static dev.jtrain.backend.jni.EmuTestSupport.emu;
import static dev.jtrain.backend.jni.EmuTestSupport.rand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every bound kernel family run on the emu device through JNI, on small inputs at awkward sizes, against
 * the CPU backend (the same op semantics, Backend.java). Tolerances, and why:
 * <ul>
 *   <li>bit-exact where both sides compute the same float operations in the same order: elementwise (axpy:
 *       1 ulp, the cpu may fuse its multiply-add),
 *       Philox dropout and random fills (docs/architecture.md, section 6), the optimizer rules (optim.h),
 *       max pooling;</li>
 *   <li>1e-6 relative for pointwise float math (activations, losses): both evaluate the same formulas, but
 *       the JIT and g++ may contract or order a multiply-add differently;</li>
 *   <li>1e-5 relative (+ a small absolute term) for sums over many elements (GEMM, reductions, BatchNorm,
 *       convolution), whose summation order differs between the blocked kernels and the CPU loops.</li>
 * </ul>
 */
class EmuKernelsTest {
    private static final Backend CPU = Backends.cpu();

    private NativeApi api;
    private EmuTestSupport.Dev dev;
    private final SplittableRandom rnd = new SplittableRandom(20240611);

    @BeforeEach
    void setUp() {
        api = emu();
        dev = new EmuTestSupport.Dev(api);
    }

    @AfterEach
    void tearDown() {
        if (dev != null) {
            dev.close();
        }
    }

    private float[] r(int n) {
        return rand(rnd, n, -2, 2);
    }

    private static Tensor t(float[] data, int... dims) {
        return Tensor.of(data.clone(), dims);
    }

    // ------------------------------------------------------------------ gemm

    @Test
    void gemmAllTranspositionsAndConfigsMatchCpu() {
        int[][] sizes = {{1, 1, 1}, {7, 33, 13}, {65, 17, 129}};
        for (int[] s : sizes) {
            int m = s[0], n = s[1], k = s[2];
            for (int ta = 0; ta < 2; ta++) {
                for (int tb = 0; tb < 2; tb++) {
                    boolean transA = ta == 1, transB = tb == 1;
                    float[] a = r(m * k), b = r(k * n), c0 = r(m * n);
                    Tensor ct = t(c0, m, n);
                    CPU.gemm(transA, transB, 0.75f, t(a, transA ? k : m, transA ? m : k),
                            t(b, transB ? n : k, transB ? k : n), 0.5f, ct);
                    for (int config = 0; config < 4; config++) {
                        long da = dev.floats(a), db = dev.floats(b), dc = dev.floats(c0);
                        api.gemmSgemm(config, transA, transB, m, n, k, 0.75f, da, transA ? m : k, db, transB ? k : n,
                                0.5f, dc, n, 0, false, 0);
                        assertClose("gemm " + m + "x" + n + "x" + k + " tA=" + transA + " tB=" + transB + " config "
                                + config, ct.floats(), dev.get(dc, m * n), 1e-5, 1e-5 * k);
                    }
                }
            }
        }
    }

    @Test
    void gemmBatchedMatchesPerItemGemmBitForBit() {
        // Items of a shared a (stride 0, the conv weights) times separate b, into c items with a gap between them.
        int m = 7, n = 33, k = 13, batch = 5;
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                boolean transA = ta == 1, transB = tb == 1;
                int lda = transA ? m : k, ldb = transB ? k : n;
                long strideB = (long) k * n + 3, strideC = (long) m * n + 5;
                float[] a = r(m * k), b = r((int) (strideB * batch)), c0 = r((int) (strideC * batch));
                long da = dev.floats(a), db = dev.floats(b), dc = dev.floats(c0), single = dev.floats(c0);
                api.gemmSgemmBatched(0, transA, transB, m, n, k, 0.75f, da, lda, 0, db, ldb, strideB, 0.5f, dc, n,
                        strideC, batch, 0);
                for (int i = 0; i < batch; i++) {
                    api.gemmSgemm(0, transA, transB, m, n, k, 0.75f, da, lda, db + 4L * i * strideB, ldb, 0.5f,
                            single + 4L * i * strideC, n, 0, false, 0);
                }
                assertBits("batched gemm tA=" + transA + " tB=" + transB, dev.get(single, c0.length),
                        dev.get(dc, c0.length));
            }
        }
    }

    @Test
    void gemmBatchedRejectsBadArgumentsNamingThem() {
        long p = dev.zeros(64);   // 4 items of 2x2 (stride 4) in each of a [0, 16), b [16, 32), c [48, 64)
        long a = p, b = p + 4L * 16, c = p + 4L * 48;
        api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 0f, c, 2, 4, 4, 0);   // fits exactly
        api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, 0, 2, 4, 0, 2, 4, 0f, 0, 2, 4, 0, 0);   // batch 0: no-op
        assertIae("batch must be >= 0",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 0f, c, 2, 4, -1, 0));
        assertIae("strideA must be >= 0",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, -4, b, 2, 4, 0f, c, 2, 4, 2, 0));
        assertIae("strideC = 0 makes the 2 items of c",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 1f, c, 2, 0, 2, 0));
        assertIae("strideC = 3 makes",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 1f, c, 2, 3, 2, 0));
        // The last item's extent, not just the first matrix, must lie inside the allocation.
        assertIae("c needs",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 0f, c, 2, 4, 5, 0));
        assertIae("b needs",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 0, b, 2, 16, 0f, c, 2, 4, 4, 0));
        assertIae("a is a null device pointer",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, 0, 2, 4, b, 2, 4, 0f, c, 2, 4, 1, 0));
        assertIae("size overflow",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, Long.MAX_VALUE / 2, b, 2, 4, 0f, c, 2,
                        4, 4, 0));
        assertIae("ldc must be >= n",
                () -> api.gemmSgemmBatched(0, false, false, 2, 2, 2, 1f, a, 2, 4, b, 2, 4, 0f, c, 1, 4, 1, 0));
    }

    private static void assertIae(String fragment, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "expected '" + fragment + "' in: " + e.getMessage());
    }

    @Test
    void gemmBiasReluEpilogueAndBetaZeroIgnoresNaN() {
        int m = 9, n = 21, k = 5;
        float[] a = r(m * k), b = r(k * n), bias = r(n), c0 = new float[m * n];
        java.util.Arrays.fill(c0, Float.NaN);
        Tensor ct = t(new float[m * n], m, n);
        CPU.gemm(false, false, 1f, t(a, m, k), t(b, k, n), 0f, ct);
        CPU.addBias(ct, t(bias, n));
        CPU.activationForward(Activation.relu(), ct, ct);
        long dc = dev.floats(c0);
        api.gemmSgemm(0, false, false, m, n, k, 1f, dev.floats(a), k, dev.floats(b), n, 0f, dc, n, dev.floats(bias), true,
                0);
        assertClose("gemm + bias + relu", ct.floats(), dev.get(dc, m * n), 1e-5, 1e-5);
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void elementwiseOpsAreBitExact() {
        int n = 1001;
        float[] a = r(n), b = r(n);
        long da = dev.floats(a), db = dev.floats(b), out = dev.zeros(n);

        Tensor ref = t(new float[n], n);
        CPU.add(t(a, n), t(b, n), ref);
        api.elementwiseAdd(da, db, out, n, 0);
        assertBits("add", ref.floats(), dev.get(out, n));

        CPU.mul(t(a, n), t(b, n), ref);
        api.elementwiseMul(da, db, out, n, 0);
        assertBits("mul", ref.floats(), dev.get(out, n));

        Tensor y = t(b, n);
        CPU.axpy(-1.5f, t(a, n), y);
        api.copyDeviceToDevice(out, db, 4L * n);
        api.elementwiseAxpy(-1.5f, da, out, n, 0);
        // The cpu may fuse the multiply-add (Math.fma / vector fma); the kernel rounds twice: 1 ulp apart.
        assertClose("axpy", y.floats(), dev.get(out, n), 2.4e-7, 1e-7);

        Tensor x = t(a, n);
        CPU.scale(x, 0.3f);
        api.elementwiseCopy(da, out, n, 0);
        api.elementwiseScale(out, n, 0.3f, 0);
        assertBits("scale", x.floats(), dev.get(out, n));

        api.elementwiseFill(out, n, 2.5f, 0);
        float[] filled = new float[n];
        java.util.Arrays.fill(filled, 2.5f);
        assertBits("fill", filled, dev.get(out, n));

        long[] longs = {1, -2, Long.MAX_VALUE};
        long dl = dev.longs(longs), dl2 = dev.zerosLongs(3);
        api.elementwiseCopy(dl, dl2, 6, 0);   // int64 as 2 words each
        assertArrayEquals(longs, dev.getLongs(dl2, 3));
    }

    // ------------------------------------------------------------------ activations

    @Test
    void activationsMatchCpu() {
        int n = 777;
        float[] x = rand(rnd, n, -6, 6);
        x[0] = 0f;
        Activation[] acts = {Activation.relu(), Activation.leakyRelu(0.01f), Activation.elu(1.3f), Activation.selu(),
            Activation.sigmoid(), Activation.tanh(), Activation.gelu(false), Activation.gelu(true), Activation.silu(),
            Activation.softplus(2f, 5f), Activation.identity()};
        assertEquals(Activation.Kind.values().length, acts.length);
        for (Activation act : acts) {
            Tensor y = t(new float[n], n);
            CPU.activationForward(act, t(x, n), y);
            long dx = dev.floats(x), dyv = dev.zeros(n);
            api.activationsForward(act.kind().ordinal(), dx, dyv, n, act.alpha(), act.beta(), 0);
            assertClose(act.kind() + " forward", y.floats(), dev.get(dyv, n), 1e-6, 1e-7);

            float[] g = r(n);
            Tensor gx = t(new float[n], n);
            CPU.activationBackward(act, t(x, n), y, t(g, n), gx);
            long dgrad = dev.zeros(n);
            api.activationsBackward(act.kind().ordinal(), dx, dev.floats(y.floats()), dev.floats(g), dgrad, n,
                    act.alpha(), act.beta(), 0);
            assertClose(act.kind() + " backward", gx.floats(), dev.get(dgrad, n), 1e-6, 1e-7);
        }
    }

    @Test
    void preluAndMaxoutMatchCpu() {
        int n = 3, c = 5, inner = 7, total = n * c * inner;
        float[] x = r(total), alpha = r(c), dy = r(total);
        Tensor y = t(new float[total], n, c, inner);
        CPU.preluForward(t(x, n, c, inner), t(alpha, c), y);
        long dx = dev.floats(x), da = dev.floats(alpha), dyv = dev.zeros(total);
        api.activationsPreluForward(dx, da, dyv, n, c, inner, 0);
        assertBits("prelu forward", y.floats(), dev.get(dyv, total));

        Tensor gx = t(new float[total], n, c, inner);
        Tensor galpha = t(new float[c], c);
        CPU.preluBackward(t(x, n, c, inner), t(alpha, c), t(dy, n, c, inner), gx, galpha);
        long dgx = dev.zeros(total), dgalpha = dev.zeros(c);
        long pws = api.activationsPreluBackwardWorkspaceBytes(n, c, inner);
        api.activationsPreluBackward(dx, da, dev.floats(dy), dgx, dgalpha, n, c, inner,
                pws == 0 ? 0L : dev.alloc(pws), 0);
        assertBits("prelu backward dx", gx.floats(), dev.get(dgx, total));
        assertClose("prelu backward dalpha", galpha.floats(), dev.get(dgalpha, c), 1e-5, 1e-6);

        int rows = 6, pieces = 3, d = 11;
        float[] z = r(rows * pieces * d), g = r(rows * d);
        Tensor my = t(new float[rows * d], rows, d);
        Tensor piece = Tensor.ofLongs(new long[rows * d], rows, d);
        CPU.maxoutForward(t(z, rows, pieces * d), pieces, my, piece);
        long dz = dev.floats(z), dmy = dev.zeros(rows * d), dpiece = dev.zerosLongs(rows * d);
        api.activationsMaxoutForward(dz, rows, pieces, d, dmy, dpiece, 0);
        assertBits("maxout forward", my.floats(), dev.get(dmy, rows * d));
        assertArrayEquals(piece.longs(), dev.getLongs(dpiece, rows * d), "maxout pieces");

        Tensor gz = t(new float[rows * pieces * d], rows, pieces * d);
        CPU.maxoutBackward(t(g, rows, d), piece, pieces, gz);
        long dgz = dev.zeros(rows * pieces * d);
        api.activationsMaxoutBackward(dev.floats(g), dpiece, rows, pieces, d, dgz, 0, 0);
        assertBits("maxout backward", gz.floats(), dev.get(dgz, rows * pieces * d));
    }

    // ------------------------------------------------------------------ losses

    @Test
    void lossesMatchCpu() {
        int n = 13, c = 10;
        float[] logits = rand(rnd, n * c, -5, 5);
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(c);
        }
        for (float eps : new float[] {0f, 0.1f}) {
            Tensor probs = t(new float[n * c], n, c), loss = t(new float[n], n);
            CPU.softmaxCrossEntropy(t(logits, n, c), Tensor.ofLongs(labels.clone(), n), eps, probs, loss);
            long dlog = dev.floats(logits), dlab = dev.longs(labels), dprobs = dev.zeros(n * c), dloss = dev.zeros(n);
            api.softmaxXentForward(dlog, dlab, n, c, eps, dprobs, dloss, 0, 0);
            assertClose("softmax probs eps " + eps, probs.floats(), dev.get(dprobs, n * c), 1e-6, 1e-7);
            assertClose("softmax loss eps " + eps, loss.floats(), dev.get(dloss, n), 1e-6, 1e-6);

            Tensor dl = t(new float[n * c], n, c);
            CPU.softmaxCrossEntropyBackward(probs, Tensor.ofLongs(labels.clone(), n), eps, 1f / n, dl);
            long ddl = dev.zeros(n * c);
            api.softmaxXentBackward(dprobs, dlab, n, c, eps, 1f / n, ddl, 0, 0);
            assertClose("softmax backward eps " + eps, dl.floats(), dev.get(ddl, n * c), 1e-6, 1e-7);
        }

        int m = 301;
        float[] z = rand(rnd, m, -8, 8), tg = rand(rnd, m, 0, 1);
        Tensor l = t(new float[m], m);
        CPU.bceWithLogits(t(z, m), t(tg, m), l);
        long dz = dev.floats(z), dt = dev.floats(tg), out = dev.zeros(m);
        api.lossBceWithLogitsForward(dz, dt, m, out, 0);
        assertClose("bce forward", l.floats(), dev.get(out, m), 1e-6, 1e-7);
        CPU.bceWithLogitsBackward(t(z, m), t(tg, m), 0.5f, l);
        api.lossBceWithLogitsBackward(dz, dt, m, 0.5f, out, 0);
        assertClose("bce backward", l.floats(), dev.get(out, m), 1e-6, 1e-7);
        CPU.squaredError(t(z, m), t(tg, m), l);
        api.lossSquaredErrorForward(dz, dt, m, out, 0);
        assertClose("squared error", l.floats(), dev.get(out, m), 1e-6, 1e-7);
        CPU.squaredErrorBackward(t(z, m), t(tg, m), 0.25f, l);
        api.lossSquaredErrorBackward(dz, dt, m, 0.25f, out, 0);
        assertClose("squared error backward", l.floats(), dev.get(out, m), 1e-6, 1e-7);
    }

    // ------------------------------------------------------------------ reductions and bias

    @Test
    void reductionsMatchCpu() {
        long ws = dev.alloc(api.reduceWorkspaceBytes());
        for (int n : new int[] {1, 127, 100_003}) {
            float[] x = r(n);
            long dx = dev.floats(x), out = dev.zeros(1);
            Tensor ref = t(new float[1], 1);
            String w = " n=" + n;
            CPU.sum(t(x, n), ref);
            api.reduceSum(dx, n, out, ws, 0);
            assertClose("sum" + w, ref.floats(), dev.get(out, 1), 1e-5, 1e-5);
            CPU.sumAbs(t(x, n), ref);
            api.reduceSumAbs(dx, n, out, ws, 0);
            assertClose("sumAbs" + w, ref.floats(), dev.get(out, 1), 1e-5, 1e-5);
            CPU.sumSquares(t(x, n), ref, false);
            api.reduceSumSquares(dx, n, out, false, ws, 0);
            assertClose("sumSquares" + w, ref.floats(), dev.get(out, 1), 1e-5, 1e-5);
            CPU.sumSquares(t(x, n), ref, true);
            api.reduceSumSquares(dx, n, out, true, ws, 0);
            assertClose("sumSquares accumulate" + w, ref.floats(), dev.get(out, 1), 1e-5, 1e-5);
            // The workspace is required: a null one is refused before any launch.
            assertThrows(IllegalArgumentException.class, () -> api.reduceSum(dx, n, out, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> api.reduceSumSquares(dx, n, out, true, 0, 0));
        }

        int n = 1000;
        long[] a = new long[n], b = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextInt(4);
            b[i] = rnd.nextInt(4);
        }
        Tensor cnt = t(new float[1], 1);
        CPU.countEqual(Tensor.ofLongs(a, n), Tensor.ofLongs(b, n), cnt);
        long dcnt = dev.zeros(1);
        api.reduceCountEqual(dev.longs(a), dev.longs(b), n, dcnt, ws, 0);
        assertBits("countEqual", cnt.floats(), dev.get(dcnt, 1));

        int rows = 17, cols = 9;
        float[] x = r(rows * cols);
        x[5] = Float.NaN;  // row 0: the first NaN wins
        Tensor am = Tensor.ofLongs(new long[rows], rows);
        CPU.argmaxRows(t(x, rows, cols), am);
        long dam = dev.zerosLongs(rows);
        api.reduceArgmaxRows(dev.floats(x), rows, cols, dam, 0);
        assertArrayEquals(am.longs(), dev.getLongs(dam, rows));

        int bn = 4, bc = 6, inner = 25;
        float[] y = r(bn * bc * inner), bias = r(bc);
        Tensor yt = t(y, bn, bc, inner);
        CPU.addBias(yt, t(bias, bc));
        long dy = dev.floats(y);
        api.elementwiseAddChannelBias(dy, dev.floats(bias), bn, bc, inner, 0);
        assertBits("addBias", yt.floats(), dev.get(dy, bn * bc * inner));
        float[] db0 = r(bc);
        Tensor dbt = t(db0, bc);
        CPU.biasGrad(t(y, bn, bc, inner), dbt);
        long ddb = dev.floats(db0);
        long bws = api.reduceBiasGradWorkspaceBytes(bn, bc, inner);
        api.reduceBiasGrad(dev.floats(y), bn, bc, inner, ddb, bws == 0 ? 0L : dev.alloc(bws), 0);
        assertClose("biasGrad", dbt.floats(), dev.get(ddb, bc), 1e-5, 1e-5);
    }

    // ------------------------------------------------------------------ batchnorm

    @Test
    void batchNormMatchesCpu() {
        int n = 5, c = 3, h = 4, w = 7, inner = h * w, total = n * c * inner;
        float[] x = rand(rnd, total, -1, 3), gamma = r(c), beta = r(c), rm = r(c), rv = rand(rnd, c, 0.5, 2);
        Tensor y = t(new float[total], n, c, h, w);
        Tensor rmT = t(rm, c), rvT = t(rv, c), sm = t(new float[c], c), sv = t(new float[c], c);
        CPU.batchNormForwardTrain(t(x, n, c, h, w), t(gamma, c), t(beta, c), 1e-5f, 0.1f, rmT, rvT, y, sm, sv);
        long dx = dev.floats(x), dg = dev.floats(gamma), dbeta = dev.floats(beta);
        long drm = dev.floats(rm), drv = dev.floats(rv), dyv = dev.zeros(total), dsm = dev.zeros(c), dsv = dev.zeros(c);
        long ws = dev.zeros((int) ((api.batchnormWorkspaceBytes(n, c, inner) + 3) / 4));
        api.batchnormForwardTrain(dx, dg, dbeta, 1e-5f, 0.1f, drm, drv, dyv, dsm, dsv, n, c, inner, ws, 0);
        assertClose("bn train y", y.floats(), dev.get(dyv, total), 1e-5, 1e-5);
        assertClose("bn save mean", sm.floats(), dev.get(dsm, c), 1e-5, 1e-6);
        assertClose("bn save var", sv.floats(), dev.get(dsv, c), 1e-5, 1e-6);
        assertClose("bn running mean", rmT.floats(), dev.get(drm, c), 1e-5, 1e-6);
        assertClose("bn running var", rvT.floats(), dev.get(drv, c), 1e-5, 1e-6);

        Tensor ye = t(new float[total], n, c, h, w);
        CPU.batchNormForwardEval(t(x, n, c, h, w), t(gamma, c), null, rmT, rvT, 1e-5f, ye);
        api.batchnormForwardEval(dx, dg, 0, drm, drv, 1e-5f, dyv, n, c, inner, 0);
        assertClose("bn eval y", ye.floats(), dev.get(dyv, total), 1e-5, 1e-5);

        float[] g = r(total), dgamma0 = r(c), dbeta0 = r(c);
        for (boolean training : new boolean[] {true, false}) {
            Tensor mean = training ? sm : rmT, var = training ? sv : rvT;
            Tensor gx = t(new float[total], n, c, h, w), gg = t(dgamma0, c), gb = t(dbeta0, c);
            CPU.batchNormBackward(t(x, n, c, h, w), t(g, n, c, h, w), t(gamma, c), mean, var, 1e-5f, training, gx, gg,
                    gb);
            long dgx = dev.zeros(total), dgg = dev.floats(dgamma0), dgb = dev.floats(dbeta0);
            api.batchnormBackward(dx, dev.floats(g), dg, dev.floats(mean.floats()), dev.floats(var.floats()), 1e-5f,
                    training, dgx, dgg, dgb, n, c, inner, ws, 0);
            assertClose("bn backward dx training=" + training, gx.floats(), dev.get(dgx, total), 1e-4, 1e-5);
            assertClose("bn backward dgamma training=" + training, gg.floats(), dev.get(dgg, c), 1e-4, 1e-5);
            assertClose("bn backward dbeta training=" + training, gb.floats(), dev.get(dgb, c), 1e-5, 1e-5);
        }
    }

    // ------------------------------------------------------------------ dropout and random fills

    @Test
    void dropoutAndRandomFillsGiveTheCpuBits() {
        int n = 1003;
        float[] x = r(n);
        for (float p : new float[] {0f, 0.3f, 0.5f, 1f}) {
            for (long[] so : new long[][] {{42, 0}, {42, 1}, {(1L << 40) + 7, 3}}) {
                Tensor y = t(new float[n], n), mask = t(new float[n], n);
                CPU.dropoutForward(t(x, n), p, so[0], so[1], y, mask);
                long dy = dev.zeros(n), dm = dev.zeros(n);
                api.dropoutForward(dev.floats(x), dy, dm, n, p, so[0], so[1], 0);
                assertBits("dropout y p=" + p + " seed " + so[0] + " offset " + so[1], y.floats(), dev.get(dy, n));
                assertBits("dropout mask p=" + p, mask.floats(), dev.get(dm, n));
            }
        }
        for (int m : new int[] {1, 6, 1001}) {
            Tensor u = t(new float[m], m);
            CPU.randomUniform(u, -0.5f, 2f, 7, 2);
            long du = dev.zeros(m);
            api.randomUniform(du, m, -0.5f, 2f, 7, 2, 0);
            assertBits("uniform n=" + m, u.floats(), dev.get(du, m));
            Tensor nn = t(new float[m], m);
            CPU.randomNormal(nn, 1f, 0.25f, 9, 4);
            long dn = dev.zeros(m);
            api.randomNormal(dn, m, 1f, 0.25f, 9, 4, 0);
            assertClose("normal n=" + m, nn.floats(), dev.get(dn, m), 1e-6, 1e-7);
        }
    }

    // ------------------------------------------------------------------ optimizers

    @Test
    void optimizerStepsMatchCpu() {
        int n = 333;
        float[] p0 = r(n);
        float[][] grads = {r(n), r(n), r(n)};

        // SGD with momentum and Nesterov, weight decay; 3 steps.
        Tensor p = t(p0, n), buf = t(new float[n], n);
        long dp = dev.floats(p0), dbuf = dev.zeros(n);
        for (int s = 0; s < 3; s++) {
            CPU.sgdStep(p, t(grads[s], n), buf, 0.1f, 0.9f, 0.1f, 1e-2f, true, s == 0);
            api.optimSgd(dp, dev.floats(grads[s]), dbuf, n, 0.1f, 0.9f, 0.1f, 1e-2f, true, s == 0, 0);
        }
        assertBits("sgd param", p.floats(), dev.get(dp, n));
        assertBits("sgd momentum", buf.floats(), dev.get(dbuf, n));

        // Adagrad.
        p = t(p0, n);
        Tensor sum = t(new float[n], n);
        dp = dev.floats(p0);
        long dsum = dev.zeros(n);
        for (int s = 0; s < 3; s++) {
            CPU.adagradStep(p, t(grads[s], n), sum, 0.05f, 1e-3f, 1e-10f);
            api.optimAdagrad(dp, dev.floats(grads[s]), dsum, n, 0.05f, 1e-3f, 1e-10f, 0);
        }
        assertBits("adagrad param", p.floats(), dev.get(dp, n));

        // RMSprop with momentum.
        p = t(p0, n);
        Tensor sq = t(new float[n], n), mb = t(new float[n], n);
        dp = dev.floats(p0);
        long dsq = dev.zeros(n), dmb = dev.zeros(n);
        for (int s = 0; s < 3; s++) {
            CPU.rmspropStep(p, t(grads[s], n), sq, mb, 0.01f, 0.99f, 1e-8f, 1e-4f, 0.5f);
            api.optimRmsprop(dp, dev.floats(grads[s]), dsq, dmb, n, 0.01f, 0.99f, 1e-8f, 1e-4f, 0.5f, 0);
        }
        assertBits("rmsprop param", p.floats(), dev.get(dp, n));

        // Adam, AMSGrad, AdamW.
        for (int variant = 0; variant < 3; variant++) {
            boolean ams = variant == 1, decoupled = variant == 2;
            p = t(p0, n);
            Tensor m = t(new float[n], n), v = t(new float[n], n), vmax = ams ? t(new float[n], n) : null;
            dp = dev.floats(p0);
            long dm = dev.zeros(n), dv = dev.zeros(n), dvmax = ams ? dev.zeros(n) : 0;
            for (int s = 0; s < 3; s++) {
                CPU.adamStep(p, t(grads[s], n), m, v, vmax, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, decoupled, s + 1);
                api.optimAdam(dp, dev.floats(grads[s]), dm, dv, dvmax, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, decoupled,
                        s + 1, 0);
            }
            // Bit-exact up to the host pow of the bias corrections (optim.h): allow 1 ulp.
            assertClose("adam variant " + variant, p.floats(), dev.get(dp, n), 2.4e-7, 0);
            assertBits("adam exp_avg variant " + variant, m.floats(), dev.get(dm, n));
        }
    }

    @Test
    void multiTensorOptimizerAndClippingMatchSingleTensorAndCpu() {
        int[] sizes = {5, 0, 1000, 33};
        long[] lsizes = new long[sizes.length], params = new long[sizes.length], grads = new long[sizes.length];
        long[] bufs = new long[sizes.length];
        float[][] p0 = new float[sizes.length][], g0 = new float[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            lsizes[k] = sizes[k];
            p0[k] = r(sizes[k]);
            g0[k] = r(sizes[k]);
            params[k] = dev.floats(p0[k]);
            grads[k] = dev.floats(g0[k]);
            bufs[k] = dev.zeros(sizes[k]);
        }
        api.optimSgdMulti(params, grads, bufs, lsizes, 0.1f, 0.9f, 0f, 1e-3f, false, true, 0);
        for (int k = 0; k < sizes.length; k++) {
            Tensor p = t(p0[k], sizes[k]);
            CPU.sgdStep(p, t(g0[k], sizes[k]), t(new float[sizes[k]], sizes[k]), 0.1f, 0.9f, 0f, 1e-3f, false, true);
            assertBits("sgd multi tensor " + k, p.floats(), dev.get(params[k], sizes[k]));
        }

        // Global norm over all gradients, then clipping (clip_grad_norm_).
        long ws = dev.alloc(api.optimSumSquaresWorkspaceBytes());
        long total = dev.zeros(1);
        api.optimSumSquaresMulti(grads, lsizes, total, false, ws, 0);
        Tensor cpuTotal = t(new float[1], 1);
        for (int k = 0; k < sizes.length; k++) {
            if (sizes[k] > 0) {
                CPU.sumSquares(t(g0[k], sizes[k]), cpuTotal, k > 0);
            }
        }
        assertClose("sum of squares", cpuTotal.floats(), dev.get(total, 1), 1e-6, 0);
        api.optimClipScaleMulti(grads, lsizes, total, 1.0f, 0);
        for (int k = 0; k < sizes.length; k++) {
            Tensor g = t(g0[k], Math.max(sizes[k], 0));
            if (sizes[k] > 0) {
                CPU.clipByGlobalNorm(g, t(dev.get(total, 1), 1), 1.0f);
            }
            assertBits("clipped grad " + k, g.floats(), dev.get(grads[k], sizes[k]));
        }
        long single = dev.zeros(1);
        api.optimSumSquares(grads[2], sizes[2], single, false, ws, 0);
        Tensor s2 = t(new float[1], 1);
        CPU.sumSquares(t(dev.get(grads[2], sizes[2]), sizes[2]), s2, false);
        assertClose("single-tensor sum of squares", s2.floats(), dev.get(single, 1), 1e-6, 0);
        api.optimClipScale(grads[2], sizes[2], single, 1e9f, 0);  // coef >= 1: unchanged
    }

    // ------------------------------------------------------------------ convolution (im2col + gemm) and pooling

    @Test
    void convolutionThroughIm2colAndGemmMatchesCpu() {
        int n = 2, cin = 3, h = 9, w = 7, cout = 4;
        ConvSpec spec = new ConvSpec(3, 2, 2, 1, 1, 0);
        int oh = spec.outH(h), ow = spec.outW(w), kk = cin * 3 * 2, pp = oh * ow;
        float[] x = r(n * cin * h * w), wt = r(cout * kk), b = r(cout), dy = r(n * cout * pp);

        Tensor y = t(new float[n * cout * pp], n, cout, oh, ow);
        CPU.conv2dForward(t(x, n, cin, h, w), t(wt, cout, cin, 3, 2), t(b, cout), spec, y);
        long dx = dev.floats(x), dw = dev.floats(wt), col = dev.zeros(n * kk * pp), dyv = dev.zeros(n * cout * pp);
        api.convIm2col(dx, col, n, cin, h, w, 3, 2, 2, 1, 1, 0, 0);
        for (int s = 0; s < n; s++) {
            api.gemmSgemm(0, false, false, cout, pp, kk, 1f, dw, kk, col + 4L * s * kk * pp, pp, 0f,
                    dyv + 4L * s * cout * pp, pp, 0, false, 0);
        }
        api.elementwiseAddChannelBias(dyv, dev.floats(b), n, cout, pp, 0);
        assertClose("conv forward", y.floats(), dev.get(dyv, n * cout * pp), 1e-5, 1e-5);

        Tensor gx = t(new float[x.length], n, cin, h, w);
        CPU.conv2dBackward(t(x, n, cin, h, w), t(wt, cout, cin, 3, 2), t(dy, n, cout, oh, ow), spec, gx,
                t(new float[wt.length], cout, cin, 3, 2), null);
        long ddy = dev.floats(dy), dcol = dev.zeros(n * kk * pp), dgx = dev.zeros(x.length);
        for (int s = 0; s < n; s++) {
            api.gemmSgemm(0, true, false, kk, pp, cout, 1f, dw, kk, ddy + 4L * s * cout * pp, pp, 0f,
                    dcol + 4L * s * kk * pp, pp, 0, false, 0);
        }
        api.convCol2im(dcol, dgx, n, cin, h, w, 3, 2, 2, 1, 1, 0, 0);
        assertClose("conv backward dx", gx.floats(), dev.get(dgx, x.length), 1e-5, 1e-5);
    }

    @Test
    void poolingMatchesCpu() {
        int n = 2, c = 3, h = 11, w = 8;
        for (ConvSpec spec : new ConvSpec[] {ConvSpec.square(2, 2, 0), ConvSpec.square(3, 2, 1)}) {
            int oh = spec.outH(h), ow = spec.outW(w), xs = n * c * h * w, ys = n * c * oh * ow;
            int kh = spec.kernelH(), kw = spec.kernelW(), sh = spec.strideH(), sw = spec.strideW();
            int ph = spec.padH(), pw = spec.padW();
            String what = " " + spec;
            float[] x = r(xs), dy = r(ys);
            Tensor y = t(new float[ys], n, c, oh, ow);
            Tensor idx = Tensor.ofLongs(new long[ys], n, c, oh, ow);
            CPU.maxPool2dForward(t(x, n, c, h, w), spec, y, idx);
            long dx = dev.floats(x), dyv = dev.zeros(ys), didx = dev.zerosLongs(ys);
            api.poolMaxForward(dx, dyv, didx, n, c, h, w, kh, kw, sh, sw, ph, pw, 0);
            assertBits("max pool forward" + what, y.floats(), dev.get(dyv, ys));
            assertArrayEquals(idx.longs(), dev.getLongs(didx, ys), "max pool indices" + what);

            Tensor gx = t(new float[xs], n, c, h, w);
            CPU.maxPool2dBackward(t(dy, n, c, oh, ow), idx, spec, gx);
            long ddy = dev.floats(dy), dgx = dev.zeros(xs);
            api.poolMaxBackward(ddy, didx, dgx, n, c, h, w, kh, kw, sh, sw, ph, pw, 0, 0);
            assertBits("max pool backward" + what, gx.floats(), dev.get(dgx, xs));
            api.poolMaxBackwardScatter(ddy, didx, dgx, n, c, h, w, oh, ow, 0, 0);
            assertClose("max pool backward scatter" + what, gx.floats(), dev.get(dgx, xs), 1e-6, 1e-7);

            Tensor ya = t(new float[ys], n, c, oh, ow);
            CPU.avgPool2dForward(t(x, n, c, h, w), spec, ya);
            api.poolAvgForward(dx, dyv, n, c, h, w, kh, kw, sh, sw, ph, pw, 0);
            assertClose("avg pool forward" + what, ya.floats(), dev.get(dyv, ys), 1e-6, 1e-7);
            Tensor ga = t(new float[xs], n, c, h, w);
            CPU.avgPool2dBackward(t(dy, n, c, oh, ow), spec, ga);
            api.poolAvgBackward(ddy, dgx, n, c, h, w, kh, kw, sh, sw, ph, pw, 0);
            assertClose("avg pool backward" + what, ga.floats(), dev.get(dgx, xs), 1e-6, 1e-7);
        }
    }
}
