package dev.jtrain.backend.cpu;

/**
 * Optimizer updates with PyTorch's rules (FORMAT.md items 27-35), computed like PyTorch's float32
 * kernels: float32 arithmetic, element by element, in the order of PyTorch 1.13's single-tensor
 * optimizers (e.g. Adam: {@code m = m b1 + g (1 - b1)}, {@code v = v b2 + (g (1 - b2)) g},
 * {@code p = p - (m stepSize) / (sqrt(v) / sqrt(bc2) + eps)}). Scalars that PyTorch computes in Python
 * (bias corrections, step size, {@code 1 - lr wd}) are computed in double and rounded to float once.
 * Loops are plain same-index loops that the JIT vectorises (no Vector API warm-up), split over fixed
 * chunks for large parameters; each element's result is independent of the split.
 */
final class CpuOptimizers {
    private CpuOptimizers() {
    }

    /**
     * SGD: g' = wd == 0 ? g : g + wd p; with momentum buf = first ? g' : buf mu + g' (1 - dampening); the step is
     * nesterov ? g' + mu buf : buf (g' without momentum); p = p - lr step.
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

    static void sgdRange(float[] p, float[] g, float[] buf, float lr, float momentum, float dampening,
                         float weightDecay, boolean nesterov, boolean firstStep, int from, int to) {
        float wd = weightDecay;
        if (momentum == 0f) {
            if (wd == 0f) {
                for (int i = from; i < to; i++) {
                    p[i] = p[i] - lr * g[i];
                }
            } else {
                for (int i = from; i < to; i++) {
                    float pi = p[i];
                    p[i] = pi - lr * (g[i] + wd * pi);
                }
            }
            return;
        }
        float mu = momentum;
        float keep = 1f - dampening;
        if (wd == 0f && !nesterov && !firstStep) {
            // the hot case: heavy-ball momentum
            for (int i = from; i < to; i++) {
                float b = buf[i] * mu + g[i] * keep;
                buf[i] = b;
                p[i] = p[i] - lr * b;
            }
            return;
        }
        for (int i = from; i < to; i++) {
            float pi = p[i];
            float gi = wd == 0f ? g[i] : g[i] + wd * pi;
            float b = firstStep ? gi : buf[i] * mu + gi * keep;
            buf[i] = b;
            float step = nesterov ? gi + mu * b : b;
            p[i] = pi - lr * step;
        }
    }

    /** Adagrad: g' = g + wd p (wd != 0); sum = sum + g' g'; p = p - (clr g') / (sqrt(sum) + eps). */
    static void adagrad(float[] p, float[] g, float[] sum, float clr, float weightDecay, float eps, int n) {
        CpuLoops.forRange(n, 4, (from, to) -> {
            float wd = weightDecay;
            for (int i = from; i < to; i++) {
                float pi = p[i];
                float gi = wd == 0f ? g[i] : g[i] + wd * pi;
                float s = sum[i] + gi * gi;
                sum[i] = s;
                p[i] = pi - clr * gi / ((float) Math.sqrt(s) + eps);
            }
        });
    }

    /**
     * RMSprop (not centred): g' = g + wd p (wd != 0); v = v alpha + ((1 - alpha) g') g'; avg = sqrt(v) + eps;
     * with momentum buf = buf mu + g' / avg and p = p - lr buf, else p = p - (lr g') / avg.
     */
    static void rmsprop(float[] p, float[] g, float[] sq, float[] buf, float lr, float alpha, float eps,
                        float weightDecay, float momentum, int n) {
        float c = (float) (1.0 - alpha);
        CpuLoops.forRange(n, 4, (from, to) -> {
            float wd = weightDecay;
            if (momentum == 0f) {
                for (int i = from; i < to; i++) {
                    float pi = p[i];
                    float gi = wd == 0f ? g[i] : g[i] + wd * pi;
                    float v = sq[i] * alpha + c * gi * gi;
                    sq[i] = v;
                    p[i] = pi - lr * gi / ((float) Math.sqrt(v) + eps);
                }
            } else {
                for (int i = from; i < to; i++) {
                    float pi = p[i];
                    float gi = wd == 0f ? g[i] : g[i] + wd * pi;
                    float v = sq[i] * alpha + c * gi * gi;
                    sq[i] = v;
                    float b = buf[i] * momentum + gi / ((float) Math.sqrt(v) + eps);
                    buf[i] = b;
                    p[i] = pi - lr * b;
                }
            }
        });
    }

    /**
     * Adam (Algorithm 1: eps after the bias-corrected sqrt(v)), AMSGrad (vmax = max(vmax, v) on the raw v)
     * and AdamW (decoupled: p = p (1 - lr wd) first; else g' = g + wd p). Step t starts at 1.
     */
    static void adam(float[] p, float[] g, float[] m, float[] v, float[] vmax, float lr, float beta1, float beta2,
                     float eps, float weightDecay, boolean decoupled, int step, int n) {
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float sqrtBc2 = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        float c1 = (float) (1.0 - beta1);
        float c2 = (float) (1.0 - beta2);
        float decay = (float) (1.0 - (double) lr * weightDecay);
        float wd = decoupled ? 0f : weightDecay;
        boolean decays = decoupled && weightDecay != 0f;
        CpuLoops.forRange(n, 4, (from, to) -> adamRange(p, g, m, v, vmax, beta1, beta2, c1, c2, stepSize, sqrtBc2, eps,
                wd, decays, decay, from, to));
    }

    static void adamRange(float[] p, float[] g, float[] m, float[] v, float[] vmax, float b1, float b2, float c1,
                          float c2, float stepSize, float sqrtBc2, float eps, float wd, boolean decays, float decay,
                          int from, int to) {
        if (decays) {
            for (int i = from; i < to; i++) {
                p[i] = p[i] * decay;
            }
        }
        if (vmax == null && wd == 0f) {
            // the hot case: plain Adam or AdamW
            for (int i = from; i < to; i++) {
                float gi = g[i];
                float mi = m[i] * b1 + gi * c1;
                float vi = v[i] * b2 + gi * c2 * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] = p[i] - mi * stepSize / ((float) Math.sqrt(vi) / sqrtBc2 + eps);
            }
            return;
        }
        for (int i = from; i < to; i++) {
            float pi = p[i];
            float gi = wd == 0f ? g[i] : g[i] + wd * pi;
            float mi = m[i] * b1 + gi * c1;
            float vi = v[i] * b2 + gi * c2 * gi;
            m[i] = mi;
            v[i] = vi;
            float vUse = vi;
            if (vmax != null) {
                vUse = Math.max(vmax[i], vi);
                vmax[i] = vUse;
            }
            p[i] = pi - mi * stepSize / ((float) Math.sqrt(vUse) / sqrtBc2 + eps);
        }
    }

    /** grad *= min(1, maxNorm / (sqrt(totalSquares) + 1e-6)) (coefficient in double, applied as a float); no change at 1. */
    static void clip(float[] grad, double totalSquares, float maxNorm, int n) {
        double coef = maxNorm / (Math.sqrt(totalSquares) + 1e-6);
        if (coef >= 1.0) {
            return;
        }
        CpuElementwise.scale(grad, (float) coef, n);
    }
}
