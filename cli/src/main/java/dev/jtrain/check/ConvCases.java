package dev.jtrain.check;

import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/** {@code conv2d}: the library's {@link Conv2d} (square kernel, stride and zero padding), forward and backward. */
public final class ConvCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("conv2d");
    }

    @Override
    public void run(CaseContext ctx) {
        String limit = "Conv2d takes one kernel size, stride and padding for both axes";
        int k = ctx.paramSquare("kernel_size", limit);
        int s = ctx.paramSquare("stride", limit);
        int p = ctx.paramSquare("padding", limit);
        if (ctx.hasParam("dilation") && ctx.paramSquare("dilation", limit) != 1) {
            throw new UnsupportedCaseException("dilation " + ctx.param("dilation") + " (only 1 is supported)");
        }
        if (ctx.paramInt("groups", 1) != 1) {
            throw new UnsupportedCaseException("groups " + ctx.param("groups") + " (only 1 is supported)");
        }
        String mode = ctx.paramString("padding_mode", "zeros");
        if (!mode.equals("zeros")) {
            throw new UnsupportedCaseException("padding_mode '" + mode + "' (only zeros is supported)");
        }
        int[] ws = ctx.inputShape("W");
        CaseContext.requireShape("input 'W'", ws, -1, -1, k, k);
        boolean bias = ctx.hasInput("b");
        Conv2d conv = CaseUtil.onDevice(new Conv2d(ws[1], ws[0], k, s, p, bias, CaseUtil.throwawayGenerator()),
                ctx.device());
        CaseUtil.load(ctx, conv.weight(), "W");
        if (bias) {
            CaseUtil.load(ctx, conv.bias(), "b");
        }
        Tensor x = ctx.input("x", -1, ws[1], -1, -1);
        Tensor y = conv.forward(x, true);
        ctx.put("y", y);
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        conv.zeroGrad();
        ctx.put("dx", conv.backward(dy));
        ctx.put("dW", conv.weight().grad());
        if (bias) {
            ctx.put("db", conv.bias().grad());
        }
    }
}
