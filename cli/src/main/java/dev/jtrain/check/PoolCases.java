package dev.jtrain.check;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.AvgPool2d;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/** {@code maxpool2d} (with the int64 argmax {@code indices}) and {@code avgpool2d}: the library's pooling layers. */
public final class PoolCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("maxpool2d", "avgpool2d");
    }

    @Override
    public void run(CaseContext ctx) {
        String limit = "the pooling layers take one kernel size and stride for both axes";
        int k = ctx.paramSquare("kernel_size", limit);
        int s = ctx.hasParam("stride") ? ctx.paramSquare("stride", limit) : k;
        if (ctx.hasParam("padding") && ctx.paramSquare("padding", limit) != 0) {
            throw new UnsupportedCaseException("pooling with padding " + ctx.param("padding") + " (no padding only)");
        }
        if (ctx.paramBool("ceil_mode", false)) {
            throw new UnsupportedCaseException("pooling with ceil_mode = true");
        }
        boolean max = "maxpool2d".equals(ctx.op());
        MaxPool2d mp = max ? new MaxPool2d(k, s) : null;
        Layer layer = max ? mp : new AvgPool2d(k, s);
        Tensor x = ctx.input("x", -1, -1, -1, -1);
        Tensor y = layer.forward(x, true);
        ctx.put("y", y);
        if (max) {
            ctx.put("indices", mp.lastIndices());
        }
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        ctx.put("dx", layer.backward(dy));
    }
}
