package dev.jtrain.docs;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's GPU example ("Using the library"), as written there, on the GPU test device. */
class ReadmeGpuExampleTest {

    @Test
    void theReadmeGpuExampleRunsAndGivesEverythingBack() {
        Device gpu = TestDevices.gpu();
        long before = Backends.memoryStats(gpu).inUseBytes();
        Generator gen = new Generator(0);
        Tensor hostBatch = Tensor.of(new float[128 * 784], 128, 784);
        Tensor hostLabels = Tensor.ofLongs(new long[128], 128);
        Tensor input = Tensor.of(new float[784], 1, 784);
        float l;
        Tensor probeHost;
        // ---- from the README
        try (Sequential model = new Sequential(new Linear(784, 512, true, gen, gpu), new ReLU(),
                                               new Linear(512, 10, true, gen, gpu));
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Optimizer opt = new Adam(model.parameters(), 1e-3);
             Tensor x = Tensor.zeros(gpu, DType.FLOAT32, Shape.of(128, 784));
             Tensor y = Tensor.zeros(gpu, DType.INT64, Shape.of(128))) {
            x.copyFrom(hostBatch);
            y.copyFrom(hostLabels);
            model.zeroGrad();
            l = loss.forward(model.forward(x, true), y).to(Device.CPU).item();
            model.backward(loss.backward());
            opt.step();
            try (TensorScope scope = TensorScope.open()) {
                Tensor probe = scope.keep(model.forward(input.to(gpu), false));
                probeHost = probe.to(Device.CPU);
            }
            MemoryStats stats = Backends.memoryStats(gpu);
            assertTrue(stats.inUseBytes() > before);
        }
        // ----
        assertEquals(Math.log(10), l, 0.05, "all-zero inputs: the loss of near-uniform logits");
        assertEquals(10, probeHost.numel());
        assertEquals(before, Backends.memoryStats(gpu).inUseBytes(), "closing the model, loss, optimizer and tensors "
                + "returned every block");
    }
}
