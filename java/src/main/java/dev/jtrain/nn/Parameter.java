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
        return grad;
    }

    /** Replaces the value (same shape), e.g. when loading a checkpoint. */
    public void set(Tensor newValue) {
        if (!newValue.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape()
                    + ", cannot set a tensor of shape " + newValue.shape());
        }
        value.copyFrom(newValue); // any device; a cross-device copy is a counted transfer
    }

    public void zeroGrad() {
        if (grad != null) {
            Backends.of(grad).fill(grad, 0f);
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
