package dev.jtrain.backend.cpu;

/**
 * Optimizer updates with PyTorch's rules (FORMAT.md items 27-35), elementwise: each element is
 * updated in double from its float32 state and rounded once per stored tensor. Parallel over fixed
 * chunks for large parameters.
 */
final class CpuOptimizers {
    private CpuOptimizers() {
    }

    /**
     * SGD: g = grad + wd p; with momentum buf = g on the first step, else mu buf + (1 - dampening) g;
     * Nesterov uses g + mu buf (updated buf), plain momentum buf; p -= lr * that.
     */
    static void sgd(float[] p, float[] g, float[] buf, float lr, float momentum, float dampening,
                    float weightDecay, boolean nesterov, boolean firstStep, int n) {
        if (CpuLoops.parallel(n)) {
            CpuLoops.forRange(n, (from, to) -> sgdRange(p, g, buf, lr, momentum, dampening, weightDecay, nesterov,
                    firstStep, from, to));
        } else {
            sgdRange(p, g, buf, lr, momentum, dampening, weightDecay, nesterov, firstStep, 0, n);
        }
    }

    private static void sgdRange(float[] p, float[] g, float[] buf, float lr, float momentum, float dampening,
                                 float weightDecay, boolean nesterov, boolean firstStep, int from, int to) {
        double lrD = lr;
        double wd = weightDecay;
        if (momentum == 0f) {
            if (weightDecay == 0f) {
                for (int i = from; i < to; i++) {
                    p[i] = (float) (p[i] - lrD * g[i]);
                }
            } else {
                for (int i = from; i < to; i++) {
                    double pi = p[i];
                    p[i] = (float) (pi - lrD * (g[i] + wd * pi));
                }
            }
            return;
        }
        double mu = momentum;
        double keep = 1.0 - (double) dampening;
        for (int i = from; i < to; i++) {
            double pi = p[i];
            double gi = weightDecay == 0f ? g[i] : g[i] + wd * pi;
            double b = firstStep ? gi : mu * buf[i] + keep * gi;
            float bf = (float) b;
            buf[i] = bf;
            double step = nesterov ? gi + mu * bf : bf;
            p[i] = (float) (pi - lrD * step);
        }
    }

    /** Adagrad: g += wd p; sum += g^2; p -= clr g / (sqrt(sum) + eps). */
    static void adagrad(float[] p, float[] g, float[] sum, float clr, float weightDecay, float eps, int n) {
        double lr = clr;
        double wd = weightDecay;
        double e = eps;
        CpuLoops.forRange(n, 4, (from, to) -> {
            for (int i = from; i < to; i++) {
                double pi = p[i];
                double gi = g[i] + wd * pi;
                float s = (float) (sum[i] + gi * gi);
                sum[i] = s;
                p[i] = (float) (pi - lr * gi / (Math.sqrt(s) + e));
            }
        });
    }

    /**
     * RMSprop (not centred): g += wd p; v = alpha v + (1 - alpha) g^2; without momentum p -= lr g / (sqrt(v) + eps);
     * with momentum buf = mu buf + g / (sqrt(v) + eps) and p -= lr buf.
     */
    static void rmsprop(float[] p, float[] g, float[] sq, float[] buf, float lr, float alpha, float eps,
                        float weightDecay, float momentum, int n) {
        double lrD = lr;
        double a = alpha;
        double e = eps;
        double wd = weightDecay;
        double mu = momentum;
        boolean useMomentum = momentum != 0f;
        CpuLoops.forRange(n, 4, (from, to) -> {
            for (int i = from; i < to; i++) {
                double pi = p[i];
                double gi = g[i] + wd * pi;
                float v = (float) (a * sq[i] + (1.0 - a) * gi * gi);
                sq[i] = v;
                double avg = Math.sqrt(v) + e;
                if (useMomentum) {
                    float b = (float) (mu * buf[i] + gi / avg);
                    buf[i] = b;
                    p[i] = (float) (pi - lrD * b);
                } else {
                    p[i] = (float) (pi - lrD * gi / avg);
                }
            }
        });
    }

    /**
     * Adam (Algorithm 1 with eps after the bias-corrected sqrt(v)), AMSGrad (vmax over the raw v) and
     * AdamW (decoupled: p *= 1 - lr wd first; else g += wd p). Step t starts at 1.
     */
    static void adam(float[] p, float[] g, float[] m, float[] v, float[] vmax, float lr, float beta1, float beta2,
                     float eps, float weightDecay, boolean decoupled, int step, int n) {
        double b1 = beta1;
        double b2 = beta2;
        double bc1 = 1.0 - Math.pow(b1, step);
        double sqrtBc2 = Math.sqrt(1.0 - Math.pow(b2, step));
        double stepSize = lr / bc1;
        double e = eps;
        double wd = weightDecay;
        double decay = decoupled ? 1.0 - (double) lr * wd : 1.0;
        CpuLoops.forRange(n, 4, (from, to) -> {
            for (int i = from; i < to; i++) {
                double pi = p[i];
                double gi = g[i];
                if (decoupled) {
                    pi = (float) (pi * decay);
                } else if (wd != 0) {
                    gi += wd * pi;
                }
                float mi = (float) (b1 * m[i] + (1.0 - b1) * gi);
                float vi = (float) (b2 * v[i] + (1.0 - b2) * gi * gi);
                m[i] = mi;
                v[i] = vi;
                float vUse = vi;
                if (vmax != null) {
                    vUse = Math.max(vmax[i], vi);
                    vmax[i] = vUse;
                }
                double denom = Math.sqrt(vUse) / sqrtBc2 + e;
                p[i] = (float) (pi - stepSize * mi / denom);
            }
        });
    }

    /** grad *= min(1, maxNorm / (sqrt(totalSquares) + 1e-6)); nothing changes when the factor is 1. */
    static void clip(float[] grad, double totalSquares, float maxNorm, int n) {
        double coef = maxNorm / (Math.sqrt(totalSquares) + 1e-6);
        if (coef >= 1.0) {
            return;
        }
        float c = (float) coef;
        CpuElementwise.scale(grad, c, n);
    }
}
