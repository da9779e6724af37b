package dev.jtrain.nn;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * One named tensor of a layer's state, as in PyTorch's {@code state_dict}: a {@link Parameter}
 * (trained, has a gradient) or a {@link Buffer} (saved and loaded, never trained). Checkpoints,
 * snapshots and device moves go through this common view ({@link Layer#namedState()}); optimizers,
 * weight decay, gradient clipping and parameter counts take {@link Parameter}s only.
 */
public sealed interface StateTensor extends AutoCloseable permits Parameter, Buffer {

    /** The local name ("weight", "running_mean"); containers prefix it ("1.running_mean"). */
    String name();

    /** The current value, owned by the layer (replaced, not resized, by {@link #to(Device)}). */
    Tensor value();

    /**
     * Copies {@code newValue} (same shape, any device) into the value, e.g. when loading a checkpoint.
     *
     * @throws IllegalArgumentException when the shapes differ
     */
    void set(Tensor newValue);

    /** Moves the value (and a parameter's gradient) to {@code device}. */
    void to(Device device);

    /** Releases the value (and a parameter's gradient). */
    @Override
    void close();
}
