package dev.jtrain.backend.cpu;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Optimizer steps (FORMAT.md 27-35) against the PyTorch rules written out in float64, over 6 steps with
 * gradients scaled 1, 0.5, 1.5, 0.01, 0.02, 1 and element 0 always zero (so AMSGrad matters).
 */
class CpuOptimizersTest {
    static final int N = 12;
    static final double[] SCALES = {1, 0.5, 1.5, 0.01, 0.02, 1};

    static float[] p0() {
        return rand(new SplittableRandom(51), N, -1, 1);
    }

    static float[] grad(int step) {
        float[] g = rand(new SplittableRandom(60 + step), N, -1, 1);
        for (int i = 0; i < N; i++) {
            g[i] = (float) (g[i] * SCALES[step]);
        }
        g[0] = 0f;
        return g;
    }

    private void sgdCase(float lr, float mu, float damp, float wd, boolean nesterov) {
        Tensor p = t(p0(), 3, 4);
        Tensor buf = zerosT(3, 4);
        double[] ep = CpuTestSupport.d(p0());
        double[] eb = new double[N];
        for (int s = 0; s < 6; s++) {
            float[] g = grad(s);
            B.sgdStep(p, t(g, 3, 4), mu != 0 ? buf : null, lr, mu, damp, wd, nesterov, s == 0);
            for (int i = 0; i < N; i++) {
                double gi = g[i] + (double) wd * ep[i];
                if (mu != 0) {
                    eb[i] = s == 0 ? gi : mu * eb[i] + (1 - damp) * gi;
                    gi = nesterov ? gi + mu * eb[i] : eb[i];
                }
                ep[i] -= lr * gi;
            }
            String name = "sgd mu=" + mu + " wd=" + wd + " nesterov=" + nesterov + " step " + (s + 1);
            close(name + " param", ep, p.floats(), 1e-5, 1e-6);
            if (mu != 0) {
                close(name + " buf", eb, buf.floats(), 1e-5, 1e-6);
            }
        }
    }

    @Test
    void sgdVariants() {
        sgdCase(0.1f, 0f, 0f, 0f, false);
        sgdCase(0.1f, 0.9f, 0f, 0f, false);
        sgdCase(0.1f, 0.9f, 0f, 0f, true);
        sgdCase(0.1f, 0f, 0f, 0.01f, false);
        sgdCase(0.1f, 0.9f, 0f, 0.01f, false);
        sgdCase(0.1f, 0.9f, 0.3f, 0f, false);
    }

    @Test
    void nesterovFirstStepMovesByLrTimesOnePlusMu() {
        Tensor p = t(new float[] {1f}, 1);
        Tensor buf = zerosT(1);
        B.sgdStep(p, t(new float[] {2f}, 1), buf, 0.1f, 0.9f, 0f, 0f, true, true);
        close("p", 1 - 0.1 * 1.9 * 2, p.item(), 1e-6, 0);
    }

    @Test
    void sgdLargeParameterParallelPath() {
        int n = 401_408;
        float[] pv = rand(new SplittableRandom(52), n, -1, 1);
        float[] gv = rand(new SplittableRandom(53), n, -1, 1);
        Tensor p = t(pv.clone(), n);
        Tensor buf = zerosT(n);
        B.sgdStep(p, t(gv, n), buf, 0.05f, 0.9f, 0f, 1e-4f, false, true);
        double[] e = new double[n];
        for (int i = 0; i < n; i++) {
            e[i] = pv[i] - 0.05f * (gv[i] + 1e-4f * (double) pv[i]);
        }
        close("sgd large", e, p.floats(), 1e-6, 1e-7);
    }

    @Test
    void adagrad() {
        float lr = 0.1f;
        float lrDecay = 0.05f;
        Tensor p = t(p0(), 3, 4);
        Tensor sum = zerosT(3, 4);
        double[] ep = CpuTestSupport.d(p0());
        double[] es = new double[N];
        for (int s = 0; s < 6; s++) {
            float[] g = grad(s);
            double clr = lr / (1 + s * (double) lrDecay);
            B.adagradStep(p, t(g, 3, 4), sum, (float) clr, 0.01f, 1e-10f);
            for (int i = 0; i < N; i++) {
                double gi = g[i] + 0.01f * ep[i];
                es[i] += gi * gi;
                ep[i] -= clr * gi / (Math.sqrt(es[i]) + 1e-10);
            }
            close("adagrad param step " + (s + 1), ep, p.floats(), 1e-5, 1e-6);
            close("adagrad sum step " + (s + 1), es, sum.floats(), 1e-5, 1e-6);
        }
    }

