package dev.jtrain.check;

import dev.jtrain.backend.Activation;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.ELU;
import dev.jtrain.nn.layers.GELU;
import dev.jtrain.nn.layers.LeakyReLU;
import dev.jtrain.nn.layers.Maxout;
import dev.jtrain.nn.layers.PReLU;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.layers.SELU;
import dev.jtrain.nn.layers.SiLU;
import dev.jtrain.nn.layers.Sigmoid;
import dev.jtrain.nn.layers.Softplus;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/**
 * The activation layers: y = forward(x), dx = backward(dy), dydx = backward(ones) (f'(x) as a backward pass
 * with dy = 1); PReLU also dalpha (from the dy backward). Maxout: the pieces W1..Wk, b1..bk stacked into the
 * layer's one weight [k·Dout, Din] (row p·Dout + j = piece p of unit j), results y, piece, dx, dWp, dbp.
 */
public final class ActivationCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "gelu", "silu", "softplus", "prelu",
                "maxout");
    }

    @Override
    public void run(CaseContext ctx) {
        if ("maxout".equals(ctx.op())) {
            maxout(ctx);
            return;
        }
        Tensor x = ctx.input("x");
        Layer layer;
        PReLU prelu = null;
        switch (ctx.op()) {
            case "relu" -> layer = new ReLU();
            case "leaky_relu" -> layer = new LeakyReLU((float) ctx.paramDouble("negative_slope"));
            case "elu" -> layer = new ELU((float) ctx.paramDouble("alpha", 1.0));
            case "selu" -> {
                requireConstant(ctx, "alpha", Activation.SELU_ALPHA);
                requireConstant(ctx, "scale", Activation.SELU_SCALE);
                layer = new SELU();
            }
            case "sigmoid" -> layer = new Sigmoid();
            case "tanh" -> layer = new Tanh();
            case "gelu" -> {
                String approx = ctx.paramString("approximate", "none");
                if (!approx.equals("none") && !approx.equals("tanh")) {
                    throw CaseContext.badParam("approximate", ctx.param("approximate"), "\"none\" or \"tanh\"");
                }
                layer = new GELU(approx.equals("tanh"));
            }
            case "silu" -> layer = new SiLU();
            case "softplus" -> layer = new Softplus((float) ctx.paramDouble("beta", 1.0),
                    (float) ctx.paramDouble("threshold", 20.0));
            case "prelu" -> {
                if (ctx.paramInt("channel_dim", 1) != 1) {
                    throw new UnsupportedCaseException("PReLU along dim " + ctx.param("channel_dim") + " (dim 1 only)");
                }
                int[] as = ctx.inputShape("alpha");
                if (as.length != 1) {
                    throw new CaseException("wrong shape: input 'alpha' has shape " + java.util.Arrays.toString(as)
                            + ", expected [1] or [C]");
                }
                prelu = new PReLU(as[0], 0.25f);
                layer = prelu;
            }
            default -> throw new IllegalStateException("not an activation op: " + ctx.op());
        }
        Device dev = ctx.device();
        layer.to(dev);
        if (prelu != null) {
            CaseUtil.load(ctx, prelu.weight(), "alpha");
        }
        Tensor y = layer.forward(x, true);
        ctx.put("y", y);
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        layer.zeroGrad();
        ctx.put("dx", layer.backward(dy));
        if (prelu != null) {
            ctx.put("dalpha", prelu.weight().grad());
        }
        ctx.put("dydx", layer.backward(CaseUtil.onesLike(x)));
    }

    private static void requireConstant(CaseContext ctx, String name, double value) {
        if (ctx.hasParam(name) && Math.abs(ctx.paramDouble(name) - value) > 1e-12 * value) {
            throw new UnsupportedCaseException("SELU with " + name + " = " + ctx.param(name)
                    + " (the library uses the fixed constant " + value + ")");
        }
    }

    private static void maxout(CaseContext ctx) {
        int k = ctx.paramInt("k");
        if (k < 1) {
            throw CaseContext.badParam("k", ctx.param("k"), "an integer >= 1");
        }
        int[] ws = ctx.inputShape("W1");
        CaseContext.requireShape("input 'W1'", ws, -1, -1);
        int out = ws[0];
        int in = ws[1];
        boolean bias = ctx.hasInput("b1");
        float[] w = new float[k * out * in];
        float[] b = new float[k * out];
        for (int p = 0; p < k; p++) {
            String wn = "W" + (p + 1);
            CaseContext.requireShape("input '" + wn + "'", ctx.inputShape(wn), out, in);
            System.arraycopy(ctx.inputHost(wn).floats(), 0, w, p * out * in, out * in);
            if (bias) {
                String bn = "b" + (p + 1);
                CaseContext.requireShape("input '" + bn + "'", ctx.inputShape(bn), out);
                System.arraycopy(ctx.inputHost(bn).floats(), 0, b, p * out, out);
            }
        }
        Maxout layer = CaseUtil.onDevice(new Maxout(in, out, k, bias, CaseUtil.throwawayGenerator()), ctx.device());
        layer.weight().set(Tensor.of(w, k * out, in));
        if (bias) {
            layer.bias().set(Tensor.of(b, k * out));
        }
        Tensor x = ctx.input("x", -1, in);
        Tensor y = layer.forward(x, true);
        ctx.put("y", y);
        ctx.put("piece", layer.lastPieces());
        Tensor dy = ctx.input("dy");
        CaseUtil.requireLike("dy", dy, y);
        layer.zeroGrad();
        ctx.put("dx", layer.backward(dy));
        CaseContext.Actual dw = CaseContext.snapshot(layer.weight().grad());
        CaseContext.Actual db = bias ? CaseContext.snapshot(layer.bias().grad()) : null;
        for (int p = 0; p < k; p++) {
            double[] part = new double[out * in];
            System.arraycopy(dw.values(), p * out * in, part, 0, out * in);
            ctx.put("dW" + (p + 1), part, out, in);
            if (bias) {
                double[] bp = new double[out];
                System.arraycopy(db.values(), p * out, bp, 0, out);
                ctx.put("db" + (p + 1), bp, out);
            }
        }
    }
}
