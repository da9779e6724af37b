package dev.jtrain.optim.schedule;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A learning-rate schedule named on the command line ({@code jtrain train --schedule}), parsed once and built
 * when the run's length is known. Each schedule advances per <b>epoch</b> or per optimizer <b>step</b>, the way
 * PyTorch's documentation uses it:
 *
 * <pre>
 *   step:S[:G]            per epoch  StepLR(step_size S, gamma G = 0.1)
 *   multistep:M1,M2[:G]   per epoch  MultiStepLR(milestones M1,M2 (epochs), gamma G = 0.1)
 *   exp:G                 per epoch  ExponentialLR(gamma G)
 *   cosine[:ETA_MIN]      per epoch  CosineAnnealingLR(T_max = epochs, eta_min = 0)
 *   linear[:END]          per epoch  LinearLR(start 1, end END = 0, total_iters = epochs)
 *   1/t[:K]               per epoch  lr0 / (1 + K epoch), K = 1
 *   cosine-restarts:T0[:MULT[:ETA_MIN]]  per step  CosineAnnealingWarmRestarts(T_0 = T0 epochs in steps, T_mult 1)
 *   inv-sqrt              per step   lr0 / sqrt(step + 1)
 * </pre>
 *
 * "Per epoch" means the k of {@link LrSchedule#lr(int)} is the 0-based epoch (the LR is constant inside an
 * epoch); "per step" means k is the 0-based optimizer step of the run (cosine restarts then fall exactly on
 * epoch boundaries, as PyTorch's {@code scheduler.step(epoch + i / iters)} does).
 */
public final class ScheduleSpec {

    /** What the schedule's k counts. */
    public enum Unit { EPOCH, STEP }

    public static final List<String> NAMES = List.of("constant", "step", "multistep", "exp", "cosine", "cosine-restarts",
            "linear", "inv-sqrt", "1/t");

    private final String text;
    private final String name;
    private final String[] args;

    private ScheduleSpec(String text, String name, String[] args) {
        this.text = text;
        this.name = name;
        this.args = args;
    }

    /** Parses {@code NAME[:ARG...]}; bad names, counts or values are an IllegalArgumentException naming them. */
    public static ScheduleSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty schedule (expected one of " + String.join(", ", NAMES) + ")");
        }
        String[] parts = text.trim().split(":", -1);
        String name = parts[0].trim().toLowerCase(Locale.ROOT);
        String[] args = Arrays.copyOfRange(parts, 1, parts.length);
        if (!NAMES.contains(name)) {
            throw new IllegalArgumentException("unknown schedule '" + parts[0] + "' (expected one of "
                    + String.join(", ", NAMES) + ")");
        }
        ScheduleSpec s = new ScheduleSpec(text.trim(), name, args);
        s.build(1.0, 10, 10); // validates the arguments now, not at the first epoch
        return s;
    }

    public String name() {
        return name;
    }

    public Unit unit() {
        return name.equals("cosine-restarts") || name.equals("inv-sqrt") ? Unit.STEP : Unit.EPOCH;
    }

    /**
     * cosine-restarts only: the restart cycles in epochs, {T0, T_mult} (the first cycle is T0 epochs long, each next one
     * T_mult times the one before); an IllegalStateException for any other schedule.
     */
    public int[] restartCycles() {
        if (!name.equals("cosine-restarts")) {
            throw new IllegalStateException("schedule '" + text + "' has no restart cycles");
        }
        return new int[] {integer(0, "T0 (epochs)"), args.length > 1 ? integer(1, "T_mult") : 1};
    }

    /** The schedule of a run of {@code epochs} epochs of {@code stepsPerEpoch} steps, base LR {@code baseLr}. */
    public LrSchedule build(double baseLr, int epochs, int stepsPerEpoch) {
        return switch (name) {
            case "constant" -> {
                arity(0, 0, "constant");
                yield new LinearLR(baseLr, 1.0, 1.0, 1);
            }
            case "step" -> {
                arity(1, 2, "step:S[:GAMMA]");
                yield new StepLR(baseLr, integer(0, "step size S"), real(1, 0.1, "gamma"));
            }
            case "multistep" -> {
                arity(1, 2, "multistep:M1,M2,...[:GAMMA]");
                yield new MultiStepLR(baseLr, milestones(args[0]), real(1, 0.1, "gamma"));
            }
            case "exp" -> {
                arity(1, 1, "exp:GAMMA");
                yield new ExponentialLR(baseLr, real(0, Double.NaN, "gamma"));
            }
            case "cosine" -> {
                arity(0, 1, "cosine[:ETA_MIN]");
                yield new CosineAnnealingLR(baseLr, epochs, real(0, 0.0, "eta_min"));
            }
            case "linear" -> {
                arity(0, 1, "linear[:END_FACTOR]");
                yield new LinearLR(baseLr, 1.0, real(0, 0.0, "end factor"), epochs);
            }
            case "1/t" -> {
                arity(0, 1, "1/t[:K]");
                yield new InverseTimeDecay(baseLr, real(0, 1.0, "decay K"));
            }
            case "cosine-restarts" -> {
                arity(1, 3, "cosine-restarts:T0[:T_MULT[:ETA_MIN]]");
                int t0 = integer(0, "T0 (epochs)");
                yield new CosineAnnealingWarmRestarts(baseLr, Math.multiplyExact(t0, stepsPerEpoch),
                        args.length > 1 ? integer(1, "T_mult") : 1, real(2, 0.0, "eta_min"));
            }
            case "inv-sqrt" -> {
                arity(0, 0, "inv-sqrt");
                yield new InverseSqrt(baseLr);
            }
            default -> throw new IllegalStateException(name);
        };
    }

    private void arity(int min, int max, String usage) {
        if (args.length < min || args.length > max) {
            throw new IllegalArgumentException("schedule '" + text + "': expected " + usage + " (" + args.length
                    + " argument" + (args.length == 1 ? "" : "s") + " given)");
        }
    }

    private int integer(int i, String what) {
        try {
            int v = Integer.parseInt(args[i].trim());
            if (v < 1) {
                throw new IllegalArgumentException("schedule '" + text + "': " + what + " must be >= 1, got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("schedule '" + text + "': " + what + " '" + args[i] + "' is not an integer");
        }
    }

    private double real(int i, double fallback, String what) {
        if (i >= args.length) {
            return fallback;
        }
        try {
            double v = Double.parseDouble(args[i].trim());
            if (!Double.isFinite(v) || v < 0) {
                throw new IllegalArgumentException("schedule '" + text + "': " + what + " must be a finite value >= 0, got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("schedule '" + text + "': " + what + " '" + args[i] + "' is not a number");
        }
    }

    private int[] milestones(String list) {
        String[] parts = list.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("schedule '" + text + "': milestone '" + parts[i] + "' is not an integer");
            }
            if (out[i] < 1 || (i > 0 && out[i] < out[i - 1])) {
                throw new IllegalArgumentException("schedule '" + text + "': milestones must be >= 1 and non-decreasing, got "
                        + list);
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}
