package dev.jtrain.check;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.init.Init;
import dev.jtrain.init.Init.FanMode;
import dev.jtrain.init.Init.Nonlinearity;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/**
 * Statistical families, drawn with jtrain's own generator (FORMAT.md items 38-40), so they are compared with
 * the theory or with PyTorch's averages under the case's statistical tolerances, not value by value.
 * <ul>
 *   <li>{@code init_statistics}: the initializer named by the case name fills a tensor of {@code tensor_shape};
 *   its empirical std (n - 1) is compared with {@code std_theory} (tol {@code std_empirical_vs_std_theory}),
 *   its mean with 0 (tol {@code mean_empirical}), the library's own theoretical std with {@code std_theory}
 *   (tol {@code std_theory}) and, for uniform draws, its min and max with -/+{@code bound_theory} (1 % of the
 *   bound). PyTorch's own draw statistics are information only.</li>
 *   <li>{@code activation_statistics}: a tanh stack of the library's Linear (no bias) and Tanh layers, weights
 *   from the initializer named by the case name; per-layer mean and population std over all activations,
 *   averaged over {@code seeds} seeds, against {@code *_mean_over_seeds} with the per-layer tolerances.</li>
 * </ul>
 */
public final class InitStatsCases implements OpCase {
    /** Seed of jtrain's draws (any fixed value: the checks are statistical, and deterministic for this seed). */
    static final long SEED = 20240611L;

    @Override
    public Set<String> ops() {
        return Set.of("init_statistics", "activation_statistics");
    }

    @Override
    public void run(CaseContext ctx) {
        if ("init_statistics".equals(ctx.op())) {
            initStats(ctx);
        } else {
            activationStats(ctx);
        }
    }

    // ------------------------------------------------------------------ init_statistics

