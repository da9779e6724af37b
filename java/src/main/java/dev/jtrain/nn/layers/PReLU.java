package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * y = x > 0 ? x : alpha[c]·x with a learned alpha ("weight", shape [numParameters]): one shared
 * alpha (numParameters = 1) or one per channel along dim 1 (FORMAT.md items 1-2). PyTorch's default
 * init is 0.25.
 */
public class PReLU extends Layer {
    private final int numParameters;
    private final Parameter weight;
    private Tensor x;
    private Tensor y;
    private Tensor dx;

    public PReLU(int numParameters, float init) {
        this(numParameters, init, Device.CPU);
    }

    /** Built directly on {@code device}: parameters are allocated and initialised there (the same bits as on the cpu). */
    public PReLU(int numParameters, float init, Device device) {
        if (numParameters < 1) {
            throw new IllegalArgumentException("PReLU needs numParameters >= 1, got " + numParameters);
        }
        this.numParameters = numParameters;
        Backend be = dev.jtrain.backend.Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(numParameters)));
        be.fill(weight.value(), init);
    }

    /** One shared alpha = 0.25 (PyTorch's default). */
    public PReLU() {
        this(1, 0.25f);
    }

    /** alpha. */
    public Parameter weight() {
        return weight;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, "PReLU");
        if (numParameters != 1 && (x.rank() < 2 || x.dim(1) != numParameters)) {
            throw new IllegalArgumentException("PReLU(" + numParameters + "): input " + x.shape()
                    + " needs " + numParameters + " channels along dim 1");
        }
        Buffers.requireDevice(x, weight.value().device(), "PReLU");
        Backend be = Backends.of(x);
        y = buffers.ensureLike(y, x);
        be.preluForward(x, weight.value(), y);
        this.x = x;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException("PReLU.backward called before forward");
        }
        if (!dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException("PReLU.backward: dy " + dy.shape() + " does not match the output " + x.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, x);
        be.preluBackward(x, weight.value(), dy, dx, weight.grad());
        return dx;
    }
}
