package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Tensor;

/**
 * A parameter-free elementwise activation run through {@code backend.activationForward/Backward};
 * derivatives follow PyTorch (FORMAT.md items 1-6). Output shape = input shape. Keeps the input and
 * output of the last forward for the backward (sigmoid/tanh derive from the output).
 */
public class ElementwiseActivation extends Layer {
    private final Activation activation;
    private Tensor x;
    private Tensor y;
    private Tensor dx;

    public ElementwiseActivation(Activation activation) {
        this.activation = java.util.Objects.requireNonNull(activation, "activation");
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, activation.kind().name());
        Backend be = Backends.of(x);
        y = buffers.ensureLike(y, x);
        be.activationForward(activation, x, y);
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException(getClass().getSimpleName() + ".backward called before forward");
        }
        if (!dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".backward: dy " + dy.shape()
                    + " does not match the output " + x.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, x);
        be.activationBackward(activation, x, y, dy, dx);
        return dx;
    }
}
