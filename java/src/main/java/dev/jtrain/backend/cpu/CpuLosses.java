package dev.jtrain.backend.cpu;

/**
 * Per-element parts of the losses (FORMAT.md items 21-24), computed in double per row or element and
 * rounded once to float32. The mean over the batch is the caller's scale (1/N) or a reduction.
 */
final class CpuLosses {
    private CpuLosses() {
    }

    /**
     * Softmax cross-entropy over rows of logits [n, c] with label smoothing eps: q = (1 - eps) onehot +
     * eps / c (eps spread over all c classes, the true one included). With lse = m + log(sum exp(x - m)),
     * m the row maximum: probs = exp(x - lse) and loss = lse - sum_k q_k x_k (= -sum q log p).
     * Labels were validated by the caller.
     */
    static void softmaxCrossEntropy(float[] logits, long[] labels, float eps, float[] probs, float[] loss, int n, int c) {
        double epsD = eps;
        double onEach = epsD / c;
        double[] e = CpuWorkspace.doubles(CpuWorkspace.ACC, c);
        for (int r = 0; r < n; r++) {
            int base = r * c;
            float m = logits[base];
            for (int k = 1; k < c; k++) {
                m = Math.max(m, logits[base + k]);
            }
            double sum = 0;
            double sumX = 0;
            for (int k = 0; k < c; k++) {
                double v = logits[base + k];
                double ek = Math.exp(v - m);
                e[k] = ek;
                sum += ek;
                sumX += v;
            }
            double inv = 1.0 / sum;
            for (int k = 0; k < c; k++) {
                probs[base + k] = (float) (e[k] * inv);
            }
            double lse = m + Math.log(sum);
            int y = (int) labels[r];
            double qx = (1.0 - epsD) * logits[base + y] + (epsD == 0 ? 0.0 : onEach * sumX);
            loss[r] = (float) (lse - qx);
        }
    }

    /** dlogits = scale (probs - q). */
    static void softmaxCrossEntropyBackward(float[] probs, long[] labels, float eps, float scale, float[] dlogits, int n, int c) {
        double epsD = eps;
        double onEach = epsD / c;
        double on = 1.0 - epsD + onEach;
        double s = scale;
        for (int r = 0; r < n; r++) {
            int base = r * c;
            int y = (int) labels[r];
            for (int k = 0; k < c; k++) {
                dlogits[base + k] = (float) (s * (probs[base + k] - onEach));
            }
            dlogits[base + y] = (float) (s * (probs[base + y] - on));
        }
    }

    /** loss = max(z, 0) - z t + log(1 + exp(-|z|)) (stable form). */
    static void bceWithLogits(float[] z, float[] t, float[] loss, int n) {
        CpuLoops.forRange(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                double v = z[i];
                loss[i] = (float) (Math.max(v, 0.0) - v * t[i] + Math.log1p(Math.exp(-Math.abs(v))));
            }
        });
    }

    /** dz = scale (sigmoid(z) - t). */
    static void bceWithLogitsBackward(float[] z, float[] t, float scale, float[] dz, int n) {
        double s = scale;
        CpuLoops.forRange(n, 16, (from, to) -> {
            for (int i = from; i < to; i++) {
                dz[i] = (float) (s * (CpuActivations.sigmoid(z[i]) - t[i]));
            }
        });
    }

    /** out = (pred - target)^2. */
    static void squaredError(float[] p, float[] t, float[] out, int n) {
        CpuLoops.forRange(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                double d = (double) p[i] - t[i];
                out[i] = (float) (d * d);
            }
        });
    }

    /** dpred = 2 scale (pred - target). */
    static void squaredErrorBackward(float[] p, float[] t, float scale, float[] dp, int n) {
        double s2 = 2.0 * scale;
        CpuLoops.forRange(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                dp[i] = (float) (s2 * ((double) p[i] - t[i]));
            }
        });
    }
}
