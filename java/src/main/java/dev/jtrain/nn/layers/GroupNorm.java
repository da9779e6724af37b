package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * Group normalisation as nn.GroupNorm (tests/conformance/FORMAT.md items 15a-15b) over [N, C, *] input:
 * <pre>
 *   y[n, c, ·] = (x[n, c, ·] − E_g[x]) / √(Var_g[x] + ε) · weight[c] + bias[c]     (g = the group of c)
 * </pre>
 * where E_g and Var_g (biased) run over the channels of group g of sample n and all their positions: the C
 * channels form {@code groups} groups of C / groups consecutive channels, each (sample, group) normalised with
 * its own mean and biased variance, eps inside the square root; then (affine) a per-channel scale and shift,
 * "weight" (1) and "bias" (0) of shape [C]. groups = 1 is LayerNorm over (C, *) with a per-channel affine part;
 * groups = C is instance norm. No running statistics: training and eval are the same computation. Built from
 * Backend ops ({@link RowStandardizer}, {@link ChannelAffine}), so it runs on every device.
 */
public final class GroupNorm extends Layer {
    public static final float DEFAULT_EPS = 1e-5f;

    private final int groups;
    private final int channels;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;
    private final RowStandardizer stats;
    private final ChannelAffine affine;

    private Tensor x;
    private int batch;
    private int inner;
    private Tensor xhat;
    private Tensor y;
    private Tensor scratch;
    private Tensor dx;

    /** GroupNorm with eps 1e-5 and the affine part, on the cpu. */
    public GroupNorm(int groups, int channels) {
        this(groups, channels, DEFAULT_EPS, true, Device.CPU);
    }

    /** Built directly on {@code device}; {@code affine} false has no parameters. */
    public GroupNorm(int groups, int channels, float eps, boolean affine, Device device) {
        if (groups < 1 || channels < 1) {
            throw new IllegalArgumentException("GroupNorm needs groups >= 1 and channels >= 1, got groups " + groups
                    + ", channels " + channels);
        }
        if (channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels cannot be split into " + groups
                    + " groups (channels must be divisible by groups)");
        }
        if (!(eps > 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException("GroupNorm: eps must be finite and > 0, got " + eps);
        }
        this.groups = groups;
        this.channels = channels;
        this.eps = eps;
        Backend be = Backends.forDevice(device);
        if (affine) {
            this.weight = register(Parameter.trainable("weight", be.zeros(channels)));
            this.bias = register(Parameter.trainable("bias", be.zeros(channels)));
            be.fill(weight.value(), 1f);
        } else {
            this.weight = null;
            this.bias = null;
        }
        this.stats = new RowStandardizer(buffers, eps);
        this.affine = new ChannelAffine(buffers);
    }

    public int groups() {
        return groups;
    }

    public int channels() {
        return channels;
    }

    public float eps() {
        return eps;
    }

    public boolean affine() {
        return weight != null;
    }

    /** The per-channel scale [C] (null without the affine part). */
    public Parameter weight() {
        return weight;
    }

    /** The per-channel shift [C] (null without the affine part). */
    public Parameter bias() {
        return bias;
    }

    private String name() {
        return "GroupNorm(" + groups + ", " + channels + ")";
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, name());
        if (x.rank() < 2 || x.dim(1) != channels) {
            throw new IllegalArgumentException(name() + ": expected input [N, " + channels + ", ...], got " + x.shape());
        }
        if (weight != null) {
            Buffers.requireDevice(x, weight.value().device(), name());
        }
        Backend be = Backends.of(x);
        batch = x.dim(0);
        inner = x.shape().size(2, x.rank());
        int rows = batch * groups;
        int cols = channels / groups * inner;  // a group's channels are consecutive: one contiguous row
        y = buffers.ensureLike(y, x);
        if (weight == null) {
            stats.forward(be, x, rows, cols, y);
        } else {
            xhat = buffers.ensureLike(xhat, x);
            stats.forward(be, x, rows, cols, xhat);
            affine.apply(be, xhat, weight.value(), bias.value(), batch, channels, inner, y);
        }
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException(name() + ".backward called before forward");
        }
        if (!dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException(name() + ".backward: dy " + dy.shape() + " does not match the output "
                    + x.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, x);
        if (weight == null) {
            stats.backward(be, dy, dx);
            return dx;
        }
        Tensor dy3 = dy.reshape(batch, channels, inner);
        scratch = buffers.ensureLike(scratch, x);
        be.biasGrad(dy3, bias.grad());
        be.mul(dy, xhat, scratch);
        be.biasGrad(scratch.reshape(batch, channels, inner), weight.grad());
        // the gradient with respect to xhat: dy * weight[c]
        affine.apply(be, dy, weight.value(), null, batch, channels, inner, scratch);
        stats.backward(be, scratch, dx);
        return dx;
    }
}
