package dev.jtrain.backend.cpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Activations (FORMAT.md items 1-7) against float64 formulas written here. */
class CpuActivationsTest {
    static final double SA = 1.6732632423543772848;
    static final double SS = 1.0507009873554804934;

    /** erf by its Taylor series (|x| < 2) or the erfc continued fraction (|x| >= 2): independent of CpuMath. */
    static double erfRef(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2) {
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 200; n++) {
                term *= -ax * ax / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-18 * Math.abs(sum)) {
                    break;
                }
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = ax;
            for (int k = 200; k >= 1; k--) {
                f = ax + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static float[] inputs() {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = rand(r, 37, -6, 6);
        x[0] = 0f;
        x[1] = 20f;
        x[2] = -20f;
        x[3] = 20.5f;
        x[4] = -1e-3f;
        return x;
    }

    private void check(Activation act, DoubleUnaryOperator f, DoubleUnaryOperator df, boolean fromOutput, double atol) {
        float[] xs = inputs();
        int n = xs.length;
        Tensor x = t(xs, 1, n);
        Tensor y = zerosT(1, n);
        B.activationForward(act, x, y);
        double[] ey = new double[n];
        for (int i = 0; i < n; i++) {
            ey[i] = f.applyAsDouble(xs[i]);
        }
        close(act.kind() + " y", ey, y.floats(), 1e-6, atol);
        SplittableRandom r = new SplittableRandom(12);
        Tensor dy = t(rand(r, n, -2, 2), 1, n);
        Tensor dx = zerosT(1, n);
        B.activationBackward(act, fromOutput ? null : x, y, dy, dx);
        double[] edx = new double[n];
        for (int i = 0; i < n; i++) {
            double d = fromOutput ? df.applyAsDouble(y.floats()[i]) : df.applyAsDouble(xs[i]);
            edx[i] = dy.floats()[i] * d;
        }
        close(act.kind() + " dx", edx, dx.floats(), 1e-6, atol);
    }

    /** f'(0) as PyTorch reports it: backward with dy = 1 at x = 0. */
    private static float derivativeAtZero(Activation act) {
        Tensor x = t(new float[] {0f}, 1, 1);
        Tensor y = zerosT(1, 1);
        B.activationForward(act, x, y);
        Tensor dx = zerosT(1, 1);
        B.activationBackward(act, x, y, t(new float[] {1f}, 1, 1), dx);
        return dx.item();
    }

    @Test
    void cpuMathErfMatchesReferenceAndKnownValues() {
        assertEquals(0.5204998778130465, CpuMath.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, CpuMath.erf(1.0), 1e-15);
        assertEquals(-0.9953222650189527, CpuMath.erf(-2.0), 1e-15);
        assertEquals(1.5374597944280349e-12, CpuMath.erfc(5.0), 1e-26);
        for (int i = -800; i <= 800; i++) {
            double x = i / 100.0 + 0.0037;
            assertEquals(erfRef(x), CpuMath.erf(x), 1e-13, "erf(" + x + ")");
        }
    }

    @Test
    void eachActivationMatchesFloat64() {
        check(Activation.relu(), v -> Math.max(v, 0), v -> v > 0 ? 1 : 0, false, 0);
        check(Activation.leakyRelu(0.01f), v -> v > 0 ? v : 0.01f * v, v -> v > 0 ? 1 : 0.01f, false, 1e-12);
        check(Activation.leakyRelu(0.1f), v -> v > 0 ? v : 0.1f * v, v -> v > 0 ? 1 : 0.1f, false, 1e-12);
        check(Activation.elu(1f), v -> v > 0 ? v : Math.exp(v) - 1, v -> v > 0 ? 1 : Math.exp(v), false, 1e-12);
        check(Activation.selu(), v -> SS * (v > 0 ? v : SA * (Math.exp(v) - 1)),
                v -> v > 0 ? SS : SS * SA * Math.exp(v), false, 1e-12);
        check(Activation.sigmoid(), CpuActivationsTest::sig, s -> s * (1 - s), true, 1e-12);
        check(Activation.tanh(), Math::tanh, t -> 1 - t * t, true, 1e-12);
        check(Activation.gelu(false), v -> 0.5 * v * (1 + erfRef(v / Math.sqrt(2))),
                v -> 0.5 * (1 + erfRef(v / Math.sqrt(2))) + v * Math.exp(-v * v / 2) / Math.sqrt(2 * Math.PI), false, 1e-12);
        double k = Math.sqrt(2 / Math.PI);
        check(Activation.gelu(true), v -> 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v))), v -> {
            double th = Math.tanh(k * (v + 0.044715 * v * v * v));
            return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * k * (1 + 3 * 0.044715 * v * v);
        }, false, 1e-12);
        check(Activation.silu(), v -> v * sig(v), v -> sig(v) * (1 + v * (1 - sig(v))), false, 1e-12);
        check(Activation.softplus(1f, 20f), v -> v > 20 ? v : Math.log1p(Math.exp(v)), v -> v > 20 ? 1 : sig(v), false, 1e-12);
        check(Activation.softplus(2f, 20f), v -> 2 * v > 20 ? v : Math.log1p(Math.exp(2 * v)) / 2,
                v -> 2 * v > 20 ? 1 : sig(2 * v), false, 1e-12);
        check(Activation.identity(), v -> v, v -> 1, false, 0);
    }

    @Test
    void derivativesAtExactlyZeroFollowPyTorch() {
        assertEquals(0f, derivativeAtZero(Activation.relu()));
        assertEquals(0.01f, derivativeAtZero(Activation.leakyRelu(0.01f)));
        assertEquals(0.1f, derivativeAtZero(Activation.leakyRelu(0.1f)));
        assertEquals(1f, derivativeAtZero(Activation.elu(1f)));
        assertEquals((float) (SS * SA), derivativeAtZero(Activation.selu()));
        assertEquals(1.7580993408f, derivativeAtZero(Activation.selu()), 1e-7f);
        assertEquals(0.25f, derivativeAtZero(Activation.sigmoid()));
        assertEquals(1f, derivativeAtZero(Activation.tanh()));
        assertEquals(0.5f, derivativeAtZero(Activation.gelu(false)));
        assertEquals(0.5f, derivativeAtZero(Activation.gelu(true)));
        assertEquals(0.5f, derivativeAtZero(Activation.silu()));
        assertEquals(0.5f, derivativeAtZero(Activation.softplus(1f, 20f)));
    }

    @Test
    void saturationAndUnderflowLikePyTorchFloat32() {
        Tensor x = t(new float[] {20f, -20f}, 1, 2);
        Tensor y = zerosT(1, 2);
        Tensor dx = zerosT(1, 2);
        Tensor dy = t(new float[] {1f, 1f}, 1, 2);
        B.activationForward(Activation.sigmoid(), x, y);
        B.activationBackward(Activation.sigmoid(), x, y, dy, dx);
        assertEquals(0f, dx.floats()[0], "sigmoid'(20) from the float output is exactly 0");
        B.activationForward(Activation.tanh(), x, y);
        B.activationBackward(Activation.tanh(), x, y, dy, dx);
        assertArrayEquals(new float[] {0f, 0f}, dx.floats());
        B.activationForward(Activation.gelu(false), x, y);
        assertEquals(Float.floatToIntBits(-0.0f), Float.floatToIntBits(y.floats()[1]), "gelu(-20) underflows to -0.0");
    }

    @Test
    void largeTensorsTakeTheParallelPathWithSameResults() {
        SplittableRandom r = new SplittableRandom(13);
        int n = 200_001;
        Tensor x = randT(r, -5, 5, n);
        Tensor y = zerosT(n);
        Tensor dy = randT(r, -1, 1, n);
        Tensor dx = zerosT(n);
        for (Activation act : new Activation[] {Activation.relu(), Activation.gelu(false)}) {
            B.activationForward(act, x, y);
            B.activationBackward(act, x, y, dy, dx);
            Tensor xs = t(new float[] {x.floats()[n - 1]}, 1);
            Tensor ys = zerosT(1);
            B.activationForward(act, xs, ys);
            assertEquals(ys.item(), y.floats()[n - 1]);
        }
        for (int i = 0; i < n; i++) {
            float v = x.floats()[i];
            assertEquals(v > 0 ? dy.floats()[i] * (0.5 * (1 + erfRef(v / Math.sqrt(2))) + v * Math.exp(-v * v / 2)
                    / Math.sqrt(2 * Math.PI)) : dx.floats()[i], dx.floats()[i], v > 0 ? 1e-5 : 1, "i=" + i);
        }
    }

    @Test
    void preluSharedAndPerChannel() {
        SplittableRandom r = new SplittableRandom(14);
        int[][] shapes = {{4, 3}, {5, 8}, {2, 3, 4, 5}};
        boolean[] shared = {true, false, false};
        for (int s = 0; s < shapes.length; s++) {
            int[] sh = shapes[s];
            Tensor x = randT(r, -2, 2, sh);
            x.floats()[0] = 0f;
            int c = shared[s] ? 1 : sh[1];
            int inner = x.numel() / (sh[0] * sh[1]);
            Tensor alpha = randT(r, 0.05, 0.5, c);
            Tensor y = zerosT(sh);
            B.preluForward(x, alpha, y);
            Tensor dy = randT(r, -1, 1, sh);
            Tensor dx = zerosT(sh);
            Tensor dalpha = t(new float[c], c);
            B.fill(dalpha, 0.25f);
            B.preluBackward(x, alpha, dy, dx, dalpha);
            double[] ey = new double[x.numel()];
            double[] edx = new double[x.numel()];
            double[] eda = new double[c];
            java.util.Arrays.fill(eda, 0.25);
            for (int i = 0; i < x.numel(); i++) {
                int ch = shared[s] ? 0 : (i / inner) % sh[1];
                double a = alpha.floats()[ch];
                double v = x.floats()[i];
                double g = dy.floats()[i];
                ey[i] = v > 0 ? v : a * v;
                edx[i] = v > 0 ? g : a * g;
                eda[ch] += v > 0 ? 0 : v * g;
            }
            close("prelu y " + x.shape(), ey, y.floats(), 1e-6, 1e-7);
            close("prelu dx " + x.shape(), edx, dx.floats(), 1e-6, 1e-7);
            close("prelu dalpha " + x.shape(), eda, dalpha.floats(), 1e-5, 1e-6);
            assertEquals(alpha.floats()[0] * dy.floats()[0], dx.floats()[0], "prelu'(0) = alpha");
        }
    }

    @Test
    void maxoutTiesGoToTheFirstPiece() {
        // N = 2, D = 3, pieces = 2: unit 0 tied in both rows
        float[] z = {1, 5, -1, 1, 2, 7,
                     -3, 0, 4, -3, 1, 2};
        Tensor zt = t(z, 2, 6);
        Tensor y = zerosT(2, 3);
        Tensor piece = B.zeros(DType.INT64, Shape.of(2, 3));
        B.maxoutForward(zt, 2, y, piece);
        assertArrayEquals(new float[] {1, 5, 7, -3, 1, 4}, y.floats());
        assertArrayEquals(new long[] {0, 0, 1, 0, 1, 0}, piece.longs());
        Tensor dy = t(new float[] {10, 20, 30, 40, 50, 60}, 2, 3);
        Tensor dz = t(new float[12], 2, 6);
        B.fill(dz, 99f);
        B.maxoutBackward(dy, piece, 2, dz);
        assertArrayEquals(new float[] {10, 20, 0, 0, 0, 30, 40, 0, 60, 0, 50, 0}, dz.floats());
    }
}
