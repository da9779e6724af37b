package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.random.Generator;
import dev.jtrain.random.Philox;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Dropout masks from the same generator are the same bits on the GPU device and on the cpu: both follow the one
 * Philox specification (docs/architecture.md section 6, {@link Philox}: element i of call (seed, offset) uses word i
 * mod 4 of block i / 4; keep when u_i >= p; scale (float) (1 / (1 - p))). Checked through the {@link Dropout} layer
 * (which takes one generator offset per training forward) over several forwards, against each other and against the
 * masks computed here from {@link Philox} directly, for sizes that are not multiples of 4 (a partial last Philox
 * block) and for p = 0, p close to 1 and p = 1.
 */
class DropoutMaskParityTest {

    static Stream<Arguments> cases() {
        List<Arguments> a = new ArrayList<>();
        int[][] shapes = {{1}, {3}, {5}, {7}, {2, 3}, {33}, {127}, {3, 7, 7}, {1029}};
        float[] ps = {0f, 0.1f, 0.5f, 0.9f, 0.999f, 0.99999f, 1f};
        long[] seeds = {0L, 42L, 0xDEADBEEFCAFEL, -7L};
        int k = 0;
        for (int[] s : shapes) {
            for (float p : ps) {
                a.add(Arguments.of(s, p, seeds[k++ % seeds.length]));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "shape {0} p {1} seed {2}")
    @MethodSource("cases")
    void masksAreTheSameBitsOnEveryDevice(int[] shape, float p, long seed) {
        Device gpu = TestDevices.gpu();
        long before = TestDevices.inUseBytes(gpu);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        SplittableRandom r = new SplittableRandom(seed ^ n);
        float[] x = new float[n];
        float[] dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
            dy[i] = (float) r.nextGaussian();
        }
        long startOffset = 5;
        Generator cpuGen = new Generator(seed, startOffset);
        Generator gpuGen = new Generator(seed, startOffset);
        float scale = p >= 1f ? 0f : (float) (1.0 / (1.0 - p));
        try (Dropout cpuLayer = new Dropout(p, cpuGen); Dropout gpuLayer = new Dropout(p, gpuGen);
             Tensor xg = Tensor.of(x.clone(), shape).to(gpu); Tensor dyg = Tensor.of(dy.clone(), shape).to(gpu)) {
            Tensor xc = Tensor.of(x.clone(), shape);
            Tensor dyc = Tensor.of(dy.clone(), shape);
            for (int call = 0; call < 3; call++) {       // each training forward takes the next offset
                long offset = startOffset + call;
                float[] yCpu = cpuLayer.forward(xc, true).toFloatArray();
                float[] yGpu = gpuLayer.forward(xg, true).to(Device.CPU).toFloatArray();
                float[] mCpu = cpuLayer.lastMask().toFloatArray();
                float[] mGpu = gpuLayer.lastMask().to(Device.CPU).toFloatArray();
                String what = "call " + call + " (offset " + offset + ")";
                // the specification, computed here: keep element i when its Philox uniform is >= p
                float[] spec = new float[n];
                int kept = 0;
                for (int i = 0; i < n; i++) {
                    boolean keep = p <= 0f || (p < 1f && Philox.uniform(seed, offset, i) >= p);
                    spec[i] = keep ? (p <= 0f ? 1f : scale) : 0f;
                    kept += keep ? 1 : 0;
                }
                assertBits(what + " mask cpu vs Philox", spec, mCpu);
                assertBits(what + " mask " + gpu + " vs cpu", mCpu, mGpu);
                assertBits(what + " y " + gpu + " vs cpu", yCpu, yGpu);
                if (p == 0f) {
                    assertBits(what + " p = 0 keeps x exactly", x, yGpu);
                } else if (p == 1f) {
                    assertEquals(0, kept, "p = 1 drops everything");
                }
                // backward is dy * mask on both
                float[] dxCpu = cpuLayer.backward(dyc).toFloatArray();
                float[] dxGpu = gpuLayer.backward(dyg).to(Device.CPU).toFloatArray();
                assertBits(what + " dx " + gpu + " vs cpu", dxCpu, dxGpu);
            }
            assertEquals(startOffset + 3, gpuGen.offset(), "one offset per training forward");
            assertEquals(cpuGen.offset(), gpuGen.offset());
        }
        assertEquals(before, TestDevices.inUseBytes(gpu), "device bytes still in use after closing the layer");
    }

    /** Different offsets give different masks (the offset reaches the GPU kernel), on a mask large enough. */
    @ParameterizedTest(name = "p {0}")
    @MethodSource("probabilities")
    void theOffsetChangesTheMask(float p) {
        Device gpu = TestDevices.gpu();
        int n = 1029;
        try (Tensor x = Backends.forDevice(gpu).zeros(n); Tensor y = Backends.forDevice(gpu).zeros(n);
             Tensor m1 = Backends.forDevice(gpu).zeros(n); Tensor m2 = Backends.forDevice(gpu).zeros(n)) {
            Backends.forDevice(gpu).dropoutForward(x, p, 99, 0, y, m1);
            Backends.forDevice(gpu).dropoutForward(x, p, 99, 1, y, m2);
            float[] a = m1.to(Device.CPU).toFloatArray();
            float[] b = m2.to(Device.CPU).toFloatArray();
            int differ = 0;
            for (int i = 0; i < n; i++) {
                differ += Float.compare(a[i], b[i]) != 0 ? 1 : 0;
            }
            assertTrue(differ > n / 10, "masks of offsets 0 and 1 differ in only " + differ + " of " + n);
        }
    }

    static Stream<Float> probabilities() {
        return Stream.of(0.3f, 0.5f);
    }

    private static void assertBits(String what, float[] expected, float[] got) {
        assertEquals(expected.length, got.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + expected[i] + " bit for bit");
            }
        }
    }
}