    private static void initStats(CaseContext ctx) {
        int[] shape = ctx.paramInts("tensor_shape");
        if (shape.length < 2) {
            throw CaseContext.badParam("tensor_shape", ctx.param("tensor_shape"), "a shape of rank >= 2");
        }
        Shape sh = Shape.of(shape);
        if (ctx.hasParam("fan_in") && ctx.paramInt("fan_in") != Init.fanIn(sh)) {
            throw new CaseException("bad param 'fan_in': " + ctx.param("fan_in") + ", but the library's fan_in of "
                    + sh + " is " + Init.fanIn(sh));
        }
        if (ctx.hasParam("fan_out") && ctx.paramInt("fan_out") != Init.fanOut(sh)) {
            throw new CaseException("bad param 'fan_out': " + ctx.param("fan_out") + ", but the library's fan_out of "
                    + sh + " is " + Init.fanOut(sh));
        }
        Tensor t = Tensor.zeros(ctx.device(), shape);
        Generator gen = new Generator(SEED);
        double theory;
        boolean uniform;
        double bound = Double.NaN;
        switch (ctx.caseName()) {
            case "init_kaiming_normal_relu_fan_in" -> {
                Init.kaimingNormal(t, 0, FanMode.FAN_IN, Nonlinearity.RELU, gen);
                theory = Init.kaimingStd(sh, 0, FanMode.FAN_IN, Nonlinearity.RELU);
                uniform = false;
            }
            case "init_kaiming_normal_relu_fan_out" -> {
                Init.kaimingNormal(t, 0, FanMode.FAN_OUT, Nonlinearity.RELU, gen);
                theory = Init.kaimingStd(sh, 0, FanMode.FAN_OUT, Nonlinearity.RELU);
                uniform = false;
            }
            case "init_kaiming_uniform_relu_fan_in" -> {
                Init.kaimingUniform(t, 0, FanMode.FAN_IN, Nonlinearity.RELU, gen);
                theory = Init.kaimingStd(sh, 0, FanMode.FAN_IN, Nonlinearity.RELU);
                uniform = true;
            }
            case "init_kaiming_uniform_default_args" -> {
                Init.kaimingUniform(t, gen);
                theory = Init.kaimingStd(sh, 0, FanMode.FAN_IN, Nonlinearity.LEAKY_RELU);
                uniform = true;
            }
            case "init_nn_Linear_default_weight" -> {
                Init.linearDefault(t, null, gen);
                theory = Init.kaimingStd(sh, Math.sqrt(5), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU);
                bound = Init.linearDefaultBound(sh);
                uniform = true;
            }
            case "init_xavier_normal" -> {
                Init.xavierNormal(t, gen);
                theory = Init.xavierStd(sh, 1.0);
                uniform = false;
            }
            case "init_xavier_uniform" -> {
                Init.xavierUniform(t, gen);
                theory = Init.xavierStd(sh, 1.0);
                uniform = true;
            }
            default -> throw new UnsupportedCaseException("no initializer is known for case name '"
                    + ctx.caseName() + "'");
        }
        float[] v = t.to(Device.CPU).floats();
        int n = t.numel();
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            sum += v[i];
            min = Math.min(min, v[i]);
            max = Math.max(max, v[i]);
        }
        double mean = sum / n;
        double ss = 0;
        for (int i = 0; i < n; i++) {
            double d = v[i] - mean;
            ss += d * d;
        }
        double std = Math.sqrt(ss / (n - 1));
        int[] scalar = new int[0];
        double stdTheory = scalar(ctx, "std_theory");
        ctx.check("std_empirical", "std_empirical (jtrain's draw vs std_theory)", scalar, new double[] {std},
                new double[] {stdTheory}, new double[] {tol(ctx, "std_empirical_vs_std_theory", "rtol", 0.01)},
                new double[] {0});
        ctx.check("mean_empirical", "mean_empirical (jtrain's draw vs 0)", scalar, new double[] {mean},
                new double[] {0}, new double[] {0}, new double[] {tol(ctx, "mean_empirical", "atol", 0.01 * stdTheory)});
        ctx.check("std_theory", "std_theory (jtrain's formula)", scalar, new double[] {theory},
                new double[] {stdTheory}, new double[] {tol(ctx, "std_theory", "rtol", 1e-12)},
                new double[] {tol(ctx, "std_theory", "atol", 1e-15)});
        double caseBound = uniform && ctx.expects("bound_theory") ? scalar(ctx, "bound_theory") : Double.NaN;
        if (Double.isFinite(caseBound) && caseBound > 0) {
            double[] r = {0.01};
            double[] a = {0};
            ctx.check("min_empirical", "min_empirical (jtrain's draw vs -bound_theory)", scalar, new double[] {min},
                    new double[] {-caseBound}, r, a);
            ctx.check("max_empirical", "max_empirical (jtrain's draw vs bound_theory)", scalar, new double[] {max},
                    new double[] {caseBound}, r, a);
            if (Double.isFinite(bound)) {
                ctx.check("bound_theory", "bound_theory (jtrain's formula)", scalar, new double[] {bound},
                        new double[] {caseBound}, new double[] {tol(ctx, "std_theory", "rtol", 1e-12)},
                        new double[] {tol(ctx, "std_theory", "atol", 1e-15)});
            } else {
                ctx.informational("bound_theory");
            }
        } else {
            ctx.informational("min_empirical", "max_empirical", "bound_theory");
        }
    }

    private static double scalar(CaseContext ctx, String name) {
        CaseTensor t = ctx.expected(name);
        if (t.numel() != 1) {
            throw new CaseException("wrong shape: " + t.where() + " should hold one value, has " + t.numel());
        }
        return t.values()[0];
    }

    /** tol[key][field] as a number; {@code fallback} when the case has none. */
    private static double tol(CaseContext ctx, String key, String field, double fallback) {
        JsonNode t = ctx.data().tol().get(key);
        if (t == null || !t.has(field)) {
            return fallback;
        }
        return CaseTensor.number("tol." + key + "." + field, t.get(field), false);
    }

    /** tol[key][field] as a per-layer list (a single number is broadcast). */
    private static double[] tolList(CaseContext ctx, String key, String field, int layers) {
        JsonNode t = ctx.data().tol().get(key);
        if (t == null || !t.has(field)) {
            throw new CaseException("bad tol: no tol." + key + "." + field);
        }
        JsonNode v = t.get(field);
        double[] out = new double[layers];
        if (v.isNumber()) {
            java.util.Arrays.fill(out, CaseTensor.number("tol." + key + "." + field, v, false));
            return out;
        }
        if (!v.isArray() || v.size() != layers) {
            throw new CaseException("bad tol: tol." + key + "." + field + " should list " + layers + " values");
        }
        for (int i = 0; i < layers; i++) {
            out[i] = CaseTensor.number("tol." + key + "." + field + "[" + i + "]", v.get(i), false);
        }
        return out;
    }

    // ------------------------------------------------------------------ activation_statistics

    private static void activationStats(CaseContext ctx) {
        int layers = ctx.paramInt("layers");
        int units = ctx.paramInt("units");
        int batch = ctx.paramInt("batch");
        int seeds = ctx.paramInt("seeds", 5);
        String nl = ctx.paramString("nonlinearity", "tanh");
        if (!nl.equals("tanh")) {
            throw new UnsupportedCaseException("activation statistics with nonlinearity '" + nl + "' (tanh only)");
        }
        if (ctx.paramBool("bias", false)) {
            throw new UnsupportedCaseException("activation statistics with bias = true");
        }
        if (layers < 1 || units < 1 || batch < 1 || seeds < 1) {
            throw new CaseException("bad param: layers, units, batch and seeds must be >= 1");
        }
        String name = ctx.caseName();
        double[] stdMean = new double[layers];
        double[] meanMean = new double[layers];
        double[] saturated = new double[layers];
        Device dev = ctx.device();
        for (int s = 0; s < seeds; s++) {
            Generator gen = new Generator(SEED + 1 + s);
            Tensor h = Tensor.zeros(dev, batch, units);
            Init.normal(h, 0, 1, gen);
            Linear lin = new Linear(units, units, false, gen);
            lin.to(dev);
            Tanh tanh = new Tanh();
            for (int l = 0; l < layers; l++) {
                Tensor w = lin.weight().value();
                if (name.endsWith("_std0.01")) {
                    Init.normal(w, 0, 0.01, gen);
                } else if (name.endsWith("_std1.0")) {
                    Init.normal(w, 0, 1.0, gen);
                } else if (name.endsWith("_xavier")) {
                    // N(0, 1/fan_in): gain 1 ("linear") over sqrt(fan_in)
                    Init.kaimingNormal(w, 0, FanMode.FAN_IN, Nonlinearity.LINEAR, gen);
                } else {
                    throw new UnsupportedCaseException("no weight initializer is known for case name '" + name + "'");
                }
                h = tanh.forward(lin.forward(h, false), false);
                float[] v = h.to(Device.CPU).floats();
                int n = h.numel();
                double sum = 0;
                int sat = 0;
                for (int i = 0; i < n; i++) {
                    sum += v[i];
                    if (Math.abs(v[i]) > 0.99f) {
                        sat++;
                    }
                }
                double mean = sum / n;
                double ss = 0;
                for (int i = 0; i < n; i++) {
                    double d = v[i] - mean;
                    ss += d * d;
                }
                stdMean[l] += Math.sqrt(ss / n) / seeds;
                meanMean[l] += mean / seeds;
                saturated[l] += (double) sat / n / seeds;
            }
        }
        int[] shape = {layers};
        CaseTensor eStd = ctx.expected("std_per_layer_mean_over_seeds");
        CaseTensor eMean = ctx.expected("mean_per_layer_mean_over_seeds");
        CaseContext.requireShape(eStd.where(), eStd.shape(), layers);
        CaseContext.requireShape(eMean.where(), eMean.shape(), layers);
        ctx.check("std_per_layer_mean_over_seeds", "std_per_layer_mean_over_seeds (jtrain's draws)", shape, stdMean,
                eStd.values(), tolList(ctx, "std_per_layer", "rtol_per_layer", layers), new double[] {0});
        ctx.check("mean_per_layer_mean_over_seeds", "mean_per_layer_mean_over_seeds (jtrain's draws)", shape, meanMean,
                eMean.values(), new double[] {0}, tolList(ctx, "mean_per_layer", "atol_per_layer", layers));
        ctx.informational("std_per_layer_spread_over_seeds", "mean_per_layer_spread_over_seeds",
                "saturated_fraction_per_layer_mean_over_seeds", "std_per_layer_seed0", "mean_per_layer_seed0",
                "std_per_layer_all_seeds", "mean_per_layer_all_seeds");
        StringBuilder sb = new StringBuilder("jtrain std per layer:");
        for (double d : stdMean) {
            sb.append(String.format(java.util.Locale.ROOT, " %.3g", d));
        }
        sb.append("; saturated fraction at the last layer ").append(String.format(java.util.Locale.ROOT, "%.3f",
                saturated[layers - 1]));
        ctx.note(sb.toString());
    }
}
