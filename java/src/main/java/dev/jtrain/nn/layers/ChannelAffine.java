package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * y[n, c, inner] = x[n, c, inner] * gamma[c] (+ beta[c]): the affine part of LayerNorm and GroupNorm, and the
 * gamma-scaling of their backward. It is the Backend's eval-mode batch norm with mean 0, variance 1 and
 * eps 0 (so 1 / sqrt(var + eps) is exactly 1), which every device has; the constant mean and variance live
 * in the owner's buffers on the data's device.
 */
final class ChannelAffine {
    private final Buffers buffers;
    private Tensor zeros;
    private Tensor ones;

    ChannelAffine(Buffers buffers) {
        this.buffers = buffers;
    }

    /** y = x * gamma[c] + beta[c] over the [outer, channels, inner] view of x and y (beta may be null). */
    void apply(Backend be, Tensor x, Tensor gamma, Tensor beta, int outer, int channels, int inner, Tensor y) {
        Shape cs = Shape.of(channels);
        zeros = buffers.ensure(zeros, be, cs);
        Tensor before = ones;
        ones = buffers.ensure(ones, be, cs);
        if (ones != before) {
            be.fill(ones, 1f);
        }
        be.batchNormForwardEval(x.reshape(outer, channels, inner), gamma, beta, zeros, ones, 0f,
                y.reshape(outer, channels, inner));
    }
}
