package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The harness of the cpu-vs-GPU parity tests: one op body run on the cpu backend and on the GPU device's
 * backend from the same host data, its named outputs copied back to the host, and compared element by
 * element with a tolerance per output; every device tensor is closed and the device's in-use bytes must
 * return to their value before the body ran.
 */
final class Parity {
    /** The float32 machine epsilon, 2^-23 (one ulp of 1.0f). */
    static final double EPS = Math.ulp(1f);

    private Parity() {
    }

    // ---------------------------------------------------------------- tensors of one run

    /** Makes the tensors of one run on one backend from host data, and closes them afterwards. */
    static final class On implements AutoCloseable {
        final Backend be;
        final Device dev;
        private final List<Tensor> owned = new ArrayList<>();

        On(Backend be) {
            this.be = be;
            this.dev = be.device();
        }

        boolean isCpu() {
            return dev.isHost();
        }

        /** Remembers t for closing (device memory goes back at the end of the run). */
        Tensor own(Tensor t) {
            owned.add(t);
            return t;
        }

        /** A float32 tensor on this device holding a copy of host. */
        Tensor f(float[] host, int... dims) {
            return own(Tensor.of(host.clone(), dims).to(dev));
        }

        Tensor longs(long[] host, int... dims) {
            return own(Tensor.ofLongs(host.clone(), dims).to(dev));
        }

        Tensor zeros(int... dims) {
            return own(be.zeros(DType.FLOAT32, Shape.of(dims)));
        }

        Tensor zerosLong(int... dims) {
            return own(be.zeros(DType.INT64, Shape.of(dims)));
        }

        @Override
        public void close() {
            for (Tensor t : owned) {
                t.close();
            }
            owned.clear();
        }
    }

    /** An op body: runs on the backend of {@code on} and returns its named outputs (on that device). */
    interface Body {
        Map<String, Tensor> run(On on);
    }

