package dev.jtrain.check;

import dev.jtrain.backend.Backends;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Adagrad;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.AdamW;
import dev.jtrain.optim.GradClipping;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.RmsProp;
import dev.jtrain.optim.Sgd;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code optimizer}: the library's optimizer named by {@code params.optimizer} ({@code torch.optim.SGD|Adagrad|
 * RMSprop|Adam|AdamW}) with PyTorch's hyperparameter names, run over {@code grad_sequence} from {@code param0};
 * the results are the parameter and every state tensor after each step, stacked over steps.
 * {@code clip_grad_norm}: {@link GradClipping} over {@code grad_a} and {@code grad_b}.
 */
public final class OptimizerCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("optimizer", "clip_grad_norm");
    }

    @Override
    public void run(CaseContext ctx) {
        if ("clip_grad_norm".equals(ctx.op())) {
            clip(ctx);
        } else {
            optimizer(ctx);
        }
    }

    private static void optimizer(CaseContext ctx) {
        int[] pshape = ctx.inputShape("param0");
        int steps = ctx.paramInt("steps");
        int[] gshape = ctx.inputShape("grad_sequence");
        int[] want = new int[pshape.length + 1];
        want[0] = steps;
        System.arraycopy(pshape, 0, want, 1, pshape.length);
        CaseContext.requireShape("input 'grad_sequence'", gshape, want);
        Parameter p = Parameter.trainable("param", ctx.input("param0"));
        Optimizer opt = build(ctx, List.of(p));
        float[] seq = ctx.inputHost("grad_sequence").floats();
        int per = p.value().numel();
        for (int t = 0; t < steps; t++) {
            float[] g = new float[per];
            System.arraycopy(seq, t * per, g, 0, per);
            Tensor gt = Tensor.of(g, pshape).to(ctx.device());
            Backends.of(p.grad()).copy(gt, p.grad());
            opt.step();
            ctx.append("param", p.value());
            for (Map.Entry<String, Tensor> s : opt.state(p).entrySet()) {
                ctx.append(s.getKey(), s.getValue());
            }
        }
    }

    /** The optimizer named in the case, from PyTorch's hyperparameters (unknown or unsupported ones are errors). */
    static Optimizer build(CaseContext ctx, List<Parameter> params) {
        String name = ctx.paramString("optimizer");
        JsonNode hp = ctx.param("hyperparameters");
        if (!hp.isObject()) {
            throw CaseContext.badParam("hyperparameters", hp, "an object");
        }
        Hyper h = new Hyper(hp);
        Optimizer opt = switch (name) {
            case "torch.optim.SGD" -> new Sgd(params, h.num("lr", null), h.num("momentum", 0.0),
                    h.num("dampening", 0.0), h.num("weight_decay", 0.0), h.bool("nesterov", false));
            case "torch.optim.Adagrad" -> {
                if (h.num("initial_accumulator_value", 0.0) != 0) {
                    throw new UnsupportedCaseException("Adagrad initial_accumulator_value != 0 is not supported");
                }
                yield new Adagrad(params, h.num("lr", 0.01), h.num("lr_decay", 0.0), h.num("weight_decay", 0.0),
                        h.num("eps", 1e-10));
            }
            case "torch.optim.RMSprop" -> {
                if (h.bool("centered", false)) {
                    throw new UnsupportedCaseException("centered RMSprop is not supported");
                }
                yield new RmsProp(params, h.num("lr", 0.01), h.num("alpha", 0.99), h.num("eps", 1e-8),
                        h.num("weight_decay", 0.0), h.num("momentum", 0.0));
            }
            case "torch.optim.Adam", "torch.optim.AdamW" -> {
                double[] betas = h.betas();
                boolean w = name.endsWith("AdamW");
                double lr = h.num("lr", 1e-3);
                double eps = h.num("eps", 1e-8);
                double wd = h.num("weight_decay", w ? 1e-2 : 0.0);
                boolean ams = h.bool("amsgrad", false);
                yield w ? new AdamW(params, lr, betas[0], betas[1], eps, wd, ams)
                        : new Adam(params, lr, betas[0], betas[1], eps, wd, ams);
            }
            default -> throw new UnsupportedCaseException("optimizer '" + name + "' is not known to this runner");
        };
        h.requireAllUsed();
        return opt;
    }

    /** Reads PyTorch hyperparameters, remembering which were used, so that unknown ones are reported. */
    private static final class Hyper {
        private final JsonNode node;
        private final Set<String> used = new java.util.HashSet<>();

        Hyper(JsonNode node) {
            this.node = node;
        }

        double num(String key, Double fallback) {
            used.add(key);
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                if (fallback == null) {
                    throw new CaseException("missing param 'hyperparameters." + key + "'");
                }
                return fallback;
            }
            if (v.isBoolean()) {
                return v.asBoolean() ? 1 : 0;
            }
            if (!v.isNumber()) {
                throw CaseContext.badParam("hyperparameters." + key, v, "a number");
            }
            return CaseTensor.number("hyperparameters." + key, v, false);
        }

        boolean bool(String key, boolean fallback) {
            used.add(key);
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return fallback;
            }
            if (!v.isBoolean()) {
                throw CaseContext.badParam("hyperparameters." + key, v, "true or false");
            }
            return v.asBoolean();
        }

        double[] betas() {
            used.add("betas");
            JsonNode v = node.get("betas");
            if (v == null || v.isNull()) {
                return new double[] {0.9, 0.999};
            }
            if (!v.isArray() || v.size() != 2 || !v.get(0).isNumber() || !v.get(1).isNumber()) {
                throw CaseContext.badParam("hyperparameters.betas", v, "a pair of numbers");
            }
            return new double[] {CaseTensor.number("betas[0]", v.get(0), false),
                    CaseTensor.number("betas[1]", v.get(1), false)};
        }

        /** PyTorch's implementation switches (foreach, maximize, ...) are accepted when off. */
        void requireAllUsed() {
            Iterator<String> it = node.fieldNames();
            List<String> unknown = new ArrayList<>();
            while (it.hasNext()) {
                String k = it.next();
                if (used.contains(k)) {
                    continue;
                }
                JsonNode v = node.get(k);
                boolean off = v.isNull() || (v.isBoolean() && !v.asBoolean());
                if (!(off && Set.of("foreach", "maximize", "capturable", "differentiable", "fused").contains(k))) {
                    unknown.add(k + "=" + v);
                }
            }
            if (!unknown.isEmpty()) {
                throw new UnsupportedCaseException("unsupported hyperparameters " + unknown);
            }
        }
    }

    private static void clip(CaseContext ctx) {
        double normType = ctx.paramDouble("norm_type", 2.0);
        if (normType != 2.0) {
            throw new UnsupportedCaseException("clip_grad_norm with norm_type " + normType + " (only 2 is supported)");
        }
        float maxNorm = (float) ctx.paramDouble("max_norm");
        Tensor a = ctx.input("grad_a");
        Tensor b = ctx.input("grad_b");
        Tensor total = GradClipping.clipGradients(List.of(a, b), maxNorm);
        ctx.put("total_norm", total);
        ctx.put("grad_a_clipped", a);
        ctx.put("grad_b_clipped", b);
    }
}
