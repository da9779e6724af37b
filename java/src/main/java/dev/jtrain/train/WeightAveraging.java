package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * EMA / Polyak averaging of the trainable parameters ({@code jtrain train --ema DECAY}), on the model's device.
 * After optimizer step t the shadow is updated as PyTorch's {@code AveragedModel} with
 * {@code get_ema_multi_avg_fn(decay)} does:
 *
 * <pre>  ema_1 = w_1,   ema_t = decay ema_{t-1} + (1 - decay) w_t </pre>
 *
 * For evaluation the averaged weights are swapped into the model (after the training steps of an epoch, so the
 * trainer's evaluation and every listener's onEpochEnd see them); training continues on the raw weights, which
 * are put back when the next epoch starts. When the run ends, the model holds the averaged weights. Buffers
 * (BatchNorm running statistics) are not averaged: evaluation uses the raw model's current ones.
 */
public final class WeightAveraging implements TrainingListener, AutoCloseable {
    private final float decay;
    private final List<Parameter> params;
    private final List<Tensor> shadow = new ArrayList<>();
    private final WeightSnapshot raw;
    private final int[] rawIndex;        // params.get(i) is the rawIndex[i]-th named tensor of the snapshot
    private boolean swappedIn;
    private long updates;

    public WeightAveraging(Layer model, double decay) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + decay);
        }
        this.decay = (float) decay;
        this.params = model.parameters();
        this.raw = new WeightSnapshot(model);
        List<StateTensor> all = List.copyOf(model.namedState().values());
        this.rawIndex = new int[params.size()];
        for (int i = 0; i < params.size(); i++) {
            rawIndex[i] = all.indexOf(params.get(i));
        }
    }

    public double decay() {
        return decay;
    }

    /** One averaging update from the model's current (raw) weights. */
    public void update() {
        for (int i = 0; i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Backend b = Backends.of(w);
            if (shadow.size() <= i) {
                shadow.add(b.zeros(w.dtype(), w.shape()));
            }
            Tensor s = shadow.get(i);
            if (updates == 0) {
                b.copy(w, s);
            } else {
                b.scale(s, decay);            // s = decay s
                b.axpy(1 - decay, w, s);      // s += (1 - decay) w
            }
        }
        updates++;
    }

    /** Number of updates so far (optimizer steps seen). */
    public long updates() {
        return updates;
    }

    /** The averaged value of the model's i-th trainable parameter (null before the first update). */
    public Tensor averaged(int i) {
        return i < shadow.size() ? shadow.get(i) : null;
    }

    /** Whether the model holds the averaged weights now (between an epoch's training steps and the next epoch). */
    public boolean averagedSwappedIn() {
        return swappedIn;
    }

    /**
     * The value training continues from for the model's i-th trainable parameter: the raw weights kept aside while
     * the averaged ones are swapped in, else the parameter's own value (the model's tensor: read, do not close).
     */
    public Tensor trainingValue(int i) {
        return swappedIn ? raw.copy(rawIndex[i]) : params.get(i).value();
    }

    /**
     * Continues a saved average (a resumed run): {@code averaged} holds the averaged value of each trainable parameter
     * (any device; ignored when {@code updates} is 0) after {@code updates} updates; the model holds the raw weights.
     */
    public void restore(long updates, List<Tensor> averaged) {
        if (updates < 0) {
            throw new IllegalArgumentException("EMA updates must be >= 0, got " + updates);
        }
        if (updates > 0 && averaged.size() != params.size()) {
            throw new IllegalArgumentException("EMA state for " + averaged.size() + " parameters, the model trains "
                    + params.size());
        }
        for (int i = 0; updates > 0 && i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Tensor a = averaged.get(i);
            if (!a.shape().equals(w.shape()) || a.dtype() != w.dtype()) {
                throw new IllegalArgumentException("EMA state of parameter " + i + ": " + a.dtype() + " " + a.shape()
                        + ", the parameter is " + w.dtype() + " " + w.shape());
            }
            if (shadow.size() <= i) {
                shadow.add(Backends.of(w).zeros(w.dtype(), w.shape()));
            }
            shadow.get(i).copyFrom(a);
        }
        this.updates = updates;
        this.swappedIn = false;
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        update();
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        if (swappedIn) {
            raw.restore();    // train on the raw weights again
            swappedIn = false;
        }
    }

    @Override
    public void onTrainPhaseEnd(int epoch) {
        if (updates == 0) {
            return;
        }
        raw.capture();
        for (int i = 0; i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Backends.of(w).copy(shadow.get(i), w);
        }
        swappedIn = true;
    }

    @Override
    public void close() {
        for (Tensor t : shadow) {
            t.close();
        }
        shadow.clear();
        raw.close();
    }
}
