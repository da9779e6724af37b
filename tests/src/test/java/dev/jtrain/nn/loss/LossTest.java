package dev.jtrain.nn.loss;

import dev.jtrain.nn.GradCheck;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LossTest {

    // The losses are smooth; h = 1e-2 gives a truncation error ~h^2/6·|f'''| ~ 2e-5 (times 1/N or
    // 1/numel), and the loss is a float32 scalar of size ~1 whose rounding (~1e-7) divided by 2h is
    // ~5e-6 (measured worst error 2e-6 for CE, 4e-6 for the MSE sum).
    private static final double H = 1e-2;
    private static final double RTOL = 1e-3;
    private static final double ATOL = 2e-5;

    private static final long[] LABELS = {2, 0, 4, 1};

    private static double hostCe(float[] z, long[] labels, int c, double eps, double[] perSample) {
        int n = labels.length;
        double total = 0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                max = Math.max(max, z[i * c + k]);
            }
            double s = 0;
            for (int k = 0; k < c; k++) {
                s += Math.exp(z[i * c + k] - max);
            }
            double lse = max + Math.log(s);
            double l = 0;
            for (int k = 0; k < c; k++) {
                double q = (k == labels[i] ? 1 - eps : 0) + eps / c;
                l -= q * (z[i * c + k] - lse);
            }
            perSample[i] = l;
            total += l;
        }
        return total / n;
    }

    @Test
    void softmaxCrossEntropyValuesAndGradients() {
        for (float eps : new float[] {0f, 0.1f}) {
            SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(eps);
            Tensor z = GradCheck.uniform(1, -3, 3, 4, 5);
            z.floats()[7] = 50f;   // a large logit: log-sum-exp needed
            Tensor labels = Tensor.ofLongs(LABELS.clone(), 4);
            double[] per = new double[4];
            double expect = hostCe(z.floats(), LABELS, 5, eps, per);
            float loss = ce.forward(z, labels).to(Device.CPU).item();
            assertEquals(expect, loss, 1e-5 * Math.max(1, Math.abs(expect)));
            for (int i = 0; i < 4; i++) {
                assertEquals(per[i], ce.lossPerSample().floats()[i], 1e-5 * Math.max(1, per[i]));
            }
            float[] p = ce.probabilities().floats();
            double rowSum = 0;
            for (int k = 0; k < 5; k++) {
                rowSum += p[k];
            }
            assertEquals(1.0, rowSum, 1e-6);
            z.floats()[7] = 5f;   // back to a moderate logit for the numerical check
            GradCheck.checkLoss(ce, z, labels, H, RTOL, ATOL);
        }
    }

    @Test
    void softmaxCrossEntropyGradientIsSoftmaxMinusTargetOverN() {
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0.1f);
        Tensor z = GradCheck.uniform(2, -2, 2, 4, 5);
        ce.forward(z, Tensor.ofLongs(LABELS.clone(), 4));
        float[] d = ce.backward().toFloatArray();
        float[] p = ce.probabilities().floats();
        for (int i = 0; i < 4; i++) {
            for (int k = 0; k < 5; k++) {
                double q = (k == LABELS[i] ? 0.9 : 0) + 0.1 / 5;
                assertEquals((p[i * 5 + k] - q) / 4, d[i * 5 + k], 1e-7);
            }
        }
    }

    @Test
    void softmaxCrossEntropyChecksLabels() {
        SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(0f);
        Tensor z = GradCheck.uniform(2, -2, 2, 4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ce.forward(z, GradCheck.uniform(1, 0, 1, 4)));
        assertTrue(e.getMessage().contains("int64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ce.forward(z, Tensor.ofLongs(new long[] {1, 2}, 2)));
        assertThrows(IllegalStateException.class, () -> new SoftmaxCrossEntropy(0f).backward());
        assertThrows(IllegalArgumentException.class, () -> new SoftmaxCrossEntropy(-0.1f));
    }

    @Test
    void bceWithLogitsValuesAndGradients() {
        BceWithLogits bce = new BceWithLogits();
        Tensor z = GradCheck.uniform(3, -4, 4, 3, 4);
        z.floats()[0] = 30f;
        z.floats()[1] = -30f;
        Tensor t = GradCheck.uniform(4, 0, 1, 3, 4);   // soft targets
        t.floats()[2] = 1f;
        t.floats()[3] = 0f;
        float loss = bce.forward(z, t).to(Device.CPU).item();
        double sum = 0;
        for (int i = 0; i < 12; i++) {
            double zi = z.floats()[i];
            double ti = t.floats()[i];
            double l = Math.max(zi, 0) - zi * ti + Math.log1p(Math.exp(-Math.abs(zi)));
            assertEquals(l, bce.lossPerElement().floats()[i], 1e-5 * Math.max(1, Math.abs(l)));
            sum += l;
        }
        assertEquals(sum / 12, loss, 1e-5);
        // the ±30 logits make the mean loss ~3: its float32 rounding (~2e-7) over 2h is ~1e-5 on the slope
        GradCheck.checkLoss(bce, z, t, H, RTOL, 6e-5);
        float[] d = bce.backward().toFloatArray();
        assertEquals((1 / (1 + Math.exp(-30)) - t.floats()[0]) / 12, d[0], 1e-7);
    }

    @Test
    void mseMeanAndSum() {
        Tensor pred = GradCheck.uniform(5, -2, 2, 3, 4);
        Tensor target = GradCheck.uniform(6, -2, 2, 3, 4);
        double ss = 0;
        for (int i = 0; i < 12; i++) {
            double d = pred.floats()[i] - target.floats()[i];
            ss += d * d;
        }
        MseLoss mean = new MseLoss(Reduction.MEAN);
        MseLoss sum = new MseLoss(Reduction.SUM);
        assertEquals(ss / 12, mean.forward(pred, target).to(Device.CPU).item(), 1e-5);   // no ½, divide by N·D
        assertEquals(ss, sum.forward(pred, target).to(Device.CPU).item(), 1e-4);
        float[] dm = mean.backward().toFloatArray();
        float[] ds = sum.backward().toFloatArray();
        for (int i = 0; i < 12; i++) {
            double d = pred.floats()[i] - target.floats()[i];
            assertEquals(2 * d / 12, dm[i], 1e-6);
            assertEquals(2 * d, ds[i], 1e-5);
        }
        GradCheck.checkLoss(mean, pred, target, H, RTOL, ATOL);
        // the sum is ~10: its float32 rounding (~1e-6) over 2h sets a larger absolute floor
        GradCheck.checkLoss(sum, pred, target, H, RTOL, 1e-4);
        assertArrayEquals(new int[] {}, mean.forward(pred, target).dims());
    }
}
