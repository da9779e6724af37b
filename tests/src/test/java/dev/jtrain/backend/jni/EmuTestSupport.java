package dev.jtrain.backend.jni;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Shared by the emu tests: loading the emu library (a missing library fails the test: CI must never pass
 * with the GPU path untested; only an explicit -Djtrain.native.skip=true, which skips the native build,
 * turns these tests into skips), device buffers freed after each test, and comparisons that name the first
 * mismatching element.
 */
public final class EmuTestSupport {
    private EmuTestSupport() {
    }

    public static NativeApi emu() {
        String why = NativeLibrary.unavailableReason(NativeLibrary.Kind.EMU);
        if (why != null && !Boolean.getBoolean("jtrain.native.skip")) {
            fail("the emu library cannot be loaded (build it, or skip the native parts explicitly with "
                    + "-Djtrain.native.skip=true): " + why);
        }
        Assumptions.assumeTrue(why == null, () -> "emu library skipped (-Djtrain.native.skip=true): " + why);
        return EmuNative.api();
    }

    /** Device buffers of one test, all freed by close(). */
    static final class Dev implements AutoCloseable {
        final NativeApi api;
        private final List<Long> live = new ArrayList<>();

        Dev(NativeApi api) {
            this.api = api;
        }

        long alloc(long bytes) {
            long p = api.malloc(Math.max(bytes, 1));
            live.add(p);
            return p;
        }

        long floats(float[] data) {
            long p = alloc(4L * data.length);
            api.copyFloatsToDevice(data, 0, p, data.length);
            return p;
        }

        long floats(Tensor t) {
            return floats(t.floats());
        }

        long longs(long[] data) {
            long p = alloc(8L * data.length);
            api.copyLongsToDevice(data, 0, p, data.length);
            return p;
        }

        /** n floats, zero-filled. */
        long zeros(int n) {
            long p = alloc(4L * n);
            api.memset(p, 0, 4L * n);
            return p;
        }

        long zerosLongs(int n) {
            long p = alloc(8L * n);
            api.memset(p, 0, 8L * n);
            return p;
        }

        float[] get(long p, int n) {
            float[] out = new float[n];
            api.copyFloatsToHost(p, out, 0, n);
            return out;
        }

        long[] getLongs(long p, int n) {
            long[] out = new long[n];
            api.copyLongsToHost(p, out, 0, n);
            return out;
        }

        void free(long p) {
            live.remove(Long.valueOf(p));
            api.free(p);
        }

        @Override
        public void close() {
            for (long p : live) {
                api.free(p);
            }
            live.clear();
        }
    }

    static float[] rand(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    /** |got - ref| <= atol + rtol |ref| elementwise (NaN matches NaN); the message names the first mismatch. */
    static void assertClose(String what, float[] ref, float[] got, double rtol, double atol) {
        if (ref.length != got.length) {
            fail(what + ": length " + got.length + ", expected " + ref.length);
        }
        for (int i = 0; i < ref.length; i++) {
            double a = ref[i], b = got[i];
            if (Double.isNaN(a) && Double.isNaN(b)) {
                continue;
            }
            if (a == b) {
                continue;  // also equal infinities
            }
            if (!(Math.abs(a - b) <= atol + rtol * Math.abs(a))) {
                fail(what + ": element " + i + " is " + b + ", expected " + a + " (|diff| " + Math.abs(a - b)
                        + ", atol " + atol + ", rtol " + rtol + ")");
            }
        }
    }

    /** Bit-for-bit equal floats. */
    static void assertBits(String what, float[] ref, float[] got) {
        if (ref.length != got.length) {
            fail(what + ": length " + got.length + ", expected " + ref.length);
        }
        for (int i = 0; i < ref.length; i++) {
            if (Float.floatToRawIntBits(ref[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + ref[i] + " bit for bit");
            }
        }
    }
}
