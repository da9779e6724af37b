package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.CheckedBackend;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.jni.EmuTestSupport;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Values that GPU kernels check on the device (GpuBackend, DeviceErrors): a bad class label, maxout piece or
 * pooling index is recorded by the kernel and reported by the next sync the run makes ({@code item()} after
 * {@code to(cpu)}, {@code to(Device.CPU)}, {@code synchronize()}) as an IllegalArgumentException naming the Java
 * op, the first bad index and its value; the record is cleared and the backend keeps working; good data never
 * throws and costs one read of the record per sync. On emu, through the shared registry backend like the rest of
 * the library (every test leaves the record clean: checked after each).
 */
class DeviceErrorTest {
    private static final Device EMU = Device.EMU;
    private final SplittableRandom rnd = new SplittableRandom(7);
    private Backend emu;
    private GpuBackend gpu;

    @BeforeEach
    void setUp() {
        EmuTestSupport.emu();   // a missing emu library fails (or skips with -Djtrain.native.skip=true)
        emu = Backends.forDevice(EMU);
        gpu = (GpuBackend) ((CheckedBackend) emu).implementation();
        emu.synchronize();      // nothing pending from elsewhere
        scope = TensorScope.open(); // the test's device tensors go back to the pool after it
    }

    @AfterEach
    void recordIsClean() {
        try {
            if (emu != null) {
                emu.synchronize();  // throws if a test left a bad value in the record
            }
        } finally {
            if (scope != null) {
                scope.close();
            }
        }
    }

    private TensorScope scope;

    private static Tensor longs(long... v) {
        return Tensor.ofLongs(v, v.length).to(EMU);
    }

