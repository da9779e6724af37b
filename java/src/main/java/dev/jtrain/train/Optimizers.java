package dev.jtrain.train;

import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Adagrad;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.AdamW;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.RmsProp;
import dev.jtrain.optim.Sgd;

import java.util.List;
import java.util.Locale;

/**
 * Builds optimizers by name (as {@code jtrain train --optimizer} does). Unset settings (null) take per-optimizer
 * defaults: sgd lr {@value #SGD_LR} momentum {@value #SGD_MOMENTUM} (the benchmark setting); the others
 * PyTorch's, from their classes: adam/adamw lr 0.001, betas (0.9, 0.999), eps 1e-8, weight decay 0 / 0.01;
 * rmsprop lr 0.01, alpha 0.99, eps 1e-8, momentum 0; adagrad lr 0.01, lr_decay 0, eps 1e-10. Settings an
 * optimizer has no use for are errors, so a mistyped setting does not silently train something else.
 * Error messages name the {@link Settings} components (a command line re-words them with its option names).
 */
public final class Optimizers {
    public static final List<String> NAMES = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad");
    /** SGD has no PyTorch default learning rate; these are jtrain's (the benchmark setting). */
    public static final double SGD_LR = 0.01;
    public static final double SGD_MOMENTUM = 0.9;

    private Optimizers() {
    }

    /** The settings of one optimizer; null means "the optimizer's default". */
    public record Settings(Double lr, Double momentum, boolean nesterov, Double weightDecay) {
    }

    public static double defaultLr(String name) {
        return switch (normalize(name)) {
            case "sgd" -> SGD_LR;
            case "rmsprop" -> RmsProp.DEFAULT_LR;
            case "adagrad" -> Adagrad.DEFAULT_LR;
            case "adam", "adamw" -> Adam.DEFAULT_LR;
            default -> throw unknown(name);
        };
    }

    /** The momentum {@code name} uses when none is given: sgd's {@value #SGD_MOMENTUM}, else 0. */
    public static double defaultMomentum(String name) {
        requireKnown(name);
        return normalize(name).equals("sgd") ? SGD_MOMENTUM : 0.0;
    }

    /** The weight decay {@code name} uses when none is given: adamw's decoupled 0.01, else 0. */
    public static double defaultWeightDecay(String name) {
        requireKnown(name);
        return normalize(name).equals("adamw") ? AdamW.DEFAULT_WEIGHT_DECAY : 0.0;
    }

    public static Optimizer create(String name, List<Parameter> params, Settings s) {
        String n = requireKnown(name);
        double lr = s.lr() != null ? s.lr() : defaultLr(n);
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("lr must be a positive number, got " + lr);
        }
        if (s.weightDecay() != null && !(s.weightDecay() >= 0 && Double.isFinite(s.weightDecay()))) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + s.weightDecay());
        }
        if (s.momentum() != null && !(s.momentum() >= 0 && s.momentum() < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + s.momentum());
        }
        if (s.nesterov() && !n.equals("sgd")) {
            throw new IllegalArgumentException("nesterov applies to the sgd optimizer only, not " + n);
        }
        if (s.momentum() != null && !(n.equals("sgd") || n.equals("rmsprop"))) {
            throw new IllegalArgumentException("momentum applies to the sgd and rmsprop optimizers only, not " + n);
        }
        double wd = s.weightDecay() != null ? s.weightDecay() : defaultWeightDecay(n);
        return switch (n) {
            case "sgd" -> {
                double m = s.momentum() != null ? s.momentum() : defaultMomentum(n);
                if (s.nesterov() && m == 0) {
                    throw new IllegalArgumentException("nesterov needs a momentum > 0 (got momentum 0)");
                }
                yield new Sgd(params, lr, m, 0, wd, s.nesterov());
            }
            case "adam" -> new Adam(params, lr, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, wd, false);
            case "adamw" -> new AdamW(params, lr, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, wd, false);
            case "rmsprop" -> new RmsProp(params, lr, RmsProp.DEFAULT_ALPHA, RmsProp.DEFAULT_EPS, wd,
                    s.momentum() != null ? s.momentum() : defaultMomentum(n));
            case "adagrad" -> new Adagrad(params, lr, 0.0, wd, Adagrad.DEFAULT_EPS);
            default -> throw unknown(name);
        };
    }

    private static String normalize(String name) {
        return name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    }

    private static String requireKnown(String name) {
        String n = normalize(name);
        if (!NAMES.contains(n)) {
            throw unknown(name);
        }
        return n;
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("unknown optimizer '" + name + "' (expected one of "
                + String.join(", ", NAMES) + ")");
    }
}
