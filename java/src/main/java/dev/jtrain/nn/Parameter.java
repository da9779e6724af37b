package dev.jtrain.nn;

import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;

import java.util.Objects;

/**
 * A trainable tensor owned by a layer, with its gradient (same shape and device; accumulated by
 * backward, cleared by {@link #zeroGrad()}). The local name is PyTorch's ("weight", "bias"); containers
 * add prefixes ("0.weight"). State that is saved but not trained (running statistics) is a
 * {@link Buffer}, not a parameter.
 *
 * <p>The gradient is allocated on first use ({@link #grad()}, which the first backward calls), not with the
 * value: a model used only for inference holds its weights and nothing else. A parameter may also use another
 * parameter's value without owning it ({@link #shareValueOf}): inference replicas read one copy of the weights.
 */
public final class Parameter implements StateTensor {
    private final String name;
    private Tensor value;
    /** Whether {@link #close()} releases the value: false after {@link #shareValueOf} (the source owns it). */
    private boolean ownsValue = true;
    private Tensor grad; // null until first needed
    /** zeroGrad() was called and nothing has touched the gradient since: it is zero, but not yet filled. */
    private boolean gradZeroPending;

    private Parameter(String name, Tensor value) {
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
    }

    /** A parameter named {@code name} holding {@code value} (which it now owns); its gradient starts at zero. */
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

    /**
     * The accumulated gradient (same shape and device as the value). The first call allocates it (zero) with the
     * value's owner: a {@link TensorScope} that owns the value owns it too, and a scope opened after the parameter
     * was made does not take it.
     */
    public Tensor grad() {
        if (grad == null || grad.isReleased()) {
            grad = TensorScope.alongside(value, () -> Backends.of(value).zeros(value.dtype(), value.shape()));
            gradZeroPending = false;
            return grad;
        }
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
        if (grad == null) {
            return true; // not allocated yet, so zero: the caller's grad() allocates it and may overwrite it
        }
        boolean zero = gradZeroPending;
        gradZeroPending = false;
        return zero;
    }

    /** Whether the gradient has been allocated (by a backward or a {@link #grad()} call). */
    public boolean hasGrad() {
        return grad != null && !grad.isReleased();
    }

    /**
     * Makes this parameter read {@code source}'s value tensor instead of its own (which is released): no copy. The
     * source keeps owning it: closing this parameter leaves it, and it must outlive this parameter. For inference
     * replicas of one model; a parameter that shares must not be trained or {@link #set} (it would write the
     * source's weights).
     */
    public void shareValueOf(Parameter source) {
        Tensor v = source.value;
        if (v == value) {
            return;
        }
        if (v.dtype() != value.dtype() || !v.shape().equals(value.shape()) || !v.device().equals(value.device())) {
            throw new IllegalArgumentException("parameter " + name + " (" + value + ") cannot share the value of "
                    + source.name + " (" + v + "): dtype, shape and device must match");
        }
        if (ownsValue) {
            value.close();
        }
        value = v;
        ownsValue = false;
    }

    /** Copies {@code newValue} into the value (same shape, any device), e.g. when loading a checkpoint. */
    @Override
    public void set(Tensor newValue) {
        if (!ownsValue) {
            throw new IllegalStateException("parameter " + name + " shares another parameter's value (an inference "
                    + "replica); set the source instead");
        }
        if (!newValue.shape().equals(value.shape())) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape()
                    + ", cannot set a tensor of shape " + newValue.shape());
        }
        value.copyFrom(newValue); // any device; a cross-device copy is a counted transfer
    }

    /** Clears the gradient; the fill happens on the next {@link #grad()} unless an overwrite makes it unneeded. */
    public void zeroGrad() {
        if (grad != null) { // an unallocated gradient is zero already
            gradZeroPending = true;
        }
    }

    /** Moves the value to {@code device} (an owned copy from then on); the gradient starts again at zero there. */
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
        if (grad != null) {
            grad.close();
            grad = null;
        }
        gradZeroPending = false;
    }

    /** Releases the value (unless shared from another parameter) and the gradient (device memory goes back to its allocator). */
    @Override
    public void close() {
        if (ownsValue) {
            value.close();
        }
        if (grad != null) {
            grad.close();
        }
    }
}
