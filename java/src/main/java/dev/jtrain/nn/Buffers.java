package dev.jtrain.nn;

import dev.jtrain.backend.Backend;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Reuse of layer-owned work tensors (outputs, gradients, masks): a buffer is kept across steps and
 * reallocated only when the wanted shape, dtype or device changes (a new batch size, a move to
 * another device), so the training hot path allocates nothing after the first step.
 */
public final class Buffers {
    private Buffers() {
    }

    /** {@code current} when it already has this dtype, shape and device, else a new zero tensor from {@code backend}. */
    public static Tensor ensure(Tensor current, Backend backend, DType dtype, Shape shape) {
        if (current != null && current.dtype() == dtype && current.shape().equals(shape)
                && current.device().equals(backend.device())) {
            return current;
        }
        return backend.zeros(dtype, shape);
    }

    /** A float32 buffer shaped like {@code like}, on its device. */
    public static Tensor ensureLike(Tensor current, Tensor like) {
        return ensure(current, like.backend(), DType.FLOAT32, like.shape());
    }

    public static Tensor ensure(Tensor current, Backend backend, Shape shape) {
        return ensure(current, backend, DType.FLOAT32, shape);
    }

    /** Throws a clear error when {@code t} is not float32. */
    public static void requireFloat(Tensor t, String who) {
        if (t.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(who + ": expected a float32 tensor, got " + t);
        }
    }

    /** Throws when {@code t} is not on {@code device} (ops never transfer; the message names both). */
    public static void requireDevice(Tensor t, Device device, String who) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(who + ": tensor " + t + " is on " + t.device()
                    + " but the layer's parameters are on " + device + "; move one with to(device)");
        }
    }
}
