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
 * Builds the optimizers of {@code jtrain train} by name. Unset settings (null) take per-optimizer
 * defaults: sgd lr 0.01 momentum 0.9 (the benchmark setting); adam/adamw lr 0.001, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0 / 0.01 (PyTorch's); rmsprop lr 0.01, alpha 0.99, eps 1e-8, momentum 0;
 * adagrad lr 0.01, lr_decay 0, eps 1e-10. Settings an optimizer has no use for are errors, so a
 * mistyped command line does not silently train something else.
 */
public final class Optimizers {
    public static final List<String> NAMES = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad");

    private Optimizers() {
    }

    /** The settings of one optimizer; null means "the optimizer's default". */
    public record Settings(Double lr, Double momentum, boolean nesterov, Double weightDecay) {
    }

    public static double defaultLr(String name) {
        return switch (normalize(name)) {
            case "sgd", "rmsprop", "adagrad" -> 0.01;
            case "adam", "adamw" -> 0.001;
            default -> throw unknown(name);
        };
    }

    public static Optimizer create(String name, List<Parameter> params, Settings s) {
        String n = normalize(name);
        if (!NAMES.contains(n)) {
            throw unknown(name);
        }
        double lr = s.lr() != null ? s.lr() : defaultLr(n);
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        }
        if (s.weightDecay() != null && !(s.weightDecay() >= 0 && Double.isFinite(s.weightDecay()))) {
            throw new IllegalArgumentException("--weight-decay must be >= 0, got " + s.weightDecay());
        }
        if (s.momentum() != null && !(s.momentum() >= 0 && s.momentum() < 1)) {
            throw new IllegalArgumentException("--momentum must be in [0, 1), got " + s.momentum());
        }
        if (s.nesterov() && !n.equals("sgd")) {
            throw new IllegalArgumentException("--nesterov applies to --optimizer sgd only, not " + n);
        }
        if (s.momentum() != null && !(n.equals("sgd") || n.equals("rmsprop"))) {
            throw new IllegalArgumentException("--momentum applies to --optimizer sgd or rmsprop only, not " + n);
        }
        double wd = s.weightDecay() != null ? s.weightDecay() : (n.equals("adamw") ? 0.01 : 0.0);
        return switch (n) {
            case "sgd" -> {
                double m = s.momentum() != null ? s.momentum() : 0.9;
                if (s.nesterov() && m == 0) {
                    throw new IllegalArgumentException("--nesterov needs a momentum > 0 (got --momentum 0)");
                }
                yield new Sgd(params, lr, m, 0, wd, s.nesterov());
            }
            case "adam" -> new Adam(params, lr, 0.9, 0.999, 1e-8, wd, false);
            case "adamw" -> new AdamW(params, lr, 0.9, 0.999, 1e-8, wd, false);
            case "rmsprop" -> new RmsProp(params, lr, 0.99, 1e-8, wd, s.momentum() != null ? s.momentum() : 0.0);
            case "adagrad" -> new Adagrad(params, lr, 0.0, wd, 1e-10);
            default -> throw unknown(name);
        };
    }

    private static String normalize(String name) {
        return name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    }

    private static IllegalArgumentException unknown(String name) {
        return new IllegalArgumentException("unknown optimizer '" + name + "' (expected one of "
                + String.join(", ", NAMES) + ")");
    }
}
