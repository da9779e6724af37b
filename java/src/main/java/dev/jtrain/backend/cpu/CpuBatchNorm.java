package dev.jtrain.backend.cpu;

/**
 * Batch normalisation over [N, C, inner] (FORMAT.md items 8-14): per channel c, statistics over n and
 * inner (M = N * inner values), accumulated in double (two passes: mean, then the biased variance).
 * y = gamma (x - mean) / sqrt(var + eps) + beta; running stats use momentum as the weight of the new
 * value and the unbiased variance var * M / (M - 1). Channels are independent tasks and each channel's
 * sums run over n and inner in index order, so results do not depend on the thread count.
 * Null gamma means 1, null beta means 0.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    static void forwardTrain(float[] x, float[] gamma, float[] beta, float eps, float momentum, float[] rm, float[] rv,
                             float[] y, float[] saveMean, float[] saveVar, int n, int c, int inner) {
        long total = (long) n * c * inner;
        int m = n * inner;
        CpuLoops.forTasks(c, total, j -> {
            double sum = 0;
            for (int r = 0; r < n; r++) {
                int base = (r * c + j) * inner;
                sum += CpuReductions.sumRange(x, base, base + inner);
            }
            double mean = sum / m;
            double sq = 0;
            for (int r = 0; r < n; r++) {
                int base = (r * c + j) * inner;
                for (int i = base; i < base + inner; i++) {
                    double d = x[i] - mean;
                    sq += d * d;
                }
            }
            double var = sq / m;
            double inv = 1.0 / Math.sqrt(var + eps);
            double scale = gamma == null ? inv : gamma[j] * inv;
            double shift = beta == null ? 0.0 : beta[j];
            normalise(x, y, n, c, inner, j, mean, scale, shift);
            if (saveMean != null) {
                saveMean[j] = (float) mean;
                saveVar[j] = (float) var;
            }
            if (rm != null) {
                double mom = momentum;
                double unbiased = var * m / (m - 1);
                rm[j] = (float) ((1.0 - mom) * rm[j] + mom * mean);
                rv[j] = (float) ((1.0 - mom) * rv[j] + mom * unbiased);
            }
        });
    }

    static void forwardEval(float[] x, float[] gamma, float[] beta, float[] rm, float[] rv, float eps, float[] y,
                            int n, int c, int inner) {
        long total = (long) n * c * inner;
        CpuLoops.forTasks(c, total, j -> {
            double inv = 1.0 / Math.sqrt((double) rv[j] + eps);
            double scale = gamma == null ? inv : gamma[j] * inv;
            double shift = beta == null ? 0.0 : beta[j];
            normalise(x, y, n, c, inner, j, rm[j], scale, shift);
        });
    }

    private static void normalise(float[] x, float[] y, int n, int c, int inner, int j, double mean, double scale,
                                  double shift) {
        for (int r = 0; r < n; r++) {
            int base = (r * c + j) * inner;
            for (int i = base; i < base + inner; i++) {
                y[i] = (float) ((x[i] - mean) * scale + shift);
            }
        }
    }

    /**
     * Backward. training: dx = gamma inv / M (M dy - sum dy - xhat sum(dy xhat)); eval: dx = dy gamma inv.
     * dgamma += sum(dy xhat), dbeta += sum(dy) (either may be null); dx may be null to skip it.
     */
    static void backward(float[] x, float[] dy, float[] gamma, float[] mean, float[] var, float eps, boolean training,
                         float[] dx, float[] dgamma, float[] dbeta, int n, int c, int inner) {
        long total = (long) n * c * inner;
        int m = n * inner;
        CpuLoops.forTasks(c, total, j -> {
            double mu = mean[j];
            double inv = 1.0 / Math.sqrt((double) var[j] + eps);
            double g = gamma == null ? 1.0 : gamma[j];
            double sumDy = 0;
            double sumDyXhat = 0;
            for (int r = 0; r < n; r++) {
                int base = (r * c + j) * inner;
                double s0 = 0;
                double s1 = 0;
                for (int i = base; i < base + inner; i++) {
                    double d = dy[i];
                    s0 += d;
                    s1 += d * (x[i] - mu);
                }
                sumDy += s0;
                sumDyXhat += s1;
            }
            sumDyXhat *= inv;
            if (dx != null) {
                if (training) {
                    double k = g * inv / m;
                    for (int r = 0; r < n; r++) {
                        int base = (r * c + j) * inner;
                        for (int i = base; i < base + inner; i++) {
                            double xhat = (x[i] - mu) * inv;
                            dx[i] = (float) (k * (m * (double) dy[i] - sumDy - xhat * sumDyXhat));
                        }
                    }
                } else {
                    double k = g * inv;
                    for (int r = 0; r < n; r++) {
                        int base = (r * c + j) * inner;
                        for (int i = base; i < base + inner; i++) {
                            dx[i] = (float) (k * dy[i]);
                        }
                    }
                }
            }
            if (dgamma != null) {
                dgamma[j] = (float) (dgamma[j] + sumDyXhat);
            }
            if (dbeta != null) {
                dbeta[j] = (float) (dbeta[j] + sumDy);
            }
        });
    }
}
