package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A copy of every parameter and buffer of a model (BatchNorm running statistics included), kept on the
 * model's device; {@link #capture()} and {@link #restore()} are device copies, bit-exact both ways. The
 * copies are allocated once; {@link #close()} releases them.
 */
public final class WeightSnapshot implements AutoCloseable {
    private final List<Parameter> params;
    private final List<Tensor> copies = new ArrayList<>();

    public WeightSnapshot(Layer model) {
        this.params = List.copyOf(model.namedParameters().values());
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

    /** The saved copy of the model's i-th named tensor (namedParameters order). */
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
