package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.gpu.Parity.Body;
import dev.jtrain.backend.gpu.Parity.On;
import dev.jtrain.backend.gpu.Parity.Tol;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static dev.jtrain.backend.gpu.Parity.EPS;
import static dev.jtrain.backend.gpu.Parity.abs;
import static dev.jtrain.backend.gpu.Parity.bound;
import static dev.jtrain.backend.gpu.Parity.exact;
import static dev.jtrain.backend.gpu.Parity.gauss;
import static dev.jtrain.backend.gpu.Parity.out;
import static dev.jtrain.backend.gpu.Parity.prod;
import static dev.jtrain.backend.gpu.Parity.rel;
import static dev.jtrain.backend.gpu.Parity.runOn;
import static dev.jtrain.backend.gpu.Parity.scaled;
import static dev.jtrain.backend.gpu.Parity.tols;
import static dev.jtrain.backend.gpu.Parity.ulps;
import static dev.jtrain.backend.gpu.Parity.uniform;
import static dev.jtrain.backend.gpu.Parity.withSpecials;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The GPU backend ({@link GpuBackend} on {@link TestDevices#gpu()}, emu by default) against the pure-Java cpu
 * backend, op by op through the registry's checked fronts: the same host data on both, results copied back
 * and compared element by element with a tolerance per output, stated beside each check with its reason.
 * Sizes are awkward on purpose (1, 7, 33, 127, 1029; odd conv/pool geometries with padding and stride).
 * Every test closes its device tensors and checks that the device's in-use bytes come back (no leaks).
 *
 * <p>Tolerance vocabulary: "exact" = bit for bit (both sides do the same float32 operations in the same
 * order); "n ulp" = within n float32 ulps of the cpu value; for sums of K terms whose order differs
 * between the sides (GEMM, convolution, pooling gradients, batch-norm sums) the bound is
 * {@code 2 K eps sum|terms|} per element (the classical worst case of a float32 sum of K products, for
 * each side), where {@code sum|terms|} is the same op run on the cpu over the absolute values of the
 * inputs; EPS = 2^-23.
 *
 * <p>Covered: every method of {@link Backend} except {@code device()}, {@code describe()} (no numeric
 * result; the description differs by design) and {@code synchronize()} (called implicitly by every
 * copy back; it has no observable result of its own). {@code fromHost}, {@code toHost},
 * {@code copyFromHost} and {@code copyToHost} are tested directly and used by every other test.
 */
class GpuBackendParityTest {
    private static final int[] SIZES = {1, 7, 33, 127, 1029};
    private static Device gpu;
    private static long inUseAtStart;

    @BeforeAll
    static void device() {
        gpu = TestDevices.gpu();
        inUseAtStart = TestDevices.inUseBytes(gpu);
    }

    @AfterAll
    static void nothingLeaked() {
        if (gpu != null) {
            assertEquals(inUseAtStart, TestDevices.inUseBytes(gpu), "device bytes in use after all parity tests");
        }
    }

    private static SplittableRandom rnd(String name) {
        return new SplittableRandom(name.hashCode() * 0x9E3779B97F4A7C15L);
    }

    private static DynamicTest test(String name, Executable e) {
        return DynamicTest.dynamicTest(name, e);
    }

    private static Map<String, Object> check(String name, Body body, Map<String, Tol> tols) {
        return Parity.check(name, gpu, body, tols);
    }

    private static DynamicTest parity(String name, Body body, Map<String, Tol> tols) {
        return test(name, () -> check(name, body, tols));
    }

    private static DynamicContainer group(String name, List<DynamicNode> nodes) {
        return DynamicContainer.dynamicContainer(name, nodes);
    }

    /** The cpu result of a body (e.g. over absolute inputs, for an accumulation bound). */
    private static float[] cpu(Body body, String output) {
        return (float[]) runOn(Device.CPU, body).get(output);
    }

    /** 2 K eps |terms| per element: the accumulation-order bound of a K-term float32 sum on each side. */
    private static Tol sumBound(Body absBody, String output, long k) {
        return bound(scaled(cpu(absBody, output), 2.0 * Math.max(1, k) * EPS), 2 * EPS, Float.MIN_NORMAL);
    }

    // ================================================================ memory, transfers, copies, fills

    @TestFactory
    Stream<DynamicNode> memoryAndTransfers() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : SIZES) {
            String s = "[" + n + "]";
            float[] a = withSpecials(gauss(rnd("tr" + n), n, 0, 3), Float.NaN, -0f, Float.POSITIVE_INFINITY,
                    Float.MIN_VALUE);
            long[] l = new long[n];
            for (int i = 0; i < n; i++) {
                l[i] = rnd("l" + n).nextLong() ^ ((long) i << 40);
            }
            // transfers move bits: exact
            t.add(parity("fromHost/toHost float32" + s, on -> out("x", on.f(a, n)), tols("*", exact())));
            t.add(parity("fromHost/toHost int64" + s, on -> out("x", on.longs(l, n)), tols()));
            t.add(parity("copyFromHost/copyToHost" + s, on -> {
                Tensor d = on.zeros(n);
                on.be.copyFromHost(Tensor.of(a.clone(), n), d);
                Tensor h = Tensor.of(new float[n], n);
                on.be.copyToHost(d, h);
                Tensor dl = on.zerosLong(n);
                on.be.copyFromHost(Tensor.ofLongs(l.clone(), n), dl);
                Tensor hl = Tensor.ofLongs(new long[n], n);
                on.be.copyToHost(dl, hl);
                return out("h", h, "hl", hl);
            }, tols("*", exact())));
            t.add(parity("zeros" + s, on -> out("f", on.zeros(n, 1), "l", on.zerosLong(1, n)), tols("*", exact())));
            t.add(parity("copy" + s, on -> {
                Tensor dst = on.f(gauss(rnd("c" + n), n, 0, 1), n);
                on.be.copy(on.f(a, n), dst);
                Tensor dl = on.zerosLong(n);
                on.be.copy(on.longs(l, n), dl);
                return out("f", dst, "l", dl);
            }, tols("*", exact())));
            t.add(parity("fill" + s, on -> {
                Tensor x = on.f(a, n);
                on.be.fill(x, -2.75f);
                Tensor z = on.f(a, n);
                on.be.fill(z, -0f);
                Tensor l1 = on.longs(l, n);
                on.be.fill(l1, -7f);
                Tensor l0 = on.longs(l, n);
                on.be.fill(l0, 0f);
                return out("x", x, "z", z, "l1", l1, "l0", l0);
            }, tols("*", exact())));
        }
        return Stream.of(group("memory", t));
    }

    // ================================================================ random

    @TestFactory
    Stream<DynamicNode> random() {
        List<DynamicNode> t = new ArrayList<>();
        long[][] seeds = {{42, 0}, {0x123456789ABCDEFL, (1L << 33) + 5}, {-1L, 7}};
        for (int n : SIZES) {
            for (long[] so : seeds) {
                String s = "[" + n + "] seed " + so[0] + " offset " + so[1];
                // Philox words and u = (w >>> 8) 2^-24 are integer/exact ops; lo + (hi - lo) u in double, one rounding
                t.add(parity("randomUniform" + s, on -> {
                    Tensor a = on.zeros(n);
                    on.be.randomUniform(a, -0.5f, 2f, so[0], so[1]);
                    Tensor b = on.zeros(n);
                    on.be.randomUniform(b, 3f, 3f, so[0], so[1] + 1);
                    return out("a", a, "b", b);
                }, tols("*", exact())));
                // Box-Muller in double (log, cos, sin of the host/device libm vs Java's): Philox.java documents that
                // the float results agree except when the double functions differ by an ulp at a float rounding
                // boundary, so one float ulp
                t.add(parity("randomNormal" + s, on -> {
                    Tensor a = on.zeros(n);
                    on.be.randomNormal(a, 1f, 0.5f, so[0], so[1]);
                    return out("a", a);
                }, tols("*", ulps(1))));
            }
        }
        return Stream.of(group("random", t));
    }

    // ================================================================ GEMM and bias

    private static Body gemmBody(boolean ta, boolean tb, int m, int n, int k, float alpha, float beta, float[] a,
                                 float[] b, float[] c) {
        return on -> {
            Tensor ta0 = ta ? on.f(a, k, m) : on.f(a, m, k);
            Tensor tb0 = tb ? on.f(b, n, k) : on.f(b, k, n);
            Tensor tc = on.f(c, m, n);
            on.be.gemm(ta, tb, alpha, ta0, tb0, beta, tc);
            return out("c", tc);
        };
    }

    @TestFactory
    Stream<DynamicNode> gemm() {
        List<DynamicNode> t = new ArrayList<>();
        int[][] mnk = {{1, 1, 1}, {7, 5, 33}, {33, 17, 127}, {127, 3, 7}, {5, 6, 0}, {2, 129, 31}};
        for (int[] d : mnk) {
            int m = d[0], n = d[1], k = d[2];
            for (int tr = 0; tr < 4; tr++) {
                boolean ta = (tr & 1) != 0, tb = (tr & 2) != 0;
                for (float[] ab : new float[][] {{1f, 0f}, {-0.75f, 0.5f}}) {
                    String name = "gemm m" + m + " n" + n + " k" + k + (ta ? " aT" : "") + (tb ? " bT" : "")
                            + " alpha " + ab[0] + " beta " + ab[1];
                    t.add(test(name, () -> {
                        SplittableRandom r = rnd(name);
                        float[] a = gauss(r, m * k, 0, 1);
                        float[] b = gauss(r, k * n, 0, 1);
                        float[] c = gauss(r, m * n, 0, 1);
                        if (ab[1] == 0f) {
                            Arrays.fill(c, Float.NaN);  // beta = 0 ignores the old contents of c, even NaN
                        }
                        // K products summed in different orders (blocked Java vs tiled kernel): 2 K eps sum|a b|
                        float[] cAbs = ab[1] == 0f ? new float[m * n] : abs(c);
                        Tol tol = sumBound(gemmBody(ta, tb, m, n, k, Math.abs(ab[0]), Math.abs(ab[1]), abs(a), abs(b),
                                cAbs), "c", k + 1);
                        check(name, gemmBody(ta, tb, m, n, k, ab[0], ab[1], a, b, c), tols("c", tol));
                    }));
                }
            }
        }
        return Stream.of(group("gemm", t));
    }

    private static Body biasGradBody(float[] dy, float[] db0, int[] dims) {
        return on -> {
            Tensor db = on.f(db0, dims[1]);
            on.be.biasGrad(on.f(dy, dims), db);
            return out("db", db);
        };
    }

    @TestFactory
    Stream<DynamicNode> bias() {
        List<DynamicNode> t = new ArrayList<>();
        // the last two split each channel over several blocks on a device of 2 or more SMs (emu: workers), so the
        // backend's workspace from its pool is used: [2, 3, 64, 128] planes, [40000, 2] rows
        int[][] shapes = {{1, 1}, {7, 33}, {127, 5}, {3, 5, 7, 9}, {2, 3, 1}, {1029, 2}, {2, 3, 64, 128}, {40000, 2}};
        for (int[] dims : shapes) {
            String s = Arrays.toString(dims);
            int c = dims[1];
            SplittableRandom r = rnd("bias" + s);
            float[] y = gauss(r, prod(dims), 0, 2);
            float[] b = gauss(r, c, 0, 1);
            float[] db0 = gauss(r, c, 0, 1);
            // one float add per element on both sides: exact
            t.add(parity("addBias" + s, on -> {
                Tensor ty = on.f(y, dims);
                on.be.addBias(ty, on.f(b, c));
                return out("y", ty);
            }, tols("*", exact())));
            // sums in double on both sides (CpuBias, reduce.cu), in different orders, then rounded to float:
            // 2 ulp plus a double-rounding term 1e-12 sum|terms| for cancelling sums
            t.add(test("biasGrad" + s, () -> {
                double m = Parity.sumAbs(y) + Parity.sumAbs(db0);
                check("biasGrad" + s, biasGradBody(y, db0, dims), tols("db", doubleSum(m)));
            }));
        }
        return Stream.of(group("bias", t));
    }

    /** A float result of a double-accumulated sum on both sides: 2 ulp, plus 1e-12 sum|terms| for cancellation. */
    private static Tol doubleSum(double sumAbsTerms) {
        Tol u = ulps(2);
        Tol a = rel(0, 1e-12 * sumAbsTerms);
        return new Tol() {
            public boolean ok(int i, float e, float g) {
                return u.ok(i, e, g) || a.ok(i, e, g);
            }

            public String allowed(int i, float e) {
                return u.allowed(i, e) + " or " + a.allowed(i, e);
            }
        };
    }

    // ================================================================ elementwise

    @TestFactory
    Stream<DynamicNode> elementwise() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : SIZES) {
            String s = "[" + n + "]";
            SplittableRandom r = rnd("ew" + n);
            float[] a = withSpecials(gauss(r, n, 0, 3), -0f, Float.NaN, 1e30f, -3f);
            float[] b = withSpecials(gauss(r, n, 0, 3), 0f, 1f, 1e30f, 3f);
            // one IEEE float operation per element on both sides: exact
            t.add(parity("add" + s, on -> {
                Tensor o = on.zeros(n);
                on.be.add(on.f(a, n), on.f(b, n), o);
                Tensor x = on.f(a, n);
                on.be.add(x, on.f(b, n), x);             // out aliases a
                return out("out", o, "aliased", x);
            }, tols("*", exact())));
            t.add(parity("mul" + s, on -> {
                Tensor o = on.zeros(n);
                on.be.mul(on.f(a, n), on.f(b, n), o);
                Tensor x = on.f(b, n);
                on.be.mul(on.f(a, n), x, x);             // out aliases b
                return out("out", o, "aliased", x);
            }, tols("*", exact())));
            t.add(parity("scale" + s, on -> {
                Tensor x = on.f(a, n);
                on.be.scale(x, -1.375f);
                Tensor z = on.f(a, n);
                on.be.scale(z, 0f);
                return out("x", x, "z", z);
            }, tols("*", exact())));
            // IEEE sqrt is correctly rounded on both (sqrtf, -prec-sqrt=true; (float) Math.sqrt): exact
            float[] sq = withSpecials(uniform(r, n, 0, 100), -1f, -0f, Float.POSITIVE_INFINITY, 0f);
            t.add(parity("sqrt" + s, on -> {
                Tensor o = on.zeros(n);
                on.be.sqrt(on.f(sq, n), o);
                Tensor x = on.f(sq, n);
                on.be.sqrt(x, x);
                return out("out", o, "inPlace", x);
            }, tols("*", exact())));
            // y += alpha x: two roundings on the cpu and on emu (exact there); nvcc contracts it to one FFMA
            // (kernels/elementwise.cu AxpyF), which differs by at most half an ulp of alpha x plus one of the sum
            float alpha = 0.3f;
            float[] ax = new float[n];
            for (int i = 0; i < n; i++) {
                ax[i] = Math.abs(alpha * a[i]);
            }
            Tol axpyTol = gpu.kind() == Device.Kind.EMU ? exact() : bound(scaled(ax, EPS), EPS, 0);
            t.add(parity("axpy" + s, on -> {
                Tensor y = on.f(b, n);
                on.be.axpy(alpha, on.f(a, n), y);
                return out("y", y);
            }, tols("*", axpyTol)));
        }
        return Stream.of(group("elementwise", t));
    }

    // ================================================================ activations

    private static final float[] ACT_SPECIALS = {0f, -0f, 20f, -20f, 5f, -5f, 1e-3f, -1e-3f, 30f, -30f, 88f, -100f,
        0.5f, -0.5f, 1e-30f, 19.99f, 20.01f};

    @TestFactory
    Stream<DynamicNode> activations() {
        List<DynamicNode> t = new ArrayList<>();
        Activation[] acts = {Activation.relu(), Activation.leakyRelu(0.01f), Activation.leakyRelu(0.1f),
            Activation.elu(1f), Activation.elu(0.5f), Activation.selu(), Activation.sigmoid(), Activation.tanh(),
            Activation.gelu(false), Activation.gelu(true), Activation.silu(), Activation.softplus(1f, 20f),
            Activation.softplus(2f, 10f), Activation.identity()};
        for (Activation act : acts) {
            Activation.Kind k = act.kind();
            boolean piecewiseLinear = k == Activation.Kind.RELU || k == Activation.Kind.LEAKY_RELU
                    || k == Activation.Kind.IDENTITY;
            // relu, leaky relu and identity are one comparison and at most one float multiply (a float product
            // is exact in double, so the cpu's double-then-round gives the same bits): exact.
            // The others: the cpu computes in double and rounds once; the kernels compute in float32 with forms
            // that avoid cancellation (kernels/activation_math.h: "within a few ulp of float64"), with
            // single-precision exp/log/tanh/erf of up to ~2-4 ulp each, composed: rtol 1e-5 (FORMAT.md's
            // activation preset), and atol 1e-6 for results near 0 computed from O(1) intermediates
            // (e.g. gelu(-5) ~ -1.4e-6, tanh-GELU's derivative around x = -5 cancels, FORMAT.md item 4)
            Tol fwd = piecewiseLinear ? exact() : rel(1e-5, 1e-6);
            for (int n : new int[] {1, 7, 33, 1029}) {
                String s = " " + k + (act.alpha() != 0 ? " a=" + act.alpha() : "") + " [" + n + "]";
                SplittableRandom r = rnd("act" + s);
                float[] x = withSpecials(gauss(r, n, 0, 4), ACT_SPECIALS);
                float[] dy = gauss(r, n, 0, 1);
                t.add(parity("activationForward" + s, on -> {
                    Tensor y = on.zeros(n);
                    on.be.activationForward(act, on.f(x, n), y);
                    return out("y", y);
                }, tols("*", fwd)));
                t.add(test("activationBackward" + s, () -> {
                    // both sides take y from the cpu forward (sigmoid/tanh backward use the output)
                    float[] y = cpu(on -> {
                        Tensor ty = on.zeros(n);
                        on.be.activationForward(act, on.f(x, n), ty);
                        return out("y", ty);
                    }, "y");
                    check("activationBackward" + s, on -> {
                        Tensor dx = on.zeros(n);
                        on.be.activationBackward(act, on.f(x, n), on.f(y, n), on.f(dy, n), dx);
                        if (k == Activation.Kind.RELU) {      // relu from y alone, identity without x
                            Tensor dx2 = on.zeros(n);
                            on.be.activationBackward(act, null, on.f(y, n), on.f(dy, n), dx2);
                            return out("dx", dx, "dxFromY", dx2);
                        }
                        if (k == Activation.Kind.IDENTITY) {
                            Tensor dx2 = on.zeros(n);
                            on.be.activationBackward(act, null, null, on.f(dy, n), dx2);
                            return out("dx", dx, "dxNoX", dx2);
                        }
                        return out("dx", dx);
                    }, tols("*", fwd));
                }));
            }
        }
        return Stream.of(group("activations", t));
    }

    @TestFactory
    Stream<DynamicNode> prelu() {
        List<DynamicNode> t = new ArrayList<>();
        // {x dims..., alpha size}
        // the last two split their channels over several blocks (2 or more SMs): the backend's workspace is used
        int[][] cases = {{7, 33, 1}, {5, 3, 4, 7, 3}, {127, 1}, {6, 1, 5, 1}, {1, 1, 1}, {2, 9, 1, 9}, {4, 2, 8192, 2},
                {65536, 1}};
        for (int[] c : cases) {
            int[] dims = Arrays.copyOf(c, c.length - 1);
            int na = c[c.length - 1];
            String s = " x" + Arrays.toString(dims) + " alpha[" + na + "]";
            int n = prod(dims);
            SplittableRandom r = rnd("prelu" + s);
            float[] x = withSpecials(gauss(r, n, 0, 2), 0f, -0f);
            float[] alpha = uniform(r, na, -0.5, 0.5);
            float[] dy = gauss(r, n, 0, 1);
            float[] da0 = gauss(r, na, 0, 1);
            // y = x or alpha x, dx = dy or alpha dy: one float multiply: exact
            t.add(parity("preluForward" + s, on -> {
                Tensor y = on.zeros(dims);
                on.be.preluForward(on.f(x, dims), on.f(alpha, na), y);
                return out("y", y);
            }, tols("*", exact())));
            // dalpha sums the x dy of the negative branch over M = N inner positions per channel, in another
            // order: 2 (M + 1) eps (sum|x dy| + |dalpha0|)
            int m = n / na;
            t.add(test("preluBackward" + s, () -> {
                double[] lim = new double[na];
                int inner = na == 1 ? n : n / (dims[0] * na);
                for (int i = 0; i < n; i++) {
                    int ch = na == 1 ? 0 : (i / inner) % na;
                    if (!(x[i] > 0)) {
                        lim[ch] += Math.abs((double) x[i] * dy[i]);
                    }
                }
                for (int j = 0; j < na; j++) {
                    lim[j] = 2.0 * (m + 1) * EPS * (lim[j] + Math.abs(da0[j]));
                }
                check("preluBackward" + s, on -> {
                    Tensor dx = on.zeros(dims);
                    Tensor da = on.f(da0, na);
                    on.be.preluBackward(on.f(x, dims), on.f(alpha, na), on.f(dy, dims), dx, da);
                    Tensor dx2 = on.zeros(dims);
                    on.be.preluBackward(on.f(x, dims), on.f(alpha, na), on.f(dy, dims), dx2, null);
                    return out("dx", dx, "dalpha", da, "dxNoDalpha", dx2);
                }, tols("dx", exact(), "dxNoDalpha", exact(), "dalpha", bound(lim, 2 * EPS, 0)));
            }));
        }
        return Stream.of(group("prelu", t));
    }

    @TestFactory
    Stream<DynamicNode> maxout() {
        List<DynamicNode> t = new ArrayList<>();
        int[][] cases = {{7, 3, 5}, {33, 2, 4}, {1, 1, 1}, {5, 4, 1}, {127, 2, 3}};
        for (int[] c : cases) {
            int n = c[0], pieces = c[1], d = c[2];
            String s = " z[" + n + ", " + pieces * d + "] pieces " + pieces;
            SplittableRandom r = rnd("maxout" + s);
            float[] z = new float[n * pieces * d];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) Math.rint(r.nextGaussian() * 2);   // small integers: many ties (first piece wins)
            }
            float[] dy = gauss(r, n * d, 0, 1);
            // a max, an index and routed copies: exact (piece indices equal)
            t.add(parity("maxoutForward/Backward" + s, on -> {
                Tensor y = on.zeros(n, d);
                Tensor piece = on.zerosLong(n, d);
                on.be.maxoutForward(on.f(z, n, pieces * d), pieces, y, piece);
                Tensor dz = on.f(gauss(rnd("junk"), n * pieces * d, 0, 1), n, pieces * d);
                on.be.maxoutBackward(on.f(dy, n, d), piece, pieces, dz);
                return out("y", y, "piece", piece, "dz", dz);
            }, tols("*", exact())));
        }
        return Stream.of(group("maxout", t));
    }

    // ================================================================ losses

    @TestFactory
    Stream<DynamicNode> softmaxCrossEntropy() {
        List<DynamicNode> t = new ArrayList<>();
        int[][] nc = {{1, 1}, {7, 10}, {33, 127}, {5, 3}, {1029, 2}};
        for (int[] d : nc) {
            int n = d[0], c = d[1];
            for (float smooth : new float[] {0f, 0.1f}) {
                for (double spread : new double[] {3, 60}) {
                    String s = " [" + n + ", " + c + "] smoothing " + smooth + " spread " + spread;
                    SplittableRandom r = rnd("sce" + s);
                    float[] logits = gauss(r, n * c, 1, spread);
                    long[] labels = new long[n];
                    for (int i = 0; i < n; i++) {
                        labels[i] = r.nextInt(c);
                    }
                    float scale = 1f / n;
                    // probs: the kernel's float32 exp (~2 ulp) of x - m rounded in float (an error of eps/2 |x - m|
                    // that exp amplifies by its condition number |x - m|), a float sum of C terms (C eps) and a
                    // divide, against the cpu's double: rtol (C + 4) eps + eps |x - m| per element; subnormal
                    // probabilities only to within MIN_NORMAL.
                    double[] pLim = new double[n * c];
                    for (int i = 0; i < n; i++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int j = 0; j < c; j++) {
                            m = Math.max(m, logits[i * c + j]);
                        }
                        for (int j = 0; j < c; j++) {
                            pLim[i * c + j] = EPS * ((double) m - logits[i * c + j]);   // times |p|, below
                        }
                    }
                    Tol pt = new Tol() {
                        public boolean ok(int i, float e, float g) {
                            return Math.abs((double) g - e) <= lim(i, e) || Float.compare(e, g) == 0;
                        }

                        double lim(int i, float e) {
                            return ((c + 4) * EPS + pLim[i]) * Math.abs(e) + Float.MIN_NORMAL;
                        }

                        public String allowed(int i, float e) {
                            return String.valueOf(lim(i, e));
                        }
                    };
                    // loss: the kernel adds nonnegative terms log(sum exp(x - m)) + (1 - eps)(m - x_y) +
                    // eps/C sum (m - x_k) (softmax_xent.h): the float sum (>= 1) is within (C + 2) eps relative,
                    // which log turns into an absolute error, the other terms within a few eps relative:
                    // rtol (C + 4) eps and atol (C + 4) eps
                    Tol lt = rel((c + 4) * EPS, (c + 4) * EPS);
                    // dlogits = scale (p - q): the kernel rounds q = (1 - eps) + eps/C and p - q in float (the cpu in
                    // double): 2 ulp of the result plus 2 eps |scale| for q's rounding
                    Tol dt = rel(2 * EPS, 2 * EPS * scale);
                    t.add(test("softmaxCrossEntropy/Backward" + s, () -> {
                        float[] probs = cpu(on -> {
                            Tensor p = on.zeros(n, c);
                            on.be.softmaxCrossEntropy(on.f(logits, n, c), on.longs(labels, n), smooth, p, on.zeros(n));
                            return out("p", p);
                        }, "p");
                        check("softmaxCrossEntropy/Backward" + s, on -> {
                            Tensor p = on.zeros(n, c);
                            Tensor loss = on.zeros(n);
                            on.be.softmaxCrossEntropy(on.f(logits, n, c), on.longs(labels, n), smooth, p, loss);
                            Tensor dl = on.zeros(n, c);     // backward from the cpu's probabilities on both sides
                            on.be.softmaxCrossEntropyBackward(on.f(probs, n, c), on.longs(labels, n), smooth, scale, dl);
                            return out("probs", p, "loss", loss, "dlogits", dl);
                        }, tols("probs", pt, "loss", lt, "dlogits", dt));
                    }));
                }
            }
        }
        return Stream.of(group("softmaxCrossEntropy", t));
    }

    @TestFactory
    Stream<DynamicNode> bceAndMse() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : new int[] {1, 7, 33, 127, 1029}) {
            String s = " [" + n + "]";
            SplittableRandom r = rnd("bce" + s);
            float[] z = withSpecials(gauss(r, n, 0, 5), 30.123f, -30.5f, 80f, -80f, 100f, -100f, 0f, 17.25f, -17.25f,
                    45.5f, 3f);
            float[] tg = withSpecials(uniform(r, n, 0, 1), 0.99999f, 1e-5f, 1f, 0f, 0.9999f, 0.5f, 0.5f, 0.999999f,
                    1e-6f, 0.999f, 0.25f);
            for (int i = 11; i < n; i += 3) {
                tg[i] = (i % 2 == 0) ? 0f : 1f;          // some hard targets too
            }
            float scale = 1f / n;
            // The loss max(z, 0) - z t + log1p(exp(-|z|)) is a sum of two nonnegative terms for t in [0, 1]; the
            // cpu computes it in double and rounds once; a float kernel that rounds z t separately loses up to
            // an ulp of |z| against a small result (large |z|, t near 1 or 0): the fused max(z, 0) - z t (one
            // rounding) plus log1pf(expf(-|z|)) (~2 ulp) stays within 4 ulp: rtol 4 eps
            t.add(parity("bceWithLogits" + s, on -> {
                Tensor loss = on.zeros(n);
                on.be.bceWithLogits(on.f(z, n), on.f(tg, n), loss);
                return out("loss", loss);
            }, tols("*", rel(4 * EPS, Float.MIN_NORMAL))));
            // dz = scale (sigmoid(z) - t): the kernel's float sigmoid (~3 ulp) minus t cancels when t ~ sigmoid:
            // rtol 4 eps plus 4 eps |scale| (an ulp-level error of sigmoid <= 1 carried through the cancellation)
            t.add(parity("bceWithLogitsBackward" + s, on -> {
                Tensor dz = on.zeros(n);
                on.be.bceWithLogitsBackward(on.f(z, n), on.f(tg, n), scale, dz);
                return out("dz", dz);
            }, tols("*", rel(4 * EPS, 4 * EPS * scale))));
            float[] p = gauss(r, n, 0, 3);
            float[] q = withSpecials(gauss(r, n, 0, 3), p.length > 0 ? p[0] : 0f);
            // (p - t)^2: the kernel rounds p - t then squares (about 2 rounding errors of relative eps/2 each,
            // doubled by the square), the cpu rounds once from double: rtol 3 eps
            t.add(parity("squaredError" + s, on -> {
                Tensor o = on.zeros(n);
                on.be.squaredError(on.f(p, n), on.f(q, n), o);
                return out("out", o);
            }, tols("*", rel(3 * EPS, Float.MIN_NORMAL))));
            // 2 scale (p - t): two float roundings against one from double: rtol 2 eps
            t.add(parity("squaredErrorBackward" + s, on -> {
                Tensor o = on.zeros(n);
                on.be.squaredErrorBackward(on.f(p, n), on.f(q, n), scale, o);
                return out("dpred", o);
            }, tols("*", rel(2 * EPS, Float.MIN_NORMAL))));
        }
        return Stream.of(group("bce and mse", t));
    }

    // ================================================================ reductions

    @TestFactory
    Stream<DynamicNode> reductions() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : new int[] {1, 7, 33, 127, 1029, 70001}) {
            String s = " [" + n + "]";
            SplittableRandom r = rnd("red" + s);
            float[] x = gauss(r, n, 0.25, 3);
            double sa = Parity.sumAbs(x);
            double sq = 0;
            for (float v : x) {
                sq += (double) v * v;
            }
            // both sides accumulate in double (CpuReductions, reduce.h) in different orders and round once
            t.add(parity("sum/sumAbs" + s, on -> {
                Tensor o1 = on.zeros(1);
                on.be.sum(on.f(x, n), o1);
                Tensor o2 = on.zeros(1);
                on.be.sumAbs(on.f(x, n), o2);
                return out("sum", o1, "sumAbs", o2);
            }, tols("*", doubleSum(sa))));
            t.add(parity("sumSquares" + s, on -> {
                Tensor o1 = on.zeros(1);
                on.be.sumSquares(on.f(x, n), o1, false);
                Tensor o2 = on.f(new float[] {3.5f}, 1);
                on.be.sumSquares(on.f(x, n), o2, true);     // accumulate onto 3.5
                return out("fresh", o1, "accumulated", o2);
            }, tols("*", doubleSum(sq + 3.5))));
        }
        // sumSquares over a list (one launch on a device): double partials, 2 ulp
        int[][] lists = {{1, 33, 130}, {7}, {}, {1029, 0, 5}};
        for (int[] sizes : lists) {
            String s = " list " + Arrays.toString(sizes);
            SplittableRandom r = rnd("ssl" + s);
            List<float[]> xs = new ArrayList<>();
            double sq = 0;
            for (int n : sizes) {
                float[] x = gauss(r, n, 0, 2);
                xs.add(x);
                for (float v : x) {
                    sq += (double) v * v;
                }
            }
            t.add(parity("sumSquares(List)" + s, on -> {
                List<Tensor> ts = new ArrayList<>();
                for (int i = 0; i < sizes.length; i++) {
                    ts.add(on.f(xs.get(i), sizes[i]));
                }
                Tensor o = on.f(new float[] {9f}, 1);       // overwritten
                on.be.sumSquares(ts, o);
                return out("out", o);
            }, tols("*", doubleSum(sq))));
        }
        int[][] rc = {{1, 1}, {7, 33}, {33, 127}, {1029, 3}};
        for (int[] d : rc) {
            int rows = d[0], cols = d[1];
            String s = " [" + rows + ", " + cols + "]";
            SplittableRandom r = rnd("arg" + s);
            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.rint(r.nextGaussian() * 2);   // ties: the first maximum wins
            }
            if (rows > 2 && cols > 3) {
                x[cols + 2] = Float.NaN;                          // a NaN counts as the maximum
                x[2 * cols + 1] = Float.NaN;
                x[2 * cols + 3] = Float.NaN;
            }
            long[] a = new long[rows * cols];
            long[] b = new long[rows * cols];
            for (int i = 0; i < a.length; i++) {
                a[i] = r.nextInt(4);
                b[i] = r.nextInt(4);
            }
            // an index and a count: exact
            t.add(parity("argmaxRows/countEqual" + s, on -> {
                Tensor idx = on.zerosLong(rows);
                on.be.argmaxRows(on.f(x, rows, cols), idx);
                Tensor cnt = on.zeros(1);
                on.be.countEqual(on.longs(a, rows, cols), on.longs(b, rows, cols), cnt);
                return out("argmax", idx, "count", cnt);
            }, tols("*", exact())));
        }
        return Stream.of(group("reductions", t));
    }

    // ================================================================ convolution and pooling

    /** {N, Cin, H, W, Cout, kH, kW, sH, sW, pH, pW, bias?} */
    private static final int[][] CONV = {
        {2, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1},
        {3, 2, 9, 6, 5, 3, 2, 2, 1, 1, 0, 0},
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1},
        {5, 3, 8, 11, 7, 4, 3, 3, 2, 2, 1, 1},
        {1, 4, 6, 5, 3, 5, 5, 1, 1, 2, 2, 1},
    };

    private static Body convForwardBody(int[] g, ConvSpec spec, float[] x, float[] w, float[] b, int oh, int ow) {
        return on -> {
            Tensor y = on.f(new float[g[0] * g[4] * oh * ow], g[0], g[4], oh, ow);
            on.be.conv2dForward(on.f(x, g[0], g[1], g[2], g[3]), on.f(w, g[4], g[1], g[5], g[6]),
                    b == null ? null : on.f(b, g[4]), spec, y);
            return out("y", y);
        };
    }

    private static Body convBackwardBody(int[] g, ConvSpec spec, float[] x, float[] w, float[] dy, float[] dw0,
                                         float[] db0, int oh, int ow, boolean withDx) {
        return on -> {
            Tensor dx = withDx ? on.f(new float[prod(g[0], g[1], g[2], g[3])], g[0], g[1], g[2], g[3]) : null;
            Tensor dw = on.f(dw0, g[4], g[1], g[5], g[6]);
            Tensor db = db0 == null ? null : on.f(db0, g[4]);
            on.be.conv2dBackward(on.f(x, g[0], g[1], g[2], g[3]), on.f(w, g[4], g[1], g[5], g[6]),
                    on.f(dy, g[0], g[4], oh, ow), spec, dx, dw, db);
            return db == null ? (dx == null ? out("dw", dw) : out("dx", dx, "dw", dw))
                    : (dx == null ? out("dw", dw, "db", db) : out("dx", dx, "dw", dw, "db", db));
        };
    }

    @TestFactory
    Stream<DynamicNode> conv2d() {
        List<DynamicNode> t = new ArrayList<>();
        for (int[] g : CONV) {
            ConvSpec spec = new ConvSpec(g[5], g[6], g[7], g[8], g[9], g[10]);
            int oh = spec.outH(g[2]), ow = spec.outW(g[3]);
            boolean bias = g[11] == 1;
            String s = " x[" + g[0] + "," + g[1] + "," + g[2] + "," + g[3] + "] w[" + g[4] + "," + g[1] + "," + g[5]
                    + "," + g[6] + "] " + spec + (bias ? "" : " no bias");
            SplittableRandom r = rnd("conv" + s);
            float[] x = gauss(r, prod(g[0], g[1], g[2], g[3]), 0, 1);
            float[] w = gauss(r, prod(g[4], g[1], g[5], g[6]), 0, 0.5);
            float[] b = bias ? gauss(r, g[4], 0, 1) : null;
            float[] dy = gauss(r, prod(g[0], g[4], oh, ow), 0, 1);
            float[] dw0 = gauss(r, w.length, 0, 1);
            float[] db0 = gauss(r, g[4], 0, 1);
            int kk = g[1] * g[5] * g[6];
            int np = g[0] * oh * ow;
            // y: Cin kH kW products (+ bias) per output, summed in another order (im2col + GEMM vs direct):
            // 2 K eps sum|x w| with K = Cin kH kW + 1
            t.add(test("conv2dForward" + s, () -> check("conv2dForward" + s,
                    convForwardBody(g, spec, x, w, b, oh, ow),
                    tols("y", sumBound(convForwardBody(g, spec, abs(x), abs(w), b == null ? null : abs(b), oh, ow), "y",
                            kk + 1)))));
            // dx: Cout kH kW terms per input element; dw: N OH OW terms (+ the accumulated old value); db: N OH OW
            t.add(test("conv2dBackward" + s, () -> {
                Body absBody = convBackwardBody(g, spec, abs(x), abs(w), abs(dy), abs(dw0), abs(db0), oh, ow, true);
                Map<String, Tol> tl = tols("dx", sumBound(absBody, "dx", (long) g[4] * g[5] * g[6]),
                        "dw", sumBound(absBody, "dw", np + 1), "db", sumBound(absBody, "db", np + 1));
                check("conv2dBackward" + s, convBackwardBody(g, spec, x, w, dy, dw0, db0, oh, ow, true), tl);
                check("conv2dBackward (dx and db null)" + s,
                        convBackwardBody(g, spec, x, w, dy, dw0, null, oh, ow, false), tl);
            }));
        }
        return Stream.of(group("conv2d", t));
    }

    /** {N, C, H, W, kH, kW, sH, sW, pH, pW} */
    private static final int[][] POOL = {
        {2, 3, 7, 7, 2, 2, 2, 2, 0, 0},
        {1, 2, 7, 6, 3, 3, 2, 2, 1, 1},
        {3, 2, 5, 5, 3, 3, 1, 1, 1, 1},
        {2, 1, 8, 5, 2, 2, 3, 3, 1, 1},
        {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 3, 9, 4, 3, 2, 2, 1, 1, 0},
    };

    @TestFactory
    Stream<DynamicNode> pooling() {
        List<DynamicNode> t = new ArrayList<>();
        for (int[] g : POOL) {
            ConvSpec spec = new ConvSpec(g[4], g[5], g[6], g[7], g[8], g[9]);
            int n = g[0], c = g[1], h = g[2], w = g[3];
            int oh = spec.outH(h), ow = spec.outW(w);
            String s = " x[" + n + "," + c + "," + h + "," + w + "] " + spec;
            SplittableRandom r = rnd("pool" + s);
            float[] x = new float[n * c * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.rint(r.nextGaussian() * 3);   // ties: the first maximum wins
            }
            float[] dy = gauss(r, n * c * oh * ow, 0, 1);
            // windows overlapping a given input element: ceil(k / s) per axis
            long overlap = (long) ((g[4] + g[6] - 1) / g[6]) * ((g[5] + g[7] - 1) / g[7]);
            // max: a comparison and an index, exact; the backward adds dy at each argmax (overlapping windows add
            // up in another order): 2 K eps sum|dy| with K = windows per element
            Body maxBody = on -> {
                Tensor y = on.zeros(n, c, oh, ow);
                Tensor idx = on.zerosLong(n, c, oh, ow);
                on.be.maxPool2dForward(on.f(x, n, c, h, w), spec, y, idx);
                Tensor y2 = on.zeros(n, c, oh, ow);
                on.be.maxPool2dForward(on.f(x, n, c, h, w), spec, y2, null);
                Tensor dx = on.f(gauss(rnd("junk"), x.length, 0, 1), n, c, h, w);
                on.be.maxPool2dBackward(on.f(dy, n, c, oh, ow), idx, spec, dx);
                Tensor dxXY = on.f(gauss(rnd("junk"), x.length, 0, 1), n, c, h, w);   // the layers' form (cuDNN: by x, y)
                on.be.maxPool2dBackward(on.f(x, n, c, h, w), y, on.f(dy, n, c, oh, ow), idx, spec, dxXY);
                return out("y", y, "indices", idx, "yNoIndices", y2, "dx", dx, "dxFromXY", dxXY);
            };
            t.add(test("maxPool2d forward/backward" + s, () -> {
                Body absBody = on -> {
                    Tensor y = on.zeros(n, c, oh, ow);
                    Tensor idx = on.zerosLong(n, c, oh, ow);
                    on.be.maxPool2dForward(on.f(x, n, c, h, w), spec, y, idx);
                    Tensor dx = on.zeros(n, c, h, w);
                    on.be.maxPool2dBackward(on.f(abs(dy), n, c, oh, ow), idx, spec, dx);
                    return out("dx", dx);
                };
                check("maxPool2d" + s, maxBody, tols("y", exact(), "yNoIndices", exact(),
                        "dx", sumBound(absBody, "dx", overlap), "dxFromXY", sumBound(absBody, "dx", overlap)));
            }));
            // avg: kH kW terms per output, then / (kH kW); backward: each input gets dy / (kH kW) from each window
            float[] xf = gauss(r, x.length, 0, 2);
            Body avgBody = avgBody(n, c, h, w, oh, ow, spec, xf, dy);
            t.add(test("avgPool2d forward/backward" + s, () -> {
                Body absBody = avgBody(n, c, h, w, oh, ow, spec, abs(xf), abs(dy));
                check("avgPool2d" + s, avgBody, tols("y", sumBound(absBody, "y", (long) g[4] * g[5] + 1),
                        "dx", sumBound(absBody, "dx", overlap + 1)));
            }));
        }
        return Stream.of(group("pooling", t));
    }

    private static Body avgBody(int n, int c, int h, int w, int oh, int ow, ConvSpec spec, float[] x, float[] dy) {
        return on -> {
            Tensor y = on.zeros(n, c, oh, ow);
            on.be.avgPool2dForward(on.f(x, n, c, h, w), spec, y);
            Tensor dx = on.f(gauss(rnd("junk"), n * c * h * w, 0, 1), n, c, h, w);
            on.be.avgPool2dBackward(on.f(dy, n, c, oh, ow), spec, dx);
            return out("y", y, "dx", dx);
        };
    }

    // ================================================================ batch normalisation

    private static final int[][] BN = {{7, 5}, {33, 3}, {3, 4, 5, 7}, {2, 3, 1, 1}, {127, 2}, {5, 2, 3}};

    @TestFactory
    Stream<DynamicNode> batchNorm() {
        List<DynamicNode> t = new ArrayList<>();
        for (int[] dims : BN) {
            for (boolean affine : new boolean[] {true, false}) {
                String s = " x" + Arrays.toString(dims) + (affine ? "" : " no affine");
                t.add(test("batchNorm train forward/backward" + s, () -> bnTrain(s, dims, affine)));
                t.add(test("batchNorm eval forward/backward" + s, () -> bnEval(s, dims, affine)));
            }
        }
        return Stream.of(group("batchNorm", t));
    }

    /** Per-channel views of [N, C, inner]: channel of flat index i. */
    private static int channelOf(int i, int[] dims) {
        int inner = dims.length == 2 ? 1 : prod(Arrays.copyOfRange(dims, 2, dims.length));
        return (i / inner) % dims[1];
    }

    private static void bnTrain(String s, int[] dims, boolean affine) {
        SplittableRandom r = rnd("bn" + s);
        int c = dims[1];
        int n = prod(dims);
        int m = n / c;
        float[] x = gauss(r, n, 3, 2);                    // an offset mean: stresses the variance computation
        float[] gamma = affine ? uniform(r, c, 0.5, 1.5) : null;
        float[] beta = affine ? gauss(r, c, 0, 1) : null;
        float[] rm0 = gauss(r, c, 0, 0.1);
        float[] rv0 = uniform(r, c, 0.5, 1.5);
        float[] dy = gauss(r, n, 0, 1);
        float[] dg0 = gauss(r, c, 0, 1);
        float[] db0 = gauss(r, c, 0, 1);
        float eps = 1e-5f;
        float mom = 0.1f;
        Body fwd = on -> {
            Tensor y = on.zeros(dims);
            Tensor rm = on.f(rm0, c);
            Tensor rv = on.f(rv0, c);
            Tensor sm = on.zeros(c);
            Tensor sv = on.zeros(c);
            on.be.batchNormForwardTrain(on.f(x, dims), gamma == null ? null : on.f(gamma, c),
                    beta == null ? null : on.f(beta, c), eps, mom, rm, rv, y, sm, sv);
            Tensor y2 = on.zeros(dims);                    // without running stats and saved stats
            on.be.batchNormForwardTrain(on.f(x, dims), gamma == null ? null : on.f(gamma, c),
                    beta == null ? null : on.f(beta, c), eps, mom, null, null, y2, null, null);
            return out("y", y, "saveMean", sm, "saveVar", sv, "runningMean", rm, "runningVar", rv, "yNoStats", y2);
        };
        Map<String, Object> ref = runOn(Device.CPU, fwd);
        float[] mean = (float[]) ref.get("saveMean");
        float[] var = (float[]) ref.get("saveVar");
        // Statistics: the cpu sums in double in two passes; the kernel keeps float Welford partials per thread
        // merged in double (batchnorm.h). Float partials over up to M values err by ~sqrt(M) eps per value on
        // average (random rounding), so the mean by 4 sqrt(M) eps max|x_c| and the biased variance by
        // 4 sqrt(M) eps max(x_c - mean)^2 (the offset mean 3 makes the float Welford updates the hard case)
        double[] maxAbs = new double[c];
        double[] maxDev2 = new double[c];
        double[] sAbsDy = new double[c];
        double[] sAbsDyXh = new double[c];
        double[] meanDy = new double[c];
        double[] meanDyXh = new double[c];
        for (int i = 0; i < n; i++) {
            int ch = channelOf(i, dims);
            double inv = 1 / Math.sqrt(var[ch] + (double) eps);
            double xh = (x[i] - mean[ch]) * inv;
            maxAbs[ch] = Math.max(maxAbs[ch], Math.abs(x[i]));
            maxDev2[ch] = Math.max(maxDev2[ch], (x[i] - mean[ch]) * (double) (x[i] - mean[ch]));
            sAbsDy[ch] += Math.abs(dy[i]);
            sAbsDyXh[ch] += Math.abs(dy[i] * xh);
            meanDy[ch] += dy[i] / (double) m;
            meanDyXh[ch] += dy[i] * xh / m;
        }
        double k = 4 * Math.sqrt(m) * EPS;
        double[] dMean = new double[c];
        double[] dVar = new double[c];
        for (int j = 0; j < c; j++) {
            dMean[j] = k * maxAbs[j];
            dVar[j] = k * maxDev2[j];
        }
        // y = g (x - mean) inv + b: the statistics' errors carried through, plus 4 eps of each term for float
        // rounding of the elementwise part
        double[] yLim = new double[n];
        for (int i = 0; i < n; i++) {
            int ch = channelOf(i, dims);
            double g = gamma == null ? 1 : Math.abs(gamma[ch]);
            double b = beta == null ? 0 : Math.abs(beta[ch]);
            double v = var[ch] + (double) eps;
            double inv = 1 / Math.sqrt(v);
            double dev = Math.abs(x[i] - mean[ch]);
            yLim[i] = g * inv * (dMean[ch] + dev * dVar[ch] / (2 * v)) + 4 * EPS * (g * dev * inv + b);
        }
        // running stats: (1 - mom) r + mom stat, the unbiased variance var M/(M - 1): the stats' errors times mom,
        // plus 4 ulp of the update's float arithmetic
        double[] rmLim = new double[c];
        double[] rvLim = new double[c];
        for (int j = 0; j < c; j++) {
            rmLim[j] = mom * dMean[j] + 4 * EPS * (Math.abs(rm0[j]) + mom * Math.abs(mean[j]));
            rvLim[j] = mom * dVar[j] * m / (m - 1.0) + 4 * EPS * (Math.abs(rv0[j]) + mom * var[j] * m / (m - 1.0));
        }
        Parity.check("batchNormForwardTrain" + s, gpu, fwd, tols("y", bound(yLim, 0, 0), "yNoStats",
                bound(yLim, 0, 0), "saveMean", bound(dMean, 0, 0), "saveVar", bound(dVar, 0, 0),
                "runningMean", bound(rmLim, 0, 0), "runningVar", bound(rvLim, 0, 0)));

        // backward from the same saved statistics (the cpu's) on both sides:
        // dx = g inv (dy - mean(dy) - xhat mean(dy xhat)): the two channel sums in another order (4 sqrt(M) eps of
        // their absolute sums, see above) and 4 eps of each term of the elementwise part; dgamma, dbeta: the sums
        double[] dxLim = new double[n];
        for (int i = 0; i < n; i++) {
            int ch = channelOf(i, dims);
            double g = gamma == null ? 1 : Math.abs(gamma[ch]);
            double inv = 1 / Math.sqrt(var[ch] + (double) eps);
            double xh = Math.abs((x[i] - mean[ch]) * inv);
            dxLim[i] = g * inv * (k * (sAbsDy[ch] + xh * sAbsDyXh[ch]) / m
                    + 4 * EPS * (Math.abs(dy[i]) + Math.abs(meanDy[ch]) + xh * Math.abs(meanDyXh[ch])));
        }
        double[] dgLim = new double[c];
        double[] dbLim = new double[c];
        for (int j = 0; j < c; j++) {
            dgLim[j] = k * sAbsDyXh[j] + 2 * EPS * Math.abs(dg0[j]);
            dbLim[j] = k * sAbsDy[j] + 2 * EPS * Math.abs(db0[j]);
        }
        Parity.check("batchNormBackward (training)" + s, gpu, on -> {
            Tensor dx = on.f(gauss(rnd("junk"), n, 0, 1), dims);
            Tensor dg = on.f(dg0, c);
            Tensor db = on.f(db0, c);
            on.be.batchNormBackward(on.f(x, dims), on.f(dy, dims), gamma == null ? null : on.f(gamma, c),
                    on.f(mean, c), on.f(var, c), eps, true, dx, dg, db);
            Tensor dx2 = on.zeros(dims);                   // dx alone
            on.be.batchNormBackward(on.f(x, dims), on.f(dy, dims), gamma == null ? null : on.f(gamma, c),
                    on.f(mean, c), on.f(var, c), eps, true, dx2, null, null);
            Tensor dg3 = on.f(dg0, c);                     // parameter gradients alone
            Tensor db3 = on.f(db0, c);
            on.be.batchNormBackward(on.f(x, dims), on.f(dy, dims), gamma == null ? null : on.f(gamma, c),
                    on.f(mean, c), on.f(var, c), eps, true, null, dg3, db3);
            return out("dx", dx, "dgamma", dg, "dbeta", db, "dxAlone", dx2, "dgammaAlone", dg3, "dbetaAlone", db3);
        }, tols("dx", bound(dxLim, 0, 0), "dxAlone", bound(dxLim, 0, 0), "dgamma", bound(dgLim, 0, 0),
                "dgammaAlone", bound(dgLim, 0, 0), "dbeta", bound(dbLim, 0, 0), "dbetaAlone", bound(dbLim, 0, 0)));
    }

    private static void bnEval(String s, int[] dims, boolean affine) {
        SplittableRandom r = rnd("bne" + s);
        int c = dims[1];
        int n = prod(dims);
        int m = n / c;
        float[] x = gauss(r, n, 1, 2);
        float[] gamma = affine ? uniform(r, c, 0.5, 1.5) : null;
        float[] beta = affine ? gauss(r, c, 0, 1) : null;
        float[] rm = gauss(r, c, 1, 0.5);
        float[] rv = uniform(r, c, 0.5, 5);
        float[] dy = gauss(r, n, 0, 1);
        float[] dg0 = gauss(r, c, 0, 1);
        float[] db0 = gauss(r, c, 0, 1);
        float eps = 1e-3f;
        // elementwise with given statistics: the kernel in float (x - rm, a sqrt, a divide or rsqrt, two
        // multiplies, an add), the cpu in double: 4 eps of each term's magnitude
        double[] yLim = new double[n];
        double[] dxLim = new double[n];
        double[] sAbsDy = new double[c];
        double[] sAbsDyXh = new double[c];
        for (int i = 0; i < n; i++) {
            int ch = channelOf(i, dims);
            double g = gamma == null ? 1 : Math.abs(gamma[ch]);
            double inv = 1 / Math.sqrt(rv[ch] + (double) eps);
            double dev = Math.abs(x[i] - rm[ch]);
            yLim[i] = 4 * EPS * (g * dev * inv + (beta == null ? 0 : Math.abs(beta[ch])));
            dxLim[i] = 4 * EPS * g * inv * Math.abs(dy[i]);
            sAbsDy[ch] += Math.abs(dy[i]);
            sAbsDyXh[ch] += Math.abs(dy[i]) * dev * inv;
        }
        // dgamma, dbeta: channel sums of M terms (4 sqrt(M) eps of the absolute sum, as in training)
        double k = 4 * Math.sqrt(m) * EPS;
        double[] dgLim = new double[c];
        double[] dbLim = new double[c];
        for (int j = 0; j < c; j++) {
            dgLim[j] = k * sAbsDyXh[j] + 4 * EPS * sAbsDyXh[j] + 2 * EPS * Math.abs(dg0[j]);
            dbLim[j] = k * sAbsDy[j] + 2 * EPS * Math.abs(db0[j]);
        }
        Parity.check("batchNorm eval" + s, gpu, on -> {
            Tensor y = on.zeros(dims);
            on.be.batchNormForwardEval(on.f(x, dims), gamma == null ? null : on.f(gamma, c),
                    beta == null ? null : on.f(beta, c), on.f(rm, c), on.f(rv, c), eps, y);
            Tensor yIn = on.f(x, dims);                     // y may alias x
            on.be.batchNormForwardEval(yIn, gamma == null ? null : on.f(gamma, c),
                    beta == null ? null : on.f(beta, c), on.f(rm, c), on.f(rv, c), eps, yIn);
            Tensor dx = on.zeros(dims);
            Tensor dg = on.f(dg0, c);
            Tensor db = on.f(db0, c);
            on.be.batchNormBackward(on.f(x, dims), on.f(dy, dims), gamma == null ? null : on.f(gamma, c),
                    on.f(rm, c), on.f(rv, c), eps, false, dx, dg, db);
            return out("y", y, "yInPlace", yIn, "dx", dx, "dgamma", dg, "dbeta", db);
        }, tols("y", bound(yLim, 0, 0), "yInPlace", bound(yLim, 0, 0), "dx", bound(dxLim, 0, 0),
                "dgamma", bound(dgLim, 0, 0), "dbeta", bound(dbLim, 0, 0)));
    }

    // ================================================================ dropout

    @TestFactory
    Stream<DynamicNode> dropout() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : SIZES) {
            for (float p : new float[] {0f, 0.1f, 0.5f, 0.999f, 1f}) {
                String s = " [" + n + "] p " + p;
                float[] x = withSpecials(gauss(rnd("do" + s), n, 0, 2), -0f, Float.NaN);
                // Philox bits are integer ops, keep = u >= p, scale = (float) (1 / (1 - p)) in double, y = x * scale:
                // exact
                t.add(parity("dropoutForward" + s, on -> {
                    Tensor y = on.zeros(n);
                    Tensor mask = on.zeros(n);
                    on.be.dropoutForward(on.f(x, n), p, 1234567L, 3, y, mask);
                    Tensor y2 = on.f(x, n);                  // y aliases x, no mask
                    on.be.dropoutForward(y2, p, 1234567L, 3, y2, null);
                    return out("y", y, "mask", mask, "yInPlace", y2);
                }, tols("*", exact())));
            }
        }
        return Stream.of(group("dropout", t));
    }

    // ================================================================ optimizers

    /** One optimizer rule applied for a few steps with fresh gradients; state tensors are outputs too. */
    private interface Steps {
        void step(Backend be, List<Tensor> p, List<Tensor> g, List<Tensor> s1, List<Tensor> s2, List<Tensor> s3,
                  int t);
    }

    private static Body optimBody(int[] sizes, int steps, String seed, Steps rule) {
        return on -> {
            SplittableRandom r = rnd(seed);
            List<Tensor> p = new ArrayList<>(), s1 = new ArrayList<>(), s2 = new ArrayList<>(), s3 = new ArrayList<>();
            List<float[]> grads = new ArrayList<>();
            for (int n : sizes) {
                p.add(on.f(gauss(r, n, 0, 1), n));
                s1.add(on.f(uniform(r, n, 0, 0.5), n));   // momentum / sum / exp_avg: nonzero starting state
                s2.add(on.f(uniform(r, n, 0, 0.5), n));   // exp_avg_sq / square_avg: nonnegative
                s3.add(on.f(uniform(r, n, 0, 0.5), n));   // max_exp_avg_sq
            }
            for (int t = 1; t <= steps; t++) {
                List<Tensor> g = new ArrayList<>();
                for (int n : sizes) {
                    g.add(on.f(gauss(r, n, 0, 1), n));
                }
                rule.step(on.be, p, g, s1, s2, s3, t);
            }
            Map<String, Tensor> o = new java.util.LinkedHashMap<>();
            for (int i = 0; i < sizes.length; i++) {
                o.put("param" + i, p.get(i));
                o.put("state1_" + i, s1.get(i));
                o.put("state2_" + i, s2.get(i));
                o.put("state3_" + i, s3.get(i));
            }
            return o;
        };
    }

    private static void each(List<Tensor> p, Consumer<Integer> f) {
        for (int i = 0; i < p.size(); i++) {
            f.accept(i);
        }
    }

    @TestFactory
    Stream<DynamicNode> optimizers() {
        List<DynamicNode> t = new ArrayList<>();
        // Optimizer rules: float32 arithmetic element by element in the same order on both sides, no FMA
        // contraction, the scalars (Adam's step size and sqrt of the bias correction, 1 - lr wd, 1 - beta)
        // computed in double on the host and rounded once (optim.h, CpuOptimizers): exact
        Map<String, Steps> single = new java.util.LinkedHashMap<>();
        single.put("sgdStep plain", (be, p, g, a, b, c, st) -> each(p, i -> be.sgdStep(p.get(i), g.get(i), null, 0.1f,
                0f, 0f, 0f, false, st == 1)));
        single.put("sgdStep momentum", (be, p, g, a, b, c, st) -> each(p, i -> be.sgdStep(p.get(i), g.get(i), a.get(i),
                0.1f, 0.9f, 0f, 0f, false, st == 1)));
        single.put("sgdStep momentum dampening wd", (be, p, g, a, b, c, st) -> each(p, i -> be.sgdStep(p.get(i),
                g.get(i), a.get(i), 0.05f, 0.8f, 0.3f, 0.01f, false, st == 1)));
        single.put("sgdStep nesterov wd", (be, p, g, a, b, c, st) -> each(p, i -> be.sgdStep(p.get(i), g.get(i),
                a.get(i), 0.1f, 0.9f, 0f, 0.01f, true, st == 1)));
        single.put("sgdStep wd no momentum", (be, p, g, a, b, c, st) -> each(p, i -> be.sgdStep(p.get(i), g.get(i),
                null, 0.1f, 0f, 0f, 0.05f, false, st == 1)));
        single.put("adagradStep", (be, p, g, a, b, c, st) -> each(p, i -> be.adagradStep(p.get(i), g.get(i), a.get(i),
                (float) (0.1 / (1 + (st - 1) * 0.01)), 0f, 1e-10f)));
        single.put("adagradStep wd", (be, p, g, a, b, c, st) -> each(p, i -> be.adagradStep(p.get(i), g.get(i),
                a.get(i), 0.1f, 0.02f, 1e-10f)));
        single.put("rmspropStep", (be, p, g, a, b, c, st) -> each(p, i -> be.rmspropStep(p.get(i), g.get(i), b.get(i),
                null, 0.01f, 0.99f, 1e-8f, 0f, 0f)));
        single.put("rmspropStep momentum wd", (be, p, g, a, b, c, st) -> each(p, i -> be.rmspropStep(p.get(i),
                g.get(i), b.get(i), a.get(i), 0.01f, 0.9f, 1e-8f, 0.01f, 0.9f)));
        single.put("adamStep", (be, p, g, a, b, c, st) -> each(p, i -> be.adamStep(p.get(i), g.get(i), a.get(i),
                b.get(i), null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, st)));
        single.put("adamStep wd", (be, p, g, a, b, c, st) -> each(p, i -> be.adamStep(p.get(i), g.get(i), a.get(i),
                b.get(i), null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, false, st)));
        single.put("adamStep amsgrad", (be, p, g, a, b, c, st) -> each(p, i -> be.adamStep(p.get(i), g.get(i),
                a.get(i), b.get(i), c.get(i), 1e-3f, 0.8f, 0.99f, 1e-8f, 0f, false, st)));
        single.put("adamStep adamw", (be, p, g, a, b, c, st) -> each(p, i -> be.adamStep(p.get(i), g.get(i), a.get(i),
                b.get(i), null, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, true, st)));
        single.put("clipByGlobalNorm", (be, p, g, a, b, c, st) -> each(p, i -> {
            try (Tensor sq = Tensor.of(new float[] {st == 2 ? 0.25f : 100f}, 1).to(be.device())) {
                be.clipByGlobalNorm(p.get(i), sq, 1f);      // step 2: coef >= 1, unchanged; else scaled
            }
        }));
        // list forms (one launch for all tensors on a device) against the cpu's per-tensor loop: exact
        Map<String, Steps> multi = new java.util.LinkedHashMap<>();
        multi.put("sgdSteps momentum", (be, p, g, a, b, c, st) -> be.sgdSteps(p, g, a, 0.1f, 0.9f, 0f, 0f, false,
                st == 1));
        multi.put("sgdSteps plain (null buffers)", (be, p, g, a, b, c, st) -> be.sgdSteps(p, g, null, 0.1f, 0f, 0f,
                0.01f, false, st == 1));
        multi.put("sgdSteps nesterov dampening wd", (be, p, g, a, b, c, st) -> be.sgdSteps(p, g, a, 0.1f, 0.9f, 0f,
                0.01f, true, st == 1));
        multi.put("adagradSteps", (be, p, g, a, b, c, st) -> be.adagradSteps(p, g, a, 0.1f, 0.01f, 1e-10f));
        multi.put("rmspropSteps", (be, p, g, a, b, c, st) -> be.rmspropSteps(p, g, b, null, 0.01f, 0.99f, 1e-8f, 0f,
                0f));
        multi.put("rmspropSteps momentum", (be, p, g, a, b, c, st) -> be.rmspropSteps(p, g, b, a, 0.01f, 0.99f, 1e-8f,
                0.01f, 0.5f));
        multi.put("adamSteps", (be, p, g, a, b, c, st) -> be.adamSteps(p, g, a, b, null, 1e-3f, 0.9f, 0.999f, 1e-8f,
                0f, false, st));
        multi.put("adamSteps amsgrad wd", (be, p, g, a, b, c, st) -> be.adamSteps(p, g, a, b, c, 1e-3f, 0.9f, 0.999f,
                1e-8f, 0.01f, false, st));
        multi.put("adamSteps adamw", (be, p, g, a, b, c, st) -> be.adamSteps(p, g, a, b, null, 1e-2f, 0.9f, 0.999f,
                1e-8f, 0.05f, true, st));
        multi.put("clipByGlobalNorm(List)", (be, p, g, a, b, c, st) -> {
            try (Tensor sq = Tensor.of(new float[] {st == 2 ? 0.25f : 100f}, 1).to(be.device())) {
                be.clipByGlobalNorm(p, sq, 1f);
            }
        });
        int[][] sizeSets = {{1}, {7, 33}, {127, 1, 1029}};
        for (Map.Entry<String, Steps> e : single.entrySet()) {
            for (int[] sizes : sizeSets) {
                String s = e.getKey() + " " + Arrays.toString(sizes);
                t.add(parity(s, optimBody(sizes, 3, s, e.getValue()), tols("*", exact())));
            }
        }
        for (Map.Entry<String, Steps> e : multi.entrySet()) {
            for (int[] sizes : sizeSets) {
                String s = e.getKey() + " " + Arrays.toString(sizes);
                t.add(parity(s, optimBody(sizes, 3, s, e.getValue()), tols("*", exact())));
            }
        }
        return Stream.of(group("optimizers", t));
    }

    // ================================================================ regularizers and concatenation

    @TestFactory
    Stream<DynamicNode> regularizers() {
        List<DynamicNode> t = new ArrayList<>();
        for (int n : SIZES) {
            String s = " [" + n + "]";
            SplittableRandom r = rnd("reg" + s);
            float[] w = withSpecials(gauss(r, n, 0, 1), 0f, -0f, Float.NaN, 1e-40f);
            float[] g = gauss(r, n, 0, 1);
            // grad + lambda sign(w): lambda sign is exact, one add: exact
            t.add(parity("addSign" + s, on -> {
                Tensor gr = on.f(g, n);
                on.be.addSign(0.01f, on.f(w, n), gr);
                return out("grad", gr);
            }, tols("*", exact())));
        }
        int[][] shapes = {{7, 33}, {1, 1}, {127, 3, 2}, {5}, {33, 2, 2, 2}};
        for (int[] dims : shapes) {
            String s = " " + Arrays.toString(dims);
            SplittableRandom r = rnd("rows" + s);
            int rows = dims[0];
            int len = prod(dims) / rows;
            float[] w = gauss(r, prod(dims), 0, 1.0 / Math.sqrt(len) * 1.2); // row norms around 1.2: some above c = 1
            // norms: double sums on both sides, then sqrt and one rounding: 1 ulp. The max-norm scaling
            // w c / norm is one rounding from double per element, the norm itself double: 1 ulp
            t.add(parity("rowNorms/maxNormRows" + s, on -> {
                Tensor norms = on.zeros(rows);
                on.be.rowNorms(on.f(w, dims), norms);
                Tensor w1 = on.f(w, dims);
                on.be.maxNormRows(w1, 1f);
                Tensor w0 = on.f(w, dims);
                on.be.maxNormRows(w0, 0f);
                return out("norms", norms, "maxNorm1", w1, "maxNorm0", w0);
            }, tols("*", ulps(1))));
        }
        return Stream.of(group("regularizers", t));
    }

    @TestFactory
    Stream<DynamicNode> concatenation() {
        List<DynamicNode> t = new ArrayList<>();
        // {N, inner dims...} and the channel counts of the parts
        Object[][] cases = {
            {new int[] {3}, new int[] {1, 4, 2}, new int[] {5}},
            {new int[] {7}, new int[] {3, 1}, new int[] {}},
            {new int[] {2}, new int[] {2, 3}, new int[] {3, 3}},
            {new int[] {1}, new int[] {1}, new int[] {1}},
            {new int[] {33}, new int[] {5, 1, 7, 2}, new int[] {}},
        };
        for (Object[] c : cases) {
            int n = ((int[]) c[0])[0];
            int[] chans = (int[]) c[1];
            int[] inner = (int[]) c[2];
            int total = Arrays.stream(chans).sum();
            String s = " N " + n + " parts " + Arrays.toString(chans) + " inner " + Arrays.toString(inner);
            SplittableRandom r = rnd("cat" + s);
            List<float[]> parts = new ArrayList<>();
            for (int ch : chans) {
                parts.add(gauss(r, n * ch * prod(inner), 0, 1));
            }
            float[] whole = gauss(r, n * total * prod(inner), 0, 1);
            // strided copies: exact
            t.add(parity("concatDim1/splitDim1" + s, on -> {
                List<Tensor> ps = new ArrayList<>();
                List<Tensor> outs = new ArrayList<>();
                for (int k = 0; k < chans.length; k++) {
                    ps.add(on.f(parts.get(k), dims(n, chans[k], inner)));
                    outs.add(on.zeros(dims(n, chans[k], inner)));
                }
                Tensor cat = on.f(whole, dims(n, total, inner));
                on.be.concatDim1(ps, cat);
                on.be.splitDim1(on.f(whole, dims(n, total, inner)), outs);
                Map<String, Tensor> o = new java.util.LinkedHashMap<>();
                o.put("cat", cat);
                for (int k = 0; k < outs.size(); k++) {
                    o.put("split" + k, outs.get(k));
                }
                return o;
            }, tols("*", exact())));
        }
        return Stream.of(group("concatenation", t));
    }

    private static int[] dims(int n, int c, int[] inner) {
        int[] d = new int[2 + inner.length];
        d[0] = n;
        d[1] = c;
        System.arraycopy(inner, 0, d, 2, inner.length);
        return d;
    }

    // ================================================================ errors

    /** A bad call: must throw IllegalArgumentException with the same message (device names aside) on both. */
    private interface BadCall {
        void run(On on, Tensor foreign);
    }

    @TestFactory
    Stream<DynamicNode> errors() {
        Map<String, BadCall> calls = new java.util.LinkedHashMap<>();
        calls.put("add: shapes differ", (on, f) -> on.be.add(on.zeros(3, 4), on.zeros(4, 3), on.zeros(3, 4)));
        calls.put("add: int64 operand", (on, f) -> on.be.add(on.zeros(3), on.zerosLong(3), on.zeros(3)));
        calls.put("add: operand on another device", (on, f) -> on.be.add(on.zeros(3), f, on.zeros(3)));
        calls.put("copy: dtypes differ", (on, f) -> on.be.copy(on.zeros(2), on.zerosLong(2)));
        calls.put("fill: int64 with a fraction", (on, f) -> on.be.fill(on.zerosLong(2), 0.5f));
        calls.put("gemm: inner dimensions differ", (on, f) -> on.be.gemm(false, false, 1f, on.zeros(2, 3),
                on.zeros(4, 5), 0f, on.zeros(2, 5)));
        calls.put("gemm: c aliases a", (on, f) -> {
            Tensor a = on.zeros(3, 3);
            on.be.gemm(false, false, 1f, a, on.zeros(3, 3), 0f, a.reshape(3, 3));
        });
        calls.put("gemm: b on another device", (on, f) -> on.be.gemm(false, false, 1f, on.zeros(3, 3),
                f.reshape(3, 1), 0f, on.zeros(3, 1)));
        calls.put("randomUniform: low > high", (on, f) -> on.be.randomUniform(on.zeros(3), 2f, 1f, 1, 0));
        calls.put("addBias: bias length", (on, f) -> on.be.addBias(on.zeros(2, 3), on.zeros(4)));
        calls.put("activationForward: null act", (on, f) -> on.be.activationForward(null, on.zeros(2), on.zeros(2)));
        calls.put("softplus beta 0", (on, f) -> on.be.activationForward(Activation.softplus(0f, 20f), on.zeros(2),
                on.zeros(2)));
        calls.put("maxoutForward: width not a multiple", (on, f) -> on.be.maxoutForward(on.zeros(2, 5), 2,
                on.zeros(2, 2), on.zerosLong(2, 2)));
        calls.put("softmaxCrossEntropy: float labels", (on, f) -> on.be.softmaxCrossEntropy(on.zeros(2, 3),
                on.zeros(2), 0f, on.zeros(2, 3), on.zeros(2)));
        calls.put("softmaxCrossEntropy: smoothing 1.5", (on, f) -> on.be.softmaxCrossEntropy(on.zeros(2, 3),
                on.zerosLong(2), 1.5f, on.zeros(2, 3), on.zeros(2)));
        calls.put("bceWithLogits: targets shape", (on, f) -> on.be.bceWithLogits(on.zeros(4), on.zeros(2, 2),
                on.zeros(4)));
        calls.put("sum: out not one element", (on, f) -> on.be.sum(on.zeros(4), on.zeros(2)));
        calls.put("argmaxRows: out float", (on, f) -> on.be.argmaxRows(on.zeros(2, 3), on.zeros(2)));
        calls.put("conv2dForward: channels differ", (on, f) -> on.be.conv2dForward(on.zeros(1, 2, 5, 5),
                on.zeros(3, 4, 3, 3), null, ConvSpec.square(3, 1, 1), on.zeros(1, 3, 5, 5)));
        calls.put("conv2dForward: y shape", (on, f) -> on.be.conv2dForward(on.zeros(1, 2, 5, 5),
                on.zeros(3, 2, 3, 3), null, ConvSpec.square(3, 1, 0), on.zeros(1, 3, 5, 5)));
        calls.put("maxPool2dForward: padding over half the kernel", (on, f) -> on.be.maxPool2dForward(
                on.zeros(1, 1, 4, 4), ConvSpec.square(2, 1, 2), on.zeros(1, 1, 7, 7), null));
        calls.put("avgPool2dBackward: dy shape", (on, f) -> on.be.avgPool2dBackward(on.zeros(1, 1, 3, 3),
                ConvSpec.square(2, 2, 0), on.zeros(1, 1, 4, 4)));
        calls.put("batchNormForwardTrain: one value per channel", (on, f) -> on.be.batchNormForwardTrain(
                on.zeros(1, 3), null, null, 1e-5f, 0.1f, null, null, on.zeros(1, 3), null, null));
        calls.put("batchNormForwardTrain: gamma length", (on, f) -> on.be.batchNormForwardTrain(on.zeros(4, 3),
                on.zeros(2), null, 1e-5f, 0.1f, null, null, on.zeros(4, 3), null, null));
        calls.put("batchNormBackward: negative eps", (on, f) -> on.be.batchNormBackward(on.zeros(4, 3),
                on.zeros(4, 3), null, on.zeros(3), on.zeros(3), -1f, true, on.zeros(4, 3), null, null));
        calls.put("dropoutForward: p 1.5", (on, f) -> on.be.dropoutForward(on.zeros(3), 1.5f, 1, 0, on.zeros(3),
                null));
        calls.put("dropoutForward: mask shape", (on, f) -> on.be.dropoutForward(on.zeros(3), 0.5f, 1, 0,
                on.zeros(3), on.zeros(4)));
        calls.put("sgdStep: momentum without a buffer", (on, f) -> on.be.sgdStep(on.zeros(3), on.zeros(3), null,
                0.1f, 0.9f, 0f, 0f, false, true));
        calls.put("adamStep: step 0", (on, f) -> on.be.adamStep(on.zeros(3), on.zeros(3), on.zeros(3), on.zeros(3),
                null, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 0));
        calls.put("adamSteps: lists of different lengths", (on, f) -> on.be.adamSteps(List.of(on.zeros(3)),
                List.of(on.zeros(3), on.zeros(3)), List.of(on.zeros(3)), List.of(on.zeros(3)), null, 1e-3f, 0.9f,
                0.999f, 1e-8f, 0f, false, 1));
        calls.put("sgdSteps: grad on another device", (on, f) -> on.be.sgdSteps(List.of(on.zeros(3)), List.of(f),
                null, 0.1f, 0f, 0f, 0f, false, true));
        calls.put("clipByGlobalNorm: negative max", (on, f) -> on.be.clipByGlobalNorm(on.zeros(3), on.zeros(1), -1f));
        calls.put("sumSquares(List): int64 element", (on, f) -> on.be.sumSquares(List.of(on.zeros(2),
                on.zerosLong(2)), on.zeros(1)));
        calls.put("maxNormRows: negative c", (on, f) -> on.be.maxNormRows(on.zeros(2, 2), -1f));
        calls.put("rowNorms: norms length", (on, f) -> on.be.rowNorms(on.zeros(3, 2), on.zeros(2)));
        calls.put("concatDim1: channel sum", (on, f) -> on.be.concatDim1(List.of(on.zeros(2, 1), on.zeros(2, 2)),
                on.zeros(2, 4)));
        calls.put("splitDim1: other dims differ", (on, f) -> on.be.splitDim1(on.zeros(2, 3, 4),
                List.of(on.zeros(2, 3, 5))));
        calls.put("toHost: a cpu tensor", (on, f) -> {
            if (on.isCpu()) {
                on.be.toHost(f);          // the foreign tensor is on the GPU device
            } else {
                on.be.toHost(Tensor.of(new float[3], 3));
            }
        });
        List<DynamicNode> t = new ArrayList<>();
        for (Map.Entry<String, BadCall> e : calls.entrySet()) {
            t.add(test(e.getKey(), () -> {
                String cpuMsg;
                String gpuMsg;
                long before = TestDevices.inUseBytes(gpu);
                Backend devBe = Backends.forDevice(gpu);
                try (On cpuOn = new On(Backends.cpu()); On devOn = new On(devBe)) {
                    Tensor onDev = devOn.zeros(3);
                    Tensor onCpu = cpuOn.zeros(3);
                    cpuMsg = assertThrows(IllegalArgumentException.class, () -> e.getValue().run(cpuOn, onDev),
                            "cpu").getMessage();
                    gpuMsg = assertThrows(IllegalArgumentException.class, () -> e.getValue().run(devOn, onCpu),
                            gpu.toString()).getMessage();
                }
                assertEquals(neutral(cpuMsg, Device.CPU), neutral(gpuMsg, gpu),
                        "messages differ (device names aside):\n  cpu: " + cpuMsg + "\n  " + gpu + ": " + gpuMsg);
                assertEquals(before, TestDevices.inUseBytes(gpu), "device bytes leaked by a refused call");
            }));
        }
        return Stream.of(group("errors", t));
    }

    /** The message with this backend's device called "HERE" and the other one "THERE". */
    private static String neutral(String msg, Device here) {
        Device there = here.isHost() ? gpu : Device.CPU;
        String m = msg.replace(here.toString(), "\u0000").replace(there.toString(), "THERE");
        return m.replace("\u0000", "HERE");
    }
}