    private Tensor logits(int n, int c) {
        float[] x = new float[n * c];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 4 - 2);
        }
        return Tensor.of(x, n, c).to(EMU);
    }

    /** The call throws the device error: an IllegalArgumentException naming op, the bad element and the sync. */
    private static DeviceValueException assertDeviceError(String op, String element, Executable sync) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, sync);
        assertTrue(e instanceof DeviceValueException, () -> "not a DeviceValueException: " + e);
        String m = e.getMessage();
        assertTrue(m.startsWith(op + ": " + element), m);
        assertTrue(m.contains("next sync"), m);
        assertEquals(op, ((DeviceValueException) e).op());
        return (DeviceValueException) e;
    }

    // ------------------------------------------------------------------ softmax cross-entropy labels

    @Test
    void labelOfCIsReportedAtItemThenClearedAndTheNextGoodStepWorks() {
        int n = 8, c = 5;
        Tensor x = logits(n, c);
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy()) {
            Tensor bad = longs(0, 1, 2, 5, 4, 3, -1, 1);   // C at 3, -1 at 6: 3 is the first
            Tensor l = loss.forward(x, bad);
            DeviceValueException e = assertDeviceError("softmaxCrossEntropy", "labels[3] = 5 is outside [0, 5)",
                    () -> l.to(Device.CPU).item());
            assertEquals(3, e.index());
            assertEquals(5, e.value());
            assertEquals(5, e.limit());
            assertEquals(2, e.count(), "two bad labels in that call");
            emu.synchronize();   // cleared: nothing more to report

            long[] good = {0, 1, 2, 3, 4, 3, 0, 1};
            float got = loss.forward(x, longs(good)).to(Device.CPU).item();
            try (SoftmaxCrossEntropy ref = new SoftmaxCrossEntropy()) {
                float want = ref.forward(x.to(Device.CPU), Tensor.ofLongs(good, n)).item();
                assertEquals(want, got, 1e-6f, "the good step after the error");
            }
            loss.backward().to(Device.CPU);
        }
    }

    @Test
    void labelMinusOneIsReportedAtSynchronize() {
        int n = 33, c = 10;
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % c;
        }
        labels[17] = -1;
        labels[30] = 10;
        Tensor probs = emu.zeros(DType.FLOAT32, Shape.of(n, c));
        Tensor per = emu.zeros(DType.FLOAT32, Shape.of(n));
        emu.softmaxCrossEntropy(logits(n, c), longs(labels), 0.1f, probs, per);
        DeviceValueException e = assertDeviceError("softmaxCrossEntropy", "labels[17] = -1 is outside [0, 10)",
                emu::synchronize);
        assertEquals(17, e.index());
        float[] l = per.to(Device.CPU).floats();   // the error was cleared: this copy does not throw
        assertTrue(Float.isNaN(l[17]) && Float.isNaN(l[30]) && !Float.isNaN(l[16]), "NaN for the bad rows only");
    }

    @Test
    void labelIsReportedAtToCpuOfAnotherTensorAfterLaterOps() {
        int n = 4, c = 3;
        Tensor probs = emu.zeros(DType.FLOAT32, Shape.of(n, c));
        Tensor per = emu.zeros(DType.FLOAT32, Shape.of(n));
        emu.softmaxCrossEntropy(logits(n, c), longs(0, 3, 1, 2), 0f, probs, per);
        // Later ops, good ones: the error stays recorded until a sync.
        Tensor other = emu.zeros(DType.FLOAT32, Shape.of(6));
        emu.fill(other, 2f);
        emu.scale(other, 0.5f);
        assertDeviceError("softmaxCrossEntropy", "labels[1] = 3 is outside [0, 3)", () -> other.to(Device.CPU));
        assertEquals(1f, other.to(Device.CPU).floats()[5]);
    }

    @Test
    void backwardLabelsAreReportedAndTheFirstFailingOpWins() {
        int n = 5, c = 4;
        Tensor probs = emu.zeros(DType.FLOAT32, Shape.of(n, c));
        Tensor per = emu.zeros(DType.FLOAT32, Shape.of(n));
        Tensor dl = emu.zeros(DType.FLOAT32, Shape.of(n, c));
        Tensor x = logits(n, c);
        emu.softmaxCrossEntropy(x, longs(0, 1, 2, 3, 0), 0f, probs, per);
        emu.softmaxCrossEntropyBackward(probs, longs(0, 1, 9, 3, 0), 0f, 1f / n, dl);
        assertDeviceError("softmaxCrossEntropyBackward", "labels[2] = 9 is outside [0, 4)", emu::synchronize);

        // Two failing ops before a sync: the first is reported (forward's row 4), not the backward's row 0.
        Tensor bad = longs(0, 1, 2, 3, 4);
        emu.softmaxCrossEntropy(x, bad, 0f, probs, per);
        emu.softmaxCrossEntropyBackward(probs, longs(-5, 1, 2, 3, 0), 0f, 1f / n, dl);
        DeviceValueException e = assertDeviceError("softmaxCrossEntropy", "labels[4] = 4 is outside [0, 4)",
                () -> per.to(Device.CPU));
        assertEquals(1, e.count());
    }

    @Test
    void cpuChecksTheSameLabelAtOnceWithTheSameWords() {
        Tensor probs = Tensor.of(new float[6], 2, 3);
        Tensor per = Tensor.of(new float[2], 2);
        IllegalArgumentException cpu = assertThrows(IllegalArgumentException.class,
                () -> Backends.cpu().softmaxCrossEntropy(Tensor.of(new float[6], 2, 3), Tensor.ofLongs(new long[] {0, 3}, 2),
                        0f, probs, per));
        Tensor dprobs = emu.zeros(DType.FLOAT32, Shape.of(2, 3));
        Tensor dper = emu.zeros(DType.FLOAT32, Shape.of(2));
        emu.softmaxCrossEntropy(Tensor.of(new float[6], 2, 3).to(EMU), longs(0, 3), 0f, dprobs, dper);
        IllegalArgumentException gpuError = assertThrows(IllegalArgumentException.class, emu::synchronize);
        assertTrue(gpuError.getMessage().startsWith(cpu.getMessage()), gpuError.getMessage() + " vs " + cpu.getMessage());
    }

    // ------------------------------------------------------------------ maxout pieces

    @Test
    void maxoutPieceOutOfRangeIsReported() {
        int n = 3, pieces = 2, d = 4;
        Tensor dy = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, n, d).to(EMU);
        long[] piece = {0, 1, 0, 1, 2, 0, 1, 0, 1, -1, 0, 1};   // 4 = pieces, 9 = -1
        Tensor dz = emu.zeros(DType.FLOAT32, Shape.of(n, pieces * d));
        emu.maxoutBackward(dy, Tensor.ofLongs(piece, n, d).to(EMU), pieces, dz);
        DeviceValueException e = assertDeviceError("maxoutBackward", "piece[4] = 2 is outside [0, 2)",
                () -> dz.to(Device.CPU));
        assertEquals(2, e.count());

        piece[4] = 1;
        piece[9] = 0;
        emu.maxoutBackward(dy, Tensor.ofLongs(piece, n, d).to(EMU), pieces, dz);
        Tensor want = Tensor.of(new float[n * pieces * d], n, pieces * d);
        Backends.cpu().maxoutBackward(dy.to(Device.CPU), Tensor.ofLongs(piece, n, d), pieces, want);
        EmuAssert.bits("maxout after the error", want.floats(), dz.to(Device.CPU).floats());
    }

    // ------------------------------------------------------------------ max-pool indices

    @Test
    void poolIndexOutsideThePlaneIsReported() {
        ConvSpec spec = ConvSpec.square(2, 2, 0);
        int n = 2, c = 3, h = 4, w = 4, oh = 2, ow = 2;
        float[] xs = new float[n * c * h * w];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rnd.nextDouble();
        }
        Tensor x = Tensor.of(xs, n, c, h, w).to(EMU);
        Tensor y = emu.zeros(DType.FLOAT32, Shape.of(n, c, oh, ow));
        Tensor idx = emu.zeros(DType.INT64, Shape.of(n, c, oh, ow));
        emu.maxPool2dForward(x, spec, y, idx);
        long[] good = idx.to(Device.CPU).longs();
        Tensor dy = Tensor.of(new float[n * c * oh * ow], n, c, oh, ow).to(EMU);
        emu.fill(dy, 1f);
        Tensor dx = emu.zeros(DType.FLOAT32, Shape.of(n, c, h, w));

        long[] bad = good.clone();
        bad[5] = 16;      // the plane has 16 elements
        bad[20] = -1;
        emu.maxPool2dBackward(dy, Tensor.ofLongs(bad, n, c, oh, ow).to(EMU), spec, dx);
        DeviceValueException e = assertDeviceError("maxPool2dBackward", "indices[5] = 16 is outside [0, 16)",
                () -> dx.to(Device.CPU));
        assertEquals(2, e.count());

        emu.maxPool2dBackward(dy, Tensor.ofLongs(good, n, c, oh, ow).to(EMU), spec, dx);
        Tensor want = Tensor.of(new float[n * c * h * w], n, c, h, w);
        Backends.cpu().maxPool2dBackward(dy.to(Device.CPU), Tensor.ofLongs(good, n, c, oh, ow), spec, want);
        EmuAssert.bits("pool backward after the error", want.floats(), dx.to(Device.CPU).floats());
    }

    @Test
    void scatterPoolBackwardReportsThroughTheSameRecord() {
        NativeApi api = gpu.api();
        Tensor dy = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2).to(EMU);
        Tensor idx = Tensor.ofLongs(new long[] {0, 3, 99, 8}, 1, 1, 2, 2).to(EMU);
        Tensor dx = emu.zeros(DType.FLOAT32, Shape.of(1, 1, 3, 3));
        api.poolMaxBackwardScatter(addr(dy), addr(idx), addr(dx), 1, 1, 3, 3, 2, 2, gpu.deviceErrors().address(),
                gpu.stream());
        assertDeviceError("maxPool2dBackward", "indices[2] = 99 is outside [0, 9)", emu::synchronize);
        float[] got = dx.to(Device.CPU).floats();
        assertEquals(1f, got[0]);
        assertEquals(2f, got[3]);
        assertEquals(4f, got[8]);
    }

    @Test
    void theRecordArgumentIsValidated() {
        NativeApi api = gpu.api();
        Tensor dy = Tensor.of(new float[] {1}, 1, 1).to(EMU);
        Tensor piece = Tensor.ofLongs(new long[] {0}, 1, 1).to(EMU);
        Tensor dz = emu.zeros(DType.FLOAT32, Shape.of(1, 1));
        long rec = gpu.deviceErrors().address();
        IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class,
                () -> api.activationsMaxoutBackward(addr(dy), addr(piece), 1, 1, 1, addr(dz), rec + 4, gpu.stream()));
        assertTrue(misaligned.getMessage().contains("err") && misaligned.getMessage().contains("aligned"),
                misaligned.getMessage());
        // The last element of dz is not room for a 32-byte record.
        IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
                () -> api.activationsMaxoutBackward(addr(dy), addr(piece), 1, 1, 1, addr(dz), addr(dz) + 504,
                        gpu.stream()));
        assertTrue(outside.getMessage().contains("err"), outside.getMessage());
    }

    private static long addr(Tensor t) {
        return ((DeviceStorage) t.storage()).address();
    }

    // ------------------------------------------------------------------ good data, cost

    @Test
    void goodDataNeverThrowsAndTheRecordIsReadOncePerSync() {
        int n = 16, c = 7;
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(c);
        }
        Tensor x = logits(n, c);
        Tensor lab = longs(labels);
        DeviceErrors rec = gpu.deviceErrors();
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0.1f)) {
            long before = rec.reads();
            for (int step = 0; step < 5; step++) {   // 5 x (forward, sum, scale, backward): no sync
                loss.forward(x, lab);
                loss.backward();
            }
            assertEquals(before, rec.reads(), "ops alone never read the record");
            emu.synchronize();
            assertEquals(before + 1, rec.reads(), "one read per synchronize()");
            float l = loss.forward(x, lab).to(Device.CPU).item();
            assertTrue(Float.isFinite(l), "loss " + l);
            assertEquals(before + 2, rec.reads(), "one read per device-to-host copy");
        }
        Tensor dz = emu.zeros(DType.FLOAT32, Shape.of(2, 6));
        emu.maxoutBackward(emu.zeros(DType.FLOAT32, Shape.of(2, 3)), longs(0, 1, 0, 1, 1, 0).reshape(2, 3), 2, dz);
        dz.to(Device.CPU);
    }

    /** Bit-for-bit comparison (EmuTestSupport's is package-private in backend.jni). */
    private static final class EmuAssert {
        static void bits(String what, float[] want, float[] got) {
            assertEquals(want.length, got.length, what + ": length");
            for (int i = 0; i < want.length; i++) {
                int a = Float.floatToRawIntBits(want[i]);
                int b = Float.floatToRawIntBits(got[i]);
                if (a != b) {
                    throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
                }
            }
        }
    }
}
