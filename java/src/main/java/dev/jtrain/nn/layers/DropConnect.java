package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.init.Init;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * DropConnect (Wan et al., 2013): a {@link Linear} whose <em>weights</em> are dropped in training. Each weight is
 * kept with probability 1 - p and scaled by 1/(1 - p) (inverted scaling, as {@link Dropout} does for activations),
 * so evaluation simply uses the full weights; the bias is never dropped. One mask is drawn per training forward
 * (shared by the batch, which keeps the cost one GEMM) from the Philox stream of (gen.seed(), gen.nextOffset()),
 * so the same generator state gives the same mask on every device. Built from Backend ops only.
 *
 * <p>Same layout and default init as nn.Linear: weight [out, in] and bias [out], both U(±1/sqrt(in)); parameter
 * names "weight" and "bias" (so a checkpoint loads into a plain Linear of the same shape).
 */
public class DropConnect extends Layer {
    private final int in;
    private final int out;
    private final float p;
    private final Generator gen;
    private final Parameter weight;
    private final Parameter bias;

    private boolean lastTraining;
    private Tensor x2d;
    private Shape xShape;
    private Tensor maskedWeight;   // W * mask of the last training forward
    private Tensor mask;           // 0 or 1/(1-p), shape of W
    private Tensor dwMasked;       // dy^T x before the mask is applied
    private Tensor y;
    private Tensor dx;

    public DropConnect(int in, int out, float p, boolean bias, Generator gen) {
        this(in, out, p, bias, gen, Device.CPU);
    }

    public DropConnect(int in, int out, float p, boolean bias, Generator gen, Device device) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("DropConnect needs in >= 1 and out >= 1, got in=" + in + " out=" + out);
        }
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("DropConnect probability must be in [0, 1), got " + p);
        }
        this.in = in;
        this.out = out;
        this.p = p;
        this.gen = Objects.requireNonNull(gen, "generator");
        Backend be = Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(out, in)));
        this.bias = bias ? register(Parameter.trainable("bias", be.zeros(out))) : null;
        Init.linearDefault(weight.value(), bias ? this.bias.value() : null, gen);
    }

    public float p() {
        return p;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** The weight mask (0 or 1/(1-p), shape [out, in]) of the last training forward; null before one. */
    public Tensor lastMask() {
        return mask;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "DropConnect");
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new IllegalArgumentException("DropConnect(" + in + " -> " + out + "): expected input [N, " + in
                    + "], got " + x.shape());
        }
        Tensor w = weight.value();
        Buffers.requireDevice(x, w.device(), "DropConnect");
        Backend be = Backends.of(x);
        lastTraining = training;
        int rows = x.numel() / in;
        xShape = x.shape();
        x2d = x.rank() == 2 ? x : x.reshape(rows, in);
        Tensor used = w;
        if (training) {
            maskedWeight = buffers.ensureLike(maskedWeight, w);
            mask = buffers.ensureLike(mask, w);
            be.dropoutForward(w, p, gen.seed(), gen.nextOffset(), maskedWeight, mask);
            used = maskedWeight;
        }
        y = buffers.ensure(y, be, Shape.of(rows, out));
        be.gemm(false, true, 1f, x2d, used, 0f, y);
        if (bias != null) {
            be.addBias(y, bias.value());
        }
        if (x.rank() == 2) {
            return y;
        }
        int[] d = xShape.dims();
        d[d.length - 1] = out;
        return y.reshape(d);
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x2d == null) {
            throw new IllegalStateException("DropConnect.backward called before forward");
        }
        Backend be = Backends.of(dy);
        int rows = x2d.dim(0);
        if (dy.numel() != rows * out) {
            throw new IllegalArgumentException("DropConnect.backward: dy " + dy.shape()
                    + " does not match the output of the last forward [" + rows + ", " + out + "]");
        }
        Tensor dy2d = dy.rank() == 2 ? dy : dy.reshape(rows, out);
        if (lastTraining) {
            // d(W*mask)/dW = mask: the gradient of the masked weights, masked again, accumulates into W's gradient.
            dwMasked = buffers.ensureLike(dwMasked, weight.value());
            be.gemm(true, false, 1f, dy2d, x2d, 0f, dwMasked);
            be.mul(dwMasked, mask, dwMasked);
            be.axpy(1f, dwMasked, weight.grad());
        } else {
            be.gemm(true, false, 1f, dy2d, x2d, 1f, weight.grad());
        }
        if (bias != null) {
            be.biasGrad(dy2d, bias.grad());
        }
        dx = buffers.ensure(dx, be, Shape.of(rows, in));
        be.gemm(false, false, 1f, dy2d, lastTraining ? maskedWeight : weight.value(), 0f, dx);
        return xShape.rank() == 2 ? dx : dx.reshape(xShape.dims());
    }
}
