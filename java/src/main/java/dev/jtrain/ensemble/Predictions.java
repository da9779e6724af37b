package dev.jtrain.ensemble;

import dev.jtrain.data.BatchIterator;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * One model's logits on a data set, on the host: {@code logits[i * classes + c]} for sample i and class c. The
 * forward passes (the cost) run on the model's device in eval mode; each batch's logits come back to the host
 * (N x C floats, a counted transfer), where the ensemble combines them in double precision, so the combination does
 * not depend on any device's rounding.
 */
public record Predictions(int samples, int classes, float[] logits) {

    public Predictions {
        if (samples < 0 || classes < 1 || logits.length != samples * classes) {
            throw new IllegalArgumentException("predictions: " + logits.length + " logits for " + samples + " samples of "
                    + classes + " classes");
        }
    }

    /** The logits of {@code model} on every sample of {@code data} (samples of the model's input shape), in order. */
    public static Predictions of(Layer model, Dataset data, Device device, int batchSize) {
        float[] out = null;
        int classes = 0;
        int at = 0;
        try (BatchIterator it = new BatchIterator(data, batchSize, false, device)) {
            it.startEpoch(0, 0);
            while (it.hasNext()) {
                BatchIterator.Batch b = it.next();
                Tensor logits = model.forward(b.x(), false);
                int n = b.size();
                int c = logits.numel() / n;
                if (out == null) {
                    classes = c;
                    out = new float[data.size() * c];
                } else if (c != classes) {
                    throw new IllegalStateException("the model gave " + c + " outputs per sample, earlier " + classes);
                }
                Tensor host = logits.to(Device.CPU);
                System.arraycopy(host.floats(), 0, out, at, n * c);
                if (host != logits) {
                    host.close();
                }
                at += n * c;
            }
        }
        if (out == null) {
            throw new IllegalArgumentException(data.name() + " has no samples to predict");
        }
        return new Predictions(data.size(), classes, out);
    }

    /** log softmax of sample i's logits at class c (log-sum-exp in double). */
    public double logProb(int i, int c) {
        return logits[i * classes + c] - logSumExp(i);
    }

    /** log sum_c exp(logits[i, c]), in double, shifted by the row's maximum. */
    public double logSumExp(int i) {
        int o = i * classes;
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[o + c]);
        }
        double s = 0;
        for (int c = 0; c < classes; c++) {
            s += Math.exp(logits[o + c] - max);
        }
        return max + Math.log(s);
    }

    /** The index of the first maximum of sample i's logits (the Backend's argmaxRows rule). */
    public int top(int i) {
        int o = i * classes;
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (logits[o + c] > logits[o + best]) {
                best = c;
            }
        }
        return best;
    }

    /** Fraction of samples whose top class is the label. */
    public double accuracy(long[] labels) {
        int correct = 0;
        for (int i = 0; i < samples; i++) {
            correct += top(i) == labels[i] ? 1 : 0;
        }
        return samples == 0 ? Double.NaN : (double) correct / samples;
    }

    /** Mean cross-entropy of the softmax against the labels (PyTorch's {@code cross_entropy}, mean reduction). */
    public double loss(long[] labels) {
        double s = 0;
        for (int i = 0; i < samples; i++) {
            s -= logProb(i, (int) labels[i]);
        }
        return samples == 0 ? Double.NaN : s / samples;
    }
}
