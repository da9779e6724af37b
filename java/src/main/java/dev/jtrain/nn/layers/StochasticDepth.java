package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * Stochastic depth (Huang et al., 2016), torchvision's {@code StochasticDepth(p, mode="row")}: placed on a
 * residual branch, in training it zeroes the whole branch of each sample with probability {@code p} and scales
 * the survivors by 1/(1 - p) (so evaluation, the identity, needs no rescaling; the paper scales by the survival
 * probability at test time instead, which is the same in expectation). {@code p} is the <em>drop</em>
 * probability, as in torchvision; survival probability = 1 - p.
 *
 * <p>The per-sample factors m[N] (0 or 1/(1 - p)) are the Philox dropout mask of a column of ones for
 * (gen.seed(), gen.nextOffset()); they are spread over each sample by an outer product with a row of ones
 * (a GEMM of depth 1) and multiplied in, so everything runs on Backend ops on every device.
 */
public class StochasticDepth extends Layer {
    private final float p;
    private final Generator gen;

    private boolean lastTraining;
    private boolean forwarded;
    private Tensor ones;        // [N, 1]
    private Tensor sampleMask;  // [N, 1]: 0 or 1/(1-p)
    private Tensor onesRow;     // [1, inner]
    private Tensor fullMask;    // [N, inner]
    private Tensor dropped;     // dropout output of the ones column (= sampleMask), unused
    private Tensor y;
    private Tensor dx;
    private Shape shape;

    public StochasticDepth(float p, Generator gen) {
        if (!(p >= 0f && p <= 1f)) {
            throw new IllegalArgumentException("StochasticDepth drop probability must be in [0, 1], got " + p);
        }
        this.p = p;
        this.gen = Objects.requireNonNull(gen, "generator");
    }

    /** The drop probability. */
    public float p() {
        return p;
    }

    /** Per-sample factors [N, 1] of the last training forward (0 or 1/(1-p)); null before one. */
    public Tensor lastSampleMask() {
        return sampleMask;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "StochasticDepth");
        if (x.rank() < 1) {
            throw new IllegalArgumentException("StochasticDepth needs a batch dimension, got shape " + x.shape());
        }
        forwarded = true;
        lastTraining = training;
        if (!training || p == 0f) {
            lastTraining = false;
            return x;
        }
        Backend be = Backends.of(x);
        int n = x.dim(0);
        int inner = x.numel() / Math.max(n, 1);
        shape = x.shape();
        ones = buffers.ensure(ones, be, Shape.of(n, 1));
        be.fill(ones, 1f);
        dropped = buffers.ensure(dropped, be, Shape.of(n, 1));
        sampleMask = buffers.ensure(sampleMask, be, Shape.of(n, 1));
        be.dropoutForward(ones, p, gen.seed(), gen.nextOffset(), dropped, sampleMask);
        onesRow = buffers.ensure(onesRow, be, Shape.of(1, inner));
        be.fill(onesRow, 1f);
        fullMask = buffers.ensure(fullMask, be, Shape.of(n, inner));
        be.gemm(false, false, 1f, sampleMask, onesRow, 0f, fullMask);
        y = buffers.ensureLike(y, x);
        be.mul(x, fullMask.reshape(x.dims()), y);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (!forwarded) {
            throw new IllegalStateException("StochasticDepth.backward called before forward");
        }
        if (!lastTraining) {
            return dy;
        }
        if (!dy.shape().equals(shape)) {
            throw new IllegalArgumentException("StochasticDepth.backward: dy " + dy.shape()
                    + " does not match the output " + shape);
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, dy);
        be.mul(dy, fullMask.reshape(dy.dims()), dx);
        return dx;
    }
}
