package dev.jtrain.nn.loss;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Softmax cross-entropy over logits z [N, C] with int64 class labels y [N], mean over N, as
 * {@code nn.CrossEntropyLoss(label_smoothing=ε)} (tests/conformance/FORMAT.md items 21-22):
 * <pre>
 *   q[n, c] = (1 − ε)·[c = y_n] + ε / C                       (label smoothing spread over all C classes)
 *   loss    = (1/N) Σ_n ( logsumexp(z[n, :]) − Σ_c q[n, c]·z[n, c] )
 *   dz      = (softmax(z) − q) / N
 * </pre>
 * computed with the row maximum subtracted (no overflow). A label outside [0, C) is an
 * IllegalArgumentException on the cpu and a device value error on a GPU.
 */
public class SoftmaxCrossEntropy implements Loss {
    private final Buffers buffers = new Buffers();
    private final float labelSmoothing;
    private Tensor labels;
    private Tensor probs;
    private Tensor perSample;
    private Tensor loss;
    private Tensor dlogits;

    public SoftmaxCrossEntropy(float labelSmoothing) {
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + labelSmoothing);
        }
        this.labelSmoothing = labelSmoothing;
    }

    public SoftmaxCrossEntropy() {
        this(0f);
    }

    public float labelSmoothing() {
        return labelSmoothing;
    }

    @Override
    public Tensor forward(Tensor logits, Tensor labels) {
        Buffers.requireFloat(logits, "SoftmaxCrossEntropy");
        if (logits.rank() != 2) {
            throw new IllegalArgumentException("SoftmaxCrossEntropy: logits must be [N, C], got " + logits.shape());
        }
        if (labels.dtype() != DType.INT64 || labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
            throw new IllegalArgumentException("SoftmaxCrossEntropy: labels must be int64 [" + logits.dim(0)
                    + "] (one class index per row of logits " + logits.shape() + "), got " + labels);
        }
        Buffers.requireDevice(labels, logits.device(), "SoftmaxCrossEntropy (labels vs logits)");
        Backend be = Backends.of(logits);
        int n = logits.dim(0);
        probs = buffers.ensureLike(probs, logits);
        perSample = buffers.ensure(perSample, be, Shape.of(n));
        loss = buffers.ensure(loss, be, Shape.scalar());
        be.softmaxCrossEntropy(logits, labels, labelSmoothing, probs, perSample);
        be.sum(perSample, loss);
        be.scale(loss, 1f / n);
        this.labels = labels;
        return loss;
    }

    @Override
    public Tensor backward() {
        if (labels == null) {
            throw new IllegalStateException("SoftmaxCrossEntropy.backward called before forward");
        }
        Backend be = Backends.of(probs);
        dlogits = buffers.ensureLike(dlogits, probs);
        be.softmaxCrossEntropyBackward(probs, labels, labelSmoothing, 1f / probs.dim(0), dlogits);
        return dlogits;
    }

    /** softmax(logits) [N, C] of the last forward. */
    public Tensor probabilities() {
        return probs;
    }

    /** The unreduced loss [N] of the last forward. */
    public Tensor lossPerSample() {
        return perSample;
    }

    @Override
    public void close() {
        buffers.close();
    }
}
