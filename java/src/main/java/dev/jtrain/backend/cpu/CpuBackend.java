package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.Checks;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.cpu.gemm.Sgemm;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.HostStorage;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;

import java.util.List;

/**
 * The pure-Java implementation of the op set: a thin dispatcher to one kernel class per concept in this
 * package ({@link CpuElementwise}, {@link CpuBias}, {@link CpuActivations}, {@link CpuLosses},
 * {@link CpuReductions}, {@link CpuConv}, {@link CpuPooling}, {@link CpuBatchNorm}, {@link CpuDropout},
 * {@link CpuRandom}, {@link CpuOptimizers}, {@link CpuRegularizers}, {@link CpuConcat}) and {@link Sgemm}.
 *
 * <p>It receives <b>checked</b> arguments: callers get it behind the op front
 * ({@code Backends.cpu()}, a {@code CheckedBackend}) that validates devices, dtypes and shapes once for
 * every device. What stays here are the checks of tensor <i>values</i> (label range, maxout piece, pool
 * index), which cost nothing on the host. Results do not depend on the thread count ({@link CpuLoops}).
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend INSTANCE = new CpuBackend();

    private final TransferStats transfers = new TransferStats(Device.CPU);

    private CpuBackend() {
    }

    /** The unchecked implementation; use {@link Backends#cpu()} (the checked front) everywhere else. */
    public static CpuBackend get() {
        return INSTANCE;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    /** Always zero: a cpu tensor never moves to the cpu; transfers are counted by the device end's backend. */
    @Override
    public TransferStats transferStats() {
        return transfers;
    }

    @Override
    public String describe() {
        int t = CpuThreads.threads();
        return "cpu: pure Java, GEMM " + Sgemm.simdPath() + ", " + t + (t == 1 ? " thread" : " threads");
    }

    private static float[] fl(Tensor t) {
        return t == null ? null : t.floats();
    }

    /** The product of the dimensions after dim 1 (1 for rank 2). */
    private static int inner(Tensor t) {
        return t.rank() == 2 ? 1 : t.shape().size(2, t.rank());
    }

    // ---------------------------------------------------------------- memory and transfers

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        return new Tensor(shape, dtype, HostStorage.allocate(dtype, shape.numel()));
    }

    @Override
    public Tensor fromHost(Tensor host) {
        Tensor t = zeros(host.dtype(), host.shape());
        copy(host, t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor tensor) {
        return fromHost(tensor);
    }

    @Override
    public void copyFromHost(Tensor host, Tensor dst) {
        copy(host, dst);
    }

    @Override
    public void copyToHost(Tensor src, Tensor host) {
        copy(src, host);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
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
        if (t.dtype() == DType.FLOAT32) {
            CpuElementwise.fill(t.floats(), value, t.numel());
        } else {
            CpuElementwise.fill(t.longs(), (long) value, t.numel());
        }
    }

    // ---------------------------------------------------------------- random

    @Override
    public void randomUniform(Tensor t, float low, float high, long seed, long offset) {
        CpuRandom.uniform(t.floats(), t.numel(), low, high, seed, offset);
    }

    @Override
    public void randomNormal(Tensor t, float mean, float std, long seed, long offset) {
        CpuRandom.normal(t.floats(), t.numel(), mean, std, seed, offset);
    }

    // ---------------------------------------------------------------- GEMM and bias

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int m = c.dim(0);
        int n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        Sgemm.sgemm(transA, transB, m, n, k, alpha, a.floats(), 0, Math.max(1, a.dim(1)), b.floats(), 0,
                Math.max(1, b.dim(1)), beta, c.floats(), 0, Math.max(1, n));
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        CpuBias.addBias(y.floats(), bias.floats(), y.dim(0), y.dim(1), inner(y));
    }

    @Override
    public void biasGrad(Tensor dy, Tensor dbias) {
        CpuBias.biasGrad(dy.floats(), dbias.floats(), dy.dim(0), dy.dim(1), inner(dy));
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        CpuElementwise.add(a.floats(), b.floats(), out.floats(), a.numel());
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        CpuElementwise.mul(a.floats(), b.floats(), out.floats(), a.numel());
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        CpuElementwise.axpy(alpha, x.floats(), y.floats(), x.numel());
    }

    @Override
    public void scale(Tensor x, float alpha) {
        CpuElementwise.scale(x.floats(), alpha, x.numel());
    }

    @Override
    public void sqrt(Tensor x, Tensor out) {
        CpuElementwise.sqrt(x.floats(), out.floats(), x.numel());
    }

    // ---------------------------------------------------------------- activations

    @Override
    public void activationForward(Activation act, Tensor x, Tensor y) {
        CpuActivations.forward(act, x.floats(), y.floats(), x.numel());
    }

    @Override
    public void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        Activation.Kind kind = act.kind();
        boolean fromOutput = kind == Activation.Kind.SIGMOID || kind == Activation.Kind.TANH;
        Tensor src;
        if (fromOutput || (kind == Activation.Kind.RELU && x == null && y != null)) {
            src = y;
        } else if (kind == Activation.Kind.IDENTITY && x == null) {
            src = dy;
        } else {
            src = x;
        }
        float[] s = src.floats();
        CpuActivations.backward(act, fromOutput ? null : s, fromOutput ? s : null, dy.floats(), dx.floats(), dy.numel());
    }

    /** Channel layout {n, c, inner} for PReLU: a shared alpha [1] treats the tensor as one channel. */
    private static int[] preluLayout(Tensor x, Tensor alpha) {
        if (alpha.dim(0) == 1 && (x.rank() < 2 || x.dim(1) != 1)) {
            return new int[] {1, 1, x.numel()};
        }
        return new int[] {x.dim(0), x.dim(1), inner(x)};
    }

    @Override
    public void preluForward(Tensor x, Tensor alpha, Tensor y) {
        int[] d = preluLayout(x, alpha);
        CpuActivations.preluForward(x.floats(), alpha.floats(), y.floats(), d[0], d[1], d[2]);
    }

    @Override
    public void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha) {
        int[] d = preluLayout(x, alpha);
        CpuActivations.preluBackward(x.floats(), alpha.floats(), dy.floats(), dx.floats(), fl(dalpha), d[0], d[1], d[2]);
    }

    @Override
    public void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece) {
        CpuActivations.maxoutForward(z.floats(), pieces, y.floats(), piece.longs(), z.dim(0), z.dim(1) / pieces);
    }

    @Override
    public void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz) {
        long[] pc = piece.longs();
        for (int i = 0; i < piece.numel(); i++) {
            if (pc[i] < 0 || pc[i] >= pieces) {
                throw Checks.fail("maxoutBackward", "piece[" + i + "] = " + pc[i] + " is outside [0, " + pieces + ")");
            }
        }
        CpuActivations.maxoutBackward(dy.floats(), pc, pieces, dz.floats(), dz.dim(0), dz.dim(1) / pieces);
    }

    // ---------------------------------------------------------------- losses

    /** Labels in [0, C): checked here because reading them costs nothing on the host. */
    private static void labelRange(String op, Tensor labels, int c) {
        long[] l = labels.longs();
        for (int i = 0; i < labels.numel(); i++) {
            if (l[i] < 0 || l[i] >= c) {
                throw Checks.fail(op, "labels[" + i + "] = " + l[i] + " is outside [0, " + c + ")");
            }
        }
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs,
                                    Tensor lossPerSample) {
        labelRange("softmaxCrossEntropy", labels, logits.dim(1));
        CpuLosses.softmaxCrossEntropy(logits.floats(), labels.longs(), labelSmoothing, probs.floats(),
                lossPerSample.floats(), logits.dim(0), logits.dim(1));
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        labelRange("softmaxCrossEntropyBackward", labels, probs.dim(1));
        CpuLosses.softmaxCrossEntropyBackward(probs.floats(), labels.longs(), labelSmoothing, scale, dlogits.floats(),
                probs.dim(0), probs.dim(1));
    }

    @Override
    public void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement) {
        CpuLosses.bceWithLogits(logits.floats(), targets.floats(), lossPerElement.floats(), logits.numel());
    }

    @Override
    public void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits) {
        CpuLosses.bceWithLogitsBackward(logits.floats(), targets.floats(), scale, dlogits.floats(), logits.numel());
    }

    @Override
    public void squaredError(Tensor pred, Tensor target, Tensor out) {
        CpuLosses.squaredError(pred.floats(), target.floats(), out.floats(), pred.numel());
    }

    @Override
    public void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred) {
        CpuLosses.squaredErrorBackward(pred.floats(), target.floats(), scale, dpred.floats(), pred.numel());
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public void sum(Tensor x, Tensor out) {
        out.floats()[0] = (float) CpuReductions.sum(x.floats(), x.numel());
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        float[] o = out.floats();
        double s = CpuReductions.sumSquares(x.floats(), x.numel());
        o[0] = (float) (accumulate ? o[0] + s : s);
    }

    @Override
    public void sumAbs(Tensor x, Tensor out) {
        out.floats()[0] = (float) CpuReductions.sumAbs(x.floats(), x.numel());
    }

    @Override
    public void argmaxRows(Tensor x, Tensor out) {
        CpuReductions.argmaxRows(x.floats(), out.longs(), x.dim(0), x.dim(1));
    }

    @Override
    public void countEqual(Tensor a, Tensor b, Tensor out) {
        out.floats()[0] = CpuReductions.countEqual(a.longs(), b.longs(), a.numel());
    }

    // ---------------------------------------------------------------- convolution and pooling

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor b, ConvSpec spec, Tensor y) {
        CpuConv.forward(x.floats(), w.floats(), fl(b), y.floats(), x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0),
                y.dim(2), y.dim(3), spec);
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec spec, Tensor dx, Tensor dw, Tensor db) {
        CpuConv.backward(x.floats(), w.floats(), dy.floats(), fl(dx), fl(dw), fl(db), x.dim(0), x.dim(1), x.dim(2),
                x.dim(3), w.dim(0), dy.dim(2), dy.dim(3), spec);
    }

    @Override
    public void maxPool2dForward(Tensor x, ConvSpec spec, Tensor y, Tensor indices) {
        CpuPooling.maxForward(x.floats(), y.floats(), indices == null ? null : indices.longs(), x.dim(0) * x.dim(1),
                x.dim(2), x.dim(3), y.dim(2), y.dim(3), spec);
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor indices, ConvSpec spec, Tensor dx) {
        long bad = CpuPooling.maxBackward(dy.floats(), indices.longs(), dx.floats(), dy.dim(0) * dy.dim(1),
                dx.dim(2) * dx.dim(3), dy.dim(2) * dy.dim(3));
        if (bad >= 0) {
            throw Checks.fail("maxPool2dBackward", "indices[" + bad + "] = " + indices.longs()[(int) bad]
                    + " is outside the " + dx.dim(2) + "x" + dx.dim(3) + " plane of dx " + dx.shape());
        }
    }

    @Override
    public void avgPool2dForward(Tensor x, ConvSpec spec, Tensor y) {
        CpuPooling.avgForward(x.floats(), y.floats(), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3),
                spec);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, ConvSpec spec, Tensor dx) {
        CpuPooling.avgBackward(dy.floats(), dx.floats(), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2),
                dy.dim(3), spec);
    }

    @Override
    public void fractionalMaxPool2dForward(Tensor x, Tensor samples, int kh, int kw, Tensor y, Tensor indices) {
        CpuFractionalPooling.forward(x.floats(), samples.floats(), y.floats(), indices == null ? null : indices.longs(),
                x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3), kh, kw);
    }

    @Override
    public void fractionalMaxPool2dBackward(Tensor dy, Tensor indices, Tensor samples, int kh, int kw, Tensor dx) {
        long bad = CpuFractionalPooling.backward(dy.floats(), indices.longs(), samples.floats(), dx.floats(),
                dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2), dy.dim(3), kh, kw);
        if (bad >= 0) {
            throw Checks.fail("fractionalMaxPool2dBackward", "indices[" + bad + "] = " + indices.longs()[(int) bad]
                    + " is not inside its " + kh + "x" + kw + " window in the " + dx.dim(2) + "x" + dx.dim(3)
                    + " plane of dx " + dx.shape() + " (indices must be the forward's argmax)");
        }
    }

    // ---------------------------------------------------------------- batch normalisation

    @Override
    public void batchNormForwardTrain(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum,
                                      Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar) {
        CpuBatchNorm.forwardTrain(x.floats(), fl(gamma), fl(beta), eps, momentum, fl(runningMean), fl(runningVar),
                y.floats(), fl(saveMean), fl(saveVar), x.dim(0), x.dim(1), inner(x));
    }

    @Override
    public void batchNormForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float eps, Tensor y) {
        CpuBatchNorm.forwardEval(x.floats(), fl(gamma), fl(beta), runningMean.floats(), runningVar.floats(), eps,
                y.floats(), x.dim(0), x.dim(1), inner(x));
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps,
                                  boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        CpuBatchNorm.backward(x.floats(), dy.floats(), fl(gamma), mean.floats(), var.floats(), eps, training, fl(dx),
                fl(dgamma), fl(dbeta), x.dim(0), x.dim(1), inner(x));
    }

    // ---------------------------------------------------------------- dropout

    @Override
    public void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask) {
        CpuDropout.forward(x.floats(), p, seed, offset, y.floats(), fl(mask), x.numel());
    }

    // ---------------------------------------------------------------- optimizer updates

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                        float weightDecay, boolean nesterov, boolean firstStep) {
        CpuOptimizers.sgd(param.floats(), grad.floats(), fl(momentumBuffer), lr, momentum, dampening, weightDecay,
                nesterov, firstStep, param.numel());
    }

    @Override
    public void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps) {
        CpuOptimizers.adagrad(param.floats(), grad.floats(), sum.floats(), clr, weightDecay, eps, param.numel());
    }

    @Override
    public void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha,
                            float eps, float weightDecay, float momentum) {
        CpuOptimizers.rmsprop(param.floats(), grad.floats(), squareAvg.floats(), fl(momentumBuffer), lr, alpha, eps,
                weightDecay, momentum, param.numel());
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr,
                         float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        CpuOptimizers.adam(param.floats(), grad.floats(), expAvg.floats(), expAvgSq.floats(), fl(maxExpAvgSq), lr,
                beta1, beta2, eps, weightDecay, decoupled, step, param.numel());
    }

    @Override
    public void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm) {
        CpuOptimizers.clip(grad.floats(), totalSquares.floats()[0], maxNorm, grad.numel());
    }

    // ---------------------------------------------------------------- regularizers

    @Override
    public void addSign(float lambda, Tensor w, Tensor grad) {
        CpuRegularizers.addSign(lambda, w.floats(), grad.floats(), w.numel());
    }

    @Override
    public void rowNorms(Tensor w, Tensor norms) {
        int rows = w.dim(0);
        CpuRegularizers.rowNorms(w.floats(), norms.floats(), rows, rows == 0 ? 0 : w.numel() / rows);
    }

    @Override
    public void maxNormRows(Tensor w, float c) {
        int rows = w.dim(0);
        CpuRegularizers.maxNormRows(w.floats(), c, rows, rows == 0 ? 0 : w.numel() / rows);
    }

    // ---------------------------------------------------------------- concatenation

    @Override
    public void concatDim1(List<Tensor> parts, Tensor out) {
        CpuConcat.concatDim1(parts, out);
    }

    @Override
    public void splitDim1(Tensor in, List<Tensor> parts) {
        CpuConcat.splitDim1(in, parts);
    }
}
