package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The update/weight ratio against a hand computation: for plain SGD the update of step 2 is lr * grad_2. */
class UpdateRatioMonitorTest {

    private static double norm(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        return Math.sqrt(s);
    }

    @Test
    void ratioIsLrTimesGradNormOverWeightNorm() {
        double lr = 0.05;
        Dataset data = TinyRuns.blobs(40, 4, 3, 31);
        Layer net = TinyRuns.mlp(4, 6, 3, 32, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, lr);
        StringWriter log = new StringWriter();
        Map<String, Double> expected = new LinkedHashMap<>();
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU);
             UpdateRatioMonitor mon = new UpdateRatioMonitor(net, 1, new PrintWriter(log))) {
            Map<String, float[]> afterStep1 = new LinkedHashMap<>();
            t.addListener(new TrainingListener() {
                int step;

                @Override
                public void onStep(int epoch, int s, int batchSize, Tensor loss) {
                    step++;
                    for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
                        if (step == 1) {
                            afterStep1.put(e.getKey(), TinyRuns.host(e.getValue().value()));
                        } else if (step == 2 && e.getKey().endsWith("weight")) {
                            // the step-2 gradient is still there after the step
                            expected.put(e.getKey(), lr * norm(TinyRuns.host(e.getValue().grad())) / norm(afterStep1.get(e.getKey())));
                        }
                    }
                }
            });
            t.addListener(mon);
            t.fit(data, null, 1, 20, new Generator(33)); // 2 full steps
            assertEquals(expected.keySet(), mon.lastRatios().keySet(), "weight matrices only, not biases");
            for (String k : expected.keySet()) {
                assertEquals(expected.get(k), mon.lastRatios().get(k), 1e-3 * expected.get(k), k);
                assertEquals(expected.get(k), mon.epochRatios().get(k), 1e-3 * expected.get(k), k + " (epoch mean of one sample)");
            }
        }
        assertTrue(log.toString().contains("update/weight ratio, epoch 1: 0.weight"), log.toString());
    }

    @Test
    void warnsWhenFarFromOneInAThousand() {
        for (double lr : new double[] {1e-7, 2.0}) {
            Dataset data = TinyRuns.blobs(40, 4, 3, 31);
            Layer net = TinyRuns.mlp(4, 6, 3, 32, Device.CPU);
            Optimizer opt = TinyRuns.sgd(net, lr);
            StringWriter log = new StringWriter();
            try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU);
                 UpdateRatioMonitor mon = new UpdateRatioMonitor(net, 2, new PrintWriter(log))) {
                t.addListener(mon);
                t.fit(data, null, 1, 10, new Generator(33)); // 4 steps: measured at steps 2 and 4
                String want = lr < 1 ? "too small" : "too large";
                assertTrue(log.toString().contains("warning: update/weight ratio of 0.weight") && log.toString().contains(want),
                        lr + ": " + log);
                assertFalse(mon.epochRatios().isEmpty());
            }
        }
    }
}
