package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A copy of every parameter and buffer of a model (BatchNorm running statistics included), kept on the
 * model's device; {@link #capture()} and {@link #restore()} are device copies, bit-exact both ways. The
 * copies are allocated once; {@link #close()} releases them.
 */
public final class WeightSnapshot implements AutoCloseable {
    private final List<String> names;
    private final List<StateTensor> params;
    private final List<Tensor> copies = new ArrayList<>();

    public WeightSnapshot(Layer model) {
        this.names = List.copyOf(model.namedState().keySet());
        this.params = List.copyOf(model.namedState().values());
    }

    /** Copies the model's current values into the snapshot. */
    public WeightSnapshot capture() {
        for (int i = 0; i < params.size(); i++) {
            Tensor v = params.get(i).value();
            Backend b = Backends.of(v);
            if (copies.size() <= i) {
                copies.add(b.zeros(v.dtype(), v.shape()));
            } else if (!copies.get(i).device().equals(v.device())) { // the model moved: follow it
                copies.get(i).close();
                copies.set(i, b.zeros(v.dtype(), v.shape()));
            }
            b.copy(v, copies.get(i));
        }
        return this;
    }

    /**
     * Sets the snapshot to {@code values} (by the model's names, e.g. from a checkpoint; any device), as if they had
     * been captured: every name of the model with its shape and dtype, nothing else.
     */
    public WeightSnapshot set(Map<String, Tensor> values) {
        if (!values.keySet().equals(new java.util.LinkedHashSet<>(names))) {
            throw new IllegalArgumentException("a snapshot needs exactly the model's tensors " + names + ", got "
                    + values.keySet());
        }
        for (int i = 0; i < params.size(); i++) {
            Tensor v = params.get(i).value();
            Tensor src = values.get(names.get(i));
            if (src.dtype() != v.dtype() || !src.shape().equals(v.shape())) {
                throw new IllegalArgumentException(names.get(i) + ": " + src.dtype() + " " + src.shape()
                        + " for a snapshot of " + v.dtype() + " " + v.shape());
            }
        }
        for (int i = 0; i < params.size(); i++) {
            Tensor v = params.get(i).value();
            if (copies.size() <= i) {
                copies.add(Backends.of(v).zeros(v.dtype(), v.shape()));
            }
            copies.get(i).copyFrom(values.get(names.get(i)));
        }
        return this;
    }

    /** The captured copies by the model's names (the snapshot's own tensors: read, do not close); empty before a capture. */
    public Map<String, Tensor> values() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < copies.size(); i++) {
            out.put(names.get(i), copies.get(i));
        }
        return out;
    }

    public boolean isEmpty() {
        return copies.isEmpty();
    }

    /** Writes the snapshot back into the model's parameters and buffers. */
    public void restore() {
        if (copies.isEmpty()) {
            throw new IllegalStateException("nothing captured yet");
        }
        for (int i = 0; i < params.size(); i++) {
            Tensor v = params.get(i).value();
            Backends.of(v).copy(copies.get(i), v);
        }
    }

    /** The saved copy of the model's i-th named tensor (namedState order: parameters and buffers). */
    Tensor copy(int i) {
        return copies.get(i);
    }

    @Override
    public void close() {
        for (Tensor t : copies) {
            t.close();
        }
        copies.clear();
    }
}
