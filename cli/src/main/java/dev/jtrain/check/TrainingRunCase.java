package dev.jtrain.check;

import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/**
 * {@code training_run} (FORMAT.md item 41): the library's {@code Linear -> ReLU -> Linear} with softmax
 * cross-entropy (mean) trained full-batch by its SGD from the case's initial weights. {@code loss_per_step[t]}
 * is the loss before update t + 1, {@code *_per_step[t]} the weights after it, {@code *_step1} the gradients
 * at the initial weights, {@code *_final}/{@code final_loss} after the last update.
 */
public final class TrainingRunCase implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("training_run");
    }

    @Override
    public void run(CaseContext ctx) {
        String optName = ctx.paramString("optimizer", "torch.optim.SGD");
        if (!optName.equals("torch.optim.SGD")) {
            throw new UnsupportedCaseException("training_run with optimizer '" + optName + "' (SGD only)");
        }
        int steps = ctx.paramInt("steps");
        int[] w1s = ctx.inputShape("W1");
        int[] w2s = ctx.inputShape("W2");
        CaseContext.requireShape("input 'W1'", w1s, -1, -1);
        CaseContext.requireShape("input 'W2'", w2s, -1, w1s[0]);
        Linear l1 = new Linear(w1s[1], w1s[0], true, CaseUtil.throwawayGenerator());
        Linear l2 = new Linear(w2s[1], w2s[0], true, CaseUtil.throwawayGenerator());
        Sequential model = CaseUtil.onDevice(new Sequential(l1, new ReLU(), l2), ctx.device());
        CaseUtil.load(ctx, l1.weight(), "W1");
        CaseUtil.load(ctx, l1.bias(), "b1");
        CaseUtil.load(ctx, l2.weight(), "W2");
        CaseUtil.load(ctx, l2.bias(), "b2");
        Tensor x = ctx.input("X", -1, w1s[1]);
        Tensor labels = ctx.labels("labels");
        CaseContext.requireShape("input 'labels'", labels.dims(), x.dim(0));
        Optimizer opt = new Sgd(model.parameters(), ctx.paramDouble("lr"), ctx.paramDouble("momentum", 0),
                ctx.paramDouble("dampening", 0), ctx.paramDouble("weight_decay", 0), ctx.paramBool("nesterov", false));
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0f);
        for (int t = 0; t < steps; t++) {
            model.zeroGrad();
            Tensor loss = ce.forward(model.forward(x, true), labels);
            ctx.append("loss_per_step", CaseContext.snapshot(loss).values(), new int[0]);
            model.backward(ce.backward());
            if (t == 0) {
                ctx.put("dW1_step1", l1.weight().grad());
                ctx.put("db1_step1", l1.bias().grad());
                ctx.put("dW2_step1", l2.weight().grad());
                ctx.put("db2_step1", l2.bias().grad());
            }
            opt.step();
            ctx.append("W1_per_step", l1.weight().value());
            ctx.append("b1_per_step", l1.bias().value());
            ctx.append("W2_per_step", l2.weight().value());
            ctx.append("b2_per_step", l2.bias().value());
        }
        ctx.put("final_loss", ce.forward(model.forward(x, true), labels));
        ctx.put("W1_final", l1.weight().value());
        ctx.put("b1_final", l1.bias().value());
        ctx.put("W2_final", l2.weight().value());
        ctx.put("b2_final", l2.bias().value());
    }
}
