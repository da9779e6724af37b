package dev.jtrain.nn;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer with explicit forward and backward. {@code forward} remembers what backward needs;
 * {@code backward(dy)} returns dx and <b>accumulates</b> parameter gradients. A layer never picks a
 * device: it runs on the device of its input and parameters (mixing devices is an error).
 *
 * <p>Subclasses register their parameters/buffers with {@link #register} and child layers with
 * {@link #child}, which gives PyTorch-style names ("0.weight", "block.bn.running_mean").
 *
 * <p>Ownership: the tensor {@code forward} (or {@code backward}) returns belongs to the layer. It is valid
 * until the next {@code forward} (or {@code backward}) of that layer on that instance, which overwrites it
 * in place or replaces it; copy what must outlive it. A container's output is its last child's, so the
 * same holds for a whole model. Hence a layer instance serves one caller at a time: two threads calling
 * {@code forward} on one model overwrite each other's activations. To predict from several threads, use
 * {@link dev.jtrain.infer.Predictor}, which gives each concurrent call its own replica of the model over
 * the same weights and hands the caller a result it owns.
 *
 * <p>Parameters allocate their gradients on the first backward ({@link Parameter#grad()}): a model that
 * only runs {@code forward(x, false)} holds its weights and its outputs, nothing else.
 *
 * <p>{@link #close()} releases every tensor of the layer and its children (parameters, gradients, work
 * buffers), which on a device returns their memory; the layer is unusable afterwards.
 */
public abstract class Layer implements AutoCloseable {
    private final Map<String, Parameter> params = new LinkedHashMap<>();
    private final Map<String, Layer> children = new LinkedHashMap<>();
    /** This layer's own work tensors (outputs, gradients, masks), released by {@link #close()}. */
    protected final Buffers buffers = new Buffers();

    /** y = f(x); {@code training} selects train-mode behaviour (dropout masks, batch statistics). */
    public abstract Tensor forward(Tensor x, boolean training);

    /** dx for the last forward's input, given dy for its output; parameter gradients accumulate. */
    public abstract Tensor backward(Tensor dy);

    /**
     * {@link #backward(Tensor)} for a caller that may not need dx: with {@code inputGradient} false the layer
     * may skip computing dx and return null (Linear and Conv2d skip their dx GEMM, as PyTorch does for an
     * input that does not require grad: the first layer of a network sees data, not an activation).
     * Parameter gradients accumulate exactly as in {@code backward(dy)}. The default computes dx anyway.
     */
    public Tensor backward(Tensor dy, boolean inputGradient) {
        return backward(dy);
    }

    protected final Parameter register(Parameter p) {
        if (params.putIfAbsent(p.name(), p) != null) {
            throw new IllegalStateException("duplicate parameter name " + p.name());
        }
        return p;
    }

    protected final <L extends Layer> L child(String name, L layer) {
        if (children.putIfAbsent(name, layer) != null) {
            throw new IllegalStateException("duplicate child layer name " + name);
        }
        return layer;
    }

    /** Every parameter and buffer of this layer and its children, keyed by its full dotted name. */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Parameter> out) {
        for (Parameter p : params.values()) {
            out.put(prefix + p.name(), p);
        }
        for (Map.Entry<String, Layer> c : children.entrySet()) {
            c.getValue().collect(prefix + c.getKey() + ".", out);
        }
    }

    /** The trainable parameters only, in registration order. */
    public final List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : namedParameters().values()) {
            if (p.isTrainable()) {
                out.add(p);
            }
        }
        return out;
    }

    public final Map<String, Layer> children() {
        return Collections.unmodifiableMap(children);
    }

    public final void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Moves every parameter and buffer to {@code device}; returns this. */
    public Layer to(Device device) {
        for (Parameter p : namedParameters().values()) {
            p.to(device);
        }
        return this;
    }

    /** Number of trainable scalars. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.value().numel();
        }
        return n;
    }

    /** Releases this layer's work buffers, parameters and gradients, and its children's. */
    @Override
    public void close() {
        buffers.close();
        for (Parameter p : params.values()) {
            p.close();
        }
        for (Layer c : children.values()) {
            c.close();
        }
    }
}
