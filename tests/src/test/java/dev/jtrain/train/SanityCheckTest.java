package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --sanity: the initial loss of an untrained 10-class MLP is about ln 10; a scaled-up head fails; 20 samples overfit. */
class SanityCheckTest {
    private static Dataset train;

    @BeforeAll
    static void data() {
        train = TinyRuns.blobs(1000, 20, 10, 51); // 10 classes, standardised-scale features
    }

    private static Layer mlp() {
        return Models.build("mlp", new int[] {20}, 10, new int[] {64}, 0f, new Generator(1));
    }

    @Test
    void initialLossIsAboutLnC() {
        Layer net = mlp();
        try (Trainer t = TinyRuns.trainer(net, TinyRuns.sgd(net, 0.1), Device.CPU)) {
            SanityCheck.InitialLoss il = SanityCheck.initialLoss(t, train, 1000);
            assertEquals(Math.log(10), il.expected(), 1e-15);
            assertEquals(Math.abs(il.loss() - Math.log(10)) / Math.log(10), il.deviation(), 1e-15);
            assertTrue(il.deviation() < 0.05, il.describe());
            assertEquals(SanityCheck.Verdict.OK, il.verdict());
            assertEquals(t.evaluate(train, 1000).loss(), il.loss(), 0.0);
            // a head 50x too large gives confident random predictions: far above ln 10
            Parameter head = net.namedParameters().get("2.weight");
            float[] w = head.value().toFloatArray();
            for (int i = 0; i < w.length; i++) {
                w[i] *= 50;
            }
            head.set(Tensor.of(w, head.value().dims()));
            SanityCheck.InitialLoss bad = SanityCheck.initialLoss(t, train, 1000);
            assertEquals(SanityCheck.Verdict.FAIL, bad.verdict(), bad.describe());
            assertTrue(bad.describe().contains("failed"), bad.describe());
        }
    }

    @Test
    void overfitsTwentySamplesAndRestoresTheWeights() {
        Layer net = mlp();
        Map<String, float[]> before = TinyRuns.weights(net);
        Optimizer mainOpt = TinyRuns.sgd(net, 0.1);
        SanityCheck.Overfit of = SanityCheck.overfit(net, new SoftmaxCrossEntropy(0f),
                m -> Optimizers.create("sgd", m.parameters(), new Optimizers.Settings(0.1, 0.9, false, 0.0)),
                Device.CPU, train, 20, 300, new Generator(2));
        assertTrue(of.passed(), of.describe());
        assertEquals(20, of.samples());
        assertEquals(1.0, of.trainAccuracy());
        assertTrue(of.steps() < 300, of.describe());
        Map<String, float[]> after = TinyRuns.weights(net);
        for (String k : before.keySet()) {
            assertArrayEquals(before.get(k), after.get(k), k);
        }
        assertEquals(0, mainOpt.steps(), "the run's optimizer is untouched");
        // with a learning rate of 1e-9 nothing is learnt: the check fails
        SanityCheck.Overfit none = SanityCheck.overfit(net, new SoftmaxCrossEntropy(0f),
                m -> Optimizers.create("sgd", m.parameters(), new Optimizers.Settings(1e-9, 0.0, false, 0.0)),
                Device.CPU, train, 20, 5, new Generator(2));
        assertFalse(none.passed(), none.describe());
        assertEquals(5, none.steps());
    }
}
