package dev.jtrain.optim;

import dev.jtrain.backend.Backend;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The shared base of the optimizers: the parameter list, the learning rate (read and written by
 * schedules), the step counter (step t starts at 1) and the per-parameter state tensors, created lazily
 * as zeros on the parameter's device and named as in PyTorch's {@code optimizer.state}. Every update
 * is one backend op on the parameter's device; nothing here touches host arrays.
 */
public abstract class AbstractOptimizer implements Optimizer {
    private final List<Parameter> params;
    private final Map<Parameter, Map<String, Tensor>> state = new IdentityHashMap<>();
    private final double initialLr;
    private double lr;
    private int steps;

    protected AbstractOptimizer(List<Parameter> params, double lr) {
        Objects.requireNonNull(params, "params");
        for (Parameter p : params) {
            Objects.requireNonNull(p, "params contains null");
            if (!p.isTrainable()) {
                throw new IllegalArgumentException("parameter " + p.name() + " is a buffer, not trainable");
            }
        }
        requireNonNegative("lr", lr);
        this.params = List.copyOf(params);
        this.lr = lr;
        this.initialLr = lr;
    }

    @Override
    public final void step() {
        int t = steps + 1;
        for (Parameter p : params) {
            update(p, p.value(), p.grad(), t);
        }
        steps = t;
    }

    /** One update of one parameter at step t (t starts at 1), with the current {@link #lr()}. */
    protected abstract void update(Parameter p, Tensor value, Tensor grad, int t);

    /**
     * The state tensor {@code name} of {@code p}, created as zeros like its value on first use, and moved
     * to the parameter's device when the model has moved since (so a moved model keeps its momentum).
     */
    protected final Tensor state(Parameter p, String name) {
        Map<String, Tensor> s = state.computeIfAbsent(p, k -> new LinkedHashMap<>());
        Tensor v = p.value();
        Tensor t = s.get(name);
        if (t == null) {
            t = v.backend().zeros(v.dtype(), v.shape());
            s.put(name, t);
        } else if (!t.device().equals(v.device())) {
            Tensor moved = t.to(v.device());
            t.close();
            t = moved;
            s.put(name, t);
        }
        return t;
    }

    @Override
    public void close() {
        for (Map<String, Tensor> s : state.values()) {
            for (Tensor t : s.values()) {
                t.close();
            }
        }
        state.clear();
    }

    protected static Backend backend(Tensor t) {
        return t.backend();
    }

    @Override
    public final List<Parameter> parameters() {
        return params;
    }

    @Override
    public final double lr() {
        return lr;
    }

    @Override
    public final void setLr(double lr) {
        requireNonNegative("lr", lr);
        this.lr = lr;
    }

    @Override
    public final double initialLr() {
        return initialLr;
    }

    @Override
    public final int steps() {
        return steps;
    }

    @Override
    public final Map<String, Tensor> state(Parameter p) {
        Map<String, Tensor> s = state.get(p);
        return s == null ? Map.of() : Collections.unmodifiableMap(s);
    }

    protected static void requireNonNegative(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be a finite value >= 0, got " + v);
        }
    }

    protected static void requireRange(String what, double v, double lo, double hiExclusive) {
        if (!(v >= lo && v < hiExclusive)) {
            throw new IllegalArgumentException(what + " must be in [" + lo + ", " + hiExclusive + "), got " + v);
        }
    }
}
