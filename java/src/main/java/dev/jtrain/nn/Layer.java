package dev.jtrain.nn;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A layer with explicit forward and backward. {@code forward} remembers what backward needs;
 * {@code backward(dy)} returns dx and <b>accumulates</b> parameter gradients. A layer never picks a
 * device: it runs on the device of its input and parameters (mixing devices is an error).
 *
 * <p>Subclasses register their parameters and buffers with {@link #register(Parameter)} and
 * {@link #register(Buffer)}, and child layers with {@link #child}, which gives PyTorch-style names
 * ("0.weight", "block.bn.running_mean"). As in PyTorch, {@link #namedParameters()} lists what is trained,
 * {@link #namedBuffers()} what is only saved, and {@link #namedState()} both (the {@code state_dict}).
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
    private final Map<String, Buffer> stateBuffers = new LinkedHashMap<>();
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

    /**
     * {@link #backward(Tensor, boolean)} that also tells {@code listener} when parameters' gradients are final (see
     * {@link GradientReadyListener}): for a data-parallel all-reduce that overlaps the rest of the backward. The
     * gradients and dx are those of {@code backward(dy, inputGradient)}. This default reports all of the layer's
     * parameters once its backward is done; {@link Sequential} and {@link Graph} report child by child. Without a
     * listener call the two-argument form: this one allocates (lists of parameters) on every call.
     */
    public Tensor backward(Tensor dy, boolean inputGradient, GradientReadyListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        Tensor dx = backward(dy, inputGradient);
        Parameter[] mine = distinctParameters();
        if (mine.length > 0) {
            listener.ready(mine);
        }
        return dx;
    }

    /**
     * Whether {@code container}'s class (a subclass of {@code base}) replaces {@code base}'s backward: then its own
     * child-by-child hook would bypass that override, and the container falls back to {@link Layer}'s (report all
     * after the backward).
     */
    static boolean overridesBackward(Layer container, Class<? extends Layer> base) {
        try {
            Class<?> one = container.getClass().getMethod("backward", Tensor.class).getDeclaringClass();
            Class<?> two = container.getClass().getMethod("backward", Tensor.class, boolean.class).getDeclaringClass();
            return (one != base && base.isAssignableFrom(one)) || (two != base && base.isAssignableFrom(two));
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }

    /** {@link #parameters()} as an array. */
    final Parameter[] distinctParameters() {
        return parameters().toArray(new Parameter[0]);
    }

    /** Registers a trainable parameter under its local name; returns it. */
    protected final Parameter register(Parameter p) {
        requireNewName(p.name());
        params.put(p.name(), p);
        return p;
    }

    /** Registers a buffer (saved, not trained) under its local name; returns it. */
    protected final Buffer register(Buffer b) {
        requireNewName(b.name());
        stateBuffers.put(b.name(), b);
        return b;
    }

    private void requireNewName(String name) {
        if (params.containsKey(name) || stateBuffers.containsKey(name)) {
            throw new IllegalStateException("duplicate parameter or buffer name " + name);
        }
    }

    /** Registers {@code layer} as a child named {@code name}, the prefix of its tensors' names; returns it. */
    protected final <L extends Layer> L child(String name, L layer) {
        if (children.putIfAbsent(name, layer) != null) {
            throw new IllegalStateException("duplicate child layer name " + name);
        }
        return layer;
    }

    /** The parameters (trained) of this layer and its children, keyed by full dotted name ("0.weight"). */
    public final Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        collect("", out, true, false);
        return Collections.unmodifiableMap(out);
    }

    /** The buffers (saved, not trained) of this layer and its children, keyed by full dotted name. */
    public final Map<String, Buffer> namedBuffers() {
        Map<String, Buffer> out = new LinkedHashMap<>();
        collect("", out, false, true);
        return Collections.unmodifiableMap(out);
    }

    /**
     * Every parameter and buffer, keyed by full dotted name, in PyTorch's {@code state_dict} order: a
     * layer's parameters, then its buffers, then each child's in turn.
     */
    public final Map<String, StateTensor> namedState() {
        Map<String, StateTensor> out = new LinkedHashMap<>();
        collect("", out, true, true);
        return Collections.unmodifiableMap(out);
    }

    @SuppressWarnings("unchecked")
    private <T extends StateTensor> void collect(String prefix, Map<String, T> out, boolean withParameters,
                                                 boolean withBuffers) {
        if (withParameters) {
            for (Parameter p : params.values()) {
                out.put(prefix + p.name(), (T) p);
            }
        }
        if (withBuffers) {
            for (Buffer b : stateBuffers.values()) {
                out.put(prefix + b.name(), (T) b);
            }
        }
        for (Map.Entry<String, Layer> c : children.entrySet()) {
            c.getValue().collect(prefix + c.getKey() + ".", out, withParameters, withBuffers);
        }
    }

    /** The parameters of this layer and its children (no buffers), in {@link #namedParameters()} order, each once. */
    public final List<Parameter> parameters() {
        // A parameter registered under several names (a layer used twice, tied weights) is listed once, as in
        // PyTorch's Module.parameters(): an optimizer built on this list must update it once per step.
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Parameter> unique = new ArrayList<>();
        for (Parameter p : namedParameters().values()) {
            if (seen.add(p)) {
                unique.add(p);
            }
        }
        return unique;
    }

    /** The direct children, by name, in registration order. */
    public final Map<String, Layer> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Clears the gradient of every parameter (lazily: see {@link Parameter#zeroGrad()}). */
    public final void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** Moves every parameter and buffer to {@code device}; returns this. */
    public Layer to(Device device) {
        for (StateTensor t : namedState().values()) {
            t.to(device);
        }
        return this;
    }

    /** Number of trained scalars: buffers do not count (PyTorch: {@code sum(p.numel() for p in parameters())}). */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.value().numel();
        }
        return n;
    }

    /** Releases this layer's work tensors, parameters, gradients and buffers, and its children's. */
    @Override
    public void close() {
        buffers.close();
        for (Parameter p : params.values()) {
            p.close();
        }
        for (Buffer b : stateBuffers.values()) {
            b.close();
        }
        for (Layer c : children.values()) {
            c.close();
        }
    }
}
