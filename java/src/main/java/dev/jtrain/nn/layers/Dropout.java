package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;

/**
 * Inverted dropout, as {@code nn.Dropout(p)}:
 * <pre>
 *   training:  y_i = x_i · m_i / (1 − p),   m_i = 1 if u_i ≥ p else 0
 *   eval:      y = x
 * </pre>
 * where u_i is the Philox uniform of element i (docs/architecture.md, section 6 "Random numbers") for
 * (gen.seed(), gen.nextOffset()), one offset per training forward, so the same generator state gives the
 * same mask on every device. Backward: dx = dy · m / (1 − p).
 */
public class Dropout extends Layer {
    private final float p;
    private final Generator gen;

    private boolean lastTraining;
    private boolean forwarded;
    private Tensor y;
    private Tensor mask;
    private Tensor dx;

    public Dropout(float p, Generator gen) {
        if (!(p >= 0f && p <= 1f)) {
            throw new IllegalArgumentException("Dropout probability must be in [0, 1], got " + p);
        }
        this.p = p;
        this.gen = java.util.Objects.requireNonNull(gen, "generator");
    }

    public float p() {
        return p;
    }

    /** The mask (0 or 1/(1-p)) of the last training forward; null before one. */
    public Tensor lastMask() {
        return mask;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "Dropout");
        forwarded = true;
        lastTraining = training;
        if (!training) {
            return x;
        }
        Backend be = Backends.of(x);
        y = buffers.ensureLike(y, x);
        mask = buffers.ensureLike(mask, x);
        be.dropoutForward(x, p, gen.seed(), gen.nextOffset(), y, mask);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (!forwarded) {
            throw new IllegalStateException("Dropout.backward called before forward");
        }
        if (!lastTraining) {
            return dy;
        }
        if (!dy.shape().equals(mask.shape())) {
            throw new IllegalArgumentException("Dropout.backward: dy " + dy.shape() + " does not match the output " + mask.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, dy);
        be.mul(dy, mask, dx);
        return dx;
    }
}
