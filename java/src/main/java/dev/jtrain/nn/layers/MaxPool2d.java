package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Max pooling over NCHW input, as {@code nn.MaxPool2d(k, s)} without padding (tests/conformance/FORMAT.md
 * items 17-19):
 * <pre>
 *   y[n, c, i, j] = max_{u, v &lt; k} x[n, c, s·i + u, s·j + v],   H_out = ⌊(H − k) / s⌋ + 1
 * </pre>
 * Ties go to the first maximum in row-major window order; backward routes dy to that argmax, adding up
 * over overlapping windows.
 */
public class MaxPool2d extends Layer {
    private final ConvSpec spec;
    private Tensor y;
    private Tensor indices;
    private Tensor dx;
    private Tensor x;       // the last input: a backend routing by values (cuDNN) reads it in backward
    private Shape xShape;

    public MaxPool2d(int kernel, int stride) {
        this.spec = ConvSpec.square(kernel, stride, 0);
    }

    public MaxPool2d(int kernel) {
        this(kernel, kernel);
    }

    public ConvSpec spec() {
        return spec;
    }

    /** The int64 argmax indices (h·W + w within each (n, c) plane) of the last forward; null before one. */
    public Tensor lastIndices() {
        return indices;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "MaxPool2d");
        if (x.rank() != 4) {
            throw new IllegalArgumentException("MaxPool2d: expected NCHW input, got " + x.shape());
        }
        Backend be = Backends.of(x);
        Shape ys = Shape.of(x.dim(0), x.dim(1), spec.outH(x.dim(2)), spec.outW(x.dim(3)));
        y = buffers.ensure(y, be, ys);
        indices = buffers.ensure(indices, be, DType.INT64, ys);
        be.maxPool2dForward(x, spec, y, indices);
        this.x = x;
        xShape = x.shape();
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (xShape == null) {
            throw new IllegalStateException("MaxPool2d.backward called before forward");
        }
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("MaxPool2d.backward: dy " + dy.shape() + " does not match the output " + y.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensure(dx, be, xShape);
        be.maxPool2dBackward(x, y, dy, indices, spec, dx);
        return dx;
    }
}
