package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.init.Init;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * Maxout unit layer (Goodfellow et al. 2013): y[n, j] = max over p of (x W_p^T + b_p)[n, j]. One
 * weight [pieces·out, in] whose row p·out + j is piece p of unit j, and a bias [pieces·out]. On a tie
 * the first piece wins and gets the whole gradient (FORMAT.md item 7). Default init as nn.Linear
 * with fan_in = in.
 */
public class Maxout extends Layer {
    private final int in;
    private final int out;
    private final int pieces;
    private final Parameter weight;
    private final Parameter bias;

    private Tensor x;
    private Tensor z;
    private Tensor y;
    private Tensor piece;
    private Tensor dz;
    private Tensor dx;

    public Maxout(int in, int out, int pieces, boolean bias, Generator gen) {
        this(in, out, pieces, bias, gen, Device.CPU);
    }

    /** Built directly on {@code device}: parameters are allocated and initialised there (the same bits as on the cpu). */
    public Maxout(int in, int out, int pieces, boolean bias, Generator gen, Device device) {
        if (in < 1 || out < 1 || pieces < 1) {
            throw new IllegalArgumentException("Maxout needs in, out, pieces >= 1, got " + in + ", " + out + ", " + pieces);
        }
        this.in = in;
        this.out = out;
        this.pieces = pieces;
        Backend be = dev.jtrain.backend.Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(pieces * out, in)));
        this.bias = bias ? register(Parameter.trainable("bias", be.zeros(pieces * out))) : null;
        Init.linearDefault(weight.value(), bias ? this.bias.value() : null, gen);
    }

    public int pieces() {
        return pieces;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Parameter bias() {
        return bias;
    }

    /** int64 [N, out]: the piece chosen for each output in the last forward; null before one. */
    public Tensor lastPieces() {
        return piece;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "Maxout");
        if (x.rank() != 2 || x.dim(1) != in) {
            throw new IllegalArgumentException("Maxout(" + in + " -> " + out + " x " + pieces + "): expected input [N, "
                    + in + "], got " + x.shape());
        }
        Buffers.requireDevice(x, weight.value().device(), "Maxout");
        Backend be = Backends.of(x);
        int n = x.dim(0);
        z = buffers.ensure(z, be, Shape.of(n, pieces * out));
        y = buffers.ensure(y, be, Shape.of(n, out));
        piece = buffers.ensure(piece, be, DType.INT64, Shape.of(n, out));
        be.gemm(false, true, 1f, x, weight.value(), 0f, z);
        if (bias != null) {
            be.addBias(z, bias.value());
        }
        be.maxoutForward(z, pieces, y, piece);
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException("Maxout.backward called before forward");
        }
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("Maxout.backward: dy " + dy.shape() + " does not match the output " + y.shape());
        }
        Backend be = Backends.of(dy);
        dz = buffers.ensureLike(dz, z);
        be.maxoutBackward(dy, piece, pieces, dz);
        be.gemm(true, false, 1f, dz, x, 1f, weight.grad());
        if (bias != null) {
            be.biasGrad(dz, bias.grad());
        }
        dx = buffers.ensureLike(dx, x);
        be.gemm(false, false, 1f, dz, weight.value(), 0f, dx);
        return dx;
    }
}
