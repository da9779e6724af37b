package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * DropConnect (Wan et al., 2013): a {@link Linear} whose <em>weights</em> are dropped in training. Each weight is
 * kept with probability 1 - p and scaled by 1/(1 - p) (inverted scaling, as {@link Dropout} does for activations),
 * so evaluation simply uses the full weights; the bias is never dropped. One mask is drawn per training forward
 * (shared by the batch, which keeps the cost one GEMM) from the Philox stream of (gen.seed(), gen.nextOffset()),
 * so the same generator state gives the same mask on every device. Built from Backend ops only.
 *
 * <p>Everything else is Linear's: layout, default init, parameter names "weight" and "bias" (so a checkpoint
 * loads into a plain Linear of the same shape). Training forward uses W' = W * mask; backward's dx uses W' and
 * W's gradient is (dy^T x) * mask, the derivative of the masking.
 */
public class DropConnect extends Linear {
    private final float p;
    private final Generator gen;

    private boolean lastTraining;
    private Tensor maskedWeight;   // W * mask of the last training forward
    private Tensor mask;           // 0 or 1/(1-p), shape of W
    private Tensor dwMasked;       // dy^T x before the mask is applied

    public DropConnect(int in, int out, float p, boolean bias, Generator gen) {
        this(in, out, p, bias, gen, Device.CPU);
    }

    public DropConnect(int in, int out, float p, boolean bias, Generator gen, Device device) {
        super(in, out, bias, checkedProbability(p, Objects.requireNonNull(gen, "generator")), device);
        this.p = p;
        this.gen = gen;
    }

    /** Checks p before Linear draws its init (so a bad p consumes nothing from gen). */
    private static Generator checkedProbability(float p, Generator gen) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("DropConnect probability must be in [0, 1), got " + p);
        }
        return gen;
    }

    public float p() {
        return p;
    }

    /** The weight mask (0 or 1/(1-p), shape [out, in]) of the last training forward; null before one. */
    public Tensor lastMask() {
        return mask;
    }

    @Override
    protected Tensor forwardWeight(Backend be, boolean training) {
        lastTraining = training;
        Tensor w = weight().value();
        if (!training) {
            return w;
        }
        maskedWeight = buffers.ensureLike(maskedWeight, w);
        mask = buffers.ensureLike(mask, w);
        be.dropoutForward(w, p, gen.seed(), gen.nextOffset(), maskedWeight, mask);
        return maskedWeight;
    }

    @Override
    protected void accumulateWeightGradient(Backend be, Tensor dy2d, Tensor x2d) {
        if (!lastTraining) {
            super.accumulateWeightGradient(be, dy2d, x2d);
            return;
        }
        // d(W*mask)/dW = mask: the gradient of the masked weights, masked again, accumulates into W's gradient.
        dwMasked = buffers.ensureLike(dwMasked, weight().value());
        be.gemm(true, false, 1f, dy2d, x2d, 0f, dwMasked);
        be.mul(dwMasked, mask, dwMasked);
        be.axpy(1f, dwMasked, weight().grad());
    }
}
