package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.init.Init;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * 2-D convolution over NCHW input, as {@code nn.Conv2d} (a cross-correlation with zero padding,
 * tests/conformance/FORMAT.md items 16-17): with kernel k, stride s and padding p,
 * <pre>
 *   y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p]   (x = 0 outside)
 *   H_out = ⌊(H + 2p − k) / s⌋ + 1,   W_out likewise
 * </pre>
 * weight W [outC, inC, k, k], bias b [outC]. Default init as nn.Conv2d: U(±1/√(inC·k·k)) for both.
 */
public class Conv2d extends Layer {
    private final int inC;
    private final int outC;
    private final ConvSpec spec;
    private final Parameter weight;
    private final Parameter bias;

    private Tensor x;
    private Tensor y;
    private Tensor dx;

    public Conv2d(int inC, int outC, int kernel, int stride, int padding, boolean bias, Generator gen) {
        this(inC, outC, kernel, stride, padding, bias, gen, Device.CPU);
    }

    /** Built directly on {@code device}: parameters are allocated and initialised there (the same bits as on the cpu). */
    public Conv2d(int inC, int outC, int kernel, int stride, int padding, boolean bias, Generator gen, Device device) {
        if (inC < 1 || outC < 1) {
            throw new IllegalArgumentException("Conv2d needs inC >= 1 and outC >= 1, got " + inC + ", " + outC);
        }
        this.inC = inC;
        this.outC = outC;
        this.spec = ConvSpec.square(kernel, stride, padding);
        Backend be = dev.jtrain.backend.Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(outC, inC, kernel, kernel)));
        this.bias = bias ? register(Parameter.trainable("bias", be.zeros(outC))) : null;
        Init.linearDefault(weight.value(), bias ? this.bias.value() : null, gen);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "Conv2d");
        if (x.rank() != 4 || x.dim(1) != inC) {
            throw new IllegalArgumentException("Conv2d(" + inC + " -> " + outC + "): expected input [N, " + inC
                    + ", H, W], got " + x.shape());
        }
        Buffers.requireDevice(x, weight.value().device(), "Conv2d");
        Backend be = Backends.of(x);
        Shape ys = Shape.of(x.dim(0), outC, spec.outH(x.dim(2)), spec.outW(x.dim(3)));
        y = buffers.ensure(y, be, ys);
        be.conv2dForward(x, weight.value(), bias == null ? null : bias.value(), spec, y);
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        return backward(dy, true);
    }

    @Override
    public Tensor backward(Tensor dy, boolean inputGradient) {
        if (x == null) {
            throw new IllegalStateException("Conv2d.backward called before forward");
        }
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("Conv2d.backward: dy " + dy.shape() + " does not match the output " + y.shape());
        }
        Backend be = Backends.of(dy);
        Tensor dxOut = null;
        if (inputGradient) {
            dx = buffers.ensureLike(dx, x);
            dxOut = dx;
        }
        be.conv2dBackward(x, weight.value(), dy, spec, dxOut, weight.grad(), bias == null ? null : bias.grad());
        return dxOut;
    }
}
