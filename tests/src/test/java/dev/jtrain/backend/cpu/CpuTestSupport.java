package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Storage;
import dev.jtrain.tensor.Tensor;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared helpers for the cpu backend tests: random tensors, float64 comparisons, a fake device. */
final class CpuTestSupport {
    private CpuTestSupport() {
    }

    static final Backend B = Backends.cpu(); // the checked front: tests see the same errors users do

    static float[] rand(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    static Tensor t(float[] data, int... dims) {
        return Tensor.of(data, dims);
    }

    static Tensor randT(SplittableRandom r, double lo, double hi, int... dims) {
        return Tensor.of(rand(r, Shape.of(dims).numel(), lo, hi), dims);
    }

    static Tensor zerosT(int... dims) {
        return B.zeros(DType.FLOAT32, Shape.of(dims));
    }

    static Tensor longs(long[] data, int... dims) {
        return Tensor.ofLongs(data, dims);
    }

    static double[] d(float[] a) {
        double[] o = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i];
        }
        return o;
    }

    /** |actual - expected| <= atol + rtol |expected| elementwise, naming the first failure. */
    static void close(String what, double[] expected, float[] actual, double rtol, double atol) {
        if (actual.length < expected.length) {
            fail(what + ": " + actual.length + " elements, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (Double.isNaN(e) != Double.isNaN(a) || !(Double.isNaN(e) || Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
                fail(what + "[" + i + "]: actual " + a + ", expected " + e + " (rtol " + rtol + ", atol " + atol + ")");
            }
        }
    }

    static void close(String what, double expected, float actual, double rtol, double atol) {
        close(what, new double[] {expected}, new float[] {actual}, rtol, atol);
    }

    static void bitsEqual(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + "[" + i + "]: " + actual[i] + " differs from " + expected[i] + " in bits");
            }
        }
    }

    /** Runs body on a pool of n threads bound to this thread (the previous binding is restored after). */
    static void withThreads(int n, Runnable body) {
        try (CpuThreadPool pool = new CpuThreadPool(n)) {
            pool.run(body);
        }
    }

    /** A float32 tensor on another device (storage that only claims to live there). */
    static Tensor onDevice(Device device, int... dims) {
        Shape s = Shape.of(dims);
        Storage st = new Storage() {
            @Override
            public Device device() {
                return device;
            }

            @Override
            public long bytes() {
                return 4L * s.numel();
            }
        };
        return new Tensor(s, DType.FLOAT32, st);
    }
}
