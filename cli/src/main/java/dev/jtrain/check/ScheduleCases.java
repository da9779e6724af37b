package dev.jtrain.check;

import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.optim.schedule.CosineAnnealingLR;
import dev.jtrain.optim.schedule.CosineAnnealingWarmRestarts;
import dev.jtrain.optim.schedule.ExponentialLR;
import dev.jtrain.optim.schedule.InverseSqrt;
import dev.jtrain.optim.schedule.InverseTime;
import dev.jtrain.optim.schedule.InverseTimeDecay;
import dev.jtrain.optim.schedule.LinearLR;
import dev.jtrain.optim.schedule.LrSchedule;
import dev.jtrain.optim.schedule.MultiStepLR;
import dev.jtrain.optim.schedule.SequentialLR;
import dev.jtrain.optim.schedule.StepLR;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code lr_schedule}: the schedule named by the case name ({@code lr_StepLR}, ..., FORMAT.md "Ops in the full
 * case set") built over an SGD optimizer with lr0, run with PyTorch's loop (record lr; optimizer.step();
 * schedule.step()) for {@code steps} steps. The recorded LRs are compared with both {@code lr} and
 * {@code lr_formula}.
 */
public final class ScheduleCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("lr_schedule");
    }

    @Override
    public void run(CaseContext ctx) {
        double lr0 = ctx.paramDouble("lr0");
        int steps = ctx.paramInt("steps");
        if (steps < 1) {
            throw CaseContext.badParam("steps", ctx.param("steps"), "an integer >= 1");
        }
        Tensor dummy = Tensor.zeros(ctx.device(), 1);
        Parameter p = Parameter.trainable("p", dummy);
        Optimizer opt = new Sgd(List.of(p), lr0);
        LrSchedule s = schedule(ctx, opt, steps);
        double[] lrs = new double[steps];
        for (int k = 0; k < steps; k++) {
            lrs[k] = opt.lr();
            opt.step();
            s.step();
        }
        ctx.put("lr", lrs, steps);
        ctx.put("lr_formula", lrs, steps);
    }

    private static LrSchedule schedule(CaseContext ctx, Optimizer opt, int steps) {
        String name = ctx.caseName();
        switch (name) {
            case "lr_StepLR":
                return new StepLR(opt, ctx.paramInt("step_size"), ctx.paramDouble("gamma"));
            case "lr_MultiStepLR":
                return new MultiStepLR(opt, ctx.paramInts("milestones"), ctx.paramDouble("gamma"));
            case "lr_ExponentialLR":
                return new ExponentialLR(opt, ctx.paramDouble("gamma"));
            case "lr_CosineAnnealingLR":
                return new CosineAnnealingLR(opt, ctx.paramInt("T_max"), ctx.paramDouble("eta_min", 0));
            case "lr_CosineAnnealingWarmRestarts":
                return new CosineAnnealingWarmRestarts(opt, ctx.paramInt("T_0"), ctx.paramInt("T_mult", 1),
                        ctx.paramDouble("eta_min", 0));
            case "lr_LinearLR_warmup":
                return new LinearLR(opt, ctx.paramDouble("start_factor"), ctx.paramDouble("end_factor", 1.0),
                        ctx.paramInt("total_iters"));
            case "lr_linear_decay_to_zero":
                return new LinearLR(opt, ctx.paramDouble("start_factor", 1.0), ctx.paramDouble("end_factor", 0.0),
                        ctx.paramInt("total_iters", steps));
            case "lr_inverse_sqrt":
                return new InverseSqrt(opt);
            case "lr_inverse_t":
                return new InverseTime(opt);
            case "lr_inverse_time_decay":
                return new InverseTimeDecay(opt, ctx.paramDouble("decay"));
            case "lr_warmup5_cosine_SequentialLR": {
                List<LrSchedule> parts = new ArrayList<>();
                var specs = ctx.param("schedulers");
                if (!specs.isArray() || specs.isEmpty()) {
                    throw CaseContext.badParam("schedulers", specs, "a list like [\"LinearLR(start_factor=0.1, ...)\", ...]");
                }
                for (var spec : specs) {
                    parts.add(fromSpec(spec.asText(), opt));
                }
                return new SequentialLR(opt, parts, ctx.paramInts("milestones"));
            }
            default:
                throw new UnsupportedCaseException("no schedule is known for case name '" + name + "'");
        }
    }

    private static final Pattern SPEC = Pattern.compile("\\s*(\\w+)\\s*\\((.*)\\)\\s*");

    /** Builds a schedule from PyTorch's constructor text, e.g. {@code CosineAnnealingLR(T_max=35, eta_min=0)}. */
    static LrSchedule fromSpec(String spec, Optimizer opt) {
        Matcher m = SPEC.matcher(spec);
        if (!m.matches()) {
            throw new CaseException("bad param 'schedulers': cannot read '" + spec + "'");
        }
        Map<String, String> args = new HashMap<>();
        for (String part : m.group(2).split(",")) {
            if (part.isBlank()) {
                continue;
            }
            String[] kv = part.split("=", 2);
            if (kv.length != 2) {
                throw new CaseException("bad param 'schedulers': '" + part.trim() + "' in '" + spec + "' is not key=value");
            }
            args.put(kv[0].trim(), kv[1].trim());
        }
        SpecArgs a = new SpecArgs(spec, args);
        LrSchedule s = switch (m.group(1)) {
            case "LinearLR" -> new LinearLR(opt, a.num("start_factor", 1.0 / 3), a.num("end_factor", 1.0),
                    (int) a.num("total_iters", 5.0));
            case "CosineAnnealingLR" -> new CosineAnnealingLR(opt, (int) a.num("T_max", null), a.num("eta_min", 0.0));
            case "StepLR" -> new StepLR(opt, (int) a.num("step_size", null), a.num("gamma", 0.1));
            case "ExponentialLR" -> new ExponentialLR(opt, a.num("gamma", null));
            case "CosineAnnealingWarmRestarts" -> new CosineAnnealingWarmRestarts(opt, (int) a.num("T_0", null),
                    (int) a.num("T_mult", 1.0), a.num("eta_min", 0.0));
            default -> throw new UnsupportedCaseException("schedule '" + m.group(1) + "' in '" + spec
                    + "' is not known to this runner");
        };
        a.requireAllUsed();
        return s;
    }

    private record SpecArgs(String spec, Map<String, String> args) {
        double num(String key, Double fallback) {
            String v = args.remove(key);
            if (v == null) {
                if (fallback == null) {
                    throw new CaseException("bad param 'schedulers': '" + spec + "' has no " + key);
                }
                return fallback;
            }
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new CaseException("bad param 'schedulers': " + key + "=" + v + " in '" + spec + "' is not a number");
            }
        }

        void requireAllUsed() {
            if (!args.isEmpty()) {
                throw new UnsupportedCaseException("unsupported arguments " + args.keySet() + " in '" + spec + "'");
            }
        }
    }
}
