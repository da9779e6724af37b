package dev.jtrain.check;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.BatchNormFolding;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/**
 * {@code batchnorm1d}/{@code batchnorm2d}: the library's BatchNorm run in FORMAT.md item 14's order (train
 * step 1 forward x1 and backward dy1; train steps 2 and 3 forward only; eval forward x_eval and backward
 * dy_eval). {@code bn_fold_linear}: {@link BatchNormFolding#foldIntoLinear}.
 */
public final class BatchNormCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("batchnorm1d", "batchnorm2d", "bn_fold_linear");
    }

    @Override
    public void run(CaseContext ctx) {
        if ("bn_fold_linear".equals(ctx.op())) {
            fold(ctx);
            return;
        }
        if (!ctx.paramBool("affine", true)) {
            throw new UnsupportedCaseException("BatchNorm with affine = false");
        }
        if (!ctx.paramBool("track_running_stats", true)) {
            throw new UnsupportedCaseException("BatchNorm with track_running_stats = false");
        }
        float eps = (float) ctx.paramDouble("eps", BatchNorm.DEFAULT_EPS);
        float momentum = (float) ctx.paramDouble("momentum", BatchNorm.DEFAULT_MOMENTUM);
        boolean is2d = "batchnorm2d".equals(ctx.op());
        int[] xs = ctx.inputShape("x1");
        if (is2d) {
            CaseContext.requireShape("input 'x1'", xs, -1, -1, -1, -1);
        } else if (xs.length != 2 && xs.length != 3) {
            throw new CaseException("wrong shape: input 'x1' has shape " + java.util.Arrays.toString(xs)
                    + ", expected [N, C] or [N, C, L]");
        }
        int c = xs[1];
        BatchNorm bn = is2d ? new BatchNorm2d(c, eps, momentum) : new BatchNorm1d(c, eps, momentum);
        bn.to(ctx.device());
        CaseUtil.load(ctx, bn.weight(), "gamma");
        CaseUtil.load(ctx, bn.bias(), "beta");
        setConstant(bn.runningMean().value(), ctx.paramDouble("initial_running_mean", 0));
        setConstant(bn.runningVar().value(), ctx.paramDouble("initial_running_var", 1));

        // train step 1: forward x1, backward dy1
        Tensor x1 = ctx.input("x1");
        Tensor y1 = bn.forward(x1, true);
        ctx.put("y1", y1);
        Tensor mean = bn.lastBatchMean();
        Tensor var = bn.lastBatchVar();
        ctx.put("batch_mean1", mean);
        ctx.put("batch_var_biased1", var);
        if (ctx.expects("batch_var_unbiased1")) {
            // the unbiased variance the layer used for its running update: biased * M / (M - 1)
            int m = x1.numel() / c;
            Tensor unbiased = CaseUtil.copyOf(var);
            Backends.of(unbiased).scale(unbiased, (float) ((double) m / (m - 1)));
            ctx.put("batch_var_unbiased1", unbiased);
        }
        ctx.put("running_mean1", bn.runningMean().value());
        ctx.put("running_var1", bn.runningVar().value());
        Tensor dy1 = ctx.input("dy1");
        CaseUtil.requireLike("dy1", dy1, y1);
        bn.zeroGrad();
        ctx.put("dx1", bn.backward(dy1));
        ctx.put("dgamma1", bn.weight().grad());
        ctx.put("dbeta1", bn.bias().grad());

        // train steps 2 and 3: forward only
        for (int s = 2; s <= 3; s++) {
            if (!ctx.hasInput("x" + s)) {
                break;
            }
            ctx.put("y" + s, bn.forward(ctx.input("x" + s), true));
            ctx.put("running_mean" + s, bn.runningMean().value());
            ctx.put("running_var" + s, bn.runningVar().value());
        }

        // eval: forward x_eval, backward dy_eval
        if (ctx.hasInput("x_eval")) {
            Tensor ye = bn.forward(ctx.input("x_eval"), false);
            ctx.put("y_eval", ye);
            if (ctx.hasInput("dy_eval")) {
                Tensor dye = ctx.input("dy_eval");
                CaseUtil.requireLike("dy_eval", dye, ye);
                bn.zeroGrad();
                ctx.put("dx_eval", bn.backward(dye));
                ctx.put("dgamma_eval", bn.weight().grad());
                ctx.put("dbeta_eval", bn.bias().grad());
            }
        }
    }

    private static void setConstant(Tensor t, double v) {
        Backends.of(t).fill(t, (float) v);
    }

    private static void fold(CaseContext ctx) {
        int[] ws = ctx.inputShape("W");
        CaseContext.requireShape("input 'W'", ws, -1, -1);
        int out = ws[0];
        int in = ws[1];
        boolean hasBias = ctx.hasInput("b");
        Linear lin = CaseUtil.onDevice(new Linear(in, out, hasBias, CaseUtil.throwawayGenerator()), ctx.device());
        CaseUtil.load(ctx, lin.weight(), "W");
        if (hasBias) {
            CaseUtil.load(ctx, lin.bias(), "b");
        }
        float eps = (float) ctx.paramDouble("eps", BatchNorm.DEFAULT_EPS);
        BatchNorm1d bn = CaseUtil.onDevice(new BatchNorm1d(out, eps, BatchNorm.DEFAULT_MOMENTUM), ctx.device());
        CaseUtil.load(ctx, bn.weight(), "gamma");
        CaseUtil.load(ctx, bn.bias(), "beta");
        CaseUtil.load(ctx, bn.runningMean(), "running_mean");
        CaseUtil.load(ctx, bn.runningVar(), "running_var");
        Tensor x = ctx.input("x", -1, in);
        ctx.put("y_linear_then_bn", bn.forward(lin.forward(x, false), false));
        Linear fused = BatchNormFolding.foldIntoLinear(lin, bn);
        ctx.put("W_fused", fused.weight().value());
        ctx.put("b_fused", fused.bias().value());
        ctx.put("y_fused", fused.forward(x, false));
    }
}
