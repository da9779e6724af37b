package dev.jtrain.nn.loss;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The mixup loss lambda CE(y_a) + (1 - lambda) CE(y_b) and its gradient against a double reference, on cpu and emu. */
class MixupLossTest {
    static final int N = 5;
    static final int C = 4;

    static float[] logits() {
        float[] z = new float[N * C];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.sin(1.3 * i + 0.4) * 2.5f;
        }
        return z;
    }

    static final long[] YA = {0, 3, 1, 1, 2};
    static final long[] YB = {2, 3, 0, 1, 0};

    /** Returns {loss, grad...} in double. */
    static double[] reference(float[] z, float lambda) {
        double mu = (float) (1.0 - lambda);
        double loss = 0;
        double[] out = new double[1 + N * C];
        for (int n = 0; n < N; n++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) {
                max = Math.max(max, z[n * C + c]);
            }
            double sum = 0;
            for (int c = 0; c < C; c++) {
                sum += Math.exp(z[n * C + c] - max);
            }
            double lse = max + Math.log(sum);
            loss += lambda * (lse - z[n * C + (int) YA[n]]) + mu * (lse - z[n * C + (int) YB[n]]);
            for (int c = 0; c < C; c++) {
                double p = Math.exp(z[n * C + c] - lse);
                double target = (c == YA[n] ? lambda : 0) + (c == YB[n] ? mu : 0);
                out[1 + n * C + c] = (p - target) / N;
            }
        }
        out[0] = loss / N;
        return out;
    }

    static void check(Device device) {
        for (float lambda : new float[] {0.3f, 1f, 0f}) {
            double[] ref = reference(logits(), lambda);
            try (SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(); MixupLoss mix = new MixupLoss(ce);
                 Tensor z = Tensor.of(logits(), N, C).to(device);
                 Tensor ya = Tensor.ofLongs(YA.clone(), N).to(device);
                 Tensor yb = Tensor.ofLongs(YB.clone(), N).to(device)) {
                float loss = mix.forward(z, ya, yb, lambda).to(Device.CPU).item();
                assertEquals(ref[0], loss, 2e-6 * Math.abs(ref[0]) + 1e-6, device + " loss, lambda " + lambda);
                float[] g = mix.backward().to(Device.CPU).floats();
                for (int i = 0; i < N * C; i++) {
                    assertEquals(ref[1 + i], g[i], 1e-6, device + " grad " + i + ", lambda " + lambda);
                }
            }
        }
    }

    @Test
    void mixedLossAndGradientOnCpu() {
        check(Device.CPU);
    }

    @Test
    void mixedLossAndGradientOnEmu() {
        check(TestDevices.gpu());
    }

    @Test
    void lambdaOutsideTheUnitIntervalIsAnError() {
        try (SoftmaxCrossEntropy ce = new SoftmaxCrossEntropy(); MixupLoss mix = new MixupLoss(ce)) {
            Tensor z = Tensor.of(logits(), N, C);
            Tensor y = Tensor.ofLongs(YA.clone(), N);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mix.forward(z, y, y, 1.5f));
            assertEquals("mixup weight lambda must be in [0, 1], got 1.5", e.getMessage());
            assertThrows(IllegalStateException.class, new MixupLoss(ce)::backward);
        }
    }
}
