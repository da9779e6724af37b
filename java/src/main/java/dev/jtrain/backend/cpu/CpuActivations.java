package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;

/**
 * Elementwise activations, PReLU and maxout with PyTorch's conventions (FORMAT.md items 1-7).
 * Every value is computed in double from the float32 inputs and rounded once to float32.
 * Derivatives at exactly 0: relu 0, leaky_relu slope, elu alpha (negative branch), selu scale*alpha,
 * gelu/silu/softplus 0.5; sigmoid and tanh backward use the output (y(1-y), 1-y^2).
 */
final class CpuActivations {
    private CpuActivations() {
    }

    private static final double SQRT1_2 = 0.70710678118654752440;
    private static final double INV_SQRT_2PI = 0.39894228040143267794;
    private static final double SQRT_2_OVER_PI = 0.79788456080286535588;
    private static final double GELU_C = 0.044715;

    /** Rough cost of one element, in simple operations, for the parallel threshold. */
    private static int cost(Activation.Kind kind) {
        return switch (kind) {
            case RELU, LEAKY_RELU, IDENTITY -> 1;
            default -> 16;
        };
    }

    static void forward(Activation act, float[] x, float[] y, int n) {
        Activation.Kind kind = act.kind();
        float a = act.alpha();
        float b = act.beta();
        if (CpuLoops.parallel(n, cost(kind))) {
            CpuLoops.forRange(n, cost(kind), (from, to) -> forwardRange(kind, a, b, x, y, from, to));
        } else {
            forwardRange(kind, a, b, x, y, 0, n);
        }
    }

