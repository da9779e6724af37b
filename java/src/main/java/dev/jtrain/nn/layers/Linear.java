package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.init.Init;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * Fully connected layer as {@code nn.Linear}, PyTorch layout: weight W [out, in], bias b [out],
 * <pre>
 *   y = x·Wᵀ + b,    dx = dy·W,    dW += dyᵀ·x,    db += Σ_rows dy
 * </pre>
 * (tests/conformance/FORMAT.md "Linear").
 * Input [N, in] (or [..., in], seen as rows of length in); output [N, out] (or [..., out]).
 * Default init as nn.Linear: weight and bias U(±1/sqrt(in)).
 */
public class Linear extends Layer {
    private final int in;
    private final int out;
    private final Parameter weight;
    private final Parameter bias;

    private Tensor x2d;     // last input seen as [rows, in]
    private Shape xShape;   // last input's shape
    private Tensor used;    // the weight the last forward multiplied by (W, or a subclass's W')
    private Tensor y;
    private Tensor dx;

    public Linear(int in, int out, boolean bias, Generator gen) {
        this(in, out, bias, gen, Device.CPU);
    }

    /** Built directly on {@code device}: parameters are allocated and initialised there (the same bits as on the cpu). */
    public Linear(int in, int out, boolean bias, Generator gen, Device device) {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("Linear needs in >= 1 and out >= 1, got in=" + in + " out=" + out);
        }
        this.in = in;
        this.out = out;
        Backend be = dev.jtrain.backend.Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(out, in)));
        this.bias = bias ? register(Parameter.trainable("bias", be.zeros(out))) : null;
        Init.linearDefault(weight.value(), bias ? this.bias.value() : null, gen);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    /**
     * The weight this forward multiplies by: W itself here; a subclass may transform it ({@link DropConnect}
     * masks it in training). Backward's dx uses the same tensor.
     */
    protected Tensor forwardWeight(Backend be, boolean training) {
        return weight.value();
    }

    /**
     * Accumulates the weight gradient given dy^T x's operands: W.grad += dy^T x here (written directly when
     * the gradient was just zeroed); a subclass that
     * transformed W in {@link #forwardWeight} applies the transform's derivative.
     */
    protected void accumulateWeightGradient(Backend be, Tensor dy2d, Tensor x2d) {
        // a gradient zeroed since the last step is overwritten (beta = 0): no zero fill, no read of the old one
        float beta = weight.takeZeroGrad() ? 0f : 1f;
        be.gemm(true, false, 1f, dy2d, x2d, beta, weight.grad());
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        String name = getClass().getSimpleName();
        Buffers.requireFloat(x, name);
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new IllegalArgumentException(name + "(" + in + " -> " + out + "): expected input [N, " + in
                    + "], got " + x.shape());
        }
        Buffers.requireDevice(x, weight.value().device(), name);
        Backend be = Backends.of(x);
        int rows = x.numel() / in;
        xShape = x.shape();
        x2d = x.rank() == 2 ? x : x.reshape(rows, in);
        used = forwardWeight(be, training);
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
        return backward(dy, true);
    }

    @Override
    public Tensor backward(Tensor dy, boolean inputGradient) {
        if (x2d == null) {
            throw new IllegalStateException(getClass().getSimpleName() + ".backward called before forward");
        }
        Backend be = Backends.of(dy);
        int rows = x2d.dim(0);
        if (dy.numel() != rows * out) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".backward: dy " + dy.shape()
                    + " does not match the output of the last forward [" + rows + ", " + out + "]");
        }
        Tensor dy2d = dy.rank() == 2 ? dy : dy.reshape(rows, out);
        accumulateWeightGradient(be, dy2d, x2d);
        if (bias != null) {
            be.biasGrad(dy2d, bias.grad());
        }
        if (!inputGradient) {
            return null;
        }
        dx = buffers.ensure(dx, be, Shape.of(rows, in));
        be.gemm(false, false, 1f, dy2d, used, 0f, dx);
        return xShape.rank() == 2 ? dx : dx.reshape(xShape.dims());
    }
}
