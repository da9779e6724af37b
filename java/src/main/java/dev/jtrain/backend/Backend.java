package dev.jtrain.backend;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorDevice;

/**
 * The op set every layer, loss and optimizer uses. One implementation per device kind: the pure-Java
 * {@code CpuBackend} and {@code GpuBackend} (our CUDA kernels, on {@code emu} or {@code cuda:n}), each
 * behind the device-neutral op front {@link CheckedBackend} that validates arguments once for every
 * device; {@link Backends#forDevice} hands out the fronts. Ops never transfer data between devices: every
 * tensor argument must be on {@link #device()}, else the op throws naming both devices; the only
 * host-device moves are {@link #fromHost}, {@link #toHost}, {@link #copyFromHost} and {@link #copyToHost},
 * reached through {@link Tensor#to} and {@link Tensor#copyFrom}, which count them.
 *
 * <p>Conventions, shared by every implementation:
 * <ul>
 *   <li>Outputs are allocated by the caller and passed in (so layers can reuse buffers).</li>
 *   <li>Activation gradients ({@code dx}, {@code dz}, {@code dlogits}) are overwritten; parameter
 *       gradients ({@code dw}, {@code db}, {@code dgamma}, {@code dbeta}, {@code dalpha}) are
 *       <b>accumulated</b> (+=), like PyTorch's {@code .grad}.</li>
 *   <li>Reductions write into a one-element float32 tensor on this device, so a device backend never
 *       has to synchronise with the host; reading the value is a transfer ({@code to(Device.CPU)}).</li>
 *   <li>Tensors are contiguous row-major; "[N, C, inner]" means any rank >= 2 seen as N x C x (product
 *       of the remaining dimensions), e.g. [N, D] (inner = 1) or NCHW (inner = H*W).</li>
 *   <li>Numerics follow PyTorch (see tests/conformance/FORMAT.md); intermediate sums over many
 *       elements are accumulated in double on the CPU.</li>
 * </ul>
 */
public interface Backend extends TensorDevice {

    Device device();

    /** A short description for {@code jtrain info}, e.g. "cpu: pure Java, Vector API 512-bit, 2 threads". */
    String describe();

    // ---------------------------------------------------------------- memory and transfers

    /** A new zero-filled tensor on this device. */
    Tensor zeros(DType dtype, Shape shape);

    default Tensor zeros(int... dims) {
        return zeros(DType.FLOAT32, Shape.of(dims));
    }

    /** Copy of a cpu tensor onto this device (called by {@link Tensor#to}; not counted here). */
    Tensor fromHost(Tensor host);

    /** Copy of a tensor on this device onto the cpu (called by {@link Tensor#to}; not counted here). */
    Tensor toHost(Tensor tensor);

    /** Copies a cpu tensor into an existing tensor on this device (same shape and dtype); not counted here. */
    void copyFromHost(Tensor host, Tensor dst);

    /** Copies a tensor on this device into an existing cpu tensor (same shape and dtype); not counted here. */
    void copyToHost(Tensor src, Tensor host);

    /**
     * Waits until every op issued on this device so far has finished (a no-op on the cpu). On a GPU this, like
     * {@link #toHost}/{@link #copyToHost}, reports a bad value a kernel found since the last sync (a label
     * outside [0, C), a maxout piece or pooling index out of range) as an {@link IllegalArgumentException}; the
     * cpu rejects such values in the op itself.
     */
    default void synchronize() {
    }

