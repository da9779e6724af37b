package dev.jtrain.nn.layers;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LayerNorm and GroupNorm on the GPU test device (emu by default) against the cpu: the same layer, weights and
 * data give y, dx, dweight and dbias within float32 rounding of different summation orders, and the device
 * memory used by the layer comes back when it is closed.
 */
class NormalizationParityTest {

    /** Forward x and backward dy on {@code dev}; the results copied to the host in a fixed order. */
    private static List<float[]> run(Function<Device, Layer> make, Device dev, Tensor x, Tensor dy) {
        List<float[]> out = new ArrayList<>();
        try (Layer layer = make.apply(dev); Tensor xd = x.to(dev); Tensor dyd = dy.to(dev)) {
            long s = 7;
            for (Parameter p : layer.parameters()) {  // the same non-trivial affine values on both devices
                float[] r = GradCheck.random(p.value().numel(), s++);
                for (int i = 0; i < r.length; i++) {
                    r[i] = p.name().equals("weight") ? 1f + 0.5f * r[i] : 0.5f * r[i];
                }
                p.set(Tensor.of(r, p.value().dims()));
            }
            out.add(layer.forward(xd, true).to(Device.CPU).toFloatArray());
            layer.zeroGrad();
            out.add(layer.backward(dyd).to(Device.CPU).toFloatArray());
            for (Parameter p : layer.parameters()) {
                out.add(p.grad().to(Device.CPU).toFloatArray());
            }
        }
        return out;
    }

    private static void parity(String what, Function<Device, Layer> make, int... dims) {
        Device gpu = TestDevices.gpu();
        Tensor x = GradCheck.uniform(101, -3, 5, dims);
        Tensor dy = GradCheck.uniform(102, -1, 1, dims);
        long before = TestDevices.inUseBytes(gpu);
        List<float[]> cpu = run(make, Device.CPU, x, dy);
        List<float[]> dev = run(make, gpu, x, dy);
        assertEquals(before, TestDevices.inUseBytes(gpu), what + ": device memory left in use");
        String[] names = {"y", "dx", "dweight", "dbias"};
        assertEquals(cpu.size(), dev.size());
        for (int k = 0; k < cpu.size(); k++) {
            float[] a = cpu.get(k);
            float[] b = dev.get(k);
            double scale = 0;
            for (float v : a) {
                scale = Math.max(scale, Math.abs(v));
            }
            for (int i = 0; i < a.length; i++) {
                // sums of up to ~100 float32 terms in another order: a few ulps of the largest value
                assertEquals(a[i], b[i], 1e-5 * (1 + scale), what + " " + names[k] + " at " + i + " on " + gpu);
            }
        }
    }

    @Test
    void layerNormOnTheGpuDeviceMatchesCpu() {
        parity("LayerNorm[5, 7]", d -> new LayerNorm(new int[] {5, 7}, 1e-5f, true, d), 6, 5, 7);
        parity("LayerNorm[33] no affine", d -> new LayerNorm(new int[] {33}, 1e-5f, false, d), 9, 33);
    }

    @Test
    void groupNormOnTheGpuDeviceMatchesCpu() {
        parity("GroupNorm(3, 12)", d -> new GroupNorm(3, 12, 1e-5f, true, d), 4, 12, 3, 5);
        parity("GroupNorm(4, 4) no affine", d -> new GroupNorm(4, 4, 1e-5f, false, d), 3, 4, 6);
    }
}