    static Map<String, Tensor> out(Object... namesAndTensors) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            m.put((String) namesAndTensors[i], (Tensor) namesAndTensors[i + 1]);
        }
        return m;
    }

    /** Host copies of a run's outputs: float[] or long[] by name. */
    static Map<String, Object> runOn(Device device, Body body) {
        Backend be = Backends.forDevice(device);
        long before = device.isHost() ? 0 : TestDevices.inUseBytes(device);
        Map<String, Object> host = new LinkedHashMap<>();
        try (On on = new On(be)) {
            for (Map.Entry<String, Tensor> e : body.run(on).entrySet()) {
                Tensor t = e.getValue();
                Tensor h = t.to(Device.CPU);
                host.put(e.getKey(), t.dtype() == DType.INT64 ? h.longs().clone() : h.toFloatArray());
            }
        }
        if (!device.isHost()) {
            assertEquals(before, TestDevices.inUseBytes(device),
                    "device bytes still in use after the run closed every tensor (a leak on " + device + ")");
        }
        return host;
    }

    // ---------------------------------------------------------------- tolerances

    /** How far got may be from the cpu's expected value at index i. */
    interface Tol {
        boolean ok(int i, float expected, float got);

        /** The allowed |difference| at i (for the message). */
        String allowed(int i, float expected);
    }

    /** Bit-for-bit (any NaN matches any NaN). */
    static Tol exact() {
        return new Tol() {
            public boolean ok(int i, float e, float g) {
                return Float.floatToIntBits(e) == Float.floatToIntBits(g);
            }

            public String allowed(int i, float e) {
                return "bit-exact";
            }
        };
    }

    /** |got - expected| <= atol + rtol |expected| (NaN matches NaN, equal infinities match). */
    static Tol rel(double rtol, double atol) {
        return bound(null, rtol, atol);
    }

    /** Within n float32 ulps of expected. */
    static Tol ulps(int n) {
        return new Tol() {
            public boolean ok(int i, float e, float g) {
                return same(e, g) || Math.abs((double) g - e) <= n * (double) Math.ulp(e);
            }

            public String allowed(int i, float e) {
                return n + " ulp = " + n * (double) Math.ulp(e);
            }
        };
    }

    /** |got - expected| <= atol[i] + extraAtol + rtol |expected|: a per-element bound computed from the inputs. */
    static Tol bound(double[] atol, double rtol, double extraAtol) {
        return new Tol() {
            double lim(int i, float e) {
                return (atol == null ? 0 : atol[i]) + extraAtol + rtol * Math.abs((double) e);
            }

            public boolean ok(int i, float e, float g) {
                return same(e, g) || Math.abs((double) g - e) <= lim(i, e);
            }

            public String allowed(int i, float e) {
                return String.valueOf(lim(i, e));
            }
        };
    }

    private static boolean same(float e, float g) {
        return Float.floatToIntBits(e) == Float.floatToIntBits(g) || e == g;
    }

    // ---------------------------------------------------------------- the check

    /**
     * Runs body on the cpu and on gpu and compares each output: tols maps an output name to its tolerance
     * ("*" for the rest); int64 outputs must be equal. Returns the cpu outputs.
     */
    static Map<String, Object> check(String what, Device gpu, Body body, Map<String, Tol> tols) {
        Map<String, Object> cpu = runOn(Device.CPU, body);
        Map<String, Object> dev = runOn(gpu, body);
        assertEquals(cpu.keySet(), dev.keySet(), what + ": outputs");
        for (String name : cpu.keySet()) {
            Object e = cpu.get(name);
            Object g = dev.get(name);
            if (e instanceof long[] el) {
                long[] gl = (long[]) g;
                assertEquals(el.length, gl.length, what + " " + name + ": length");
                for (int i = 0; i < el.length; i++) {
                    if (el[i] != gl[i]) {
                        fail(what + ": output " + name + " index " + i + ": got " + gl[i] + " on " + gpu + ", expected "
                                + el[i] + " (cpu); int64 outputs must be equal");
                    }
                }
                continue;
            }
            float[] ef = (float[]) e;
            float[] gf = (float[]) g;
            Tol tol = tols.containsKey(name) ? tols.get(name) : tols.get("*");
            assertTrue(tol != null, what + ": no tolerance for output " + name);
            assertEquals(ef.length, gf.length, what + " " + name + ": length");
            for (int i = 0; i < ef.length; i++) {
                if (!tol.ok(i, ef[i], gf[i])) {
                    fail(what + ": output " + name + " index " + i + ": got " + gf[i] + " on " + gpu + ", expected "
                            + ef[i] + " (cpu); |diff| " + Math.abs((double) gf[i] - ef[i]) + " > allowed "
                            + tol.allowed(i, ef[i]));
                }
            }
        }
        return cpu;
    }

    static Map<String, Tol> tols(Object... namesAndTols) {
        Map<String, Tol> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTols.length; i += 2) {
            m.put((String) namesAndTols[i], (Tol) namesAndTols[i + 1]);
        }
        return m;
    }

    // ---------------------------------------------------------------- data

    static float[] gauss(SplittableRandom r, int n, double mean, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (mean + std * r.nextGaussian());
        }
        return a;
    }

    static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    /** a with the first elements replaced by specials (as many as fit). */
    static float[] withSpecials(float[] a, float... specials) {
        for (int i = 0; i < Math.min(a.length, specials.length); i++) {
            a[i] = specials[i];
        }
        return a;
    }

    static float[] abs(float[] a) {
        float[] b = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Math.abs(a[i]);
        }
        return b;
    }

    static double sumAbs(float[] a) {
        double s = 0;
        for (float v : a) {
            s += Math.abs(v);
        }
        return s;
    }

    static int prod(int... dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }

    static double[] scaled(float[] a, double factor) {
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = factor * Math.abs(a[i]);
        }
        return b;
    }
}
