package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;

/**
 * Layer normalisation as nn.LayerNorm (tests/conformance/FORMAT.md items 15a-15b): over the last
 * {@code normalizedShape.length} dimensions of each sample,
 * <pre>
 *   y = (x − E[x]) / √(Var[x] + ε) · weight + bias        (Var biased: divides by the element count)
 * </pre>
 * i.e. each sample is normalised with its own mean and biased variance, eps inside the square
 * root, then (elementwise_affine) scaled and shifted element by element: y = xhat * weight + bias, with
 * "weight" (1) and "bias" (0) of shape {@code normalizedShape}. No running statistics: training and eval are
 * the same computation. Built from Backend ops ({@link RowStandardizer}, {@link ChannelAffine}), so it runs
 * on every device.
 */
public final class LayerNorm extends Layer {
    public static final float DEFAULT_EPS = 1e-5f;

    private final int[] normalizedShape;
    private final int size;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;
    private final RowStandardizer stats;
    private final ChannelAffine affine;

    private Tensor x;
    private int rows;
    private Tensor xhat;
    private Tensor y;
    private Tensor scratch;
    private Tensor dx;

    /** LayerNorm over the trailing dims {@code normalizedShape}, eps 1e-5, with the affine part, on the cpu. */
    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, DEFAULT_EPS, true, Device.CPU);
    }

    /** Built directly on {@code device}; {@code elementwiseAffine} false has no parameters. */
    public LayerNorm(int[] normalizedShape, float eps, boolean elementwiseAffine, Device device) {
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm needs a normalized shape of at least one dimension");
        }
        for (int d : normalizedShape) {
            if (d < 1) {
                throw new IllegalArgumentException("LayerNorm: normalized shape " + Arrays.toString(normalizedShape)
                        + " has a dimension < 1");
            }
        }
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("LayerNorm: eps must be finite and > 0, got " + eps);
        }
        this.normalizedShape = normalizedShape.clone();
        this.size = Shape.of(normalizedShape).numel();
        this.eps = eps;
        Backend be = Backends.forDevice(device);
        if (elementwiseAffine) {
            this.weight = register(Parameter.trainable("weight", be.zeros(normalizedShape)));
            this.bias = register(Parameter.trainable("bias", be.zeros(normalizedShape)));
            be.fill(weight.value(), 1f);
        } else {
            this.weight = null;
            this.bias = null;
        }
        this.stats = new RowStandardizer(buffers, eps);
        this.affine = new ChannelAffine(buffers);
    }

    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    public float eps() {
        return eps;
    }

    public boolean elementwiseAffine() {
        return weight != null;
    }

    /** The scale, shaped like the normalized shape (null without the affine part). */
    public Parameter weight() {
        return weight;
    }

    /** The shift, shaped like the normalized shape (null without the affine part). */
    public Parameter bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "LayerNorm");
        int k = normalizedShape.length;
        int[] dims = x.dims();
        if (dims.length < k || !Arrays.equals(Arrays.copyOfRange(dims, dims.length - k, dims.length), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm" + Arrays.toString(normalizedShape) + ": input " + x.shape()
                    + " does not end with the normalized shape " + Arrays.toString(normalizedShape));
        }
        if (weight != null) {
            Buffers.requireDevice(x, weight.value().device(), "LayerNorm");
        }
        Backend be = Backends.of(x);
        rows = x.numel() / size;
        y = buffers.ensureLike(y, x);
        if (weight == null) {
            stats.forward(be, x, rows, size, y);
        } else {
            xhat = buffers.ensureLike(xhat, x);
            stats.forward(be, x, rows, size, xhat);
            // the elementwise affine part: each of the `size` normalized positions is a "channel" of its own
            affine.apply(be, xhat, weight.value().reshape(size), bias.value().reshape(size), rows, size, 1, y);
        }
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException("LayerNorm.backward called before forward");
        }
        if (!dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException("LayerNorm.backward: dy " + dy.shape() + " does not match the output "
                    + x.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, x);
        if (weight == null) {
            stats.backward(be, dy, dx);
            return dx;
        }
        Tensor dy2 = dy.reshape(rows, size);
        scratch = buffers.ensureLike(scratch, x);
        be.biasGrad(dy2, bias.grad().reshape(size));
        be.mul(dy, xhat, scratch);
        be.biasGrad(scratch.reshape(rows, size), weight.grad().reshape(size));
        // the gradient with respect to xhat: dy * weight, element by element
        affine.apply(be, dy, weight.value().reshape(size), null, rows, size, 1, scratch);
        stats.backward(be, scratch, dx);
        return dx;
    }
}
