package dev.jtrain.nn.loss;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * The loss of a mixup batch (Zhang et al., 2018): lambda L(pred, y_a) + (1 - lambda) L(pred, y_b) for any
 * {@link Loss} L (for cross-entropy this equals the cross-entropy against the mixed one-hot targets), and
 * its gradient lambda dL_a + (1 - lambda) dL_b. Built from backend ops (copy, scale, axpy) on the
 * prediction's device. The wrapped loss is run twice per forward; its own state is that of y_b afterwards.
 */
public final class MixupLoss implements AutoCloseable {
    private final Loss loss;
    private final Buffers buffers = new Buffers();
    private Tensor value;
    private Tensor grad;

    public MixupLoss(Loss loss) {
        this.loss = Objects.requireNonNull(loss, "loss");
    }

    /** The mixed loss (a one-element tensor on the prediction's device); the gradient is ready for {@link #backward()}. */
    public Tensor forward(Tensor prediction, Tensor targetA, Tensor targetB, float lambda) {
        if (!(lambda >= 0f && lambda <= 1f)) {
            throw new IllegalArgumentException("mixup weight lambda must be in [0, 1], got " + lambda);
        }
        float mu = (float) (1.0 - lambda);
        Backend be = Backends.of(prediction);
        Tensor la = loss.forward(prediction, targetA);
        value = buffers.ensureLike(value, la);
        be.copy(la, value);
        be.scale(value, lambda);
        Tensor ga = loss.backward();
        grad = buffers.ensureLike(grad, ga);
        be.copy(ga, grad);
        be.scale(grad, lambda);
        Tensor lb = loss.forward(prediction, targetB);
        be.axpy(mu, lb, value);
        be.axpy(mu, loss.backward(), grad);
        return value;
    }

    /** The gradient of the last {@link #forward} with respect to the prediction. */
    public Tensor backward() {
        if (grad == null) {
            throw new IllegalStateException("MixupLoss.backward called before forward");
        }
        return grad;
    }

    /** Releases this object's buffers (not the wrapped loss's). */
    @Override
    public void close() {
        buffers.close();
        value = null;
        grad = null;
    }
}