    private void rmspropCase(float mu) {
        float lr = 0.01f;
        double alpha = 0.99f;
        Tensor p = t(p0(), 3, 4);
        Tensor sq = zerosT(3, 4);
        Tensor buf = zerosT(3, 4);
        double[] ep = CpuTestSupport.d(p0());
        double[] ev = new double[N];
        double[] eb = new double[N];
        for (int s = 0; s < 6; s++) {
            float[] g = grad(s);
            B.rmspropStep(p, t(g, 3, 4), sq, mu != 0 ? buf : null, lr, (float) alpha, 1e-8f, 0f, mu);
            for (int i = 0; i < N; i++) {
                double gi = g[i];
                ev[i] = alpha * ev[i] + (1 - alpha) * gi * gi;
                double avg = Math.sqrt(ev[i]) + 1e-8;
                if (mu != 0) {
                    eb[i] = mu * eb[i] + gi / avg;
                    ep[i] -= lr * eb[i];
                } else {
                    ep[i] -= lr * gi / avg;
                }
            }
            close("rmsprop mu=" + mu + " param step " + (s + 1), ep, p.floats(), 1e-5, 1e-6);
            close("rmsprop square_avg step " + (s + 1), ev, sq.floats(), 1e-5, 1e-7);
            if (mu != 0) {
                close("rmsprop buf step " + (s + 1), eb, buf.floats(), 1e-5, 1e-6);
            }
        }
    }

    @Test
    void rmspropWithoutAndWithMomentum() {
        rmspropCase(0f);
        rmspropCase(0.9f);
    }

    private void adamCase(float wd, boolean amsgrad, boolean decoupled) {
        float lr = 0.001f;
        double b1 = 0.9f;
        double b2 = 0.999f;
        double eps = 1e-8f;
        Tensor p = t(p0(), 3, 4);
        Tensor m = zerosT(3, 4);
        Tensor v = zerosT(3, 4);
        Tensor vmax = amsgrad ? zerosT(3, 4) : null;
        double[] ep = CpuTestSupport.d(p0());
        double[] em = new double[N];
        double[] ev = new double[N];
        double[] evm = new double[N];
        for (int s = 1; s <= 6; s++) {
            float[] g = grad(s - 1);
            B.adamStep(p, t(g, 3, 4), m, v, vmax, lr, (float) b1, (float) b2, (float) eps, wd, decoupled, s);
            for (int i = 0; i < N; i++) {
                double gi = g[i];
                if (decoupled) {
                    ep[i] *= 1 - (double) lr * wd;
                } else {
                    gi += wd * ep[i];
                }
                em[i] = b1 * em[i] + (1 - b1) * gi;
                ev[i] = b2 * ev[i] + (1 - b2) * gi * gi;
                evm[i] = Math.max(evm[i], ev[i]);
                double vv = amsgrad ? evm[i] : ev[i];
                double denom = Math.sqrt(vv) / Math.sqrt(1 - Math.pow(b2, s)) + eps;
                ep[i] -= lr / (1 - Math.pow(b1, s)) * em[i] / denom;
            }
            String name = "adam wd=" + wd + " amsgrad=" + amsgrad + " decoupled=" + decoupled + " step " + s;
            close(name + " param", ep, p.floats(), 1e-5, 1e-6);
            close(name + " exp_avg", em, m.floats(), 1e-5, 1e-7);
            close(name + " exp_avg_sq", ev, v.floats(), 1e-5, 1e-9);
            if (amsgrad) {
                close(name + " max_exp_avg_sq", evm, vmax.floats(), 1e-5, 1e-9);
            }
        }
    }

    @Test
    void adamAmsgradAdamW() {
        adamCase(0f, false, false);
        adamCase(0.01f, false, false);
        adamCase(0f, true, false);
        adamCase(0.01f, false, true);
    }

    @Test
    void clipByGlobalNorm() {
        float[] a = {3f, 4f};
        float[] b = {12f};
        Tensor ga = t(a.clone(), 2);
        Tensor gb = t(b.clone(), 1);
        Tensor total = zerosT(1);
        B.sumSquares(ga, total, false);
        B.sumSquares(gb, total, true);
        close("total squares", 169, total.item(), 0, 0);
        B.clipByGlobalNorm(ga, total, 1f);
        B.clipByGlobalNorm(gb, total, 1f);
        double coef = 1 / (13 + 1e-6);
        close("clipped a", new double[] {3 * coef, 4 * coef}, ga.floats(), 1e-6, 0);
        close("clipped b", new double[] {12 * coef}, gb.floats(), 1e-6, 0);
        Tensor gc = t(a.clone(), 2);
        B.clipByGlobalNorm(gc, total, 100f);
        assertArrayEquals(a, gc.floats());
    }
}
