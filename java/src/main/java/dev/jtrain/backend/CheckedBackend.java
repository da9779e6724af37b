package dev.jtrain.backend;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.List;
import java.util.Objects;

/**
 * The op front: one device-neutral place that validates every op's arguments (device, dtype, shape,
 * scalar ranges; messages name the op, the argument and both shapes or devices, see {@link Checks}) and
 * then hands the checked call to the device's implementation ({@code CpuBackend}, {@code GpuBackend}).
 * Implementations therefore never repeat these checks; {@link Backends#forDevice} hands out only fronts.
 *
 * <p>Checks here look at metadata only, never at tensor values (that would be a host synchronisation per
 * op on a GPU): a label out of range, a maxout piece or a pooling index is the implementation's concern
 * (the cpu checks them at once; a device kernel writes NaN or ignores them and records the first bad value on
 * the device, reported as an IllegalArgumentException at the next sync: {@code GpuBackend}, {@code DeviceErrors}).
 */
public final class CheckedBackend implements Backend {
    private final Backend impl;
    private final Device dev;

    public CheckedBackend(Backend impl) {
        this.impl = Objects.requireNonNull(impl, "impl");
        this.dev = impl.device();
    }

    /** The unchecked implementation behind this front (for tests and diagnostics). */
    public Backend implementation() {
        return impl;
    }

    @Override
    public Device device() {
        return dev;
    }

    @Override
    public String describe() {
        return impl.describe();
    }

    @Override
    public void synchronize() {
        impl.synchronize();
    }

    // ---------------------------------------------------------------- shorthands

    private Tensor f32(String op, String arg, Tensor t) {
        return Checks.f32(op, arg, t, dev);
    }

    private Tensor i64(String op, String arg, Tensor t) {
        return Checks.i64(op, arg, t, dev);
    }

    private Tensor optF32(String op, String arg, Tensor t) {
        return Checks.optionalF32(op, arg, t, dev);
    }

    /** A float32 tensor on this device with the shape of ref. */
    private Tensor f32Like(String op, String arg, Tensor t, String refArg, Tensor ref) {
        f32(op, arg, t);
        Checks.sameShape(op, refArg, ref, arg, t);
        return t;
    }

    private Tensor optF32Like(String op, String arg, Tensor t, String refArg, Tensor ref) {
        return t == null ? null : f32Like(op, arg, t, refArg, ref);
    }

