package dev.jtrain.nn;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;

/**
 * Folds an eval-mode BatchNorm into the Linear or Conv2d before it (FORMAT.md item 15): with
 * {@code s = gamma / sqrt(running_var + eps)}, the new weight is {@code W s[:, None]} (each output row / channel
 * scaled by s[o]) and the new bias {@code (b - running_mean) s + beta}. The result is a new layer (with a bias)
 * on the same device; the originals are unchanged.
 *
 * <p>Both parts are BatchNorm's own eval normalisation applied to the parameters, run by the backend on the
 * layers' device: the bias is BN_eval(b) and the weight is BN_eval(W) with mean 0 and beta 0 (the rows of W
 * seen as the channels).
 */
public final class BatchNormFolding {
    private BatchNormFolding() {
    }

    /** A new Linear computing {@code bn.forward(linear.forward(x), false)}. */
    public static Linear foldIntoLinear(Linear linear, BatchNorm bn) {
        Tensor w = linear.weight().value();
        int out = w.dim(0);
        int in = w.dim(1);
        requireChannels(out, bn, "Linear");
        Linear fused = new Linear(in, out, true, new Generator(0));
        fused.to(w.device());
        fold(w, linear.bias(), bn, fused.weight().value(), fused.bias().value());
        return fused;
    }

    /** A new Conv2d (same geometry, with a bias) computing {@code bn.forward(conv.forward(x), false)}. */
    public static Conv2d foldIntoConv(Conv2d conv, BatchNorm bn) {
        Tensor w = conv.weight().value();
        ConvSpec spec = conv.spec();
        if (spec.kernelH() != spec.kernelW() || spec.strideH() != spec.strideW() || spec.padH() != spec.padW()) {
            throw new IllegalArgumentException("foldIntoConv: only square kernels, strides and paddings, got " + spec);
        }
        int outC = w.dim(0);
        requireChannels(outC, bn, "Conv2d");
        Conv2d fused = new Conv2d(w.dim(1), outC, spec.kernelH(), spec.strideH(), spec.padH(), true, new Generator(0));
        fused.to(w.device());
        fold(w, conv.bias(), bn, fused.weight().value(), fused.bias().value());
        return fused;
    }

    private static void requireChannels(int out, BatchNorm bn, String what) {
        if (bn.channels() != out) {
            throw new IllegalArgumentException("cannot fold BatchNorm(" + bn.channels() + ") into a " + what + " with "
                    + out + " outputs");
        }
    }

    private static void fold(Tensor w, Parameter bias, BatchNorm bn, Tensor wOut, Tensor bOut) {
        Backend be = Backends.of(w);
        int out = w.dim(0);
        int inner = w.numel() / out;
        Tensor gamma = bn.weight().value();
        Tensor beta = bn.bias().value();
        Tensor mean = bn.runningMean().value();
        Tensor var = bn.runningVar().value();
        for (Tensor t : new Tensor[] {gamma, beta, mean, var}) {
            if (!t.device().equals(w.device())) {
                throw new IllegalArgumentException("cannot fold: BatchNorm is on " + t.device() + ", the layer on "
                        + w.device());
            }
        }
        try (Tensor zeros = be.zeros(out)) { // closed: on a device it would otherwise leak
            // W' = gamma (W - 0) / sqrt(var + eps) + 0, row o scaled by s[o]
            be.batchNormForwardEval(w.reshape(1, out, inner), gamma, zeros, zeros, var, bn.eps(), wOut.reshape(1, out, inner));
            // b' = gamma (b - mean) / sqrt(var + eps) + beta
            Tensor b = bias != null ? bias.value() : zeros;
            be.batchNormForwardEval(b.reshape(1, out), gamma, beta, mean, var, bn.eps(), bOut.reshape(1, out));
        }
    }
}
