package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.HostStorage;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/** The pure-Java backend (STUB being filled in: ops below throw until implemented). */
public final class CpuBackend implements Backend {
    private static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {
    }

    public static CpuBackend get() {
        return INSTANCE;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "cpu: pure Java";
    }

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        return new Tensor(shape, dtype, HostStorage.allocate(dtype, shape.numel()));
    }

    @Override
    public Tensor fromHost(Tensor host) {
        return host;
    }

    @Override
    public Tensor toHost(Tensor tensor) {
        return tensor;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (!src.shape().equals(dst.shape()) || src.dtype() != dst.dtype()) {
            throw new IllegalArgumentException("copy: source " + src + " and destination " + dst + " differ");
        }
        if (src.dtype() == DType.FLOAT32) {
            System.arraycopy(src.floats(), 0, dst.floats(), 0, src.numel());
        } else {
            System.arraycopy(src.longs(), 0, dst.longs(), 0, src.numel());
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        java.util.Arrays.fill(t.floats(), 0, t.numel(), value);
    }

    @Override
    public void randomUniform(Tensor t, float low, float high, long seed, long offset) {
        throw new UnsupportedOperationException("cpu: randomUniform not implemented yet");
    }

    @Override
    public void randomNormal(Tensor t, float mean, float std, long seed, long offset) {
        throw new UnsupportedOperationException("cpu: randomNormal not implemented yet");
    }

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        throw new UnsupportedOperationException("cpu: gemm not implemented yet");
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        throw new UnsupportedOperationException("cpu: addBias not implemented yet");
    }

    @Override
    public void biasGrad(Tensor dy, Tensor dbias) {
        throw new UnsupportedOperationException("cpu: biasGrad not implemented yet");
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        throw new UnsupportedOperationException("cpu: add not implemented yet");
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        throw new UnsupportedOperationException("cpu: mul not implemented yet");
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        throw new UnsupportedOperationException("cpu: axpy not implemented yet");
    }

    @Override
    public void scale(Tensor x, float alpha) {
        throw new UnsupportedOperationException("cpu: scale not implemented yet");
    }

    @Override
    public void activationForward(Activation act, Tensor x, Tensor y) {
        throw new UnsupportedOperationException("cpu: activationForward not implemented yet");
    }

    @Override
    public void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        throw new UnsupportedOperationException("cpu: activationBackward not implemented yet");
    }

    @Override
    public void preluForward(Tensor x, Tensor alpha, Tensor y) {
        throw new UnsupportedOperationException("cpu: preluForward not implemented yet");
    }

    @Override
    public void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha) {
        throw new UnsupportedOperationException("cpu: preluBackward not implemented yet");
    }

    @Override
    public void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece) {
        throw new UnsupportedOperationException("cpu: maxoutForward not implemented yet");
    }

    @Override
    public void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz) {
        throw new UnsupportedOperationException("cpu: maxoutBackward not implemented yet");
    }

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs, Tensor lossPerSample) {
        throw new UnsupportedOperationException("cpu: softmaxCrossEntropy not implemented yet");
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale, Tensor dlogits) {
        throw new UnsupportedOperationException("cpu: softmaxCrossEntropyBackward not implemented yet");
    }

    @Override
    public void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement) {
        throw new UnsupportedOperationException("cpu: bceWithLogits not implemented yet");
    }

    @Override
    public void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits) {
        throw new UnsupportedOperationException("cpu: bceWithLogitsBackward not implemented yet");
    }

    @Override
    public void squaredError(Tensor pred, Tensor target, Tensor out) {
        throw new UnsupportedOperationException("cpu: squaredError not implemented yet");
    }

    @Override
    public void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred) {
        throw new UnsupportedOperationException("cpu: squaredErrorBackward not implemented yet");
    }

    @Override
    public void sum(Tensor x, Tensor out) {
        throw new UnsupportedOperationException("cpu: sum not implemented yet");
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        throw new UnsupportedOperationException("cpu: sumSquares not implemented yet");
    }

    @Override
    public void sumAbs(Tensor x, Tensor out) {
        throw new UnsupportedOperationException("cpu: sumAbs not implemented yet");
    }

    @Override
    public void argmaxRows(Tensor x, Tensor out) {
        throw new UnsupportedOperationException("cpu: argmaxRows not implemented yet");
    }

    @Override
    public void countEqual(Tensor a, Tensor b, Tensor out) {
        throw new UnsupportedOperationException("cpu: countEqual not implemented yet");
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor b, ConvSpec spec, Tensor y) {
        throw new UnsupportedOperationException("cpu: conv2dForward not implemented yet");
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec spec, Tensor dx, Tensor dw, Tensor db) {
        throw new UnsupportedOperationException("cpu: conv2dBackward not implemented yet");
    }

    @Override
    public void maxPool2dForward(Tensor x, ConvSpec spec, Tensor y, Tensor indices) {
        throw new UnsupportedOperationException("cpu: maxPool2dForward not implemented yet");
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor indices, Tensor dx) {
        throw new UnsupportedOperationException("cpu: maxPool2dBackward not implemented yet");
    }

    @Override
    public void avgPool2dForward(Tensor x, ConvSpec spec, Tensor y) {
        throw new UnsupportedOperationException("cpu: avgPool2dForward not implemented yet");
    }

    @Override
    public void avgPool2dBackward(Tensor dy, ConvSpec spec, Tensor dx) {
        throw new UnsupportedOperationException("cpu: avgPool2dBackward not implemented yet");
    }

    @Override
    public void batchNormForwardTrain(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum, Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar) {
        throw new UnsupportedOperationException("cpu: batchNormForwardTrain not implemented yet");
    }

    @Override
    public void batchNormForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        throw new UnsupportedOperationException("cpu: batchNormForwardEval not implemented yet");
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps, boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        throw new UnsupportedOperationException("cpu: batchNormBackward not implemented yet");
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask) {
        throw new UnsupportedOperationException("cpu: dropoutForward not implemented yet");
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        throw new UnsupportedOperationException("cpu: sgdStep not implemented yet");
    }

    @Override
    public void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps) {
        throw new UnsupportedOperationException("cpu: adagradStep not implemented yet");
    }

    @Override
    public void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha, float eps, float weightDecay, float momentum) {
        throw new UnsupportedOperationException("cpu: rmspropStep not implemented yet");
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        throw new UnsupportedOperationException("cpu: adamStep not implemented yet");
    }

    @Override
    public void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm) {
        throw new UnsupportedOperationException("cpu: clipByGlobalNorm not implemented yet");
    }

    @Override
    public void addSign(float lambda, Tensor w, Tensor grad) {
        throw new UnsupportedOperationException("cpu: addSign not implemented yet");
    }

    @Override
    public void rowNorms(Tensor w, Tensor norms) {
        throw new UnsupportedOperationException("cpu: rowNorms not implemented yet");
    }

    @Override
    public void maxNormRows(Tensor w, float c) {
        throw new UnsupportedOperationException("cpu: maxNormRows not implemented yet");
    }
}
