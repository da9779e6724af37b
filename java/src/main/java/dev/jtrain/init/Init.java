package dev.jtrain.init;

import dev.jtrain.backend.Backends;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Weight initializers with PyTorch's rules (torch.nn.init; FORMAT.md items 38-39). Every draw goes
 * through the tensor's backend ({@code randomUniform}/{@code randomNormal}, Philox), with
 * {@code seed = gen.seed()} and {@code offset = gen.nextOffset()}: one offset per call, so a given
 * (seed, order of calls) gives the same bits on every device. Tensors are filled in place.
 *
 * <p>Fans: for a weight of shape [fan_out, fan_in, k...] (Linear [out, in], Conv [Cout, Cin, kH, kW]),
 * fan_in = size(1) * receptive field and fan_out = size(0) * receptive field, where the receptive
 * field is the product of the dimensions after the first two.
 */
public final class Init {
    private Init() {
    }

    /** Which fan kaiming_* preserves: the forward pass' variance (FAN_IN) or the backward pass' (FAN_OUT). */
    public enum FanMode { FAN_IN, FAN_OUT }

    /** The nonlinearities of {@code torch.nn.init.calculate_gain}. */
    public enum Nonlinearity {
        LINEAR, CONV, SIGMOID, TANH, RELU, LEAKY_RELU, SELU;

        /**
         * PyTorch's name ("linear", "conv1d".."conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu",
         * "selu"; case and '-' for '_' do not matter), or null when {@code name} is none of them.
         */
        public static Nonlinearity byName(String name) {
            String n = name.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
            if (n.matches("conv(_transpose)?[123]d|conv")) {
                return CONV;
            }
            for (Nonlinearity v : values()) {
                if (v != CONV && v.name().toLowerCase(java.util.Locale.ROOT).equals(n)) {
                    return v;
                }
            }
            return null;
        }
    }

    // ---------------------------------------------------------------- fans and gains

    public static int fanIn(Shape shape) {
        requireRank2(shape);
        return shape.dim(1) * receptiveField(shape);
    }

    public static int fanOut(Shape shape) {
        requireRank2(shape);
        return shape.dim(0) * receptiveField(shape);
    }

    private static int receptiveField(Shape shape) {
        return shape.size(2, shape.rank());
    }

    private static void requireRank2(Shape shape) {
        if (shape.rank() < 2) {
            throw new IllegalArgumentException("fan in and fan out need a tensor with at least 2 dimensions, got shape "
                    + shape);
        }
    }

    /**
     * PyTorch's calculate_gain: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2), leaky_relu
     * sqrt(2 / (1 + slope^2)) with {@code param} the negative slope, selu 3/4.
     */
    public static double gain(Nonlinearity nonlinearity, double param) {
        return switch (nonlinearity) {
            case LINEAR, CONV, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3.0;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> Math.sqrt(2.0 / (1.0 + param * param));
            case SELU -> 0.75;
        };
    }

    public static double gain(Nonlinearity nonlinearity) {
        return gain(nonlinearity, nonlinearity == Nonlinearity.LEAKY_RELU ? 0.01 : 0.0);
    }

    // ---------------------------------------------------------------- plain draws

    /** U[low, high). */
    public static void uniform(Tensor t, double low, double high, Generator gen) {
        if (!(high >= low)) {
            throw new IllegalArgumentException("uniform: high " + high + " must be >= low " + low);
        }
        Backends.of(t).randomUniform(t, (float) low, (float) high, gen.seed(), gen.nextOffset());
    }

    /** N(mean, std^2). */
    public static void normal(Tensor t, double mean, double std, Generator gen) {
        if (!(std >= 0)) {
            throw new IllegalArgumentException("normal: std must be >= 0, got " + std);
        }
        Backends.of(t).randomNormal(t, (float) mean, (float) std, gen.seed(), gen.nextOffset());
    }

    /** Every element = value (consumes no offset). */
    public static void constant(Tensor t, double value) {
        Backends.of(t).fill(t, (float) value);
    }

    public static void zeros(Tensor t) {
        constant(t, 0.0);
    }

    // ---------------------------------------------------------------- Xavier / Glorot

    /** U(±gain·sqrt(6 / (fan_in + fan_out))). */
    public static void xavierUniform(Tensor t, double gain, Generator gen) {
        double bound = gain * Math.sqrt(6.0 / (fanIn(t.shape()) + fanOut(t.shape())));
        uniform(t, -bound, bound, gen);
    }

    public static void xavierUniform(Tensor t, Generator gen) {
        xavierUniform(t, 1.0, gen);
    }

    /** N(0, gain^2 · 2 / (fan_in + fan_out)). */
    public static void xavierNormal(Tensor t, double gain, Generator gen) {
        normal(t, 0.0, xavierStd(t.shape(), gain), gen);
    }

    public static void xavierNormal(Tensor t, Generator gen) {
        xavierNormal(t, 1.0, gen);
    }

    public static double xavierStd(Shape shape, double gain) {
        return gain * Math.sqrt(2.0 / (fanIn(shape) + fanOut(shape)));
    }

    // ---------------------------------------------------------------- Kaiming / He

    /**
     * kaiming_uniform_: U(±gain·sqrt(3 / fan)), gain = {@link #gain}(nonlinearity, a). PyTorch's
     * defaults are a = 0, FAN_IN, LEAKY_RELU (gain sqrt(2)).
     */
    public static void kaimingUniform(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity, Generator gen) {
        double bound = Math.sqrt(3.0) * kaimingStd(t.shape(), a, mode, nonlinearity);
        uniform(t, -bound, bound, gen);
    }

    /** PyTorch's defaults: a = 0, fan_in, leaky_relu. */
    public static void kaimingUniform(Tensor t, Generator gen) {
        kaimingUniform(t, 0.0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, gen);
    }

    /** kaiming_normal_: N(0, (gain / sqrt(fan))^2). */
    public static void kaimingNormal(Tensor t, double a, FanMode mode, Nonlinearity nonlinearity, Generator gen) {
        normal(t, 0.0, kaimingStd(t.shape(), a, mode, nonlinearity), gen);
    }

    public static void kaimingNormal(Tensor t, Generator gen) {
        kaimingNormal(t, 0.0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, gen);
    }

    /** gain(nonlinearity, a) / sqrt(fan). */
    public static double kaimingStd(Shape shape, double a, FanMode mode, Nonlinearity nonlinearity) {
        int fan = mode == FanMode.FAN_IN ? fanIn(shape) : fanOut(shape);
        if (fan == 0) {
            throw new IllegalArgumentException("kaiming init of an empty tensor " + shape);
        }
        return gain(nonlinearity, a) / Math.sqrt(fan);
    }

    // ---------------------------------------------------------------- layer defaults

    /**
     * PyTorch's nn.Linear / nn.Conv2d default: weight kaiming_uniform_(a = sqrt(5)) = U(±1/sqrt(fan_in)),
     * then bias (may be null) U(±1/sqrt(fan_in)) with the weight's fan_in. Weight first, then bias: two offsets.
     */
    public static void linearDefault(Tensor weight, Tensor bias, Generator gen) {
        kaimingUniform(weight, Math.sqrt(5.0), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, gen);
        if (bias != null) {
            int fanIn = fanIn(weight.shape());
            double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0.0;
            uniform(bias, -bound, bound, gen);
        }
    }

    /** The bound 1/sqrt(fan_in) of {@link #linearDefault} (std = bound / sqrt(3)). */
    public static double linearDefaultBound(Shape weightShape) {
        return 1.0 / Math.sqrt(fanIn(weightShape));
    }
}