    /** dst = src (same shape and dtype, both on this device). */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor t, float value);

    // ---------------------------------------------------------------- random (Philox4x32-10, same bits on every backend)

    /**
     * Uniform in [low, high): element i uses the Philox word i of (seed, offset) like dropout
     * (docs/architecture.md, section 6).
     */
    void randomUniform(Tensor t, float low, float high, long seed, long offset);

    /** Normal(mean, std) by Box-Muller over pairs of Philox words of (seed, offset). */
    void randomNormal(Tensor t, float mean, float std, long seed, long offset);

    // ---------------------------------------------------------------- GEMM and bias

    /**
     * c = alpha * op(a) * op(b) + beta * c for 2-D tensors; op(a) is [m, k], op(b) is [k, n], c is [m, n].
     * transA means a is stored [k, m]. beta = 0 ignores the old contents of c (even NaN).
     */
    void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    /** y[n, c, inner] += bias[c] (bias along dim 1; for [N, D] that is one bias per column). */
    void addBias(Tensor y, Tensor bias);

    /** dbias[c] += sum of dy[n, c, inner] over n and inner. */
    void biasGrad(Tensor dy, Tensor dbias);

    // ---------------------------------------------------------------- elementwise

    /** out = a + b (same shapes; out may alias a or b). */
    void add(Tensor a, Tensor b, Tensor out);

    /** out = a * b elementwise (out may alias a or b). */
    void mul(Tensor a, Tensor b, Tensor out);

    /** y += alpha * x. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** x *= alpha, in place. */
    void scale(Tensor x, float alpha);

    /** out = sqrt(x) elementwise (out may alias x); e.g. a global norm from a sum of squares, on the device. */
    void sqrt(Tensor x, Tensor out);

    // ---------------------------------------------------------------- activations

    void activationForward(Activation act, Tensor x, Tensor y);

    /** dx = dy * f'(x); sigmoid and tanh use the output y like PyTorch, the others use x. */
    void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** y = x > 0 ? x : alpha[c] * x, alpha of shape [1] (shared) or [C] (along dim 1). */
    void preluForward(Tensor x, Tensor alpha, Tensor y);

    /** dx = dy * (x > 0 ? 1 : alpha[c]); dalpha[c] += sum of (x > 0 ? 0 : x * dy). */
    void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha);

    /**
     * Maxout over {@code pieces} groups: z is [N, pieces * D] with piece p of unit j at column p * D + j;
     * y[n, j] = max over p, piece[n, j] (int64) = the first maximal p (ties go to the lower piece).
     */
    void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece);

    /** dz = dy routed to the chosen piece, zero elsewhere (overwrites dz). */
    void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz);

    // ---------------------------------------------------------------- losses (per-element parts; the mean is a reduction)

    /**
     * Softmax cross-entropy with label smoothing eps (q = (1 - eps) onehot + eps / C): logits [N, C],
     * labels int64 [N]; writes probs [N, C] (softmax) and lossPerSample [N], computed with log-sum-exp.
     */
    void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs, Tensor lossPerSample);

    /** dlogits = scale * (probs - q) (scale = 1/N for the mean). */
    void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale, Tensor dlogits);

    /** lossPerElement = max(z, 0) - z t + log(1 + exp(-|z|)). */
    void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement);

    /** dlogits = scale * (sigmoid(z) - t). */
    void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits);

    /** out = (pred - target)^2 elementwise. */
    void squaredError(Tensor pred, Tensor target, Tensor out);

    /** dpred = 2 * scale * (pred - target). */
    void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred);

    // ---------------------------------------------------------------- reductions

    /** out[0] = sum of x (accumulated in double on the cpu). */
    void sum(Tensor x, Tensor out);

    /** out[0] = sum of x^2, added to out[0] when accumulate is true (for global norms over many tensors). */
    void sumSquares(Tensor x, Tensor out, boolean accumulate);

    /** out[0] = sum of |x|. */
    void sumAbs(Tensor x, Tensor out);

    /** out[n] (int64) = index of the first maximum of row n of x [N, C]. */
    void argmaxRows(Tensor x, Tensor out);

    /** out[0] (float32) = number of positions where the int64 tensors a and b are equal. */
    void countEqual(Tensor a, Tensor b, Tensor out);

    // ---------------------------------------------------------------- convolution and pooling (NCHW)

    /** y = conv2d(x [N, Cin, H, W], w [Cout, Cin, kH, kW]) + b [Cout] (b may be null): cross-correlation, zero padding. */
    void conv2dForward(Tensor x, Tensor w, Tensor b, ConvSpec spec, Tensor y);

    /** dx (overwritten; may be null to skip), dw and db (accumulated; db may be null). */
    void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec spec, Tensor dx, Tensor dw, Tensor db);

    /** Max pooling; indices (int64, same shape as y) hold h * W + w of the first maximum within the (n, c) plane. */
    void maxPool2dForward(Tensor x, ConvSpec spec, Tensor y, Tensor indices);

    /**
     * dx = 0, then dy added at each argmax (overlapping windows add up). {@code spec} is the forward's
     * window geometry: a device backend gathers per input element (deterministic, no atomics) with it.
     */
    void maxPool2dBackward(Tensor dy, Tensor indices, ConvSpec spec, Tensor dx);

    /**
     * The same backward given also the forward's input {@code x} and output {@code y}: a backend that routes
     * the gradient by values (cuDNN, under vendor kernels) uses them instead of the indices; the result is the
     * indices' routing (ties: the first maximum). Layers call this form.
     */
    default void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor indices, ConvSpec spec, Tensor dx) {
        maxPool2dBackward(dy, indices, spec, dx);
    }

    /** Average pooling, dividing by kH * kW (padding counts, like count_include_pad = true). */
    void avgPool2dForward(Tensor x, ConvSpec spec, Tensor y);

    void avgPool2dBackward(Tensor dy, ConvSpec spec, Tensor dx);

    /**
     * Fractional max pooling (Graham, 2014; PyTorch's {@code FractionalMaxPool2d}): x [N, C, H, W] into
     * y [N, C, OH, OW] (the output size is y's) over kh x kw windows whose starts come from the plane's two
     * uniforms {@code samples} [N, C, 2] = (u_w, u_h) (float32, on this device) by {@link FractionalWindows}, so
     * nothing data-dependent travels through the host. Needs OH + kh - 1 &lt;= H and OW + kw - 1 &lt;= W. The
     * maximum is the first largest value in row-major order (a NaN wins, a later NaN over an earlier one, like
     * torch); indices (int64, same shape as y; may be null) hold its h * W + w within the (n, c) plane.
     */
    void fractionalMaxPool2dForward(Tensor x, Tensor samples, int kh, int kw, Tensor y, Tensor indices);

    /**
     * dx [N, C, H, W] = 0, then dy added at each argmax in output order (overlapping windows add up; the same
     * bits on every device). {@code samples}, kh and kw are the forward's: a device backend gathers per input
     * element with them (deterministic, no atomics). Each index must lie inside its own window, as the forward
     * wrote it; one that does not is an error (thrown on the cpu; on a GPU it routes nothing and is reported at
     * the next sync, like {@link #maxPool2dBackward}'s).
     */
    void fractionalMaxPool2dBackward(Tensor dy, Tensor indices, Tensor samples, int kh, int kw, Tensor dx);

    // ---------------------------------------------------------------- batch normalisation over [N, C, inner]

    /**
     * Training mode: per channel c, mean and biased variance over n and inner; y = gamma (x - mean) /
     * sqrt(var + eps) + beta; saveMean/saveVar [C] receive the batch mean and biased variance; running
     * stats are updated in place with momentum as the weight of the new value, using the unbiased
     * variance (FORMAT.md items 8-11). gamma and beta may be null (no affine part).
     */
    void batchNormForwardTrain(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum,
                               Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar);

    /** Eval mode: normalise with the running statistics. */
    void batchNormForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                              float eps, Tensor y);

    /**
     * Backward. training = true: mean/var are the saved batch statistics and dx includes the paths
     * through them (FORMAT.md item 12); training = false: mean/var are the running statistics and
     * dx = dy gamma / sqrt(var + eps). dx overwritten; dgamma, dbeta accumulated (either may be null).
     */
    void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps, boolean training,
                           Tensor dx, Tensor dgamma, Tensor dbeta);

    // ---------------------------------------------------------------- dropout

    /**
     * Inverted dropout with the Philox mask (docs/architecture.md, section 6) for (seed, offset): mask[i] = 1/(1-p)
     * when kept, else 0; y = x * mask (p = 0: y = x exactly; p = 1: y = 0). Backward is {@link #mul}(dy, mask, dx).
     */
    void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask);

    // ---------------------------------------------------------------- optimizer updates (PyTorch rules, FORMAT.md 27-35)

    /** SGD with optional momentum/Nesterov and L2 weight decay; momentumBuffer may be null when momentum = 0. */
    void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                 float weightDecay, boolean nesterov, boolean firstStep);

    /** Adagrad with clr = lr / (1 + (t - 1) lr_decay) computed by the caller. */
    void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps);

    /** RMSprop (not centred); momentumBuffer may be null when momentum = 0. */
    void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha,
                     float eps, float weightDecay, float momentum);

    /**
     * Adam / AMSGrad (maxExpAvgSq non-null) / AdamW (decoupled = true: p *= 1 - lr wd first); step t starts at 1.
     */
    void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr,
                  float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step);

    /** grad *= min(1, maxNorm / (sqrt(totalSquares[0]) + 1e-6)) (clip_grad_norm_, without a host sync). */
    void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm);

    // ---------------------------------------------------------------- the same updates over many tensors at once
    // One call for all parameters of a model (on a device: one launch; the cpu loops over the single ops).
    // Lists are index-aligned; an optional state list (momentum buffers with momentum 0, AMSGrad maxima without
    // AMSGrad) may be null. Results equal the single-tensor ops applied to each tensor in turn.

    default void sgdSteps(java.util.List<Tensor> params, java.util.List<Tensor> grads,
                          java.util.List<Tensor> momentumBuffers, float lr, float momentum, float dampening,
                          float weightDecay, boolean nesterov, boolean firstStep) {
        for (int i = 0; i < params.size(); i++) {
            sgdStep(params.get(i), grads.get(i), momentumBuffers == null ? null : momentumBuffers.get(i), lr, momentum,
                    dampening, weightDecay, nesterov, firstStep);
        }
    }

    default void adagradSteps(java.util.List<Tensor> params, java.util.List<Tensor> grads, java.util.List<Tensor> sums,
                              float clr, float weightDecay, float eps) {
        for (int i = 0; i < params.size(); i++) {
            adagradStep(params.get(i), grads.get(i), sums.get(i), clr, weightDecay, eps);
        }
    }

    default void rmspropSteps(java.util.List<Tensor> params, java.util.List<Tensor> grads,
                              java.util.List<Tensor> squareAvgs, java.util.List<Tensor> momentumBuffers, float lr,
                              float alpha, float eps, float weightDecay, float momentum) {
        for (int i = 0; i < params.size(); i++) {
            rmspropStep(params.get(i), grads.get(i), squareAvgs.get(i),
                    momentumBuffers == null ? null : momentumBuffers.get(i), lr, alpha, eps, weightDecay, momentum);
        }
    }

    default void adamSteps(java.util.List<Tensor> params, java.util.List<Tensor> grads, java.util.List<Tensor> expAvgs,
                           java.util.List<Tensor> expAvgSqs, java.util.List<Tensor> maxExpAvgSqs, float lr, float beta1,
                           float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        for (int i = 0; i < params.size(); i++) {
            adamStep(params.get(i), grads.get(i), expAvgs.get(i), expAvgSqs.get(i),
                    maxExpAvgSqs == null ? null : maxExpAvgSqs.get(i), lr, beta1, beta2, eps, weightDecay, decoupled,
                    step);
        }
    }

    /** out[0] = the sum of x^2 over every tensor of xs (a global norm's square, without a host sync). */
    default void sumSquares(java.util.List<Tensor> xs, Tensor out) {
        for (int i = 0; i < xs.size(); i++) {
            sumSquares(xs.get(i), out, i > 0);
        }
        if (xs.isEmpty()) {
            fill(out, 0f);
        }
    }

    /** {@link #clipByGlobalNorm(Tensor, Tensor, float)} over every gradient of grads. */
    default void clipByGlobalNorm(java.util.List<Tensor> grads, Tensor totalSquares, float maxNorm) {
        for (Tensor g : grads) {
            clipByGlobalNorm(g, totalSquares, maxNorm);
        }
    }

    // ---------------------------------------------------------------- regularizers

    /** grad += lambda * sign(w), sign(0) = 0 (L1 subgradient). */
    void addSign(float lambda, Tensor w, Tensor grad);

    /** norms[o] = L2 norm of row o of w [O, ...]. */
    void rowNorms(Tensor w, Tensor norms);

    /** Rows of w with norm &gt; c are scaled to norm c ({@code w <- w c / ||w||}). */
    void maxNormRows(Tensor w, float c);

    // ---------------------------------------------------------------- concatenation (Graph concat nodes)

    /**
     * Concatenation along dim 1 over [N, C_k, inner] views: part k fills channels [off_k, off_k + C_k) of
     * out [N, sum C_k, inner] (all dims but dim 1 equal; overwrites out). Other dims are reached by
     * viewing tensors as [outer, C, inner].
     */
    void concatDim1(java.util.List<Tensor> parts, Tensor out);

    /** The inverse of {@link #concatDim1}: each part [N, C_k, inner] receives its channels of in (overwritten). */
    void splitDim1(Tensor in, java.util.List<Tensor> parts);
}
