package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * EMA: the averaged weights against the closed form ema_1 = w_1, ema_t = d ema_{t-1} + (1 - d) w_t over the raw
 * weights of every step; training on the raw weights is unchanged by it; evaluation uses the averaged weights; the
 * GPU device gives the same averages.
 */
class WeightAveragingTest {
    private static final double DECAY = 0.8;

    /** A finished run: the raw weights after every step, the final model weights, the history and a re-evaluation. */
    record Run(List<List<float[]>> rawPerStep, List<float[]> finalWeights, List<EpochMetrics> history, Evaluation reeval) {
    }

    private static Run run(Device dev, boolean ema) {
        Dataset train = TinyRuns.blobs(48, 4, 3, 5);
        Dataset test = TinyRuns.blobs(30, 4, 3, 6);
        Layer net = TinyRuns.mlp(4, 6, 3, 7, dev);
        Optimizer opt = TinyRuns.sgd(net, 0.2);
        List<Parameter> params = net.parameters();
        List<List<float[]>> raw = new ArrayList<>();
        try (net; opt; SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = TinyRuns.trainer(net, loss, opt, dev);
             WeightAveraging avg = new WeightAveraging(net, DECAY)) {
            t.addListener(new TrainingListener() {
                @Override
                public void onStep(int epoch, int step, int batchSize, Tensor loss) {
                    List<float[]> w = new ArrayList<>();
                    for (Parameter p : params) {
                        w.add(TinyRuns.host(p.value()));
                    }
                    raw.add(w);
                }
            });
            if (ema) {
                t.addListener(avg);
            }
            List<EpochMetrics> h = t.fit(train, test, 3, 16, new Generator(8));
            List<float[]> fin = new ArrayList<>();
            for (Parameter p : params) {
                fin.add(TinyRuns.host(p.value()));
            }
            return new Run(raw, fin, h, t.evaluate(test, 16));
        }
    }

    private static List<double[]> closedForm(List<List<float[]>> raw) {
        List<double[]> ema = new ArrayList<>();
        for (float[] w : raw.get(0)) {
            double[] e = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                e[i] = w[i];
            }
            ema.add(e);
        }
        for (int t = 1; t < raw.size(); t++) {
            for (int p = 0; p < ema.size(); p++) {
                double[] e = ema.get(p);
                float[] w = raw.get(t).get(p);
                for (int i = 0; i < e.length; i++) {
                    e[i] = DECAY * e[i] + (1 - DECAY) * w[i];
                }
            }
        }
        return ema;
    }

    @Test
    void averagedWeightsMatchTheClosedFormAndAreEvaluated() {
        Run r = run(Device.CPU, true);
        assertEquals(9, r.rawPerStep().size(), "3 epochs of 3 steps");
        List<double[]> expected = closedForm(r.rawPerStep());
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                assertEquals(expected.get(p)[i], r.finalWeights().get(p)[i], 1e-6, "param " + p + "[" + i + "]");
            }
        }
        // the last epoch was evaluated with the averaged weights, which the model holds at the end
        EpochMetrics last = r.history().get(r.history().size() - 1);
        assertEquals(last.testLoss(), r.reeval().loss(), 0.0);
        assertEquals(last.testAccuracy(), r.reeval().accuracy(), 0.0);
    }

    @Test
    void trainingContinuesOnTheRawWeights() {
        Run with = run(Device.CPU, true);
        Run without = run(Device.CPU, false);
        for (int s = 0; s < with.rawPerStep().size(); s++) {
            for (int p = 0; p < with.rawPerStep().get(s).size(); p++) {
                assertArrayEquals(without.rawPerStep().get(s).get(p), with.rawPerStep().get(s).get(p), "step " + s);
            }
        }
        // and the averaged weights differ from the raw ones (so the check above could fail)
        assertEquals(false, java.util.Arrays.equals(without.finalWeights().get(0), with.finalWeights().get(0)));
    }

    @Test
    void theGpuDeviceAveragesTheSame() {
        Device gpu = TestDevices.gpu();
        Run cpu = run(Device.CPU, true);
        Run dev = run(gpu, true);
        List<double[]> expected = closedForm(dev.rawPerStep());
        for (int p = 0; p < expected.size(); p++) {
            for (int i = 0; i < expected.get(p).length; i++) {
                assertEquals(expected.get(p)[i], dev.finalWeights().get(p)[i], 1e-6, "device param " + p + "[" + i + "]");
                assertEquals(cpu.finalWeights().get(p)[i], dev.finalWeights().get(p)[i], 1e-4, "cpu vs device " + p);
            }
        }
    }

    @Test
    void decayOutsideItsRangeIsRejected() {
        Layer net = TinyRuns.mlp(4, 6, 3, 7, Device.CPU);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new WeightAveraging(net, 1.0));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("EMA decay must be in [0, 1)"), e.getMessage());
    }
}
