package dev.jtrain.infer;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;
import dev.jtrain.train.Models;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model used only for inference holds its weights and nothing else: gradients are allocated by the first backward
 * (or {@code grad()}), and a predictor's replicas read the trained weights instead of copying them. Shown by the
 * emu allocator's in-use bytes and the JVM's per-thread allocation counter, not by flags alone.
 */
class InferenceMemoryTest {
    private static final int[] HIDDEN = {256, 256};

    private static Supplier<Layer> mlp(Device device) {
        return () -> Models.mlp(300, HIDDEN, 10, 0f, new Generator(3), device);
    }

    @Test
    void anEvalModelOnADeviceHoldsItsWeightsOnlyAndTrainingAddsTheGradients() {
        Device emu = TestDevices.gpu();
        long start = TestDevices.inUseBytes(emu);
        try (Layer model = mlp(emu).get()) {
            long weights = TestDevices.inUseBytes(emu) - start;
            assertTrue(weights > 0);
            try (Tensor x = Tensor.zeros(emu, 8, 300)) {
                long beforeForward = TestDevices.inUseBytes(emu);
                model.forward(x, false);
                long activations = TestDevices.inUseBytes(emu) - beforeForward;
                assertTrue(activations < weights / 10, "an eval forward adds its outputs only: " + activations
                        + " bytes against " + weights + " of weights");
                long beforeGrads = TestDevices.inUseBytes(emu);
                for (Parameter p : model.parameters()) {
                    p.grad();
                }
                // gradients are shaped like the weights, so they take what the weights took, block for block
                assertEquals(weights, TestDevices.inUseBytes(emu) - beforeGrads,
                        "the gradients were not there before: they take as much again as the weights");
                for (Parameter p : model.parameters()) {
                    assertTrue(p.hasGrad(), p.name());
                }
            }
        }
        assertEquals(start, TestDevices.inUseBytes(emu));
    }

    @Test
    void aCpuModelAllocatesItsWeightsOnce() {
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Generator gen = new Generator(0);
        new Linear(8, 8, true, gen).close(); // load the classes first
        long before = bean.getCurrentThreadAllocatedBytes();
        Linear big = new Linear(1024, 1024, true, gen);
        long allocated = bean.getCurrentThreadAllocatedBytes() - before;
        long weightBytes = 4L * 1024 * 1024;
        assertTrue(allocated >= weightBytes && allocated < weightBytes * 3 / 2,
                "building a Linear allocates its weights, not a gradient as well: " + allocated + " bytes for "
                        + weightBytes + " of weights");
        assertFalse(big.weight().hasGrad());
        big.close();
    }

    @Test
    void replicasShareTheWeightsOnTheDevice() {
        Device emu = TestDevices.gpu();
        long start = TestDevices.inUseBytes(emu);
        try (Layer model = mlp(emu).get()) {
            long weights = TestDevices.inUseBytes(emu) - start;
            try (Predictor p = Predictor.builder(model, mlp(emu)).maxReplicas(3).build()) {
                long withOne = TestDevices.inUseBytes(emu);
                assertTrue(withOne - start - weights < weights / 10, "the first replica reads the model's weights: "
                        + (withOne - start - weights) + " bytes more");
                Tensor x = Tensor.zeros(emu, 4, 300);
                // occupy replicas from three threads at once so that three exist
                Thread[] threads = new Thread[3];
                java.util.concurrent.CyclicBarrier barrier = new java.util.concurrent.CyclicBarrier(3);
                for (int t = 0; t < 3; t++) {
                    threads[t] = new Thread(() -> {
                        try {
                            barrier.await();
                            for (int k = 0; k < 20; k++) {
                                p.predict(x).close();
                            }
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    threads[t].start();
                }
                for (Thread t : threads) {
                    t.join();
                }
                long perReplica = (TestDevices.inUseBytes(emu) - withOne) / Math.max(1, p.replicas() - 1);
                assertTrue(perReplica < weights / 10, p.replicas() + " replicas, " + perReplica
                        + " bytes each, against " + weights + " of weights");
                x.close();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            for (Parameter q : model.namedParameters().values()) {
                assertFalse(q.hasGrad(), "prediction allocated no gradient: " + q.name());
                assertFalse(q.value().isReleased(), "closing the predictor left the model's weights: " + q.name());
            }
        }
        assertEquals(start, TestDevices.inUseBytes(emu));
    }

    @Test
    void aGradientFirstNeededInsideAScopeOutlivesIt() {
        Device emu = TestDevices.gpu();
        try (Layer model = mlp(emu).get(); SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f)) {
            Parameter w = model.parameters().get(0);
            Tensor g;
            try (TensorScope scope = TensorScope.open()) {
                Tensor x = Tensor.zeros(emu, 2, 300);
                Tensor y = Tensor.zeros(emu, dev.jtrain.tensor.DType.INT64, dev.jtrain.tensor.Shape.of(2));
                loss.forward(model.forward(x, true), y);
                model.backward(loss.backward());
                g = w.grad();
            }
            assertFalse(g.isReleased(), "the gradient belongs to the parameter, not to the scope");
            assertTrue(w.hasGrad());
        }
    }

    @Test
    void aGradientGoesWithAScopeThatOwnsItsParameter() {
        Device emu = TestDevices.gpu();
        long start = TestDevices.inUseBytes(emu);
        Tensor g;
        try (TensorScope scope = TensorScope.open()) {
            Linear layer = new Linear(64, 32, true, new Generator(0), emu); // made inside: the scope owns it
            layer.forward(Tensor.zeros(emu, 2, 64), true);
            layer.backward(Tensor.zeros(emu, 2, 32));
            g = layer.weight().grad();
        }
        assertTrue(g.isReleased(), "the scope that owned the weight released its gradient too");
        assertEquals(start, TestDevices.inUseBytes(emu));
    }
}