    static void backward(Activation act, float[] x, float[] y, float[] dy, float[] dx, int n) {
        Activation.Kind kind = act.kind();
        float a = act.alpha();
        float b = act.beta();
        if (CpuLoops.parallel(n, cost(kind))) {
            CpuLoops.forRange(n, cost(kind), (from, to) -> backwardRange(kind, a, b, x, y, dy, dx, from, to));
        } else {
            backwardRange(kind, a, b, x, y, dy, dx, 0, n);
        }
    }

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /** y = max(x, 0) as Math.max does it (NaN stays NaN, -0 becomes +0): the scalar twin of the vector loop. */
    static void reluForwardScalar(float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = Math.max(x[i], 0f);
        }
    }

    private static void forwardRange(Activation.Kind kind, float a, float b, float[] x, float[] y, int from, int to) {
        switch (kind) {
            case RELU -> {
                if (CpuSimd.VECTOR) {
                    CpuVector.reluForward(x, y, from, to);
                } else {
                    reluForwardScalar(x, y, from, to);
                }
            }
            case LEAKY_RELU -> {
                if (CpuSimd.VECTOR) {
                    CpuVector.leakyForward(x, y, a, from, to);
                } else {
                    leakyForwardScalar(x, y, a, from, to);
                }
            }
            case ELU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    y[i] = v > 0 ? (float) v : (float) (a * Math.expm1(v));
                }
            }
            case SELU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    y[i] = (float) (Activation.SELU_SCALE * (v > 0 ? v : Activation.SELU_ALPHA * Math.expm1(v)));
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    y[i] = (float) sigmoid(x[i]);
                }
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    y[i] = (float) Math.tanh(x[i]);
                }
            }
            case GELU_ERF -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    y[i] = (float) (0.5 * v * (1.0 + CpuMath.erf(v * SQRT1_2)));
                }
            }
            case GELU_TANH -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
                    y[i] = (float) (0.5 * v * (1.0 + t));
                }
            }
            case SILU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    y[i] = (float) (v * sigmoid(v));
                }
            }
            case SOFTPLUS -> {
                double beta = a;
                double threshold = b;
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double bx = beta * v;
                    y[i] = bx > threshold ? x[i] : (float) (Math.log1p(Math.exp(bx)) / beta);
                }
            }
            case IDENTITY -> System.arraycopy(x, from, y, from, to - from);
        }
    }

    private static void backwardRange(Activation.Kind kind, float a, float b, float[] x, float[] y, float[] dy,
                                      float[] dx, int from, int to) {
        switch (kind) {
            case RELU -> {
                if (CpuSimd.VECTOR) {
                    CpuVector.reluBackward(x, dy, dx, from, to);
                } else {
                    reluBackwardScalar(x, dy, dx, from, to);
                }
            }
            case LEAKY_RELU -> {
                if (CpuSimd.VECTOR) {
                    CpuVector.leakyBackward(x, dy, dx, a, from, to);
                } else {
                    leakyBackwardScalar(x, dy, dx, a, from, to);
                }
            }
            case ELU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    dx[i] = v > 0 ? dy[i] : (float) (dy[i] * (a * Math.exp(v)));
                }
            }
            case SELU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double d = v > 0 ? Activation.SELU_SCALE
                            : Activation.SELU_SCALE * Activation.SELU_ALPHA * Math.exp(v);
                    dx[i] = (float) (dy[i] * d);
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    double s = y[i];
                    dx[i] = (float) (dy[i] * (s * (1.0 - s)));
                }
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    double t = y[i];
                    dx[i] = (float) (dy[i] * (1.0 - t * t));
                }
            }
            case GELU_ERF -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double cdf = 0.5 * (1.0 + CpuMath.erf(v * SQRT1_2));
                    double pdf = INV_SQRT_2PI * Math.exp(-0.5 * v * v);
                    dx[i] = (float) (dy[i] * (cdf + v * pdf));
                }
            }
            case GELU_TANH -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double v2 = v * v;
                    double t = Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v2 * v));
                    double d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * v2);
                    dx[i] = (float) (dy[i] * d);
                }
            }
            case SILU -> {
                for (int i = from; i < to; i++) {
                    double v = x[i];
                    double s = sigmoid(v);
                    dx[i] = (float) (dy[i] * (s * (1.0 + v * (1.0 - s))));
                }
            }
            case SOFTPLUS -> {
                double beta = a;
                double threshold = b;
                for (int i = from; i < to; i++) {
                    double bx = beta * x[i];
                    dx[i] = bx > threshold ? dy[i] : (float) (dy[i] * sigmoid(bx));
                }
            }
            case IDENTITY -> System.arraycopy(dy, from, dx, from, to - from);
        }
    }

    /** y = x &gt; 0 ? x : x * slope (the scalar twin of {@link CpuVector#leakyForward}). */
    static void leakyForwardScalar(float[] x, float[] y, float slope, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = x[i];
            y[i] = v > 0f ? v : v * slope;
        }
    }

    /** dx = x &gt; 0 ? dy : dy * slope (the scalar twin of {@link CpuVector#leakyBackward}). */
    static void leakyBackwardScalar(float[] x, float[] dy, float[] dx, float slope, int from, int to) {
        for (int i = from; i < to; i++) {
            dx[i] = x[i] > 0f ? dy[i] : dy[i] * slope;
        }
    }

    /** dx = x &gt; 0 ? dy : 0 (the scalar twin of {@link CpuVector#reluBackward}). */
    static void reluBackwardScalar(float[] x, float[] dy, float[] dx, int from, int to) {
        for (int i = from; i < to; i++) {
            dx[i] = x[i] > 0f ? dy[i] : 0f;
        }
    }

    // ------------------------------------------------------------------ PReLU over [N, C, inner]

    /** y = x > 0 ? x : alpha[c] x, with c = 0 for a shared alpha (then call with c = 1, inner = numel / n). */
    static void preluForward(float[] x, float[] alpha, float[] y, int n, int c, int inner) {
        int total = n * c * inner;
        if (CpuLoops.parallel(total)) {
            int planes = n * c;
            CpuLoops.forTasks(planes, total, p -> preluForwardPlane(x, alpha, y, p, c, inner));
        } else {
            for (int p = 0; p < n * c; p++) {
                preluForwardPlane(x, alpha, y, p, c, inner);
            }
        }
    }

    private static void preluForwardPlane(float[] x, float[] alpha, float[] y, int plane, int c, int inner) {
        float a = alpha[plane % c];
        int base = plane * inner;
        for (int i = base; i < base + inner; i++) {
            float v = x[i];
            y[i] = v > 0f ? v : a * v;
        }
    }

    /**
     * dx = dy (x > 0 ? 1 : alpha[c]); dalpha[c] += sum of (x > 0 ? 0 : x dy) over n and inner, in double,
     * channel by channel in index order.
     */
    static void preluBackward(float[] x, float[] alpha, float[] dy, float[] dx, float[] dalpha, int n, int c, int inner) {
        long total = (long) n * c * inner;
        if (c == 1) {
            int len = n * inner;
            double s = CpuLoops.sum(len, (from, to) -> preluBackwardRange(x, alpha[0], dy, dx, from, to));
            if (dalpha != null) {
                dalpha[0] = (float) (dalpha[0] + s);
            }
            return;
        }
        CpuLoops.forTasks(c, total, j -> {
            double s = 0;
            float a = alpha[j];
            for (int r = 0; r < n; r++) {
                int base = (r * c + j) * inner;
                s += preluBackwardRange(x, a, dy, dx, base, base + inner);
            }
            if (dalpha != null) {
                dalpha[j] = (float) (dalpha[j] + s);
            }
        });
    }

    private static double preluBackwardRange(float[] x, float a, float[] dy, float[] dx, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            float v = x[i];
            float g = dy[i];
            if (v > 0f) {
                dx[i] = g;
            } else {
                dx[i] = a * g;
                s += (double) v * g;
            }
        }
        return s;
    }

    // ------------------------------------------------------------------ maxout

    /** z [n, pieces * d] (piece p of unit j at column p * d + j) -> y [n, d], piece [n, d]: first maximum wins. */
    static void maxoutForward(float[] z, int pieces, float[] y, long[] piece, int n, int d) {
        int width = pieces * d;
        for (int r = 0; r < n; r++) {
            int zb = r * width;
            int yb = r * d;
            for (int j = 0; j < d; j++) {
                float best = z[zb + j];
                int bp = 0;
                for (int p = 1; p < pieces; p++) {
                    float v = z[zb + p * d + j];
                    if (v > best) {
                        best = v;
                        bp = p;
                    }
                }
                y[yb + j] = best;
                piece[yb + j] = bp;
            }
        }
    }

    /** dz = 0 except dz[r, piece * d + j] = dy[r, j]; piece values were validated by the caller. */
    static void maxoutBackward(float[] dy, long[] piece, int pieces, float[] dz, int n, int d) {
        int width = pieces * d;
        java.util.Arrays.fill(dz, 0, n * width, 0f);
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                int p = (int) piece[r * d + j];
                dz[r * width + p * d + j] = dy[r * d + j];
            }
        }
    }
}
