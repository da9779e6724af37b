package dev.jtrain.backend.cpu;

import java.util.Arrays;

/**
 * Batch normalisation over [N, C, inner] (FORMAT.md items 8-14): per channel c, statistics over n and
 * inner (M = N * inner values), accumulated in double in two passes (mean, then the biased variance).
 * y = gamma (x - mean) / sqrt(var + eps) + beta; running stats use momentum as the weight of the new
 * value and the unbiased variance var * M / (M - 1). Null gamma means 1, null beta means 0.
 *
 * <p>Layout of the work: a channel's values are n rows of {@code inner} contiguous elements. Sums run
 * "by column": a double accumulator per position along a row, each summed over the n rows in order,
 * then (for inner &gt; 1) the accumulators are added in index order. For inner = 1 ([N, C] input) the
 * columns are the channels themselves, processed in blocks. Every lane of the Vector API loops does the
 * same arithmetic as the scalar twins here, so the bits depend neither on the thread count nor on
 * whether the Vector API is enabled.
 */
final class CpuBatchNorm {
    private CpuBatchNorm() {
    }

    /** Channels per task for [N, C] input. */
    private static final int COLS_PER_TASK = 64;

    // ------------------------------------------------------------------ forward

    static void forwardTrain(float[] x, float[] gamma, float[] beta, float eps, float momentum, float[] rm, float[] rv,
                             float[] y, float[] saveMean, float[] saveVar, int n, int c, int inner) {
        long total = (long) n * c * inner;
        int m = n * inner;
        if (inner == 1) {
            int tasks = (c + COLS_PER_TASK - 1) / COLS_PER_TASK;
            CpuLoops.forTasks(tasks, total, t -> {
                int c0 = t * COLS_PER_TASK;
                int w = Math.min(c, c0 + COLS_PER_TASK) - c0;
                double[] acc = zeroed(CpuWorkspace.ACC, w);
                double[] mean = CpuWorkspace.doubles(CpuWorkspace.BN_MEAN, w);
                for (int r = 0; r < n; r++) {
                    accumulateRow(acc, x, r * c + c0, w);
                }
                for (int j = 0; j < w; j++) {
                    mean[j] = acc[j] / m;
                }
                double[] sq = zeroed(CpuWorkspace.ACC2, w);
                for (int r = 0; r < n; r++) {
                    accSqDev(sq, x, r * c + c0, w, mean);
                }
                double[] scale = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, w);
                double[] shift = CpuWorkspace.doubles(CpuWorkspace.BN_SHIFT, w);
                for (int j = 0; j < w; j++) {
                    double var = sq[j] / m;
                    finishChannel(c0 + j, mean[j], var, m, eps, momentum, gamma, beta, rm, rv, saveMean, saveVar,
                            scale, shift, j);
                }
                for (int r = 0; r < n; r++) {
                    normalize(x, y, r * c + c0, w, mean, scale, shift);
                }
            });
            return;
        }
        CpuLoops.forTasks(c, total, j -> {
            double[] acc = zeroed(CpuWorkspace.ACC, inner);
            for (int r = 0; r < n; r++) {
                accumulateRow(acc, x, (r * c + j) * inner, inner);
            }
            double mu = sum(acc, inner) / m;
            double[] mean = filled(CpuWorkspace.BN_MEAN, inner, mu);
            double[] sq = zeroed(CpuWorkspace.ACC2, inner);
            for (int r = 0; r < n; r++) {
                accSqDev(sq, x, (r * c + j) * inner, inner, mean);
            }
            double var = sum(sq, inner) / m;
            double[] scale = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, inner);
            double[] shift = CpuWorkspace.doubles(CpuWorkspace.BN_SHIFT, inner);
            finishChannel(j, mu, var, m, eps, momentum, gamma, beta, rm, rv, saveMean, saveVar, scale, shift, 0);
            Arrays.fill(scale, 1, inner, scale[0]);
            Arrays.fill(shift, 1, inner, shift[0]);
            for (int r = 0; r < n; r++) {
                normalize(x, y, (r * c + j) * inner, inner, mean, scale, shift);
            }
        });
    }

    /** Saves the statistics of channel ch, updates its running stats, sets scale[at] and shift[at]. */
    private static void finishChannel(int ch, double mean, double var, int m, float eps, float momentum, float[] gamma,
                                      float[] beta, float[] rm, float[] rv, float[] saveMean, float[] saveVar,
                                      double[] scale, double[] shift, int at) {
        double inv = 1.0 / Math.sqrt(var + eps);
        scale[at] = gamma == null ? inv : gamma[ch] * inv;
        shift[at] = beta == null ? 0.0 : beta[ch];
        if (saveMean != null) {
            saveMean[ch] = (float) mean;
            saveVar[ch] = (float) var;
        }
        if (rm != null) {
            double mom = momentum;
            double unbiased = var * m / (m - 1);
            rm[ch] = (float) ((1.0 - mom) * rm[ch] + mom * mean);
            rv[ch] = (float) ((1.0 - mom) * rv[ch] + mom * unbiased);
        }
    }

    static void forwardEval(float[] x, float[] gamma, float[] beta, float[] rm, float[] rv, float eps, float[] y,
                            int n, int c, int inner) {
        long total = (long) n * c * inner;
        if (inner == 1) {
            int tasks = (c + COLS_PER_TASK - 1) / COLS_PER_TASK;
            CpuLoops.forTasks(tasks, total, t -> {
                int c0 = t * COLS_PER_TASK;
                int w = Math.min(c, c0 + COLS_PER_TASK) - c0;
                double[] mean = CpuWorkspace.doubles(CpuWorkspace.BN_MEAN, w);
                double[] scale = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, w);
                double[] shift = CpuWorkspace.doubles(CpuWorkspace.BN_SHIFT, w);
                for (int j = 0; j < w; j++) {
                    evalCoefficients(c0 + j, gamma, beta, rm, rv, eps, mean, scale, shift, j);
                }
                for (int r = 0; r < n; r++) {
                    normalize(x, y, r * c + c0, w, mean, scale, shift);
                }
            });
            return;
        }
        CpuLoops.forTasks(c, total, j -> {
            double[] mean = CpuWorkspace.doubles(CpuWorkspace.BN_MEAN, inner);
            double[] scale = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, inner);
            double[] shift = CpuWorkspace.doubles(CpuWorkspace.BN_SHIFT, inner);
            evalCoefficients(j, gamma, beta, rm, rv, eps, mean, scale, shift, 0);
            Arrays.fill(mean, 1, inner, mean[0]);
            Arrays.fill(scale, 1, inner, scale[0]);
            Arrays.fill(shift, 1, inner, shift[0]);
            for (int r = 0; r < n; r++) {
                normalize(x, y, (r * c + j) * inner, inner, mean, scale, shift);
            }
        });
    }

    private static void evalCoefficients(int ch, float[] gamma, float[] beta, float[] rm, float[] rv, float eps,
                                         double[] mean, double[] scale, double[] shift, int at) {
        double inv = 1.0 / Math.sqrt((double) rv[ch] + eps);
        mean[at] = rm[ch];
        scale[at] = gamma == null ? inv : gamma[ch] * inv;
        shift[at] = beta == null ? 0.0 : beta[ch];
    }

    // ------------------------------------------------------------------ backward

    /**
     * Backward. training: dx = k (M dy - sum dy - (x - mean) a) with k = gamma inv / M and
     * a = inv * sum(dy xhat) (= gamma inv / M (M dy - sum dy - xhat sum(dy xhat)), FORMAT.md item 12);
     * eval: dx = gamma inv dy. dgamma += sum(dy xhat), dbeta += sum(dy) (either may be null); dx may be null.
     */
    static void backward(float[] x, float[] dy, float[] gamma, float[] mean, float[] var, float eps, boolean training,
                         float[] dx, float[] dgamma, float[] dbeta, int n, int c, int inner) {
        long total = (long) n * c * inner;
        int m = n * inner;
        if (inner == 1) {
            int tasks = (c + COLS_PER_TASK - 1) / COLS_PER_TASK;
            CpuLoops.forTasks(tasks, total, t -> {
                int c0 = t * COLS_PER_TASK;
                int w = Math.min(c, c0 + COLS_PER_TASK) - c0;
                double[] mu = CpuWorkspace.doubles(CpuWorkspace.BN_MEAN, w);
                for (int j = 0; j < w; j++) {
                    mu[j] = mean[c0 + j];
                }
                double[] sDy = zeroed(CpuWorkspace.ACC, w);
                double[] sDyX = zeroed(CpuWorkspace.ACC2, w);
                for (int r = 0; r < n; r++) {
                    accDyDev(sDy, sDyX, dy, x, r * c + c0, w, mu);
                }
                double[] k = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, w);
                double[] a = CpuWorkspace.doubles(CpuWorkspace.BN_A, w);
                for (int j = 0; j < w; j++) {
                    channelGrads(c0 + j, sDy[j], sDyX[j], m, gamma, var, eps, training, dgamma, dbeta, k, a, j);
                }
                if (dx != null) {
                    for (int r = 0; r < n; r++) {
                        if (training) {
                            bnDx(dy, x, dx, r * c + c0, w, m, mu, k, sDy, a);
                        } else {
                            scaleCols(dy, dx, r * c + c0, w, k);
                        }
                    }
                }
            });
            return;
        }
        CpuLoops.forTasks(c, total, j -> {
            double[] mu = filled(CpuWorkspace.BN_MEAN, inner, mean[j]);
            double[] accDy = zeroed(CpuWorkspace.ACC, inner);
            double[] accDyX = zeroed(CpuWorkspace.ACC2, inner);
            for (int r = 0; r < n; r++) {
                accDyDev(accDy, accDyX, dy, x, (r * c + j) * inner, inner, mu);
            }
            double sumDy = sum(accDy, inner);
            double sumDyX = sum(accDyX, inner);
            double[] k = CpuWorkspace.doubles(CpuWorkspace.BN_SCALE, inner);
            double[] a = CpuWorkspace.doubles(CpuWorkspace.BN_A, inner);
            channelGrads(j, sumDy, sumDyX, m, gamma, var, eps, training, dgamma, dbeta, k, a, 0);
            if (dx != null) {
                Arrays.fill(k, 1, inner, k[0]);
                Arrays.fill(a, 1, inner, a[0]);
                double[] sDy = filled(CpuWorkspace.BN_B, inner, sumDy);
                for (int r = 0; r < n; r++) {
                    if (training) {
                        bnDx(dy, x, dx, (r * c + j) * inner, inner, m, mu, k, sDy, a);
                    } else {
                        scaleCols(dy, dx, (r * c + j) * inner, inner, k);
                    }
                }
            }
        });
    }

    /** Accumulates dgamma/dbeta of channel ch and sets the dx coefficients k[at], a[at]. */
    private static void channelGrads(int ch, double sumDy, double sumDyX, int m, float[] gamma, float[] var, float eps,
                                     boolean training, float[] dgamma, float[] dbeta, double[] k, double[] a, int at) {
        double inv = 1.0 / Math.sqrt((double) var[ch] + eps);
        double g = gamma == null ? 1.0 : gamma[ch];
        double sumDyXhat = sumDyX * inv;
        if (training) {
            k[at] = g * inv / m;
            a[at] = inv * sumDyXhat;
        } else {
            k[at] = g * inv;
            a[at] = 0;
        }
        if (dgamma != null) {
            dgamma[ch] = (float) (dgamma[ch] + sumDyXhat);
        }
        if (dbeta != null) {
            dbeta[ch] = (float) (dbeta[ch] + sumDy);
        }
    }

    // ------------------------------------------------------------------ helpers and scalar twins

    private static double[] zeroed(int slot, int n) {
        double[] a = CpuWorkspace.doubles(slot, n);
        Arrays.fill(a, 0, n, 0.0);
        return a;
    }

    private static double[] filled(int slot, int n, double v) {
        double[] a = CpuWorkspace.doubles(slot, n);
        Arrays.fill(a, 0, n, v);
        return a;
    }

    /** Sum of a[0..n) in double, four interleaved accumulators, fixed order. */
    static double sum(double[] a, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static void accumulateRow(double[] acc, float[] x, int off, int n) {
        if (CpuSimd.VECTOR) {
            CpuVector.accumulateRow(acc, x, off, n);
        } else {
            CpuBias.accumulateRowScalar(acc, x, off, n);
        }
    }

    private static void accSqDev(double[] acc, float[] x, int off, int n, double[] mean) {
        if (CpuSimd.VECTOR) {
            CpuVector.accSqDev(acc, x, off, n, mean);
        } else {
            accSqDevScalar(acc, x, off, 0, n, mean);
        }
    }

    private static void normalize(float[] x, float[] y, int off, int n, double[] mean, double[] scale, double[] shift) {
        if (CpuSimd.VECTOR) {
            CpuVector.normalize(x, y, off, n, mean, scale, shift);
        } else {
            normalizeScalar(x, y, off, 0, n, mean, scale, shift);
        }
    }

    private static void accDyDev(double[] accDy, double[] accDyX, float[] dy, float[] x, int off, int n, double[] mean) {
        if (CpuSimd.VECTOR) {
            CpuVector.accDyDev(accDy, accDyX, dy, x, off, n, mean);
        } else {
            accDyDevScalar(accDy, accDyX, dy, x, off, 0, n, mean);
        }
    }

    private static void bnDx(float[] dy, float[] x, float[] dx, int off, int n, double m, double[] mean, double[] k,
                             double[] sumDy, double[] a) {
        if (CpuSimd.VECTOR) {
            CpuVector.bnDx(dy, x, dx, off, n, m, mean, k, sumDy, a);
        } else {
            bnDxScalar(dy, x, dx, off, 0, n, m, mean, k, sumDy, a);
        }
    }

    private static void scaleCols(float[] dy, float[] dx, int off, int n, double[] k) {
        if (CpuSimd.VECTOR) {
            CpuVector.scaleCols(dy, dx, off, n, k);
        } else {
            scaleColsScalar(dy, dx, off, 0, n, k);
        }
    }

    static void accSqDevScalar(double[] acc, float[] x, int off, int from, int n, double[] mean) {
        for (int j = from; j < n; j++) {
            double d = x[off + j] - mean[j];
            acc[j] += d * d;
        }
    }

    static void normalizeScalar(float[] x, float[] y, int off, int from, int n, double[] mean, double[] scale,
                                double[] shift) {
        for (int j = from; j < n; j++) {
            y[off + j] = (float) ((x[off + j] - mean[j]) * scale[j] + shift[j]);
        }
    }

    static void accDyDevScalar(double[] accDy, double[] accDyX, float[] dy, float[] x, int off, int from, int n,
                               double[] mean) {
        for (int j = from; j < n; j++) {
            double g = dy[off + j];
            accDy[j] += g;
            accDyX[j] += g * (x[off + j] - mean[j]);
        }
    }

    static void bnDxScalar(float[] dy, float[] x, float[] dx, int off, int from, int n, double m, double[] mean,
                           double[] k, double[] sumDy, double[] a) {
        for (int j = from; j < n; j++) {
            double d = x[off + j] - mean[j];
            double t = dy[off + j] * m - sumDy[j] - d * a[j];
            dx[off + j] = (float) (k[j] * t);
        }
    }

    static void scaleColsScalar(float[] dy, float[] dx, int off, int from, int n, double[] k) {
        for (int j = from; j < n; j++) {
            dx[off + j] = (float) (k[j] * dy[off + j]);
        }
    }
}
