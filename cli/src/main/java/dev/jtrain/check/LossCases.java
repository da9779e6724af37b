package dev.jtrain.check;

import dev.jtrain.nn.loss.BceWithLogits;
import dev.jtrain.nn.loss.MseLoss;
import dev.jtrain.nn.loss.Reduction;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/** {@code softmax_cross_entropy}, {@code bce_with_logits}, {@code mse}: the library's losses, forward and backward. */
public final class LossCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("softmax_cross_entropy", "bce_with_logits", "mse");
    }

    @Override
    public void run(CaseContext ctx) {
        switch (ctx.op()) {
            case "softmax_cross_entropy" -> {
                requireMean(ctx);
                if (ctx.paramInt("class_dim", 1) != 1) {
                    throw new UnsupportedCaseException("class_dim " + ctx.param("class_dim") + " (classes along dim 1 only)");
                }
                SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy((float) ctx.paramDouble("label_smoothing", 0));
                Tensor logits = ctx.input("logits", -1, -1);
                Tensor labels = ctx.labels("labels");
                CaseContext.requireShape("input 'labels'", labels.dims(), logits.dim(0));
                ctx.put("loss", ce.forward(logits, labels));
                ctx.put("loss_per_sample", ce.lossPerSample());
                ctx.put("softmax", ce.probabilities());
                ctx.put("dlogits", ce.backward());
            }
            case "bce_with_logits" -> {
                requireMean(ctx);
                BceWithLogits bce = new BceWithLogits();
                Tensor logits = ctx.input("logits");
                Tensor targets = ctx.input("targets", logits.dims());
                ctx.put("loss", bce.forward(logits, targets));
                ctx.put("loss_per_element", bce.lossPerElement());
                ctx.put("dlogits", bce.backward());
            }
            default -> {
                String r = ctx.paramString("reduction", "mean");
                Reduction red = switch (r) {
                    case "mean" -> Reduction.MEAN;
                    case "sum" -> Reduction.SUM;
                    default -> throw CaseContext.badParam("reduction", ctx.param("reduction"), "\"mean\" or \"sum\"");
                };
                MseLoss mse = new MseLoss(red);
                Tensor pred = ctx.input("pred");
                Tensor target = ctx.input("target", pred.dims());
                ctx.put("loss", mse.forward(pred, target));
                ctx.put("dpred", mse.backward());
            }
        }
    }

    private static void requireMean(CaseContext ctx) {
        String r = ctx.paramString("reduction", "mean");
        if (!r.equals("mean")) {
            throw new UnsupportedCaseException("reduction '" + r + "' (this loss implements the mean)");
        }
    }
}
