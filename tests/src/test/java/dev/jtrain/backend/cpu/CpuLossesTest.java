package dev.jtrain.backend.cpu;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.longs;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Losses (FORMAT.md items 21-24) against float64 formulas. */
class CpuLossesTest {

    private void softmaxCase(float eps) {
        int n = 7;
        int c = 5;
        SplittableRandom r = new SplittableRandom(21);
        float[] x = rand(r, n * c, -3, 3);
        // row 5: logits +-50 and +-20 (needs log-sum-exp)
        float[] row5 = {50, -50, 20, -20, 0};
        System.arraycopy(row5, 0, x, 5 * c, c);
        long[] lab = {0, 4, 2, 1, 3, 1, 0};
        Tensor logits = t(x, n, c);
        Tensor labels = longs(lab, n);
        Tensor probs = zerosT(n, c);
        Tensor loss = zerosT(n);
        B.softmaxCrossEntropy(logits, labels, eps, probs, loss);
        double[] ep = new double[n * c];
        double[] el = new double[n];
        double[] ed = new double[n * c];
        for (int i = 0; i < n; i++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                m = Math.max(m, x[i * c + k]);
            }
            double s = 0;
            for (int k = 0; k < c; k++) {
                s += Math.exp(x[i * c + k] - m);
            }
            double lse = m + Math.log(s);
            for (int k = 0; k < c; k++) {
                double logp = x[i * c + k] - lse;
                double q = (k == lab[i] ? 1 - eps : 0) + eps / (double) c;
                ep[i * c + k] = Math.exp(logp);
                el[i] -= q * logp;
                ed[i * c + k] = (Math.exp(logp) - q) / n;
            }
        }
        close("probs eps=" + eps, ep, probs.floats(), 1e-6, 1e-7);
        close("loss eps=" + eps, el, loss.floats(), 1e-6, 1e-7);
        assertTrue(Float.isFinite(loss.floats()[5]));
        Tensor dlogits = zerosT(n, c);
        B.softmaxCrossEntropyBackward(probs, labels, eps, 1f / n, dlogits);
        close("dlogits eps=" + eps, ed, dlogits.floats(), 1e-5, 1e-7);
    }

    @Test
    void softmaxCrossEntropyWithExtremeLogits() {
        softmaxCase(0f);
    }

    @Test
    void labelSmoothingSpreadsOverAllClasses() {
        softmaxCase(0.1f);
        // one row, 4 classes, uniform logits: q = 0.925 for the label, 0.025 elsewhere; p = 0.25
        Tensor probs = zerosT(1, 4);
        Tensor loss = zerosT(1);
        B.softmaxCrossEntropy(t(new float[4], 1, 4), longs(new long[] {2}, 1), 0.1f, probs, loss);
        Tensor d = zerosT(1, 4);
        B.softmaxCrossEntropyBackward(probs, longs(new long[] {2}, 1), 0.1f, 1f, d);
        close("dlogits uniform", new double[] {0.225, 0.225, 0.25 - 0.925, 0.225}, d.floats(), 1e-6, 1e-7);
        close("loss uniform", Math.log(4), loss.item(), 1e-6, 0);
    }

    @Test
    void labelsOutOfRangeAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> B.softmaxCrossEntropy(
                zerosT(2, 3), longs(new long[] {0, 3}, 2), 0f, zerosT(2, 3), zerosT(2)));
        assertTrue(e.getMessage().contains("labels[1] = 3"), e.getMessage());
    }

    @Test
    void bceWithLogitsStable() {
        SplittableRandom r = new SplittableRandom(22);
        int n = 3 * 7;
        float[] z = rand(r, n, -5, 5);
        z[0] = 60f;
        z[1] = -60f;
        z[2] = 0f;
        float[] tg = rand(r, n, 0, 1);
        tg[3] = 0f;
        tg[4] = 1f;
        Tensor zt = t(z, 3, 7);
        Tensor tt = t(tg, 3, 7);
        Tensor loss = zerosT(3, 7);
        Tensor dz = zerosT(3, 7);
        B.bceWithLogits(zt, tt, loss);
        B.bceWithLogitsBackward(zt, tt, 1f / n, dz);
        double[] el = new double[n];
        double[] ed = new double[n];
        for (int i = 0; i < n; i++) {
            double v = z[i];
            double s = 1 / (1 + Math.exp(-v));
            // -[t log s + (1-t) log(1-s)] with log s = -log1p(e^-v), log(1-s) = -v - log1p(e^-v)
            double l1p = v >= 0 ? Math.log1p(Math.exp(-v)) : -v + Math.log1p(Math.exp(v));
            el[i] = tg[i] * l1p + (1 - tg[i]) * (v + l1p);
            ed[i] = (s - tg[i]) / n;
        }
        close("bce loss", el, loss.floats(), 1e-6, 1e-7);
        close("bce dz", ed, dz.floats(), 1e-6, 1e-8);
    }

    @Test
    void squaredErrorHasNoHalfFactor() {
        SplittableRandom r = new SplittableRandom(23);
        Tensor p = randT(r, -2, 2, 4, 3);
        Tensor q = randT(r, -2, 2, 4, 3);
        Tensor out = zerosT(4, 3);
        Tensor dp = zerosT(4, 3);
        B.squaredError(p, q, out);
        B.squaredErrorBackward(p, q, 1f / 12, dp);
        double[] e = new double[12];
        double[] ed = new double[12];
        for (int i = 0; i < 12; i++) {
            double d = (double) p.floats()[i] - q.floats()[i];
            e[i] = d * d;
            ed[i] = 2 * d / 12;
        }
        close("squared error", e, out.floats(), 1e-6, 1e-8);
        close("dpred", ed, dp.floats(), 1e-6, 1e-8);
    }
}
