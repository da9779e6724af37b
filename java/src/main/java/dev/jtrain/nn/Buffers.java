package dev.jtrain.nn;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The work tensors (outputs, gradients, masks) one layer or loss owns. A buffer is kept across steps and
 * replaced only when the wanted shape, dtype or device changes (a new batch size, a move to another
 * device), so the training hot path allocates nothing after the first step. A replaced buffer is closed at
 * once (on a device its memory goes back to the allocator's cache), and {@link #close()} releases them all:
 * a tensor a layer returned stays valid until that layer's next call that replaces it, or its close. A
 * buffer something else released (a {@link dev.jtrain.tensor.TensorScope} the call ran in) is replaced.
 *
 * <p>These scratch tensors are not model state: a layer's saved, untrained state (running statistics) is a
 * {@link Buffer}, PyTorch's sense of the word.
 */
public final class Buffers implements AutoCloseable {
    private final Set<Tensor> owned = Collections.newSetFromMap(new IdentityHashMap<>());

    /** {@code current} when it already has this dtype, shape and device, else a new zero tensor from {@code backend}. */
    public Tensor ensure(Tensor current, Backend backend, DType dtype, Shape shape) {
        if (current != null && current.dtype() == dtype && current.shape().equals(shape)
                && current.device().equals(backend.device()) && !current.isReleased()) { // a TensorScope may have closed it
            return current;
        }
        if (current != null && owned.remove(current)) {
            current.close();
        }
        Tensor t = backend.zeros(dtype, shape);
        owned.add(t);
        return t;
    }

    /** A float32 buffer shaped like {@code like}, on its device. */
    public Tensor ensureLike(Tensor current, Tensor like) {
        return ensure(current, Backends.of(like), DType.FLOAT32, like.shape());
    }

    public Tensor ensure(Tensor current, Backend backend, Shape shape) {
        return ensure(current, backend, DType.FLOAT32, shape);
    }

    /** Releases every buffer handed out; later {@code ensure} calls allocate afresh. */
    @Override
    public void close() {
        for (Tensor t : owned) {
            t.close();
        }
        owned.clear();
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
