package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Average pooling over NCHW input, as {@code nn.AvgPool2d(k, s)} without padding
 * (tests/conformance/FORMAT.md item 20):
 * <pre>
 *   y[n, c, i, j] = (1 / k²) Σ_{u, v &lt; k} x[n, c, s·i + u, s·j + v],   H_out = ⌊(H − k) / s⌋ + 1
 * </pre>
 * Backward spreads dy / k² over each window.
 */
public class AvgPool2d extends Layer {
    private final ConvSpec spec;
    private Tensor y;
    private Tensor dx;
    private Shape xShape;

    public AvgPool2d(int kernel, int stride) {
        this.spec = ConvSpec.square(kernel, stride, 0);
    }

    public AvgPool2d(int kernel) {
        this(kernel, kernel);
    }

    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "AvgPool2d");
        if (x.rank() != 4) {
            throw new IllegalArgumentException("AvgPool2d: expected NCHW input, got " + x.shape());
        }
        Backend be = Backends.of(x);
        Shape ys = Shape.of(x.dim(0), x.dim(1), spec.outH(x.dim(2)), spec.outW(x.dim(3)));
        y = buffers.ensure(y, be, ys);
        be.avgPool2dForward(x, spec, y);
        xShape = x.shape();
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (xShape == null) {
            throw new IllegalStateException("AvgPool2d.backward called before forward");
        }
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("AvgPool2d.backward: dy " + dy.shape() + " does not match the output " + y.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensure(dx, be, xShape);
        be.avgPool2dBackward(dy, spec, dx);
        return dx;
    }
}
