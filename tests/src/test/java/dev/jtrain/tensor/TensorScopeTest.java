package dev.jtrain.tensor;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.layers.LayerNorm;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** TensorScope on the GPU test device: what it closes, what it keeps, nesting, misuse. */
class TensorScopeTest {

    private static long inUse(Device d) {
        return Backends.memoryStats(d).inUseBytes();
    }

    @Test
    void closesTheDeviceTensorsMadeInsideItAndKeepsWhatItIsAskedTo() {
        Device d = TestDevices.gpu();
        long before = inUse(d);
        Tensor kept;
        Tensor hostKept;
        try (TensorScope scope = TensorScope.open()) {
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4).to(d);
            Linear layer = new Linear(4, 2, true, new Generator(1), d);   // parameters and buffers on d
            Tensor y = layer.forward(x, false);
            kept = scope.keep(y.reshape(2));                             // a view: keeps y's storage
            hostKept = y.to(Device.CPU);
        }
        assertArrayEquals(hostKept.floats(), kept.to(Device.CPU).floats(), "a kept tensor stays usable");
        kept.close();
        assertEquals(before, inUse(d), "everything else went back to the pool");
    }

    @Test
    void scopesNestAndMustBeClosedInnermostFirst() {
        Device d = TestDevices.gpu();
        long before = inUse(d);
        TensorScope outer = TensorScope.open();
        Tensor a = Backends.forDevice(d).zeros(16);
        TensorScope inner = TensorScope.open();
        Tensor b = Backends.forDevice(d).zeros(16);
        assertEquals(1, outer.size());
        assertEquals(1, inner.size());
        assertThrows(IllegalStateException.class, outer::close);
        inner.close();
        assertThrows(IllegalStateException.class, () -> b.to(Device.CPU), "b was closed with the inner scope");
        assertArrayEquals(new float[16], a.to(Device.CPU).floats(), "a still belongs to the open outer scope");
        outer.close();
        outer.close(); // twice is harmless
        assertEquals(before, inUse(d));
    }

    @Test
    void aModelBuiltOutsideAScopeKeepsWorkingAfterRunningInsideOne() {
        Device d = TestDevices.gpu();
        float[] two = {1, -2, 0.5f, 3, 0, -1};
        try (Linear layer = new Linear(3, 2, true, new Generator(2), d);
             Tensor x = Tensor.of(two, 2, 3).to(d)) {
            float[] inside;
            try (TensorScope scope = TensorScope.open()) {
                inside = layer.forward(x, false).to(Device.CPU).floats(); // the output buffer is made here
            }
            Tensor y = layer.forward(x, false);                          // same shape: the closed buffer is replaced
            assertArrayEquals(inside, y.to(Device.CPU).floats(), "parameters intact, output re-created");
        }
    }

    @Test
    void viewsMadeInsideAScopeLeaveTheirBaseToItsOwner() {
        // Linear reshapes a rank-3 input and LayerNorm its affine parameters on every forward: those views must
        // not hand the caller's input or the layer's parameters to a scope opened around the forward
        Device d = TestDevices.gpu();
        float[] xs = {1, -2, 0.5f, 3, 0, -1, 2, 2, -0.5f, 1, 1, 4};
        try (Linear layer = new Linear(3, 2, true, new Generator(3), d);
             LayerNorm norm = new LayerNorm(new int[] {3}, 1e-5f, true, d);
             Tensor x = Tensor.of(xs, 2, 2, 3).to(d)) {
            float[] first;
            try (TensorScope scope = TensorScope.open()) {
                Tensor base = Backends.forDevice(d).zeros(6);
                scope.keep(base);
                assertEquals(6, base.reshape(2, 3).numel());
                assertEquals(0, scope.size(), "a view of a tensor the scope does not own is not taken");
                first = layer.forward(norm.forward(x, true), true).to(Device.CPU).floats();
                base.close();
            }
            float[] second = layer.forward(norm.forward(x, true), true).to(Device.CPU).floats();
            assertArrayEquals(first, second, "input, LayerNorm and Linear parameters survived the scope");
            assertArrayEquals(xs, x.to(Device.CPU).floats());
        }
    }
}
