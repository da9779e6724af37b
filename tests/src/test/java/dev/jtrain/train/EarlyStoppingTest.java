package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Early stopping on a scripted metric sequence: when it stops, and that the best epoch's weights come back bit-exactly. */
class EarlyStoppingTest {

    record Result(List<EpochMetrics> history, List<Map<String, float[]>> weightsPerEpoch, Map<String, float[]> end,
                  EarlyStopping stopping) {
    }

    private static Result run(double[] script, int patience, int epochs, boolean maximize) {
        Dataset data = TinyRuns.blobs(40, 4, 3, 11);
        Layer net = TinyRuns.mlp(4, 6, 3, 12, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.3);
        List<Map<String, float[]>> perEpoch = new ArrayList<>();
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            t.addListener(new TrainingListener() {
                @Override
                public void onEpochEnd(EpochMetrics m) {
                    perEpoch.add(TinyRuns.weights(net));
                }
            });
            EarlyStopping es = maximize
                    ? EarlyStopping.maximizing(net, patience, m -> script[m.epoch() - 1], null)
                    : EarlyStopping.minimizing(net, patience, m -> script[m.epoch() - 1], null);
            t.addListener(es);
            List<EpochMetrics> h = t.fit(data, null, epochs, 10, new Generator(13));
            es.close();
            return new Result(h, perEpoch, TinyRuns.weights(net), es);
        }
    }

    private static void assertWeightsEqual(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), actual.get(k), k); // bit-exact (float equality)
        }
    }

    @Test
    void stopsAfterPatienceEpochsWithoutImprovementAndRestoresTheBest() {
        // best at epoch 2; epoch 4 only ties it (no improvement); 3 epochs without improvement end the run at 5
        Result r = run(new double[] {0.5, 0.7, 0.6, 0.7, 0.65, 0.9, 0.95}, 3, 7, true);
        assertEquals(5, r.history().size());
        assertTrue(r.stopping().stopped());
        assertEquals(2, r.stopping().bestEpoch());
        assertEquals(0.7, r.stopping().bestValue());
        assertWeightsEqual(r.weightsPerEpoch().get(1), r.end());
        // the weights did change after epoch 2 (so the restore is visible)
        assertFalse(java.util.Arrays.equals(r.weightsPerEpoch().get(1).get("0.weight"), r.weightsPerEpoch().get(4).get("0.weight")));
    }

    @Test
    void runsToTheEndWhenItKeepsImprovingOrPatienceIsNotExhausted() {
        Result r = run(new double[] {0.5, 0.4, 0.45, 0.3}, 2, 4, false); // a loss: best (lowest) at epoch 4
        assertEquals(4, r.history().size());
        assertFalse(r.stopping().stopped());
        assertEquals(4, r.stopping().bestEpoch());
        assertWeightsEqual(r.weightsPerEpoch().get(3), r.end());
        Result r2 = run(new double[] {0.3, 0.5, 0.4, 0.45}, 4, 4, false); // best at 1, only 3 epochs after it: not stopped
        assertFalse(r2.stopping().stopped());
        assertEquals(4, r2.history().size());
        assertWeightsEqual(r2.weightsPerEpoch().get(0), r2.end());
    }

    @Test
    void patienceCountsTheEpochsAfterTheBest() {
        Result r = run(new double[] {0.3, 0.5, 0.4, 0.45, 0.1}, 3, 5, false); // 3 epochs after the best at 1: stop at 4
        assertEquals(4, r.history().size());
        assertTrue(r.stopping().stopped());
        assertWeightsEqual(r.weightsPerEpoch().get(0), r.end());
    }

    @Test
    void aNanMetricNeverImproves() {
        Result r = run(new double[] {Double.NaN, 0.2, Double.NaN, Double.NaN}, 2, 4, true);
        assertEquals(4, r.history().size());
        assertEquals(2, r.stopping().bestEpoch());
        assertWeightsEqual(r.weightsPerEpoch().get(1), r.end());
    }

    @Test
    void theDefaultMetricIsTheEvaluationAccuracy() {
        EpochMetrics m = new EpochMetrics(1, 10, 1, 0.5, 0.6, 0.7, 0.8, 1, 0, 10, 0, 0);
        assertEquals(0.8, EarlyStopping.evaluationAccuracy(m), "no validation set: the test accuracy");
        assertEquals(0.7, EarlyStopping.evaluationLoss(m));
        EpochMetrics v = new EpochMetrics(1, 10, 1, 0.5, 0.6, 0.3, 0.4, 0.7, 0.8, 1, 0, 10, 0, 0, null, null);
        assertEquals(0.4, EarlyStopping.evaluationAccuracy(v), "the validation accuracy when there is one");
        assertEquals(0.3, EarlyStopping.evaluationLoss(v));
    }
}
