package dev.jtrain.infer;

import dev.jtrain.backend.Backend;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Buffer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Map;

/**
 * One workspace of a {@link Predictor}: a model of the predictor's architecture whose parameters read the shared
 * weights (no copy), so its layers' outputs and work buffers are its own, plus the few tensors a prediction needs
 * around the model (an uploaded input, argmax and softmax scratch). Used by one thread at a time.
 */
final class Replica implements AutoCloseable {
    final Layer model;
    private final Buffers buffers = new Buffers();
    private Tensor input;
    private float[] preprocessed;
    private Tensor classes;
    private Tensor labels;
    private Tensor lossPerSample;
    private Tensor probabilities;

    Replica(Layer model) {
        this.model = model;
    }

    /** Makes every parameter and buffer of {@code model} read the one of the same name in {@code source}. */
    static void shareWeights(Layer model, Map<String, StateTensor> source) {
        Map<String, StateTensor> mine = model.namedState();
        if (!mine.keySet().equals(source.keySet())) {
            throw new IllegalArgumentException("the architecture's parameters and buffers " + mine.keySet()
                    + " are not the trained model's " + source.keySet());
        }
        for (Map.Entry<String, StateTensor> e : mine.entrySet()) {
            StateTensor from = source.get(e.getKey());
            if (e.getValue() instanceof Parameter p && from instanceof Parameter q) {
                p.shareValueOf(q);
            } else if (e.getValue() instanceof Buffer b && from instanceof Buffer c) {
                b.shareValueOf(c);
            } else {
                throw new IllegalArgumentException(e.getKey() + " is a parameter in one model and a buffer in the other");
            }
        }
    }

    /** A host array of at least {@code n} floats for preprocessed samples, kept across calls. */
    float[] preprocessed(int n) {
        if (preprocessed == null || preprocessed.length < n) {
            preprocessed = new float[n];
        }
        return preprocessed;
    }

    /** {@code x} on the backend's device: itself, or copied into this replica's input buffer (a counted transfer). */
    Tensor onDevice(Tensor x, Backend be) {
        if (x.device().equals(be.device())) {
            return x;
        }
        input = buffers.ensure(input, be, DType.FLOAT32, x.shape());
        return input.copyFrom(x);
    }

    /** An int64 [n] work tensor for argmax. */
    Tensor classes(Backend be, int n) {
        classes = buffers.ensure(classes, be, DType.INT64, Shape.of(n));
        return classes;
    }

    /** All-zero int64 labels [n] (any valid class: softmax does not depend on them) for the softmax op. */
    Tensor zeroLabels(Backend be, int n) {
        labels = buffers.ensure(labels, be, DType.INT64, Shape.of(n)); // new buffers are zero; nothing writes them
        return labels;
    }

    /** A float work tensor for softmax probabilities. */
    Tensor probabilities(Backend be, Shape shape) {
        probabilities = buffers.ensure(probabilities, be, DType.FLOAT32, shape);
        return probabilities;
    }

    /** A float [n] tensor for the per-sample losses the softmax op also writes (unused). */
    Tensor lossPerSample(Backend be, int n) {
        lossPerSample = buffers.ensure(lossPerSample, be, DType.FLOAT32, Shape.of(n));
        return lossPerSample;
    }

    /** Releases the replica's own tensors; the shared weights stay with their owner. */
    @Override
    public void close() {
        buffers.close();
        model.close();
    }
}
