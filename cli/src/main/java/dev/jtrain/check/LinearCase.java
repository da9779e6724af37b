package dev.jtrain.check;

import dev.jtrain.nn.layers.Linear;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/** {@code linear}: the library's {@link Linear} ([Dout, Din] weight) forward on x and backward of dy. */
public final class LinearCase implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("linear");
    }

    @Override
    public void run(CaseContext ctx) {
        int[] ws = ctx.inputShape("W");
        CaseContext.requireShape("input 'W'", ws, -1, -1);
        boolean bias = ctx.paramBool("bias", ctx.hasInput("b"));
        if (bias && !ctx.hasInput("b")) {
            throw new CaseException("missing input 'b' (params.bias is true)");
        }
        Linear lin = CaseUtil.onDevice(new Linear(ws[1], ws[0], bias, CaseUtil.throwawayGenerator()), ctx.device());
        CaseUtil.load(ctx, lin.weight(), "W");
        if (bias) {
            CaseUtil.load(ctx, lin.bias(), "b");
        }
        Tensor x = ctx.input("x", -1, ws[1]);
        Tensor y = lin.forward(x, true);
        ctx.put("y", y);
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        lin.zeroGrad();
        ctx.put("dx", lin.backward(dy));
        ctx.put("dW", lin.weight().grad());
        if (bias) {
            ctx.put("db", lin.bias().grad());
        }
    }
}
