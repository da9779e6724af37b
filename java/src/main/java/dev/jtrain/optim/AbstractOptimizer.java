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
    /** Parameter groups with their own LR: the factor groupLr / initialLr per parameter (absent: 1). */
    private final Map<Parameter, Double> lrFactor = new IdentityHashMap<>();
    private final double initialLr;
    private double lr;
    private int steps;

    protected AbstractOptimizer(List<Parameter> params, double lr) {
        Objects.requireNonNull(params, "params");
        for (Parameter p : params) {
            Objects.requireNonNull(p, "params contains null"); // a Buffer is not a Parameter: never optimized
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
        private double lr;

        public Backend backend() {
            return backend;
        }

        /** The learning rate of this group's parameters at this step. */
        public double lr() {
            return lr;
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

    /**
     * The parameters grouped by device and learning rate: one reused group normally, one per device and LR
     * group for a split model or one with parameter groups.
     */
    private List<Group> groups() {
        Device first = params.isEmpty() ? Device.CPU : params.get(0).value().device();
        boolean oneDevice = true;
        for (Parameter p : params) {
            oneDevice &= p.value().device().equals(first);
        }
        if (oneDevice && lrFactor.isEmpty()) {
            single.clear(Backends.forDevice(first));
            single.lr = lr;
            for (Parameter p : params) {
                single.add(p);
            }
            return singleList;
        }
        Map<List<Object>, Group> byKey = new LinkedHashMap<>();
        for (Parameter p : params) {
            Device d = p.value().device();
            double plr = lrOf(p);
            byKey.computeIfAbsent(List.of(d, plr), k -> {
                Group g = new Group();
                g.clear(Backends.forDevice(d));
                g.lr = plr;
                return g;
            }).add(p);
        }
        return new ArrayList<>(byKey.values());
    }

    @Override
    public final void setGroupLr(List<Parameter> group, double groupLr) {
        requireNonNegative("group lr", groupLr);
        if (!(initialLr > 0)) {
            throw new IllegalArgumentException("parameter groups need an optimizer lr > 0 (their LR is relative to it), got "
                    + initialLr);
        }
        Map<Parameter, Boolean> mine = new IdentityHashMap<>();
        for (Parameter p : params) {
            mine.put(p, Boolean.TRUE);
        }
        for (Parameter p : group) {
            if (!mine.containsKey(p)) {
                throw new IllegalArgumentException("parameter " + p.name() + " is not updated by this optimizer");
            }
        }
        for (Parameter p : group) {
            lrFactor.put(p, groupLr / initialLr);
        }
    }

    @Override
    public final double lrOf(Parameter p) {
        Double f = lrFactor.get(p);
        return f == null ? lr : lr * f;
    }

    @Override
    public final void restore(int steps, Map<Parameter, Map<String, Tensor>> saved) {
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        Map<Parameter, Boolean> mine = new IdentityHashMap<>();
        for (Parameter p : params) {
            mine.put(p, Boolean.TRUE);
        }
        // check everything first, so a bad state changes nothing
        for (Map.Entry<Parameter, Map<String, Tensor>> e : saved.entrySet()) {
            Parameter p = e.getKey();
            if (!mine.containsKey(p)) {
                throw new IllegalArgumentException("parameter " + p.name() + " is not updated by this optimizer");
            }
            Map<String, Tensor> have = state.getOrDefault(p, Map.of());
            for (Map.Entry<String, Tensor> s : e.getValue().entrySet()) {
                if (!have.containsKey(s.getKey())) {
                    throw new IllegalArgumentException(getClass().getSimpleName() + " keeps no state '" + s.getKey()
                            + "' for " + p.name() + " (it keeps " + have.keySet() + ")");
                }
                Tensor t = have.get(s.getKey());
                if (!s.getValue().shape().equals(t.shape()) || s.getValue().dtype() != t.dtype()) {
                    throw new IllegalArgumentException("state " + s.getKey() + " of " + p.name() + ": " + s.getValue().dtype()
                            + " " + s.getValue().shape() + " given, the optimizer has " + t.dtype() + " " + t.shape());
                }
            }
        }
        for (Map.Entry<Parameter, Map<String, Tensor>> e : saved.entrySet()) {
            for (Map.Entry<String, Tensor> s : e.getValue().entrySet()) {
                state(e.getKey(), s.getKey()).copyFrom(s.getValue());
            }
        }
        this.steps = steps;
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
