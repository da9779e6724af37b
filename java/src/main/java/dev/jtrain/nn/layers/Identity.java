package dev.jtrain.nn.layers;

import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Tensor;

/**
 * y = x, dx = dy: PyTorch's {@code nn.Identity}. It holds the place of a BatchNorm folded into the layer before
 * it, so the other layers of an {@code nn.Sequential} keep their indices (and their checkpoint names).
 */
public final class Identity extends Layer {
    @Override
    public Tensor forward(Tensor x, boolean training) {
        return x;
    }

    @Override
    public Tensor backward(Tensor dy) {
        return dy;
    }
}
