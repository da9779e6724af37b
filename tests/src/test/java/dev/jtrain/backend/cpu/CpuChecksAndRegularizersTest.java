package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.longs;
import static dev.jtrain.backend.cpu.CpuTestSupport.onDevice;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Regularizer ops (FORMAT.md 25-26) and argument validation (clear IllegalArgumentExceptions). */
class CpuChecksAndRegularizersTest {

    private static void fails(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void addSignWithSignOfZeroZero() {
        Tensor w = t(new float[] {-2f, 0f, 3f, -0f}, 4);
        Tensor g = t(new float[] {1f, 1f, 1f, 1f}, 4);
        B.addSign(0.01f, w, g);
        assertArrayEquals(new float[] {0.99f, 1f, 1.01f, 1f}, g.floats());
    }

    @Test
    void rowNormsAndMaxNorm() {
        SplittableRandom r = new SplittableRandom(71);
        Tensor w = randT(r, -1, 1, 5, 7);
        for (int j = 0; j < 7; j++) {
            w.floats()[j] *= 0.1f; // row 0 below the limit
        }
        float[] w0 = w.toFloatArray();
        Tensor norms = zerosT(5);
        B.rowNorms(w, norms);
        double[] en = new double[5];
        for (int i = 0; i < 35; i++) {
            en[i / 7] += (double) w0[i] * w0[i];
        }
        for (int i = 0; i < 5; i++) {
            en[i] = Math.sqrt(en[i]);
        }
        close("row norms", en, norms.floats(), 1e-6, 0);
        B.maxNormRows(w, 1f);
        double[] ew = new double[35];
        for (int i = 0; i < 35; i++) {
            double nr = en[i / 7];
            ew[i] = nr > 1 ? w0[i] / nr : w0[i];
        }
        close("max-norm rows", ew, w.floats(), 1e-6, 1e-7);
        for (int j = 0; j < 7; j++) {
            assertEquals(w0[j], w.floats()[j], "row 0 is untouched");
        }
    }

    @Test
    void shapeErrorsNameTheOpTheArgumentAndBothShapes() {
        fails(() -> B.addBias(zerosT(4, 3), zerosT(5)), "addBias: bias has shape [5] but y has 3 channels (shape [4, 3])");
        fails(() -> B.add(zerosT(2, 3), zerosT(3, 2), zerosT(2, 3)), "add", "b has shape [3, 2]", "a has shape [2, 3]");
        fails(() -> B.gemm(false, false, 1f, zerosT(3, 4), zerosT(5, 2), 0f, zerosT(3, 2)), "gemm", "[3, 4]", "[5, 2]");
        fails(() -> B.gemm(false, true, 1f, zerosT(3, 4), zerosT(2, 4), 0f, zerosT(2, 3)), "gemm: c has shape [2, 3]");
        fails(() -> B.conv2dForward(zerosT(1, 3, 5, 5), zerosT(4, 2, 3, 3), null, ConvSpec.square(3, 1, 1),
                zerosT(1, 4, 5, 5)), "conv2dForward", "w has shape [4, 2, 3, 3]", "x has 3 channels");
        fails(() -> B.conv2dForward(zerosT(1, 3, 5, 5), zerosT(4, 3, 3, 3), null, ConvSpec.square(3, 2, 1),
                zerosT(1, 4, 5, 5)), "conv2dForward: y has shape [1, 4, 5, 5] but [1, 4, 3, 3]");
        fails(() -> B.conv2dForward(zerosT(1, 3, 2, 2), zerosT(4, 3, 3, 3), null, ConvSpec.square(3, 1, 0),
                zerosT(1, 4, 1, 1)), "conv2dForward", "x of shape [1, 3, 2, 2]");
        fails(() -> B.maxPool2dForward(zerosT(1, 1, 4, 4), ConvSpec.square(2, 2, 0), zerosT(1, 1, 3, 3), null),
                "maxPool2dForward: y has shape [1, 1, 3, 3]");
        fails(() -> B.batchNormForwardTrain(zerosT(4, 3), zerosT(4), null, 1e-5f, 0.1f, null, null, zerosT(4, 3),
                null, null), "batchNormForwardTrain: gamma has shape [4] but x has 3 channels");
        fails(() -> B.sgdStep(zerosT(3), zerosT(4), null, 0.1f, 0f, 0f, 0f, false, true), "sgdStep", "grad has shape [4]");
        fails(() -> B.sgdStep(zerosT(3), zerosT(3), null, 0.1f, 0.9f, 0f, 0f, false, true), "sgdStep", "momentumBuffer");
        fails(() -> B.sum(zerosT(3), zerosT(2)), "sum: out must have exactly one element");
        Tensor sq = zerosT(3, 3);
        fails(() -> B.gemm(false, false, 1f, sq, zerosT(3, 3), 0f, sq), "gemm: c shares its storage with a");
        fails(() -> B.maxoutForward(zerosT(2, 5), 2, zerosT(2, 2), B.zeros(DType.INT64, Shape.of(2, 2))),
                "maxoutForward", "multiple of pieces");
    }

    @Test
    void dtypeErrors() {
        Tensor ints = B.zeros(DType.INT64, Shape.of(2, 3));
        fails(() -> B.activationForward(Activation.relu(), ints, zerosT(2, 3)), "activationForward: x has dtype int64");
        fails(() -> B.softmaxCrossEntropy(zerosT(2, 3), zerosT(2), 0f, zerosT(2, 3), zerosT(2)),
                "softmaxCrossEntropy: labels has dtype float32 but int64");
        fails(() -> B.countEqual(zerosT(2), longs(new long[] {1, 2}, 2), zerosT(1)), "countEqual: a has dtype float32");
    }

    @Test
    void deviceMismatchNamesBothDevices() {
        Tensor emu = onDevice(Device.EMU, 2, 3);
        fails(() -> B.gemm(false, false, 1f, emu, zerosT(3, 2), 0f, zerosT(2, 2)), "gemm: a is on emu but this backend is cpu");
        fails(() -> B.add(zerosT(2, 3), onDevice(Device.cuda(1), 2, 3), zerosT(2, 3)),
                "add: b is on cuda:1 but this backend is cpu");
        fails(() -> B.copy(zerosT(2, 3), emu), "copy: dst is on emu");
        fails(() -> B.dropoutForward(zerosT(2, 3), 0.5f, 1, 0, emu, null), "dropoutForward: y is on emu");
    }

    @Test
    void valueErrorsNeverCrash() {
        fails(() -> B.dropoutForward(zerosT(3), 1.5f, 1, 0, zerosT(3), null), "dropoutForward: p must be in [0, 1]");
        fails(() -> B.dropoutForward(zerosT(3), Float.NaN, 1, 0, zerosT(3), null), "p must be in [0, 1]");
        fails(() -> B.maxoutBackward(zerosT(1, 2), longs(new long[] {0, 2}, 1, 2), 2, zerosT(1, 4)), "piece[1] = 2");
        fails(() -> B.maxPool2dBackward(zerosT(1, 1, 1, 1), longs(new long[] {16}, 1, 1, 1, 1), ConvSpec.square(2, 2, 0), zerosT(1, 1, 2, 2)),
                "maxPool2dBackward", "indices[0] = 16");
        fails(() -> B.adamStep(zerosT(2), zerosT(2), zerosT(2), zerosT(2), null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f,
                false, 0), "adamStep: step must be >= 1");
        fails(() -> B.randomUniform(zerosT(2), 3f, 1f, 1, 0), "randomUniform: low 3.0 is greater than high 1.0");
        fails(() -> B.activationForward(null, zerosT(1), zerosT(1)), "act is missing");
        fails(() -> B.activationForward(Activation.relu(), null, zerosT(1)), "activationForward: x is missing");
    }
}
