package dev.jtrain.nn.loss;

import dev.jtrain.tensor.Tensor;

/**
 * A loss with explicit forward and backward. {@code forward} returns the scalar loss as a one-element
 * tensor on the prediction's device (read it with {@code to(Device.CPU).item()}); {@code backward}
 * returns the gradient of that scalar with respect to the prediction (the 1/N of a mean included).
 * {@link #close()} releases the loss's work tensors (on a device, their memory).
 */
public interface Loss extends AutoCloseable {
    Tensor forward(Tensor prediction, Tensor target);

    Tensor backward();

    @Override
    void close();
}
