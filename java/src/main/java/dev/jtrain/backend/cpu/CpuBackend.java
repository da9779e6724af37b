package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Checks;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.cpu.gemm.Sgemm;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.HostStorage;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * The pure-Java backend: a thin dispatcher that validates every argument ({@link Checks}: device,
 * dtype, shape, with messages naming the op, the argument and both shapes or devices) and then calls
 * one kernel class per concept in this package ({@link CpuElementwise}, {@link CpuBias},
 * {@link CpuActivations}, {@link CpuLosses}, {@link CpuReductions}, {@link CpuConv}, {@link CpuPooling},
 * {@link CpuBatchNorm}, {@link CpuDropout}, {@link CpuRandom}, {@link CpuOptimizers},
 * {@link CpuRegularizers}) and {@link Sgemm}. Bad arguments throw {@link IllegalArgumentException};
 * results do not depend on the thread count ({@link CpuLoops}).
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend INSTANCE = new CpuBackend();
    private static final Device CPU = Device.CPU;

    private CpuBackend() {
    }

    public static CpuBackend get() {
        return INSTANCE;
    }

    @Override
    public Device device() {
        return CPU;
    }

    @Override
    public String describe() {
        int t = CpuThreads.threads();
        return "cpu: pure Java, GEMM " + Sgemm.simdPath() + ", " + t + (t == 1 ? " thread" : " threads");
    }

    // ---------------------------------------------------------------- validation shorthands

    private static Tensor f32(String op, String arg, Tensor t) {
        return Checks.f32(op, arg, t, CPU);
    }

    private static Tensor i64(String op, String arg, Tensor t) {
        return Checks.i64(op, arg, t, CPU);
    }

    private static Tensor optF32(String op, String arg, Tensor t) {
        return Checks.optionalF32(op, arg, t, CPU);
    }

    /** A float32 cpu tensor with the same shape as ref. */
    private static Tensor f32Like(String op, String arg, Tensor t, String refArg, Tensor ref) {
        f32(op, arg, t);
        Checks.sameShape(op, refArg, ref, arg, t);
        return t;
    }

    private static float[] fl(Tensor t) {
        return t == null ? null : t.floats();
    }

    /** [N, C, inner] view of a rank >= 2 tensor: {N, C, inner}. */
    private static int[] nci(Tensor t) {
        return new int[] {t.dim(0), t.dim(1), inner(t)};
    }

    /** The product of the dimensions after dim 1 (1 for rank 2). */
    private static int inner(Tensor t) {
        return t.rank() == 2 ? 1 : t.shape().size(2, t.rank());
    }

    // ---------------------------------------------------------------- memory and transfers

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("zeros: dtype and shape are required (got " + dtype + ", " + shape + ")");
        }
        return new Tensor(shape, dtype, HostStorage.allocate(dtype, shape.numel()));
    }

    @Override
    public Tensor fromHost(Tensor host) {
        Checks.onDevice("fromHost", "host", host, CPU);
        Tensor t = zeros(host.dtype(), host.shape());
        copy(host, t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor tensor) {
        Checks.onDevice("toHost", "tensor", tensor, CPU);
        Tensor t = zeros(tensor.dtype(), tensor.shape());
        copy(tensor, t);
        return t;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        String op = "copy";
        Checks.onDevice(op, "src", src, CPU);
        Checks.onDevice(op, "dst", dst, CPU);
        Checks.dtype(op, "dst", dst, src.dtype());
        Checks.sameShape(op, "src", src, "dst", dst);
        if (src.storage() == dst.storage()) {
            return;
        }
        if (src.dtype() == DType.FLOAT32) {
            System.arraycopy(src.floats(), 0, dst.floats(), 0, src.numel());
        } else {
            System.arraycopy(src.longs(), 0, dst.longs(), 0, src.numel());
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        Checks.onDevice("fill", "t", t, CPU);
        if (t.dtype() == DType.FLOAT32) {
            CpuElementwise.fill(t.floats(), value, t.numel());
        } else {
            if (value != Math.rint(value) || Float.isInfinite(value)) {
                throw Checks.fail("fill", "t is int64 but the value " + value + " is not an integer");
            }
            CpuElementwise.fill(t.longs(), (long) value, t.numel());
        }
    }

    // ---------------------------------------------------------------- random

    @Override
    public void randomUniform(Tensor t, float low, float high, long seed, long offset) {
        String op = "randomUniform";
        f32(op, "t", t);
        Checks.finite(op, "low", low);
        Checks.finite(op, "high", high);
        if (!(low <= high)) {
            throw Checks.fail(op, "low " + low + " is greater than high " + high);
        }
        CpuRandom.uniform(t.floats(), t.numel(), low, high, seed, offset);
    }

    @Override
    public void randomNormal(Tensor t, float mean, float std, long seed, long offset) {
        String op = "randomNormal";
        f32(op, "t", t);
        Checks.finite(op, "mean", mean);
        Checks.finite(op, "std", std);
        if (std < 0f) {
            throw Checks.fail(op, "std must be >= 0 but is " + std);
        }
        CpuRandom.normal(t.floats(), t.numel(), mean, std, seed, offset);
    }

    // ---------------------------------------------------------------- GEMM and bias

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        String op = "gemm";
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "c", c);
        Checks.rank(op, "a", a, 2, "a matrix");
        Checks.rank(op, "b", b, 2, "a matrix");
        Checks.rank(op, "c", c, 2, "a matrix");
        int m = transA ? a.dim(1) : a.dim(0);
        int k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0);
        int n = transB ? b.dim(0) : b.dim(1);
        if (k != kb) {
            throw Checks.fail(op, "inner dimensions differ: op(a) is [" + m + ", " + k + "] (a has shape " + a.shape()
                    + ", transA=" + transA + ") but op(b) is [" + kb + ", " + n + "] (b has shape " + b.shape()
                    + ", transB=" + transB + ")");
        }
        if (c.dim(0) != m || c.dim(1) != n) {
            throw Checks.fail(op, "c has shape " + c.shape() + " but op(a) op(b) is [" + m + ", " + n + "] (a "
                    + a.shape() + (transA ? " transposed" : "") + ", b " + b.shape() + (transB ? " transposed" : "") + ")");
        }
        if (c.storage() == a.storage() || c.storage() == b.storage()) {
            throw Checks.fail(op, "c shares its storage with " + (c.storage() == a.storage() ? "a" : "b")
                    + "; the product needs a separate output");
        }
        Sgemm.sgemm(transA, transB, m, n, k, alpha, a.floats(), 0, Math.max(1, a.dim(1)), b.floats(), 0,
                Math.max(1, b.dim(1)), beta, c.floats(), 0, Math.max(1, n));
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        String op = "addBias";
        f32(op, "y", y);
        f32(op, "bias", bias);
        Checks.minRank(op, "y", y, 2, "[N, C, ...]");
        Checks.channelVector(op, "bias", bias, "y", y);
        CpuBias.addBias(y.floats(), bias.floats(), y.dim(0), y.dim(1), inner(y));
    }

    @Override
    public void biasGrad(Tensor dy, Tensor dbias) {
        String op = "biasGrad";
        f32(op, "dy", dy);
        f32(op, "dbias", dbias);
        Checks.minRank(op, "dy", dy, 2, "[N, C, ...]");
        Checks.channelVector(op, "dbias", dbias, "dy", dy);
        CpuBias.biasGrad(dy.floats(), dbias.floats(), dy.dim(0), dy.dim(1), inner(dy));
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        String op = "add";
        f32(op, "a", a);
        f32Like(op, "b", b, "a", a);
        f32Like(op, "out", out, "a", a);
        CpuElementwise.add(a.floats(), b.floats(), out.floats(), a.numel());
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        String op = "mul";
        f32(op, "a", a);
        f32Like(op, "b", b, "a", a);
        f32Like(op, "out", out, "a", a);
        CpuElementwise.mul(a.floats(), b.floats(), out.floats(), a.numel());
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        String op = "axpy";
        f32(op, "x", x);
        f32Like(op, "y", y, "x", x);
        CpuElementwise.axpy(alpha, x.floats(), y.floats(), x.numel());
    }

    @Override
    public void scale(Tensor x, float alpha) {
        f32("scale", "x", x);
        CpuElementwise.scale(x.floats(), alpha, x.numel());
    }

    @Override
    public void sqrt(Tensor x, Tensor out) {
        String op = "sqrt";
        f32(op, "x", x);
        f32Like(op, "out", out, "x", x);
        CpuElementwise.sqrt(x.floats(), out.floats(), x.numel());
    }

    // ---------------------------------------------------------------- activations

    private static Activation checkAct(String op, Activation act) {
        if (act == null || act.kind() == null) {
            throw Checks.fail(op, "act is missing (null)");
        }
        if (act.kind() == Activation.Kind.SOFTPLUS && !(act.alpha() > 0f && Float.isFinite(act.alpha()))) {
            throw Checks.fail(op, "softplus beta must be > 0 but is " + act.alpha());
        }
        return act;
    }

    @Override
    public void activationForward(Activation act, Tensor x, Tensor y) {
        String op = "activationForward";
        checkAct(op, act);
        f32(op, "x", x);
        f32Like(op, "y", y, "x", x);
        CpuActivations.forward(act, x.floats(), y.floats(), x.numel());
    }

    @Override
    public void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        String op = "activationBackward";
        checkAct(op, act);
        f32(op, "dy", dy);
        f32Like(op, "dx", dx, "dy", dy);
        Activation.Kind kind = act.kind();
        boolean fromOutput = kind == Activation.Kind.SIGMOID || kind == Activation.Kind.TANH;
        Tensor src;
        if (fromOutput) {
            src = f32Like(op, "y", y, "dy", dy);
        } else if (kind == Activation.Kind.RELU && x == null && y != null) {
            src = f32Like(op, "y", y, "dy", dy); // y > 0 exactly where x > 0
        } else if (kind == Activation.Kind.IDENTITY && x == null) {
            src = dy;
        } else {
            src = f32Like(op, "x", x, "dy", dy);
        }
        float[] s = src.floats();
        CpuActivations.backward(act, fromOutput ? null : s, fromOutput ? s : null, dy.floats(), dx.floats(), dy.numel());
    }

    /** Channel layout {n, c, inner} for PReLU: a shared alpha [1] treats the tensor as one channel. */
    private static int[] preluLayout(String op, Tensor x, Tensor alpha) {
        if (alpha.rank() == 1 && alpha.dim(0) == 1 && (x.rank() < 2 || x.dim(1) != 1)) {
            return new int[] {1, 1, x.numel()};
        }
        Checks.minRank(op, "x", x, 2, "[N, C, ...] for a per-channel alpha");
        Checks.channelVector(op, "alpha", alpha, "x", x);
        return nci(x);
    }

    @Override
    public void preluForward(Tensor x, Tensor alpha, Tensor y) {
        String op = "preluForward";
        f32(op, "x", x);
        f32(op, "alpha", alpha);
        f32Like(op, "y", y, "x", x);
        int[] d = preluLayout(op, x, alpha);
        CpuActivations.preluForward(x.floats(), alpha.floats(), y.floats(), d[0], d[1], d[2]);
    }

    @Override
    public void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha) {
        String op = "preluBackward";
        f32(op, "x", x);
        f32(op, "alpha", alpha);
        f32Like(op, "dy", dy, "x", x);
        f32Like(op, "dx", dx, "x", x);
        if (dalpha != null) {
            f32Like(op, "dalpha", dalpha, "alpha", alpha);
        }
        int[] d = preluLayout(op, x, alpha);
        CpuActivations.preluBackward(x.floats(), alpha.floats(), dy.floats(), dx.floats(), fl(dalpha), d[0], d[1], d[2]);
    }

    private static int maxoutUnits(String op, Tensor z, int pieces) {
        Checks.rank(op, "z", z, 2, "[N, pieces * D]");
        Checks.positive(op, "pieces", pieces);
        if (z.dim(1) % pieces != 0) {
            throw Checks.fail(op, "z has shape " + z.shape() + " but its width is not a multiple of pieces = " + pieces);
        }
        return z.dim(1) / pieces;
    }

    @Override
    public void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece) {
        String op = "maxoutForward";
        f32(op, "z", z);
        int d = maxoutUnits(op, z, pieces);
        Shape out = Shape.of(z.dim(0), d);
        f32(op, "y", y);
        Checks.shape(op, "y", y, out, "z " + z.shape() + " with " + pieces + " pieces");
        i64(op, "piece", piece);
        Checks.shape(op, "piece", piece, out, "z " + z.shape() + " with " + pieces + " pieces");
        CpuActivations.maxoutForward(z.floats(), pieces, y.floats(), piece.longs(), z.dim(0), d);
    }

    @Override
    public void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz) {
        String op = "maxoutBackward";
        f32(op, "dy", dy);
        f32(op, "dz", dz);
        int d = maxoutUnits(op, dz, pieces);
        Shape out = Shape.of(dz.dim(0), d);
        Checks.shape(op, "dy", dy, out, "dz " + dz.shape() + " with " + pieces + " pieces");
        i64(op, "piece", piece);
        Checks.shape(op, "piece", piece, out, "dz " + dz.shape() + " with " + pieces + " pieces");
        long[] pc = piece.longs();
        for (int i = 0; i < out.numel(); i++) {
            if (pc[i] < 0 || pc[i] >= pieces) {
                throw Checks.fail(op, "piece[" + i + "] = " + pc[i] + " is outside [0, " + pieces + ")");
            }
        }
        CpuActivations.maxoutBackward(dy.floats(), pc, pieces, dz.floats(), dz.dim(0), d);
    }

    // ---------------------------------------------------------------- losses

    private static void checkLabels(String op, Tensor labels, String refArg, Tensor ref) {
        int n = ref.dim(0);
        int c = ref.dim(1);
        i64(op, "labels", labels);
        Checks.vectorFor(op, "labels", labels, n, "one class index per row of", refArg, ref);
        long[] l = labels.longs();
        for (int i = 0; i < n; i++) {
            if (l[i] < 0 || l[i] >= c) {
                throw Checks.fail(op, "labels[" + i + "] = " + l[i] + " is outside [0, " + c + ")");
            }
        }
    }

    private static void checkSmoothing(String op, float eps) {
        Checks.probability(op, "labelSmoothing", eps);
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs, Tensor lossPerSample) {
        String op = "softmaxCrossEntropy";
        f32(op, "logits", logits);
        Checks.rank(op, "logits", logits, 2, "[N, C]");
        int n = logits.dim(0);
        int c = logits.dim(1);
        if (c < 1) {
            throw Checks.fail(op, "logits has shape " + logits.shape() + ": no classes");
        }
        checkSmoothing(op, labelSmoothing);
        checkLabels(op, labels, "logits", logits);
        f32Like(op, "probs", probs, "logits", logits);
        f32(op, "lossPerSample", lossPerSample);
        Checks.vectorFor(op, "lossPerSample", lossPerSample, n, "one loss per row of", "logits", logits);
        CpuLosses.softmaxCrossEntropy(logits.floats(), labels.longs(), labelSmoothing, probs.floats(),
                lossPerSample.floats(), n, c);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale, Tensor dlogits) {
        String op = "softmaxCrossEntropyBackward";
        f32(op, "probs", probs);
        Checks.rank(op, "probs", probs, 2, "[N, C]");
        int n = probs.dim(0);
        int c = probs.dim(1);
        checkSmoothing(op, labelSmoothing);
        checkLabels(op, labels, "probs", probs);
        f32Like(op, "dlogits", dlogits, "probs", probs);
        CpuLosses.softmaxCrossEntropyBackward(probs.floats(), labels.longs(), labelSmoothing, scale, dlogits.floats(), n, c);
    }

    @Override
    public void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement) {
        String op = "bceWithLogits";
        f32(op, "logits", logits);
        f32Like(op, "targets", targets, "logits", logits);
        f32Like(op, "lossPerElement", lossPerElement, "logits", logits);
        CpuLosses.bceWithLogits(logits.floats(), targets.floats(), lossPerElement.floats(), logits.numel());
    }

    @Override
    public void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits) {
        String op = "bceWithLogitsBackward";
        f32(op, "logits", logits);
        f32Like(op, "targets", targets, "logits", logits);
        f32Like(op, "dlogits", dlogits, "logits", logits);
        CpuLosses.bceWithLogitsBackward(logits.floats(), targets.floats(), scale, dlogits.floats(), logits.numel());
    }

    @Override
    public void squaredError(Tensor pred, Tensor target, Tensor out) {
        String op = "squaredError";
        f32(op, "pred", pred);
        f32Like(op, "target", target, "pred", pred);
        f32Like(op, "out", out, "pred", pred);
        CpuLosses.squaredError(pred.floats(), target.floats(), out.floats(), pred.numel());
    }

    @Override
    public void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred) {
        String op = "squaredErrorBackward";
        f32(op, "pred", pred);
        f32Like(op, "target", target, "pred", pred);
        f32Like(op, "dpred", dpred, "pred", pred);
        CpuLosses.squaredErrorBackward(pred.floats(), target.floats(), scale, dpred.floats(), pred.numel());
    }

    // ---------------------------------------------------------------- reductions

    private static float[] scalarOut(String op, Tensor out) {
        f32(op, "out", out);
        Checks.scalarLike(op, "out", out);
        return out.floats();
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        f32("sum", "x", x);
        float[] o = scalarOut("sum", out);
        o[0] = (float) CpuReductions.sum(x.floats(), x.numel());
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        f32("sumSquares", "x", x);
        float[] o = scalarOut("sumSquares", out);
        double s = CpuReductions.sumSquares(x.floats(), x.numel());
        o[0] = (float) (accumulate ? o[0] + s : s);
    }

    @Override
    public void sumAbs(Tensor x, Tensor out) {
        f32("sumAbs", "x", x);
        float[] o = scalarOut("sumAbs", out);
        o[0] = (float) CpuReductions.sumAbs(x.floats(), x.numel());
    }

    @Override
    public void argmaxRows(Tensor x, Tensor out) {
        String op = "argmaxRows";
        f32(op, "x", x);
        Checks.rank(op, "x", x, 2, "[N, C]");
        if (x.dim(1) < 1) {
            throw Checks.fail(op, "x has shape " + x.shape() + ": rows are empty");
        }
        i64(op, "out", out);
        Checks.vectorFor(op, "out", out, x.dim(0), "one index per row of", "x", x);
        CpuReductions.argmaxRows(x.floats(), out.longs(), x.dim(0), x.dim(1));
    }

    @Override
    public void countEqual(Tensor a, Tensor b, Tensor out) {
        String op = "countEqual";
        i64(op, "a", a);
        i64(op, "b", b);
        Checks.sameShape(op, "a", a, "b", b);
        float[] o = scalarOut(op, out);
        o[0] = CpuReductions.countEqual(a.longs(), b.longs(), a.numel());
    }

    // ---------------------------------------------------------------- convolution and pooling

    private static void checkSpec(String op, ConvSpec spec) {
        if (spec == null) {
            throw Checks.fail(op, "spec is missing (null)");
        }
    }

    /** Validates x, w, b of a convolution and returns the output shape. */
    private static Shape convShape(String op, Tensor x, Tensor w, Tensor b, ConvSpec spec) {
        checkSpec(op, spec);
        f32(op, "x", x);
        f32(op, "w", w);
        Checks.rank(op, "x", x, 4, "[N, Cin, H, W]");
        Checks.rank(op, "w", w, 4, "[Cout, Cin, kH, kW]");
        if (w.dim(1) != x.dim(1)) {
            throw Checks.fail(op, "w has shape " + w.shape() + " (Cin = " + w.dim(1) + ") but x has " + x.dim(1)
                    + " channels (shape " + x.shape() + ")");
        }
        if (w.dim(2) != spec.kernelH() || w.dim(3) != spec.kernelW()) {
            throw Checks.fail(op, "w has shape " + w.shape() + " (kernel " + w.dim(2) + "x" + w.dim(3)
                    + ") but spec has kernel " + spec.kernelH() + "x" + spec.kernelW());
        }
        if (b != null) {
            f32(op, "b", b);
            Checks.vectorFor(op, "b", b, w.dim(0), "one bias per output channel of", "w", w);
        }
        Shape out = Checks.windowOutput(op, x, w.dim(0), spec);
        long colSize = (long) w.dim(1) * w.dim(2) * w.dim(3) * out.dim(2) * out.dim(3);
        if (colSize > Integer.MAX_VALUE - 8) {
            throw Checks.fail(op, "the im2col buffer of one sample (Cin kH kW x OH OW = " + colSize
                    + " floats) is larger than a Java array; x " + x.shape() + ", w " + w.shape());
        }
        return out;
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor b, ConvSpec spec, Tensor y) {
        String op = "conv2dForward";
        Shape out = convShape(op, x, w, b, spec);
        f32(op, "y", y);
        Checks.shape(op, "y", y, out, "x " + x.shape() + ", w " + w.shape() + ", " + spec);
        if (y.storage() == x.storage() || y.storage() == w.storage()) {
            throw Checks.fail(op, "y shares its storage with an input; the convolution needs a separate output");
        }
        CpuConv.forward(x.floats(), w.floats(), fl(b), y.floats(), x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0),
                out.dim(2), out.dim(3), spec);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec spec, Tensor dx, Tensor dw, Tensor db) {
        String op = "conv2dBackward";
        Shape out = convShape(op, x, w, null, spec);
        f32(op, "dy", dy);
        Checks.shape(op, "dy", dy, out, "the output of x " + x.shape() + ", w " + w.shape() + ", " + spec);
        if (dx != null) {
            f32Like(op, "dx", dx, "x", x);
            if (dx.storage() == dy.storage() || dx.storage() == w.storage() || dx.storage() == x.storage()) {
                throw Checks.fail(op, "dx shares its storage with x, w or dy; it needs a separate buffer");
            }
        }
        if (dw != null) {
            f32Like(op, "dw", dw, "w", w);
        }
        if (db != null) {
            f32(op, "db", db);
            Checks.vectorFor(op, "db", db, w.dim(0), "one bias per output channel of", "w", w);
        }
        CpuConv.backward(x.floats(), w.floats(), dy.floats(), fl(dx), fl(dw), fl(db), x.dim(0), x.dim(1), x.dim(2),
                x.dim(3), w.dim(0), out.dim(2), out.dim(3), spec);
    }

    private static Shape poolShape(String op, String arg, Tensor x, ConvSpec spec) {
        checkSpec(op, spec);
        f32(op, arg, x);
        Checks.rank(op, arg, x, 4, "[N, C, H, W]");
        return Checks.windowOutput(op, arg, x, x.dim(1), spec);
    }

    @Override
    public void maxPool2dForward(Tensor x, ConvSpec spec, Tensor y, Tensor indices) {
        String op = "maxPool2dForward";
        Shape out = poolShape(op, "x", x, spec);
        if (2 * spec.padH() > spec.kernelH() || 2 * spec.padW() > spec.kernelW()) {
            throw Checks.fail(op, "padding " + spec.padH() + "x" + spec.padW() + " must be at most half the kernel "
                    + spec.kernelH() + "x" + spec.kernelW() + " (every window must hold an input element)");
        }
        f32(op, "y", y);
        Checks.shape(op, "y", y, out, "x " + x.shape() + ", " + spec);
        if (indices != null) {
            i64(op, "indices", indices);
            Checks.shape(op, "indices", indices, out, "same as y");
        }
        CpuPooling.maxForward(x.floats(), y.floats(), indices == null ? null : indices.longs(), x.dim(0) * x.dim(1),
                x.dim(2), x.dim(3), out.dim(2), out.dim(3), spec);
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor indices, ConvSpec spec, Tensor dx) {
        String op = "maxPool2dBackward";
        if (spec == null) {
            throw Checks.fail(op, "spec is missing (null)");
        }
        f32(op, "dy", dy);
        Checks.rank(op, "dy", dy, 4, "[N, C, OH, OW]");
        i64(op, "indices", indices);
        Checks.sameShape(op, "dy", dy, "indices", indices);
        f32(op, "dx", dx);
        Checks.rank(op, "dx", dx, 4, "[N, C, H, W]");
        if (dx.dim(0) != dy.dim(0) || dx.dim(1) != dy.dim(1)) {
            throw Checks.fail(op, "dx has shape " + dx.shape() + " but dy has shape " + dy.shape()
                    + " (N and C must match)");
        }
        int hw = dx.dim(2) * dx.dim(3);
        long bad = CpuPooling.maxBackward(dy.floats(), indices.longs(), dx.floats(), dy.dim(0) * dy.dim(1), hw,
                dy.dim(2) * dy.dim(3));
        if (bad >= 0) {
            throw Checks.fail(op, "indices[" + bad + "] = " + indices.longs()[(int) bad] + " is outside the "
                    + dx.dim(2) + "x" + dx.dim(3) + " plane of dx " + dx.shape());
        }
    }

    @Override
    public void avgPool2dForward(Tensor x, ConvSpec spec, Tensor y) {
        String op = "avgPool2dForward";
        Shape out = poolShape(op, "x", x, spec);
        f32(op, "y", y);
        Checks.shape(op, "y", y, out, "x " + x.shape() + ", " + spec);
        CpuPooling.avgForward(x.floats(), y.floats(), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), out.dim(2), out.dim(3),
                spec);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, ConvSpec spec, Tensor dx) {
        String op = "avgPool2dBackward";
        Shape out = poolShape(op, "dx", dx, spec);
        f32(op, "dy", dy);
        Checks.shape(op, "dy", dy, out, "the output of dx " + dx.shape() + " with " + spec);
        CpuPooling.avgBackward(dy.floats(), dx.floats(), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), out.dim(2),
                out.dim(3), spec);
    }

    // ---------------------------------------------------------------- batch normalisation

    private static void optChannel(String op, String arg, Tensor t, Tensor x) {
        if (t != null) {
            f32(op, arg, t);
            Checks.channelVector(op, arg, t, "x", x);
        }
    }

    private static void channel(String op, String arg, Tensor t, Tensor x) {
        f32(op, arg, t);
        Checks.channelVector(op, arg, t, "x", x);
    }

    private static void checkEps(String op, float eps) {
        if (!(eps >= 0f) || Float.isInfinite(eps)) {
            throw Checks.fail(op, "eps must be finite and >= 0 but is " + eps);
        }
    }

    @Override
    public void batchNormForwardTrain(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum,
                                      Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar) {
        String op = "batchNormForwardTrain";
        f32(op, "x", x);
        Checks.minRank(op, "x", x, 2, "[N, C, ...]");
        optChannel(op, "gamma", gamma, x);
        optChannel(op, "beta", beta, x);
        if ((runningMean == null) != (runningVar == null)) {
            throw Checks.fail(op, "runningMean and runningVar must both be given or both be null");
        }
        optChannel(op, "runningMean", runningMean, x);
        optChannel(op, "runningVar", runningVar, x);
        optChannel(op, "saveMean", saveMean, x);
        optChannel(op, "saveVar", saveVar, x);
        if ((saveMean == null) != (saveVar == null)) {
            throw Checks.fail(op, "saveMean and saveVar must both be given or both be null");
        }
        f32Like(op, "y", y, "x", x);
        checkEps(op, eps);
        Checks.probability(op, "momentum", momentum);
        int[] d = nci(x);
        long m = (long) d[0] * d[2];
        if (m < 2) {
            throw Checks.fail(op, "x of shape " + x.shape() + " has " + m
                    + " value per channel; training needs more than 1 (the unbiased variance divides by M - 1)");
        }
        CpuBatchNorm.forwardTrain(x.floats(), fl(gamma), fl(beta), eps, momentum, fl(runningMean), fl(runningVar),
                y.floats(), fl(saveMean), fl(saveVar), d[0], d[1], d[2]);
    }

    @Override
    public void batchNormForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float eps, Tensor y) {
        String op = "batchNormForwardEval";
        f32(op, "x", x);
        Checks.minRank(op, "x", x, 2, "[N, C, ...]");
        optChannel(op, "gamma", gamma, x);
        optChannel(op, "beta", beta, x);
        channel(op, "runningMean", runningMean, x);
        channel(op, "runningVar", runningVar, x);
        f32Like(op, "y", y, "x", x);
        checkEps(op, eps);
        int[] d = nci(x);
        CpuBatchNorm.forwardEval(x.floats(), fl(gamma), fl(beta), runningMean.floats(), runningVar.floats(), eps,
                y.floats(), d[0], d[1], d[2]);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps,
                                  boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormBackward";
        f32(op, "x", x);
        Checks.minRank(op, "x", x, 2, "[N, C, ...]");
        f32Like(op, "dy", dy, "x", x);
        optChannel(op, "gamma", gamma, x);
        channel(op, "mean", mean, x);
        channel(op, "var", var, x);
        if (dx != null) {
            f32Like(op, "dx", dx, "x", x);
        }
        optChannel(op, "dgamma", dgamma, x);
        optChannel(op, "dbeta", dbeta, x);
        checkEps(op, eps);
        int[] d = nci(x);
        CpuBatchNorm.backward(x.floats(), dy.floats(), fl(gamma), mean.floats(), var.floats(), eps, training, fl(dx),
                fl(dgamma), fl(dbeta), d[0], d[1], d[2]);
    }

    // ---------------------------------------------------------------- dropout

    @Override
    public void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask) {
        String op = "dropoutForward";
        f32(op, "x", x);
        Checks.probability(op, "p", p);
        f32Like(op, "y", y, "x", x);
        if (mask != null) {
            f32Like(op, "mask", mask, "x", x);
        }
        CpuDropout.forward(x.floats(), p, seed, offset, y.floats(), fl(mask), x.numel());
    }

    // ---------------------------------------------------------------- optimizer updates

    private static void state(String op, String arg, Tensor t, Tensor param) {
        f32Like(op, arg, t, "param", param);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                        float weightDecay, boolean nesterov, boolean firstStep) {
        String op = "sgdStep";
        f32(op, "param", param);
        state(op, "grad", grad, param);
        if (momentum != 0f) {
            if (momentumBuffer == null) {
                throw Checks.fail(op, "momentumBuffer is missing (null) but momentum is " + momentum);
            }
            state(op, "momentumBuffer", momentumBuffer, param);
        }
        CpuOptimizers.sgd(param.floats(), grad.floats(), momentum != 0f ? momentumBuffer.floats() : null, lr, momentum,
                dampening, weightDecay, nesterov, firstStep, param.numel());
    }

    @Override
    public void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps) {
        String op = "adagradStep";
        f32(op, "param", param);
        state(op, "grad", grad, param);
        state(op, "sum", sum, param);
        CpuOptimizers.adagrad(param.floats(), grad.floats(), sum.floats(), clr, weightDecay, eps, param.numel());
    }

    @Override
    public void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha,
                            float eps, float weightDecay, float momentum) {
        String op = "rmspropStep";
        f32(op, "param", param);
        state(op, "grad", grad, param);
        state(op, "squareAvg", squareAvg, param);
        if (momentum != 0f) {
            if (momentumBuffer == null) {
                throw Checks.fail(op, "momentumBuffer is missing (null) but momentum is " + momentum);
            }
            state(op, "momentumBuffer", momentumBuffer, param);
        }
        CpuOptimizers.rmsprop(param.floats(), grad.floats(), squareAvg.floats(),
                momentum != 0f ? momentumBuffer.floats() : null, lr, alpha, eps, weightDecay, momentum, param.numel());
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr,
                         float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        String op = "adamStep";
        f32(op, "param", param);
        state(op, "grad", grad, param);
        state(op, "expAvg", expAvg, param);
        state(op, "expAvgSq", expAvgSq, param);
        if (maxExpAvgSq != null) {
            state(op, "maxExpAvgSq", maxExpAvgSq, param);
        }
        if (step < 1) {
            throw Checks.fail(op, "step must be >= 1 (the first step is 1) but is " + step);
        }
        CpuOptimizers.adam(param.floats(), grad.floats(), expAvg.floats(), expAvgSq.floats(), fl(maxExpAvgSq), lr,
                beta1, beta2, eps, weightDecay, decoupled, step, param.numel());
    }

    @Override
    public void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm) {
        String op = "clipByGlobalNorm";
        f32(op, "grad", grad);
        f32(op, "totalSquares", totalSquares);
        Checks.scalarLike(op, "totalSquares", totalSquares);
        if (!(maxNorm >= 0f)) {
            throw Checks.fail(op, "maxNorm must be >= 0 but is " + maxNorm);
        }
        CpuOptimizers.clip(grad.floats(), totalSquares.floats()[0], maxNorm, grad.numel());
    }

    // ---------------------------------------------------------------- regularizers

    @Override
    public void addSign(float lambda, Tensor w, Tensor grad) {
        String op = "addSign";
        f32(op, "w", w);
        f32Like(op, "grad", grad, "w", w);
        CpuRegularizers.addSign(lambda, w.floats(), grad.floats(), w.numel());
    }

    @Override
    public void rowNorms(Tensor w, Tensor norms) {
        String op = "rowNorms";
        f32(op, "w", w);
        Checks.minRank(op, "w", w, 1, "[O, ...]");
        f32(op, "norms", norms);
        Checks.vectorFor(op, "norms", norms, w.dim(0), "one norm per row of", "w", w);
        int rows = w.dim(0);
        CpuRegularizers.rowNorms(w.floats(), norms.floats(), rows, rows == 0 ? 0 : w.numel() / rows);
    }

    @Override
    public void maxNormRows(Tensor w, float c) {
        String op = "maxNormRows";
        f32(op, "w", w);
        Checks.minRank(op, "w", w, 1, "[O, ...]");
        if (!(c >= 0f)) {
            throw Checks.fail(op, "c must be >= 0 but is " + c);
        }
        int rows = w.dim(0);
        CpuRegularizers.maxNormRows(w.floats(), c, rows, rows == 0 ? 0 : w.numel() / rows);
    }

    // ---------------------------------------------------------------- concatenation

    @Override
    public void concatDim1(java.util.List<Tensor> parts, Tensor out) {
        CpuConcat.concatDim1(parts, out);
    }

    @Override
    public void splitDim1(Tensor in, java.util.List<Tensor> parts) {
        CpuConcat.splitDim1(in, parts);
    }
}
