package dev.jtrain.train;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Activation statistics and the dead-ReLU fraction of a hand-computed case, on the cpu and the GPU device. */
class LayerStatisticsTest {

    /** Linear(2, 3) with W = [[1, 0], [0, 1], [-1, -1]], b = 0, then ReLU, on x = [[1, 2], [3, -1]]. */
    private static List<LayerStatistics.Activation> handCase(Device dev) {
        Sequential s = new Sequential(new Linear(2, 3, true, new Generator(0), dev), new ReLU());
        s.namedParameters().get("0.weight").set(Tensor.of(new float[] {1, 0, 0, 1, -1, -1}, 3, 2));
        s.namedParameters().get("0.bias").set(Tensor.of(new float[] {0, 0, 0}, 3));
        Tensor x = Tensor.of(new float[] {1, 2, 3, -1}, 2, 2).to(dev);
        try (s) {
            return LayerStatistics.activationStats(s, x);
        } finally {
            if (!dev.isHost()) {
                x.close();
            }
        }
    }

    private static void check(List<LayerStatistics.Activation> a) {
        // Linear outputs [1, 2, -3] and [3, -1, -2]: mean 0, std sqrt(28 / 6)
        assertEquals(2, a.size());
        assertEquals("Linear", a.get(0).type());
        assertEquals(0.0, a.get(0).mean(), 1e-7);
        assertEquals(Math.sqrt(28.0 / 6), a.get(0).std(), 1e-6);
        assertTrue(Double.isNaN(a.get(0).deadFraction()));
        // ReLU outputs [1, 2, 0] and [3, 0, 0]: mean 1, std sqrt(8 / 6); unit 3 is 0 for both samples, unit 2 only once
        assertEquals("ReLU", a.get(1).type());
        assertEquals(1.0, a.get(1).mean(), 1e-7);
        assertEquals(Math.sqrt(8.0 / 6), a.get(1).std(), 1e-6);
        assertEquals(1.0 / 3, a.get(1).deadFraction(), 1e-12);
    }

    @Test
    void handComputedStatisticsOnTheCpu() {
        check(handCase(Device.CPU));
    }

    @Test
    void handComputedStatisticsOnTheGpuDevice() {
        check(handCase(TestDevices.gpu()));
    }

    @Test
    void gradientStatisticsArePerParameter() {
        Sequential s = new Sequential(new Linear(2, 2, true, new Generator(0)));
        s.namedParameters().get("0.weight").grad().copyFrom(Tensor.of(new float[] {1, 2, 3, 6}, 2, 2));
        List<LayerStatistics.Gradient> g = LayerStatistics.gradientStats(s);
        assertEquals("0.weight", g.get(0).parameter());
        assertEquals(3.0, g.get(0).mean(), 1e-12);
        assertEquals(Math.sqrt((4 + 1 + 0 + 9) / 4.0), g.get(0).std(), 1e-12);
        assertEquals(0.0, g.get(1).std(), 0.0, "zero bias gradient");
    }
}
