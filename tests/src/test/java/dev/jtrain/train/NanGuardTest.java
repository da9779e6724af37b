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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The NaN/Inf guard stops at the step where a layer's weights first became non-finite and names that layer. */
class NanGuardTest {

    /** Poisons one element of {@code param} after global step {@code atStep} (registered before the guard). */
    private static String poisonedRun(Device dev, String param, int atStep, float value) {
        Dataset data = TinyRuns.blobs(40, 4, 3, 21);
        Layer net = TinyRuns.mlp(4, 6, 3, 22, dev);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        try (net; opt; SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = TinyRuns.trainer(net, loss, opt, dev); NanGuard guard = new NanGuard(net)) {
            Parameter p = net.namedParameters().get(param);
            int[] global = {0};
            t.addListener(new TrainingListener() {
                @Override
                public void onStep(int epoch, int step, int batchSize, Tensor loss) {
                    if (++global[0] == atStep) {
                        float[] w = TinyRuns.host(p.value());
                        w[w.length / 2] = value;
                        p.set(Tensor.of(w, p.value().dims()));
                    }
                }
            });
            t.addListener(guard);
            DivergenceMonitor.TrainingDivergedException e = assertThrows(DivergenceMonitor.TrainingDivergedException.class,
                    () -> t.fit(data, null, 3, 10, new Generator(23)));
            assertEquals(atStep, guard.steps(), "stopped at the poisoned step, not later");
            return e.getMessage();
        }
    }

    @Test
    void namesTheLayerAndStepWhereANanAppeared() {
        // 4 steps per epoch: step 6 is batch 2 of epoch 2
        String msg = poisonedRun(Device.CPU, "2.weight", 6, Float.NaN);
        assertTrue(msg.contains("at step 6 (epoch 2, batch 2)"), msg);
        assertTrue(msg.contains("layer 2 (2.weight)"), msg);
        String msg0 = poisonedRun(Device.CPU, "0.bias", 2, Float.POSITIVE_INFINITY);
        assertTrue(msg0.contains("at step 2 (epoch 1, batch 2)") && msg0.contains("layer 0 (0.bias)"), msg0);
    }

    @Test
    void worksOnTheGpuDevice() {
        String msg = poisonedRun(TestDevices.gpu(), "2.bias", 3, Float.NaN);
        assertTrue(msg.contains("at step 3 (epoch 1, batch 3)") && msg.contains("layer 2 (2.bias)"), msg);
    }

    @Test
    void aHealthyRunIsNotStopped() {
        Dataset data = TinyRuns.blobs(40, 4, 3, 21);
        Layer net = TinyRuns.mlp(4, 6, 3, 22, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU); NanGuard guard = new NanGuard(net)) {
            t.addListener(guard);
            assertEquals(2, t.fit(data, null, 2, 10, new Generator(23)).size());
            assertEquals(8, guard.steps());
        }
    }

    @Test
    void layerNamesDropTheParameterSuffix() {
        assertEquals("block.conv", NanGuard.layerOf("block.conv.weight"));
        assertEquals("weight", NanGuard.layerOf("weight"));
    }
}
