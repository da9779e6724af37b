package dev.jtrain.nn.layers;

import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/** Keeps dim 0 and flattens the rest: [N, d1, d2, ...] -> [N, d1·d2·...]. A view: no copy, no op. */
public class Flatten extends Layer {
    private Shape xShape;

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (x.rank() < 1) {
            throw new IllegalArgumentException("Flatten: expected a tensor with a batch dimension, got a scalar");
        }
        xShape = x.shape();
        int n = x.dim(0);
        return x.rank() == 2 ? x : x.reshape(n, x.shape().size(1, x.rank()));
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (xShape == null) {
            throw new IllegalStateException("Flatten.backward called before forward");
        }
        if (dy.numel() != xShape.numel()) {
            throw new IllegalArgumentException("Flatten.backward: dy " + dy.shape() + " does not match the input " + xShape);
        }
        return dy.shape().equals(xShape) ? dy : dy.reshape(xShape.dims());
    }
}
