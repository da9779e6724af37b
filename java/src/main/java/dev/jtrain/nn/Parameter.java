package dev.jtrain.nn;

import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * A named tensor owned by a layer: a trainable parameter with its gradient (accumulated by
 * backward, cleared by {@link #zeroGrad()}), or a buffer (running statistics) with no gradient.
 * The local name is PyTorch's ("weight", "bias", "running_mean"); containers add prefixes ("0.weight").
 */
public final class Parameter implements AutoCloseable {
    private final String name;
    private final boolean trainable;
    private Tensor value;
    private Tensor grad;
    /** zeroGrad() was called and nothing has touched the gradient since: it is zero, but not yet filled. */
    private boolean gradZeroPending;

    private Parameter(String name, Tensor value, boolean trainable) {
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
        this.trainable = trainable;
        this.grad = trainable ? Backends.of(value).zeros(value.dtype(), value.shape()) : null;
    }

    public static Parameter trainable(String name, Tensor value) {
        return new Parameter(name, value, true);
    }

    public static Parameter buffer(String name, Tensor value) {
        return new Parameter(name, value, false);
    }

    public String name() {
        return name;
    }

    public boolean isTrainable() {
        return trainable;
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient (same shape and device as the value); null for buffers. */
    public Tensor grad() {
        if (gradZeroPending) {
            gradZeroPending = false;
            Backends.of(grad).fill(grad, 0f);
        }
        return grad;
    }

    /**
     * For a backward that writes the whole gradient in one op (Linear's dW GEMM): true when the gradient is
     * zero since {@link #zeroGrad()}, so the op may overwrite it (GEMM beta = 0) instead of adding to it, which
     * saves the zero fill and a read of the gradient. Either way the gradient counts as written afterwards.
     */
    public boolean takeZeroGrad() {
        boolean zero = gradZeroPending;
        gradZeroPending = false;
        return zero;
    }

    /** Replaces the value (same shape), e.g. when loading a checkpoint. */
    public void set(Tensor newValue) {
        if (!newValue.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape()
                    + ", cannot set a tensor of shape " + newValue.shape());
        }
        value.copyFrom(newValue); // any device; a cross-device copy is a counted transfer
    }

    /** Clears the gradient; the fill happens on the next {@link #grad()} unless an overwrite makes it unneeded. */
    public void zeroGrad() {
        if (grad != null) {
            gradZeroPending = true;
        }
    }

    /** Moves value (and a fresh zero gradient) to {@code device}. */
    public void to(Device device) {
        if (value.device().equals(device)) {
            return;
        }
        Tensor old = value;
        value = value.to(device);
        old.close();
        if (grad != null) {
            grad.close();
        }
        grad = trainable ? Backends.of(value).zeros(value.dtype(), value.shape()) : null;
        gradZeroPending = false;
    }

    /** Releases the value and the gradient (device memory goes back to its allocator). */
    @Override
    public void close() {
        value.close();
        if (grad != null) {
            grad.close();
        }
    }
}
