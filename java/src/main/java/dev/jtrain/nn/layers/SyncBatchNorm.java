package dev.jtrain.nn.layers;

import dev.jtrain.nn.CrossReplicaSums;
import dev.jtrain.tensor.Tensor;

/**
 * The training forward and backward of a {@link BatchNorm} whose statistics are those of the global batch of a
 * data-parallel run (all replicas' samples), on host tensors [N, C, inner]. Sums per channel are taken in double.
 *
 * <p>Forward: each replica sums x and x² per channel and counts its values; one all-reduce of [sum, sum of squares,
 * count] gives the global mean and biased variance (E[x²] − E[x]², in double), which normalise this replica's
 * samples; the running statistics take the unbiased variance of the global count. Backward: with the global
 * statistics, dx needs the global means of dy and dy·x̂. Replica r's dy is the gradient of its own mean loss, which
 * weighs w_r = n_r / n in the global loss, so the sums are all-reduced as w_r Σ dy and w_r Σ dy·x̂ and divided by
 * w_r again for r's own dx (a no-op when the shares are equal). dgamma and dbeta stay local: the data-parallel
 * gradient averaging weights and sums them like every other gradient.
 */
final class SyncBatchNorm {
    private SyncBatchNorm() {
    }

    /** Normalises x with the global statistics into y; saves mean and biased variance; updates the running ones. */
    static void forward(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum, Tensor runningMean,
                        Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar, CrossReplicaSums sums, String name) {
        int c = gamma.numel();
        int n = x.dim(0);
        int inner = x.numel() / (n * c);
        float[] xs = x.floats();
        double[] s = new double[2 * c + 1];
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (i * c + ch) * inner;
                double sum = 0;
                double sq = 0;
                for (int k = 0; k < inner; k++) {
                    double v = xs[base + k];
                    sum += v;
                    sq += v * v;
                }
                s[ch] += sum;
                s[c + ch] += sq;
            }
        }
        s[2 * c] = (double) n * inner;
        sums.allReduceSum(s);
        double count = s[2 * c];
        if (count < 2) {
            throw new IllegalArgumentException(name + ": synchronized training needs more than one value per channel "
                    + "over all replicas, got " + (long) count);
        }
        float[] g = gamma.floats();
        float[] b = beta.floats();
        float[] ys = y.floats();
        float[] sm = saveMean.floats();
        float[] sv = saveVar.floats();
        float[] rm = runningMean.floats();
        float[] rv = runningVar.floats();
        for (int ch = 0; ch < c; ch++) {
            double mean = s[ch] / count;
            double var = Math.max(0, s[c + ch] / count - mean * mean);
            sm[ch] = (float) mean;
            sv[ch] = (float) var;
            rm[ch] = (float) ((1 - momentum) * rm[ch] + momentum * mean);
            rv[ch] = (float) ((1 - momentum) * rv[ch] + momentum * var * count / (count - 1));
        }
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (i * c + ch) * inner;
                double mean = sm[ch];
                double invStd = 1 / Math.sqrt(sv[ch] + (double) eps);
                for (int k = 0; k < inner; k++) {
                    ys[base + k] = (float) ((xs[base + k] - mean) * invStd * g[ch] + b[ch]);
                }
            }
        }
    }

    /** dx of this replica through the global statistics; dgamma and dbeta accumulated with this replica's share. */
    static void backward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps, Tensor dx,
                         Tensor dgamma, Tensor dbeta, CrossReplicaSums sums) {
        int c = gamma.numel();
        int n = x.dim(0);
        int inner = x.numel() / (n * c);
        float[] xs = x.floats();
        float[] dys = dy.floats();
        float[] m = mean.floats();
        float[] v = var.floats();
        double[] invStd = new double[c];
        for (int ch = 0; ch < c; ch++) {
            invStd[ch] = 1 / Math.sqrt(v[ch] + (double) eps);
        }
        double[] s = new double[2 * c + 1];   // Σ dy, Σ dy·x̂ per channel, and the value count
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (i * c + ch) * inner;
                double sdy = 0;
                double sdyx = 0;
                for (int k = 0; k < inner; k++) {
                    double d = dys[base + k];
                    sdy += d;
                    sdyx += d * (xs[base + k] - m[ch]) * invStd[ch];
                }
                s[ch] += sdy;
                s[c + ch] += sdyx;
            }
        }
        if (dgamma != null) {
            float[] dg = dgamma.floats();
            for (int ch = 0; ch < c; ch++) {
                dg[ch] += (float) s[c + ch];
            }
        }
        if (dbeta != null) {
            float[] db = dbeta.floats();
            for (int ch = 0; ch < c; ch++) {
                db[ch] += (float) s[ch];
            }
        }
        double w = sums.localWeight();
        for (int i = 0; i < 2 * c; i++) {
            s[i] *= w;
        }
        s[2 * c] = (double) n * inner;
        sums.allReduceSum(s);
        double count = s[2 * c];
        float[] g = gamma.floats();
        float[] dxs = dx.floats();
        for (int ch = 0; ch < c; ch++) {
            double meanDy = s[ch] / (w * count);
            double meanDyX = s[c + ch] / (w * count);
            double k0 = g[ch] * invStd[ch];
            for (int i = 0; i < n; i++) {
                int base = (i * c + ch) * inner;
                for (int k = 0; k < inner; k++) {
                    double xhat = (xs[base + k] - m[ch]) * invStd[ch];
                    dxs[base + k] = (float) (k0 * (dys[base + k] - meanDy - xhat * meanDyX));
                }
            }
        }
    }
}
