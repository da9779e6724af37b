package dev.jtrain.optim;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Device;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The shared base of the optimizers: the parameter list, the learning rate (read and written by
 * schedules), the step counter (step t starts at 1) and the per-parameter state tensors, created lazily
 * as zeros on the parameter's device and named as in PyTorch's {@code optimizer.state}. Every update
 * is one list op per device over all its parameters (one launch on a GPU); nothing here touches host arrays.
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

    /**
     * The parameters that live on one device, with their values, gradients and (on request) state tensors as
     * index-aligned lists: one list op updates them all (one launch on a GPU). The lists are reused from step
     * to step, so a step allocates no new lists on the usual single-device model.
     */
    protected static final class Group {
        private final List<Parameter> params = new ArrayList<>();
        private final List<Tensor> values = new ArrayList<>();
        private final List<Tensor> grads = new ArrayList<>();
        private final Map<String, List<Tensor>> states = new HashMap<>();
        private Backend backend;

        public Backend backend() {
            return backend;
        }

        public List<Tensor> values() {
            return values;
        }

        public List<Tensor> grads() {
            return grads;
        }

        void clear(Backend be) {
            backend = be;
            params.clear();
            values.clear();
            grads.clear();
        }

        void add(Parameter p) {
            params.add(p);
            values.add(p.value());
            grads.add(p.grad());
        }
    }

    private final Group single = new Group();

    @Override
    public final void step() {
        int t = steps + 1;
        for (Group g : groups()) {
            update(g, t);
        }
        steps = t;
    }

    /** The parameters grouped by device: one reused group normally, one per device for a split model. */
    private List<Group> groups() {
        Device first = params.isEmpty() ? Device.CPU : params.get(0).value().device();
        boolean oneDevice = true;
        for (Parameter p : params) {
            oneDevice &= p.value().device().equals(first);
        }
        if (oneDevice) {
            single.clear(Backends.forDevice(first));
            for (Parameter p : params) {
                single.add(p);
            }
            return singleList;
        }
        Map<Device, Group> byDevice = new LinkedHashMap<>();
        for (Parameter p : params) {
            Device d = p.value().device();
            byDevice.computeIfAbsent(d, k -> {
                Group g = new Group();
                g.clear(Backends.forDevice(k));
                return g;
            }).add(p);
        }
        return new ArrayList<>(byDevice.values());
    }

    private final List<Group> singleList = List.of(single);

    /** One update of a group of parameters at step t (t starts at 1), with the current {@link #lr()}. */
    protected abstract void update(Group g, int t);

    /** The state tensors {@code name} of the group's parameters, index-aligned with its values (a reused list). */
    protected final List<Tensor> states(Group g, String name) {
        List<Tensor> l = g.states.computeIfAbsent(name, k -> new ArrayList<>());
        l.clear();
        for (Parameter p : g.params) {
            l.add(state(p, name));
        }
        return l;
    }

    /**
     * Creates the zero state tensors {@code names} of every parameter now (subclass constructors call it),
     * rather than inside the first step: lazily created state would take the blocks that step's
     * temporaries returned to the device cache, and step 2 would then ask the device for memory again.
     * The values are the same either way (every update rule starts from zero state).
     */
    protected final void createStates(String... names) {
        for (Parameter p : params) {
            for (String name : names) {
                state(p, name);
            }
        }
    }

    /**
     * The state tensor {@code name} of {@code p}, created as zeros like its value on first use, and moved
     * to the parameter's device when the model has moved since (so a moved model keeps its momentum).
     */
    protected final Tensor state(Parameter p, String name) {
        Map<String, Tensor> s = state.computeIfAbsent(p, k -> new LinkedHashMap<>());
        Tensor v = p.value();
        Tensor t = s.get(name);
        if (t == null) {
            t = Backends.of(v).zeros(v.dtype(), v.shape());
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
        return Backends.of(t);
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
