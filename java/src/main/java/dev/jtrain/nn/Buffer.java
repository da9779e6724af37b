package dev.jtrain.nn;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * A layer's named state that is saved and loaded but not trained, as PyTorch's
 * {@code register_buffer}: BatchNorm's {@code running_mean} and {@code running_var}. A buffer has no
 * gradient, and no optimizer, weight decay, gradient clipping or {@link Layer#parameterCount()} sees it
 * (they take {@link Parameter}s). The layer updates it in its forward. Not to be confused with
 * {@link Buffers}, a layer's scratch tensors (outputs, gradients), which are not state.
 */
public final class Buffer implements StateTensor {
    private final String name;
    private Tensor value;

    /** A buffer named {@code name} ("running_mean") holding {@code value}, which it now owns. */
    public Buffer(String name, Tensor value) {
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Tensor value() {
        return value;
    }

    @Override
    public void set(Tensor newValue) {
        if (!newValue.shape().equals(value.shape())) {
            throw new IllegalArgumentException("buffer " + name + " has shape " + value.shape()
                    + ", cannot set a tensor of shape " + newValue.shape());
        }
        value.copyFrom(newValue); // any device; a cross-device copy is a counted transfer
    }

    @Override
    public void to(Device device) {
        if (value.device().equals(device)) {
            return;
        }
        Tensor old = value;
        value = value.to(device);
        old.close();
    }

    @Override
    public void close() {
        value.close();
    }
}
