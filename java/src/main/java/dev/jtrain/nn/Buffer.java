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
    /** Whether {@link #close()} releases the value: false after {@link #shareValueOf} (the source owns it). */
    private boolean ownsValue = true;

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

    /**
     * Makes this buffer read {@code source}'s value tensor instead of its own (which is released): no copy, as
     * {@link Parameter#shareValueOf} (inference replicas of one model; a replica in eval mode only reads it).
     */
    public void shareValueOf(Buffer source) {
        Tensor v = source.value;
        if (v == value) {
            return;
        }
        if (v.dtype() != value.dtype() || !v.shape().equals(value.shape()) || !v.device().equals(value.device())) {
            throw new IllegalArgumentException("buffer " + name + " (" + value + ") cannot share the value of "
                    + source.name + " (" + v + "): dtype, shape and device must match");
        }
        if (ownsValue) {
            value.close();
        }
        value = v;
        ownsValue = false;
    }

    @Override
    public void set(Tensor newValue) {
        if (!ownsValue) {
            throw new IllegalStateException("buffer " + name + " shares another buffer's value (an inference "
                    + "replica); set the source instead");
        }
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
        if (ownsValue) {
            old.close();
        }
        ownsValue = true;
    }

    @Override
    public void close() {
        if (ownsValue) {
            value.close();
        }
    }
}
