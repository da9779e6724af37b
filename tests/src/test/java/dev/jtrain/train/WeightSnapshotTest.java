package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Early stopping's and EMA's weight copies: parameters and BatchNorm buffers come back bit-exactly, on every device. */
class WeightSnapshotTest {

    private static void roundTrip(Device dev) {
        Sequential net = new Sequential(new Linear(3, 4, true, new Generator(1), dev), new BatchNorm1d(4, dev));
        Tensor x = Tensor.of(new float[] {1, 2, 3, -1, 0.5f, 2, 0, 1, -2, 3, 1, 1}, 4, 3).to(dev);
        try (net; WeightSnapshot snap = new WeightSnapshot(net)) {
            net.forward(x, true); // moves the running statistics
            Map<String, float[]> saved = TinyRuns.weights(net);
            snap.capture();
            net.namedParameters().get("0.weight").set(Tensor.of(new float[12], 4, 3));
            net.forward(x, true);
            net.forward(x, true);
            assertFalse(java.util.Arrays.equals(saved.get("1.running_mean"),
                    TinyRuns.host(net.namedState().get("1.running_mean").value())));
            snap.restore();
            Map<String, float[]> back = TinyRuns.weights(net);
            for (String k : saved.keySet()) {
                assertArrayEquals(saved.get(k), back.get(k), dev + " " + k);
            }
        } finally {
            if (!dev.isHost()) {
                x.close();
            }
        }
    }

    @Test
    void parametersAndBuffersRoundTripOnTheCpu() {
        roundTrip(Device.CPU);
    }

    @Test
    void parametersAndBuffersRoundTripOnTheGpuDevice() {
        roundTrip(TestDevices.gpu());
    }

    @Test
    void restoringBeforeCapturingIsAnError() {
        Sequential net = new Sequential(new Linear(3, 4, true, new Generator(1)));
        try (WeightSnapshot snap = new WeightSnapshot(net)) {
            assertThrows(IllegalStateException.class, snap::restore);
        }
    }
}
