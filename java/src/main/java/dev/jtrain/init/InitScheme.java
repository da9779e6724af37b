package dev.jtrain.init;

import dev.jtrain.init.Init.FanMode;
import dev.jtrain.init.Init.Nonlinearity;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.Maxout;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A weight-initialisation scheme chosen by name, as {@code jtrain train --init} and {@code jtrain diagnose init}
 * take it, over the rules of {@link Init} (PyTorch's torch.nn.init):
 * <pre>
 *   default                      PyTorch's layer defaults (nn.Linear/nn.Conv2d: kaiming_uniform_(a = sqrt 5))
 *   constant:V                   every weight V
 *   uniform:A                    U(-A, A)                       (the "small random numbers" of the course)
 *   normal:STD                   N(0, STD^2)
 *   xavier[-normal|-uniform][:GAIN]
 *                                Glorot: std = gain sqrt(2 / (fan_in + fan_out)); "xavier" is the normal
 *                                form; GAIN a number or a nonlinearity (calculate_gain), default 1
 *   he[-normal|-uniform][:fan_in|fan_out][:NONLINEARITY[:SLOPE]]
 *                                Kaiming: std = gain / sqrt(fan); "he" is the normal form, fan_in and relu
 *                                (gain sqrt 2) unless named; "kaiming" is an alias of "he", "glorot" of "xavier"
 * </pre>
 * {@link #apply} re-initialises every Linear, Conv2d and Maxout weight of a model in layer order (one generator
 * offset per tensor) and sets their biases to 0, as the course does; {@code default} leaves the model exactly as
 * its layers built it (no draws).
 */
public final class InitScheme {
    /** What the spec grammar accepts, for error messages and help texts. */
    public static final String GRAMMAR = "default, constant:V, uniform:A, normal:STD, xavier[-normal|-uniform][:GAIN], "
            + "he[-normal|-uniform][:fan_in|fan_out][:NONLINEARITY]";

    /** The family of the draw. */
    public enum Kind { DEFAULT, CONSTANT, UNIFORM, NORMAL, XAVIER_NORMAL, XAVIER_UNIFORM, KAIMING_NORMAL, KAIMING_UNIFORM }

    private final Kind kind;
    private final double value;
    private final Nonlinearity nonlinearity;
    private final double slope;
    private final FanMode mode;
    private final String text;

    private InitScheme(Kind kind, double value, Nonlinearity nonlinearity, double slope, FanMode mode, String text) {
        this.kind = kind;
        this.value = value;
        this.nonlinearity = nonlinearity;
        this.slope = slope;
        this.mode = mode;
        this.text = text;
    }

    public static InitScheme pytorchDefault() {
        return new InitScheme(Kind.DEFAULT, Double.NaN, null, 0, FanMode.FAN_IN, "default");
    }

    /** Parses a spec like "he", "normal:0.01", "xavier-uniform:tanh", "he:fan_out:leaky_relu:0.2". */
    public static InitScheme parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw bad(spec, "empty");
        }
        String[] parts = spec.trim().toLowerCase(Locale.ROOT).split(":", -1);
        String name = parts[0].replace('_', '-');
        List<String> args = new ArrayList<>(List.of(parts).subList(1, parts.length));
        switch (name) {
            case "default", "pytorch" -> {
                noArgs(spec, args);
                return pytorchDefault();
            }
            case "zeros" -> {
                noArgs(spec, args);
                return new InitScheme(Kind.CONSTANT, 0, null, 0, FanMode.FAN_IN, "constant:0");
            }
            case "constant", "uniform", "normal" -> {
                if (args.size() != 1) {
                    throw bad(spec, name + " takes one number (" + name + ":" + (name.equals("constant") ? "V" : name
                            .equals("uniform") ? "A" : "STD") + ")");
                }
                double v = number(spec, args.get(0));
                Kind k = name.equals("constant") ? Kind.CONSTANT : name.equals("uniform") ? Kind.UNIFORM : Kind.NORMAL;
                if (k != Kind.CONSTANT && !(v >= 0)) {
                    throw bad(spec, name + " needs a value >= 0, got " + args.get(0));
                }
                return new InitScheme(k, v, null, 0, FanMode.FAN_IN, name + ":" + fmt(v));
            }
            case "xavier", "xavier-normal", "glorot", "glorot-normal", "xavier-uniform", "glorot-uniform" -> {
                Kind k = name.endsWith("uniform") ? Kind.XAVIER_UNIFORM : Kind.XAVIER_NORMAL;
                String canon = k == Kind.XAVIER_UNIFORM ? "xavier-uniform" : "xavier-normal";
                if (args.isEmpty()) {
                    return new InitScheme(k, 1.0, Nonlinearity.LINEAR, 0, FanMode.FAN_IN, canon);
                }
                Nonlinearity nl = Nonlinearity.byName(args.get(0));
                if (nl == null) {
                    if (args.size() != 1) {
                        throw bad(spec, "xavier takes one gain: a number or a nonlinearity name");
                    }
                    double g = number(spec, args.get(0));
                    if (!(g > 0)) {
                        throw bad(spec, "the gain must be > 0, got " + args.get(0));
                    }
                    return new InitScheme(k, g, null, 0, FanMode.FAN_IN, canon + ":" + fmt(g));
                }
                double s = slopeArg(spec, nl, args.subList(1, args.size()));
                return new InitScheme(k, Init.gain(nl, s), nl, s, FanMode.FAN_IN, canon + ":" + nlText(nl, s));
            }
            case "he", "he-normal", "kaiming", "kaiming-normal", "he-uniform", "kaiming-uniform" -> {
                Kind k = name.endsWith("uniform") ? Kind.KAIMING_UNIFORM : Kind.KAIMING_NORMAL;
                FanMode fm = FanMode.FAN_IN;
                Nonlinearity nl = Nonlinearity.RELU;
                double s = 0;
                for (int i = 0; i < args.size(); i++) {
                    String a = args.get(i).replace('-', '_');
                    if (a.equals("fan_in") || a.equals("fan_out")) {
                        fm = a.equals("fan_in") ? FanMode.FAN_IN : FanMode.FAN_OUT;
                        continue;
                    }
                    nl = Nonlinearity.byName(a);
                    if (nl == null) {
                        throw bad(spec, "'" + args.get(i) + "' is neither fan_in/fan_out nor a nonlinearity (linear, "
                                + "conv2d, sigmoid, tanh, relu, leaky_relu, selu)");
                    }
                    if (nl == Nonlinearity.LEAKY_RELU && i + 1 < args.size() && isNumber(args.get(i + 1))) {
                        s = slopeArg(spec, nl, args.subList(i + 1, i + 2));
                        i++;
                    } else if (nl == Nonlinearity.LEAKY_RELU) {
                        s = 0.01;  // calculate_gain's default slope
                    }
                }
                String canon = (k == Kind.KAIMING_UNIFORM ? "he-uniform" : "he-normal") + ":"
                        + (fm == FanMode.FAN_IN ? "fan_in" : "fan_out") + ":" + nlText(nl, s);
                return new InitScheme(k, Init.gain(nl, s), nl, s, fm, canon);
            }
            default -> throw bad(spec, "unknown scheme '" + parts[0] + "'");
        }
    }

    private static double slopeArg(String spec, Nonlinearity nl, List<String> rest) {
        if (rest.isEmpty()) {
            return nl == Nonlinearity.LEAKY_RELU ? 0.01 : 0;
        }
        if (nl != Nonlinearity.LEAKY_RELU || rest.size() != 1) {
            throw bad(spec, "only leaky_relu takes a number after it (its negative slope)");
        }
        return number(spec, rest.get(0));
    }

    private static String nlText(Nonlinearity nl, double slope) {
        String n = nl.name().toLowerCase(Locale.ROOT);
        return nl == Nonlinearity.LEAKY_RELU ? n + ":" + fmt(slope) : n;
    }

    private static void noArgs(String spec, List<String> args) {
        if (!args.isEmpty()) {
            throw bad(spec, "takes no arguments");
        }
    }

    private static boolean isNumber(String s) {
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static double number(String spec, String s) {
        try {
            double v = Double.parseDouble(s.trim());
            if (Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(spec, "'" + s + "' is not a finite number");
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("bad init scheme '" + spec + "': " + why + " (expected " + GRAMMAR + ")");
    }

    public Kind kind() {
        return kind;
    }

    /** The gain of the Xavier/Kaiming forms (calculate_gain of the nonlinearity, or the number given). */
    public double gain() {
        return switch (kind) {
            case XAVIER_NORMAL, XAVIER_UNIFORM, KAIMING_NORMAL, KAIMING_UNIFORM -> value;
            default -> throw new IllegalStateException(text + " has no gain");
        };
    }

    /** The standard deviation of the weights this scheme draws for a weight of {@code shape} (0 for constant). */
    public double std(Shape shape) {
        return switch (kind) {
            case DEFAULT -> Init.linearDefaultBound(shape) / Math.sqrt(3);
            case CONSTANT -> 0;
            case UNIFORM -> value / Math.sqrt(3);
            case NORMAL -> value;
            case XAVIER_NORMAL, XAVIER_UNIFORM -> Init.xavierStd(shape, value);
            case KAIMING_NORMAL, KAIMING_UNIFORM -> {
                int fan = mode == FanMode.FAN_IN ? Init.fanIn(shape) : Init.fanOut(shape);
                yield value / Math.sqrt(fan);
            }
        };
    }

    /** The largest |w| a uniform scheme can draw for {@code shape} (sqrt(3) std); NaN for the others. */
    public double bound(Shape shape) {
        return switch (kind) {
            case DEFAULT, UNIFORM, XAVIER_UNIFORM, KAIMING_UNIFORM -> Math.sqrt(3) * std(shape);
            default -> Double.NaN;
        };
    }

    /** Fills the weight tensor {@code w} (rank >= 2 for the fan-based forms); one generator offset unless constant. */
    public void initWeight(Tensor w, Generator gen) {
        switch (kind) {
            case DEFAULT -> Init.linearDefault(w, null, gen);
            case CONSTANT -> Init.constant(w, value);
            case UNIFORM -> Init.uniform(w, -value, value, gen);
            case NORMAL -> Init.normal(w, 0, value, gen);
            case XAVIER_NORMAL -> Init.xavierNormal(w, value, gen);
            case XAVIER_UNIFORM -> Init.xavierUniform(w, value, gen);
            case KAIMING_NORMAL -> Init.normal(w, 0, std(w.shape()), gen);
            case KAIMING_UNIFORM -> {
                double b = bound(w.shape());
                Init.uniform(w, -b, b, gen);
            }
        }
    }

    /**
     * Re-initialises the weights of every Linear, Conv2d and Maxout in {@code model} (depth first, in layer order)
     * and zeroes their biases; {@code default} changes nothing. Returns the number of weight tensors set.
     */
    public int apply(Layer model, Generator gen) {
        if (kind == Kind.DEFAULT) {
            return 0;
        }
        List<Parameter[]> found = new ArrayList<>();
        collect(model, found);
        for (Parameter[] wb : found) {
            initWeight(wb[0].value(), gen);
            if (wb[1] != null) {
                Init.zeros(wb[1].value());
            }
        }
        return found.size();
    }

    private static void collect(Layer layer, List<Parameter[]> out) {
        if (layer instanceof Linear l) {
            out.add(new Parameter[] {l.weight(), l.bias()});
        } else if (layer instanceof Conv2d c) {
            out.add(new Parameter[] {c.weight(), c.bias()});
        } else if (layer instanceof Maxout m) {
            out.add(new Parameter[] {m.weight(), m.bias()});
        }
        for (Layer child : layer.children().values()) {
            collect(child, out);
        }
    }

    /** The canonical spec ("he-normal:fan_in:relu", "normal:0.01", "default"). */
    @Override
    public String toString() {
        return text;
    }
}