    // ---------------------------------------------------------------- memory and transfers

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("zeros: dtype and shape are required (got " + dtype + ", " + shape + ")");
        }
        return impl.zeros(dtype, shape);
    }

    @Override
    public Tensor fromHost(Tensor host) {
        Checks.onDevice("fromHost", "host", host, Device.CPU);
        return impl.fromHost(host);
    }

    @Override
    public Tensor toHost(Tensor tensor) {
        Checks.onDevice("toHost", "tensor", tensor, dev);
        return impl.toHost(tensor);
    }

    @Override
    public boolean stagesThroughPinnedMemory() {
        return impl.stagesThroughPinnedMemory();
    }

    @Override
    public dev.jtrain.tensor.TransferStats transferStats() {
        return impl.transferStats();
    }

    @Override
    public void copyFromHost(Tensor host, Tensor dst) {
        String op = "copyFromHost";
        Checks.onDevice(op, "host", host, Device.CPU);
        Checks.onDevice(op, "dst", dst, dev);
        Checks.dtype(op, "dst", dst, host.dtype());
        Checks.sameShape(op, "host", host, "dst", dst);
        impl.copyFromHost(host, dst);
    }

    @Override
    public void copyToHost(Tensor src, Tensor host) {
        String op = "copyToHost";
        Checks.onDevice(op, "src", src, dev);
        Checks.onDevice(op, "host", host, Device.CPU);
        Checks.dtype(op, "host", host, src.dtype());
        Checks.sameShape(op, "src", src, "host", host);
        impl.copyToHost(src, host);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        String op = "copy";
        Checks.onDevice(op, "src", src, dev);
        Checks.onDevice(op, "dst", dst, dev);
        Checks.dtype(op, "dst", dst, src.dtype());
        Checks.sameShape(op, "src", src, "dst", dst);
        impl.copy(src, dst);
    }

    @Override
    public void fill(Tensor t, float value) {
        Checks.onDevice("fill", "t", t, dev);
        if (t.dtype() == DType.INT64 && (value != Math.rint(value) || Float.isInfinite(value))) {
            throw Checks.fail("fill", "t is int64 but the value " + value + " is not an integer");
        }
        impl.fill(t, value);
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
        impl.randomUniform(t, low, high, seed, offset);
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
        impl.randomNormal(t, mean, std, seed, offset);
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
        impl.gemm(transA, transB, alpha, a, b, beta, c);
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        String op = "addBias";
        f32(op, "y", y);
        f32(op, "bias", bias);
        Checks.minRank(op, "y", y, 2, "[N, C, ...]");
        Checks.channelVector(op, "bias", bias, "y", y);
        impl.addBias(y, bias);
    }

    @Override
    public void biasGrad(Tensor dy, Tensor dbias) {
        String op = "biasGrad";
        f32(op, "dy", dy);
        f32(op, "dbias", dbias);
        Checks.minRank(op, "dy", dy, 2, "[N, C, ...]");
        Checks.channelVector(op, "dbias", dbias, "dy", dy);
        impl.biasGrad(dy, dbias);
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        String op = "add";
        f32(op, "a", a);
        f32Like(op, "b", b, "a", a);
        f32Like(op, "out", out, "a", a);
        impl.add(a, b, out);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        String op = "mul";
        f32(op, "a", a);
        f32Like(op, "b", b, "a", a);
        f32Like(op, "out", out, "a", a);
        impl.mul(a, b, out);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        String op = "axpy";
        f32(op, "x", x);
        f32Like(op, "y", y, "x", x);
        impl.axpy(alpha, x, y);
    }

    @Override
    public void scale(Tensor x, float alpha) {
        f32("scale", "x", x);
        impl.scale(x, alpha);
    }

    @Override
    public void sqrt(Tensor x, Tensor out) {
        String op = "sqrt";
        f32(op, "x", x);
        f32Like(op, "out", out, "x", x);
        impl.sqrt(x, out);
    }

    // ---------------------------------------------------------------- activations

    private static void checkAct(String op, Activation act) {
        if (act == null || act.kind() == null) {
            throw Checks.fail(op, "act is missing (null)");
        }
        if (act.kind() == Activation.Kind.SOFTPLUS && !(act.alpha() > 0f && Float.isFinite(act.alpha()))) {
            throw Checks.fail(op, "softplus beta must be > 0 but is " + act.alpha());
        }
    }

    @Override
    public void activationForward(Activation act, Tensor x, Tensor y) {
        String op = "activationForward";
        checkAct(op, act);
        f32(op, "x", x);
        f32Like(op, "y", y, "x", x);
        impl.activationForward(act, x, y);
    }

    @Override
    public void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        String op = "activationBackward";
        checkAct(op, act);
        f32(op, "dy", dy);
        f32Like(op, "dx", dx, "dy", dy);
        Activation.Kind kind = act.kind();
        if (kind == Activation.Kind.SIGMOID || kind == Activation.Kind.TANH) {
            f32Like(op, "y", y, "dy", dy);               // the derivative comes from the output
        } else if (kind == Activation.Kind.RELU && x == null && y != null) {
            f32Like(op, "y", y, "dy", dy);               // y > 0 exactly where x > 0
        } else if (!(kind == Activation.Kind.IDENTITY && x == null)) {
            f32Like(op, "x", x, "dy", dy);
        }
        impl.activationBackward(act, x, y, dy, dx);
    }

    /** PReLU's alpha: [1] (shared) or one per channel of x [N, C, ...]. */
    private static void preluAlpha(String op, Tensor x, Tensor alpha) {
        if (alpha.rank() == 1 && alpha.dim(0) == 1 && (x.rank() < 2 || x.dim(1) != 1)) {
            return;
        }
        Checks.minRank(op, "x", x, 2, "[N, C, ...] for a per-channel alpha");
        Checks.channelVector(op, "alpha", alpha, "x", x);
    }

    @Override
    public void preluForward(Tensor x, Tensor alpha, Tensor y) {
        String op = "preluForward";
        f32(op, "x", x);
        f32(op, "alpha", alpha);
        f32Like(op, "y", y, "x", x);
        preluAlpha(op, x, alpha);
        impl.preluForward(x, alpha, y);
    }

    @Override
    public void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha) {
        String op = "preluBackward";
        f32(op, "x", x);
        f32(op, "alpha", alpha);
        f32Like(op, "dy", dy, "x", x);
        f32Like(op, "dx", dx, "x", x);
        optF32Like(op, "dalpha", dalpha, "alpha", alpha);
        preluAlpha(op, x, alpha);
        impl.preluBackward(x, alpha, dy, dx, dalpha);
    }

    /** D = width / pieces of a maxout input z [N, pieces * D]. */
    private static int maxoutUnits(String op, String arg, Tensor z, int pieces) {
        Checks.rank(op, arg, z, 2, "[N, pieces * D]");
        Checks.positive(op, "pieces", pieces);
        if (z.dim(1) % pieces != 0) {
            throw Checks.fail(op, arg + " has shape " + z.shape() + " but its width is not a multiple of pieces = "
                    + pieces);
        }
        return z.dim(1) / pieces;
    }

    @Override
    public void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece) {
        String op = "maxoutForward";
        f32(op, "z", z);
        Shape out = Shape.of(z.dim(0), maxoutUnits(op, "z", z, pieces));
        f32(op, "y", y);
        if (!y.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "y", y, out, "z " + z.shape() + " with " + pieces + " pieces");
        }
        i64(op, "piece", piece);
        if (!piece.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "piece", piece, out, "z " + z.shape() + " with " + pieces + " pieces");
        }
        impl.maxoutForward(z, pieces, y, piece);
    }

    @Override
    public void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz) {
        String op = "maxoutBackward";
        f32(op, "dy", dy);
        f32(op, "dz", dz);
        Shape out = Shape.of(dz.dim(0), maxoutUnits(op, "dz", dz, pieces));
        if (!dy.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "dy", dy, out, "dz " + dz.shape() + " with " + pieces + " pieces");
        }
        i64(op, "piece", piece);
        if (!piece.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "piece", piece, out, "dz " + dz.shape() + " with " + pieces + " pieces");
        }
        impl.maxoutBackward(dy, piece, pieces, dz);
    }

    // ---------------------------------------------------------------- losses

    private void labels(String op, Tensor labels, String refArg, Tensor ref) {
        i64(op, "labels", labels);
        Checks.vectorFor(op, "labels", labels, ref.dim(0), "one class index per row of", refArg, ref);
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs,
                                    Tensor lossPerSample) {
        String op = "softmaxCrossEntropy";
        f32(op, "logits", logits);
        Checks.rank(op, "logits", logits, 2, "[N, C]");
        if (logits.dim(1) < 1) {
            throw Checks.fail(op, "logits has shape " + logits.shape() + ": no classes");
        }
        Checks.probability(op, "labelSmoothing", labelSmoothing);
        labels(op, labels, "logits", logits);
        f32Like(op, "probs", probs, "logits", logits);
        f32(op, "lossPerSample", lossPerSample);
        Checks.vectorFor(op, "lossPerSample", lossPerSample, logits.dim(0), "one loss per row of", "logits", logits);
        impl.softmaxCrossEntropy(logits, labels, labelSmoothing, probs, lossPerSample);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        String op = "softmaxCrossEntropyBackward";
        f32(op, "probs", probs);
        Checks.rank(op, "probs", probs, 2, "[N, C]");
        Checks.probability(op, "labelSmoothing", labelSmoothing);
        labels(op, labels, "probs", probs);
        f32Like(op, "dlogits", dlogits, "probs", probs);
        impl.softmaxCrossEntropyBackward(probs, labels, labelSmoothing, scale, dlogits);
    }

    /** pred/logits, target and out of an elementwise loss: float32, one shape. */
    private void elementwiseLoss(String op, String a, Tensor ta, String b, Tensor tb, String c, Tensor tc) {
        f32(op, a, ta);
        f32Like(op, b, tb, a, ta);
        f32Like(op, c, tc, a, ta);
    }

    @Override
    public void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement) {
        elementwiseLoss("bceWithLogits", "logits", logits, "targets", targets, "lossPerElement", lossPerElement);
        impl.bceWithLogits(logits, targets, lossPerElement);
    }

    @Override
    public void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits) {
        elementwiseLoss("bceWithLogitsBackward", "logits", logits, "targets", targets, "dlogits", dlogits);
        impl.bceWithLogitsBackward(logits, targets, scale, dlogits);
    }

    @Override
    public void squaredError(Tensor pred, Tensor target, Tensor out) {
        elementwiseLoss("squaredError", "pred", pred, "target", target, "out", out);
        impl.squaredError(pred, target, out);
    }

    @Override
    public void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred) {
        elementwiseLoss("squaredErrorBackward", "pred", pred, "target", target, "dpred", dpred);
        impl.squaredErrorBackward(pred, target, scale, dpred);
    }

    // ---------------------------------------------------------------- reductions

    private void scalarOut(String op, Tensor out) {
        f32(op, "out", out);
        Checks.scalarLike(op, "out", out);
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        f32("sum", "x", x);
        scalarOut("sum", out);
        impl.sum(x, out);
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        f32("sumSquares", "x", x);
        scalarOut("sumSquares", out);
        impl.sumSquares(x, out, accumulate);
    }

    @Override
    public void sumAbs(Tensor x, Tensor out) {
        f32("sumAbs", "x", x);
        scalarOut("sumAbs", out);
        impl.sumAbs(x, out);
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
        impl.argmaxRows(x, out);
    }

    @Override
    public void countEqual(Tensor a, Tensor b, Tensor out) {
        String op = "countEqual";
        i64(op, "a", a);
        i64(op, "b", b);
        Checks.sameShape(op, "a", a, "b", b);
        scalarOut(op, out);
        impl.countEqual(a, b, out);
    }

    // ---------------------------------------------------------------- convolution and pooling

    private static void spec(String op, ConvSpec spec) {
        if (spec == null) {
            throw Checks.fail(op, "spec is missing (null)");
        }
    }

    /** Validates x, w, b of a convolution and returns the output shape. */
    private Shape convShape(String op, Tensor x, Tensor w, Tensor b, ConvSpec spec) {
        spec(op, spec);
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
        if (!y.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "y", y, out, "x " + x.shape() + ", w " + w.shape() + ", " + spec);
        }
        if (y.storage() == x.storage() || y.storage() == w.storage()) {
            throw Checks.fail(op, "y shares its storage with an input; the convolution needs a separate output");
        }
        impl.conv2dForward(x, w, b, spec, y);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec spec, Tensor dx, Tensor dw, Tensor db) {
        String op = "conv2dBackward";
        Shape out = convShape(op, x, w, null, spec);
        f32(op, "dy", dy);
        if (!dy.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "dy", dy, out, "the output of x " + x.shape() + ", w " + w.shape() + ", " + spec);
        }
        if (dx != null) {
            f32Like(op, "dx", dx, "x", x);
            if (dx.storage() == dy.storage() || dx.storage() == w.storage() || dx.storage() == x.storage()) {
                throw Checks.fail(op, "dx shares its storage with x, w or dy; it needs a separate buffer");
            }
        }
        optF32Like(op, "dw", dw, "w", w);
        if (db != null) {
            f32(op, "db", db);
            Checks.vectorFor(op, "db", db, w.dim(0), "one bias per output channel of", "w", w);
        }
        impl.conv2dBackward(x, w, dy, spec, dx, dw, db);
    }

    private Shape poolShape(String op, String arg, Tensor x, ConvSpec spec) {
        spec(op, spec);
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
        if (!y.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "y", y, out, "x " + x.shape() + ", " + spec);
        }
        if (indices != null) {
            i64(op, "indices", indices);
            Checks.shape(op, "indices", indices, out, "same as y");
        }
        impl.maxPool2dForward(x, spec, y, indices);
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor indices, ConvSpec spec, Tensor dx) {
        String op = "maxPool2dBackward";
        // dy must be exactly the pooled shape of dx: the GPU kernel derives the output plane from dx and the spec.
        Shape out = poolShape(op, "dx", dx, spec);
        f32(op, "dy", dy);
        if (!dy.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "dy", dy, out, "the output of dx " + dx.shape() + " with " + spec);
        }
        i64(op, "indices", indices);
        Checks.sameShape(op, "dy", dy, "indices", indices);
        impl.maxPool2dBackward(dy, indices, spec, dx);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor indices, ConvSpec spec, Tensor dx) {
        String op = "maxPool2dBackward";
        Shape out = poolShape(op, "dx", dx, spec);
        f32(op, "x", x);
        Checks.sameShape(op, "x", x, "dx", dx);
        f32(op, "y", y);
        if (!y.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "y", y, out, "the output of x " + x.shape() + " with " + spec);
        }
        f32(op, "dy", dy);
        if (!dy.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "dy", dy, out, "the output of dx " + dx.shape() + " with " + spec);
        }
        i64(op, "indices", indices);
        Checks.sameShape(op, "dy", dy, "indices", indices);
        impl.maxPool2dBackward(x, y, dy, indices, spec, dx);
    }

    @Override
    public void avgPool2dForward(Tensor x, ConvSpec spec, Tensor y) {
        String op = "avgPool2dForward";
        Shape out = poolShape(op, "x", x, spec);
        f32(op, "y", y);
        if (!y.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "y", y, out, "x " + x.shape() + ", " + spec);
        }
        impl.avgPool2dForward(x, spec, y);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, ConvSpec spec, Tensor dx) {
        String op = "avgPool2dBackward";
        Shape out = poolShape(op, "dx", dx, spec);
        f32(op, "dy", dy);
        if (!dy.shape().equals(out)) {   // the message is built only when it is needed
            Checks.shape(op, "dy", dy, out, "the output of dx " + dx.shape() + " with " + spec);
        }
        impl.avgPool2dBackward(dy, spec, dx);
    }

    /**
     * The fractional pooling's shapes: the input {@code in} [N, C, H, W] (x or dx), the output {@code out}
     * [N, C, OH, OW] (y or dy) with OH, OW >= 1 and OH + kh - 1 <= H, OW + kw - 1 <= W (torch's condition:
     * every window inside the input, the starts strictly inside the range), samples [N, C, 2].
     */
    private void fractionalShapes(String op, String inArg, Tensor in, String outArg, Tensor out, Tensor samples,
                                  int kh, int kw) {
        Checks.positive(op, "kh", kh);
        Checks.positive(op, "kw", kw);
        f32(op, inArg, in);
        Checks.rank(op, inArg, in, 4, "[N, C, H, W]");
        f32(op, outArg, out);
        Checks.rank(op, outArg, out, 4, "[N, C, OH, OW]");
        if (out.dim(0) != in.dim(0) || out.dim(1) != in.dim(1)) {
            throw Checks.fail(op, outArg + " has shape " + out.shape() + " but " + inArg + " has shape " + in.shape()
                    + " (N and C must match)");
        }
        int h = in.dim(2);
        int w = in.dim(3);
        int oh = out.dim(2);
        int ow = out.dim(3);
        if (oh < 1 || ow < 1 || (long) oh + kh - 1 > h || (long) ow + kw - 1 > w) {
            throw Checks.fail(op, "pool " + kh + "x" + kw + " with output " + oh + "x" + ow + " (" + outArg + " "
                    + out.shape() + ") does not fit the input " + h + "x" + w + " (" + inArg + " " + in.shape()
                    + "): need output >= 1 and output + pool - 1 <= input on each axis");
        }
        f32(op, "samples", samples);
        Checks.shape(op, "samples", samples, Shape.of(in.dim(0), in.dim(1), 2), "two uniforms (u_w, u_h) per (n, c)"
                + " plane of " + inArg + " " + in.shape());
    }

    @Override
    public void fractionalMaxPool2dForward(Tensor x, Tensor samples, int kh, int kw, Tensor y, Tensor indices) {
        String op = "fractionalMaxPool2dForward";
        fractionalShapes(op, "x", x, "y", y, samples, kh, kw);
        if (indices != null) {
            i64(op, "indices", indices);
            Checks.sameShape(op, "y", y, "indices", indices);
        }
        impl.fractionalMaxPool2dForward(x, samples, kh, kw, y, indices);
    }

    @Override
    public void fractionalMaxPool2dBackward(Tensor dy, Tensor indices, Tensor samples, int kh, int kw, Tensor dx) {
        String op = "fractionalMaxPool2dBackward";
        fractionalShapes(op, "dx", dx, "dy", dy, samples, kh, kw);
        i64(op, "indices", indices);
        Checks.sameShape(op, "dy", dy, "indices", indices);
        impl.fractionalMaxPool2dBackward(dy, indices, samples, kh, kw, dx);
    }

    // ---------------------------------------------------------------- batch normalisation

    private void optChannel(String op, String arg, Tensor t, Tensor x) {
        if (t != null) {
            channel(op, arg, t, x);
        }
    }

    private void channel(String op, String arg, Tensor t, Tensor x) {
        f32(op, arg, t);
        Checks.channelVector(op, arg, t, "x", x);
    }

    private static void eps(String op, float eps) {
        if (!(eps >= 0f) || Float.isInfinite(eps)) {
            throw Checks.fail(op, "eps must be finite and >= 0 but is " + eps);
        }
    }

    /** The number of values per channel of x [N, C, inner]: N times inner. */
    private static long perChannel(Tensor x) {
        return (long) x.dim(0) * (x.rank() == 2 ? 1 : x.shape().size(2, x.rank()));
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
        eps(op, eps);
        Checks.probability(op, "momentum", momentum);
        long m = perChannel(x);
        if (m < 2) {
            throw Checks.fail(op, "x of shape " + x.shape() + " has " + m
                    + " value per channel; training needs more than 1 (the unbiased variance divides by M - 1)");
        }
        impl.batchNormForwardTrain(x, gamma, beta, eps, momentum, runningMean, runningVar, y, saveMean, saveVar);
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
        eps(op, eps);
        impl.batchNormForwardEval(x, gamma, beta, runningMean, runningVar, eps, y);
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
        optF32Like(op, "dx", dx, "x", x);
        optChannel(op, "dgamma", dgamma, x);
        optChannel(op, "dbeta", dbeta, x);
        eps(op, eps);
        impl.batchNormBackward(x, dy, gamma, mean, var, eps, training, dx, dgamma, dbeta);
    }

    // ---------------------------------------------------------------- dropout

    @Override
    public void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask) {
        String op = "dropoutForward";
        f32(op, "x", x);
        Checks.probability(op, "p", p);
        f32Like(op, "y", y, "x", x);
        optF32Like(op, "mask", mask, "x", x);
        impl.dropoutForward(x, p, seed, offset, y, mask);
    }

    // ---------------------------------------------------------------- optimizer updates

    private void state(String op, String arg, Tensor t, Tensor param) {
        f32Like(op, arg, t, "param", param);
    }

    private void momentumBuffer(String op, Tensor buf, float momentum, Tensor param) {
        if (momentum != 0f) {
            if (buf == null) {
                throw Checks.fail(op, "momentumBuffer is missing (null) but momentum is " + momentum);
            }
            state(op, "momentumBuffer", buf, param);
        }
    }

    private void checkSgd(String op, Tensor param, Tensor grad, Tensor momentumBuffer, float momentum) {
        f32(op, "param", param);
        state(op, "grad", grad, param);
        momentumBuffer(op, momentumBuffer, momentum, param);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                        float weightDecay, boolean nesterov, boolean firstStep) {
        checkSgd("sgdStep", param, grad, momentumBuffer, momentum);
        impl.sgdStep(param, grad, momentum != 0f ? momentumBuffer : null, lr, momentum, dampening, weightDecay,
                nesterov, firstStep);
    }

    private void checkAdagrad(String op, Tensor param, Tensor grad, Tensor sum) {
        f32(op, "param", param);
        state(op, "grad", grad, param);
        state(op, "sum", sum, param);
    }

    @Override
    public void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps) {
        checkAdagrad("adagradStep", param, grad, sum);
        impl.adagradStep(param, grad, sum, clr, weightDecay, eps);
    }

    private void checkRmsprop(String op, Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer,
                              float momentum) {
        f32(op, "param", param);
        state(op, "grad", grad, param);
        state(op, "squareAvg", squareAvg, param);
        momentumBuffer(op, momentumBuffer, momentum, param);
    }

    @Override
    public void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha,
                            float eps, float weightDecay, float momentum) {
        checkRmsprop("rmspropStep", param, grad, squareAvg, momentumBuffer, momentum);
        impl.rmspropStep(param, grad, squareAvg, momentum != 0f ? momentumBuffer : null, lr, alpha, eps, weightDecay,
                momentum);
    }

    private void checkAdam(String op, Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq,
                           int step) {
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
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr,
                         float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        checkAdam("adamStep", param, grad, expAvg, expAvgSq, maxExpAvgSq, step);
        impl.adamStep(param, grad, expAvg, expAvgSq, maxExpAvgSq, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }

    private void checkClip(String op, Tensor grad, Tensor totalSquares, float maxNorm) {
        f32(op, "grad", grad);
        f32(op, "totalSquares", totalSquares);
        Checks.scalarLike(op, "totalSquares", totalSquares);
        if (!(maxNorm >= 0f)) {
            throw Checks.fail(op, "maxNorm must be >= 0 but is " + maxNorm);
        }
    }

    @Override
    public void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm) {
        checkClip("clipByGlobalNorm", grad, totalSquares, maxNorm);
        impl.clipByGlobalNorm(grad, totalSquares, maxNorm);
    }

    // ---------------------------------------------------------------- list forms (one launch for many tensors)

    /** The lists are present (optional ones may be null) and as long as params; returns that length. */
    private static int lists(String op, List<Tensor> params, Object... namesAndLists) {
        if (params == null) {
            throw Checks.fail(op, "params is missing (null)");
        }
        for (int i = 0; i < namesAndLists.length; i += 2) {
            List<?> l = (List<?>) namesAndLists[i + 1];
            if (l != null && l.size() != params.size()) {
                throw Checks.fail(op, namesAndLists[i] + " has " + l.size() + " tensors but params has " + params.size());
            }
        }
        return params.size();
    }

    private static Tensor at(List<Tensor> l, int i) {
        return l == null ? null : l.get(i);
    }

    private static String idx(String op, int i) {
        return op + "[" + i + "]";
    }

    @Override
    public void sgdSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> momentumBuffers, float lr, float momentum,
                         float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        String op = "sgdSteps";
        int n = lists(op, params, "grads", grads, "momentumBuffers", momentumBuffers);
        for (int i = 0; i < n; i++) {
            checkSgd(idx(op, i), params.get(i), grads.get(i), at(momentumBuffers, i), momentum);
        }
        impl.sgdSteps(params, grads, momentum != 0f ? momentumBuffers : null, lr, momentum, dampening, weightDecay,
                nesterov, firstStep);
    }

    @Override
    public void adagradSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> sums, float clr, float weightDecay,
                             float eps) {
        String op = "adagradSteps";
        int n = lists(op, params, "grads", grads, "sums", sums);
        for (int i = 0; i < n; i++) {
            checkAdagrad(idx(op, i), params.get(i), grads.get(i), at(sums, i));
        }
        impl.adagradSteps(params, grads, sums, clr, weightDecay, eps);
    }

    @Override
    public void rmspropSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> squareAvgs,
                             List<Tensor> momentumBuffers, float lr, float alpha, float eps, float weightDecay,
                             float momentum) {
        String op = "rmspropSteps";
        int n = lists(op, params, "grads", grads, "squareAvgs", squareAvgs, "momentumBuffers", momentumBuffers);
        for (int i = 0; i < n; i++) {
            checkRmsprop(idx(op, i), params.get(i), grads.get(i), at(squareAvgs, i), at(momentumBuffers, i), momentum);
        }
        impl.rmspropSteps(params, grads, squareAvgs, momentum != 0f ? momentumBuffers : null, lr, alpha, eps,
                weightDecay, momentum);
    }

    @Override
    public void adamSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvgs, List<Tensor> expAvgSqs,
                          List<Tensor> maxExpAvgSqs, float lr, float beta1, float beta2, float eps, float weightDecay,
                          boolean decoupled, int step) {
        String op = "adamSteps";
        int n = lists(op, params, "grads", grads, "expAvgs", expAvgs, "expAvgSqs", expAvgSqs, "maxExpAvgSqs",
                maxExpAvgSqs);
        for (int i = 0; i < n; i++) {
            checkAdam(idx(op, i), params.get(i), grads.get(i), at(expAvgs, i), at(expAvgSqs, i), at(maxExpAvgSqs, i),
                    step);
        }
        impl.adamSteps(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs, lr, beta1, beta2, eps, weightDecay, decoupled,
                step);
    }

    @Override
    public void sumSquares(List<Tensor> xs, Tensor out) {
        String op = "sumSquares";
        if (xs == null) {
            throw Checks.fail(op, "xs is missing (null)");
        }
        for (int i = 0; i < xs.size(); i++) {
            f32(op, "xs[" + i + "]", xs.get(i));
        }
        scalarOut(op, out);
        impl.sumSquares(xs, out);
    }

    @Override
    public void clipByGlobalNorm(List<Tensor> grads, Tensor totalSquares, float maxNorm) {
        String op = "clipByGlobalNorm";
        if (grads == null) {
            throw Checks.fail(op, "grads is missing (null)");
        }
        for (int i = 0; i < grads.size(); i++) {
            checkClip(idx(op, i), grads.get(i), totalSquares, maxNorm);
        }
        impl.clipByGlobalNorm(grads, totalSquares, maxNorm);
    }

    // ---------------------------------------------------------------- regularizers

    @Override
    public void addSign(float lambda, Tensor w, Tensor grad) {
        String op = "addSign";
        f32(op, "w", w);
        f32Like(op, "grad", grad, "w", w);
        impl.addSign(lambda, w, grad);
    }

    @Override
    public void rowNorms(Tensor w, Tensor norms) {
        String op = "rowNorms";
        f32(op, "w", w);
        Checks.minRank(op, "w", w, 1, "[O, ...]");
        f32(op, "norms", norms);
        Checks.vectorFor(op, "norms", norms, w.dim(0), "one norm per row of", "w", w);
        impl.rowNorms(w, norms);
    }

    @Override
    public void maxNormRows(Tensor w, float c) {
        String op = "maxNormRows";
        f32(op, "w", w);
        Checks.minRank(op, "w", w, 1, "[O, ...]");
        if (!(c >= 0f)) {
            throw Checks.fail(op, "c must be >= 0 but is " + c);
        }
        impl.maxNormRows(w, c);
    }

    // ---------------------------------------------------------------- concatenation

    @Override
    public void concatDim1(List<Tensor> parts, Tensor out) {
        concatShapes("concatDim1", parts, out, "out");
        impl.concatDim1(parts, out);
    }

    @Override
    public void splitDim1(Tensor in, List<Tensor> parts) {
        concatShapes("splitDim1", parts, in, "in");
        impl.splitDim1(in, parts);
    }

    /** Parts [N, C_k, inner] and the whole [N, sum C_k, inner]: float32 on this device, all dims but 1 equal. */
    private void concatShapes(String op, List<Tensor> parts, Tensor whole, String wholeName) {
        f32(op, wholeName, whole);
        if (parts == null || parts.isEmpty()) {
            throw Checks.fail(op, "parts is empty");
        }
        if (whole.rank() < 2) {
            throw Checks.fail(op, wholeName + " has shape " + whole.shape() + " but rank >= 2 is needed");
        }
        int c = 0;
        for (int k = 0; k < parts.size(); k++) {
            Tensor p = f32(op, "parts[" + k + "]", parts.get(k));
            boolean ok = p.rank() == whole.rank();
            for (int d = 0; ok && d < p.rank(); d++) {
                ok = d == 1 || p.dim(d) == whole.dim(d);
            }
            if (!ok) {
                throw Checks.fail(op, "parts[" + k + "] has shape " + p.shape() + " but " + wholeName + " has shape "
                        + whole.shape() + " (all dims but dim 1 must match)");
            }
            c += p.dim(1);
        }
        if (c != whole.dim(1)) {
            throw Checks.fail(op, "the parts have " + c + " channels along dim 1 in all but " + wholeName + " has "
                    + whole.dim(1) + " (shape " + whole.shape() + ")");
        }
    }
}
