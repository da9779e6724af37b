package dev.jtrain.check;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.GroupNorm;
import dev.jtrain.nn.layers.LayerNorm;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;
import java.util.Set;

/**
 * {@code layer_norm} and {@code group_norm} (FORMAT.md items 15a-15b): the library's {@link LayerNorm} and
 * {@link GroupNorm}, built on the case's device, forward x and backward dy; with affine parameters the case's
 * {@code weight}/{@code bias} are loaded first and {@code dweight}/{@code dbias} are compared too.
 */
public final class NormalizationCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("layer_norm", "group_norm");
    }

    @Override
    public void run(CaseContext ctx) {
        float eps = (float) ctx.paramDouble("eps", LayerNorm.DEFAULT_EPS);
        if (!(eps > 0)) {
            throw CaseContext.badParam("eps", ctx.param("eps"), "a number > 0");
        }
        int[] xs = ctx.inputShape("x");
        boolean affine;
        Layer layer;
        if ("layer_norm".equals(ctx.op())) {
            int[] shape = ctx.paramInts("normalized_shape");
            affine = ctx.paramBool("elementwise_affine", true);
            if (shape.length == 0 || shape.length > xs.length || !Arrays.equals(shape,
                    Arrays.copyOfRange(xs, xs.length - shape.length, xs.length))) {
                throw CaseContext.badParam("normalized_shape", ctx.param("normalized_shape"),
                        "the trailing dimensions of input 'x' " + Arrays.toString(xs));
            }
            layer = new LayerNorm(shape, eps, affine, ctx.device());
        } else {
            int groups = ctx.paramInt("num_groups");
            int channels = ctx.paramInt("num_channels");
            affine = ctx.paramBool("affine", true);
            if (xs.length < 2 || xs[1] != channels) {
                throw new CaseException("wrong shape: input 'x' has shape " + Arrays.toString(xs) + ", expected [N, "
                        + channels + ", ...] (num_channels " + channels + ")");
            }
            if (groups < 1 || channels % groups != 0) {
                throw CaseContext.badParam("num_groups", ctx.param("num_groups"),
                        "a divisor of num_channels " + channels);
            }
            layer = new GroupNorm(groups, channels, eps, affine, ctx.device());
        }
        if (affine) {
            CaseUtil.load(ctx, layer.namedParameters().get("weight"), "weight");
            CaseUtil.load(ctx, layer.namedParameters().get("bias"), "bias");
        }
        Tensor y = layer.forward(ctx.input("x"), true);
        ctx.put("y", y);
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        layer.zeroGrad();
        ctx.put("dx", layer.backward(dy));
        if (affine) {
            ctx.put("dweight", layer.namedParameters().get("weight").grad());
            ctx.put("dbias", layer.namedParameters().get("bias").grad());
        }
    }
}
