package dev.jtrain.nn;

import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * A trainable tensor owned by a layer, with its gradient (same shape and device; accumulated by
 * backward, cleared by {@link #zeroGrad()}). The local name is PyTorch's ("weight", "bias"); containers
 * add prefixes ("0.weight"). State that is saved but not trained (running statistics) is a
 * {@link Buffer}, not a parameter.
 */
public final class Parameter implements StateTensor {
    private final String name;
    private Tensor value;
    private Tensor grad;
    /** zeroGrad() was called and nothing has touched the gradient since: it is zero, but not yet filled. */
    private boolean gradZeroPending;

    private Parameter(String name, Tensor value) {
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
        this.grad = Backends.of(value).zeros(value.dtype(), value.shape());
    }

    /** A parameter named {@code name} holding {@code value} (which it now owns), with a zero gradient. */
    public static Parameter trainable(String name, Tensor value) {
        return new Parameter(name, value);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Tensor value() {
        return value;
    }

    /** The accumulated gradient (same shape and device as the value). */
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

    /** Copies {@code newValue} into the value (same shape, any device), e.g. when loading a checkpoint. */
    @Override
    public void set(Tensor newValue) {
        if (!newValue.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape()
                    + ", cannot set a tensor of shape " + newValue.shape());
        }
        value.copyFrom(newValue); // any device; a cross-device copy is a counted transfer
    }

    /** Clears the gradient; the fill happens on the next {@link #grad()} unless an overwrite makes it unneeded. */
    public void zeroGrad() {
        gradZeroPending = true;
    }

    /** Moves value (and a fresh zero gradient) to {@code device}. */
    @Override
    public void to(Device device) {
        if (value.device().equals(device)) {
            return;
        }
        Tensor old = value;
        value = value.to(device);
        old.close();
        grad.close();
        grad = Backends.of(value).zeros(value.dtype(), value.shape());
        gradZeroPending = false;
    }

    /** Releases the value and the gradient (device memory goes back to its allocator). */
    @Override
    public void close() {
        value.close();
        grad.close();
    }
}
