package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;
import dev.jtrain.nn.GradCheck;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationsTest {

    // Smooth activations on x in [-3, 3): h = 1e-2 gives a truncation error h^2/6·|f'''| <= ~2e-5;
    // 40 outputs of size <= 3 give L a float32 noise of ~1e-6, i.e. ~5e-5 on the slope at worst
    // (measured worst error 7.5e-6, GELU tanh form).
    // Piecewise ones (relu family, elu, selu: kink or second-derivative jump at 0) use inputs with
    // |x| >= 0.05 > h, so no perturbation crosses 0 and each piece is smooth.
    private static final double H = 1e-2;
    private static final double RTOL = 1e-3;
    private static final double ATOL = 5e-5;

    static Stream<Arguments> activations() {
        return Stream.of(
                Arguments.of("ReLU", (Supplier<Layer>) ReLU::new, true),
                Arguments.of("LeakyReLU(0.1)", (Supplier<Layer>) () -> new LeakyReLU(0.1f), true),
                Arguments.of("ELU(1)", (Supplier<Layer>) () -> new ELU(1f), true),
                Arguments.of("ELU(0.5)", (Supplier<Layer>) () -> new ELU(0.5f), true),
                Arguments.of("SELU", (Supplier<Layer>) SELU::new, true),
                Arguments.of("Sigmoid", (Supplier<Layer>) Sigmoid::new, false),
                Arguments.of("Tanh", (Supplier<Layer>) Tanh::new, false),
                Arguments.of("GELU(erf)", (Supplier<Layer>) () -> new GELU(false), false),
                Arguments.of("GELU(tanh)", (Supplier<Layer>) () -> new GELU(true), false),
                Arguments.of("SiLU", (Supplier<Layer>) SiLU::new, false),
                Arguments.of("Softplus(1,20)", (Supplier<Layer>) () -> new Softplus(1f, 20f), false),
                Arguments.of("Softplus(2,2)", (Supplier<Layer>) () -> new Softplus(2f, 2f), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("activations")
    void gradients(String name, Supplier<Layer> make, boolean hasKink) {
        // Softplus(beta=2, threshold=2) switches to its linear form at x = 1 (the slope jumps by ~2%), so
        // its inputs stay below 0.9 (see xFor).
        Tensor x = xFor(name, hasKink);
        GradCheck.checkLayer(make.get(), x, true, H, RTOL, ATOL);
    }

    private static Tensor xFor(String name, boolean hasKink) {
        if (name.startsWith("Softplus(2")) {
            // values in ±[0.05, 0.9): never within h of the switch at beta·x = 2
            return GradCheck.awayFromZero(11, 0.05, 0.9, 5, 8);
        }
        return hasKink ? GradCheck.awayFromZero(12, 0.05, 3, 5, 8) : GradCheck.uniform(13, -3, 3, 5, 8);
    }

    @Test
    void reluValuesAndDerivativeAtZero() {
        ReLU r = new ReLU();
        Tensor y = r.forward(Tensor.of(new float[] {-1f, 0f, 2f}, 3), true);
        assertArrayEquals(new float[] {0f, 0f, 2f}, y.toFloatArray());
        assertArrayEquals(new float[] {0f, 0f, 1f}, r.backward(Tensor.of(new float[] {1f, 1f, 1f}, 3)).toFloatArray());
        LeakyReLU l = new LeakyReLU(0.1f);
        l.forward(Tensor.of(new float[] {-1f, 0f, 2f}, 3), true);
        assertArrayEquals(new float[] {0.1f, 0.1f, 1f}, l.backward(Tensor.of(new float[] {1f, 1f, 1f}, 3)).toFloatArray());
        assertEquals(Activation.Kind.GELU_ERF, new GELU().activation().kind());
        assertEquals(0.01f, new LeakyReLU().activation().alpha());
    }

    @Test
    void preluSharedGradients() {
        // |x| >= 0.05 > h keeps every perturbation on one side of the kink at 0.
        PReLU p = new PReLU(1, 0.25f);
        GradCheck.checkLayer(p, GradCheck.awayFromZero(21, 0.05, 2, 4, 6), true, H, RTOL, ATOL);
    }

    @Test
    void preluPerChannelNchwGradients() {
        PReLU p = new PReLU(3, 0.2f);
        float[] a = p.weight().value().floats();
        a[1] = -0.3f;
        a[2] = 0.6f;
        GradCheck.checkLayer(p, GradCheck.awayFromZero(22, 0.05, 2, 2, 3, 2, 3), true, H, RTOL, ATOL);
        assertEquals(List.of("weight"), List.copyOf(p.namedParameters().keySet()));
        assertThrows(IllegalArgumentException.class, () -> p.forward(GradCheck.uniform(1, -1, 1, 2, 4), true));
    }

    /** Smallest gap between the best and second-best piece over all outputs, computed on the host. */
    private static double minPieceGap(Maxout m, Tensor x, int in, int out, int pieces) {
        float[] w = m.weight().value().floats();
        float[] b = m.bias().value().floats();
        float[] xs = x.floats();
        int n = x.dim(0);
        double gap = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < out; j++) {
                double best = -Double.MAX_VALUE;
                double second = -Double.MAX_VALUE;
                for (int p = 0; p < pieces; p++) {
                    int row = p * out + j;
                    double z = b[row];
                    for (int k = 0; k < in; k++) {
                        z += (double) xs[i * in + k] * w[row * in + k];
                    }
                    if (z > best) {
                        second = best;
                        best = z;
                    } else if (z > second) {
                        second = z;
                    }
                }
                gap = Math.min(gap, best - second);
            }
        }
        return gap;
    }

    @Test
    void maxoutGradients() {
        // Maxout is linear while no perturbation changes the winning piece. A step h moves a piece by at
        // most h·(Σ|x| or Σ|w| + 1) <= 5h = 0.025 (|x| < 1, |w| <= 0.5, in = 4), so inputs are drawn
        // until every winner leads the runner-up by more than 0.06; then differences are exact.
        int in = 4;
        int out = 3;
        int pieces = 3;
        for (long seed = 1; seed < 200; seed++) {
            Maxout m = new Maxout(in, out, pieces, true, new Generator(seed));
            Tensor x = GradCheck.uniform(seed + 1000, -1, 1, 3, in);
            if (minPieceGap(m, x, in, out, pieces) > 0.06) {
                GradCheck.checkLayer(m, x, true, 5e-3, 1e-3, 2e-5);
                assertEquals(DType.INT64, m.lastPieces().dtype());
                return;
            }
        }
        throw new AssertionError("no seed gave well-separated maxout pieces");
    }

    @Test
    void maxoutLayoutAndTiesGoToTheFirstPiece() {
        // weight row p·out + j is piece p of unit j. Unit 0: piece 0 = x0, piece 1 = x0 (tie).
        // Unit 1: piece 0 = -x1, piece 1 = x1.
        Maxout m = new Maxout(2, 2, 2, true, new Generator(1));
        float[] w = m.weight().value().floats();
        float[] rows = {1, 0, /* p0 j1 */ 0, -1, /* p1 j0 */ 1, 0, /* p1 j1 */ 0, 1};
        System.arraycopy(rows, 0, w, 0, 8);
        java.util.Arrays.fill(m.bias().value().floats(), 0f);
        Tensor y = m.forward(Tensor.of(new float[] {0.5f, 2f, -1f, -3f}, 2, 2), true);
        assertArrayEquals(new float[] {0.5f, 2f, -1f, 3f}, y.toFloatArray());
        assertArrayEquals(new long[] {0, 1, 0, 0}, m.lastPieces().longs());
        m.zeroGrad();
        Tensor dx = m.backward(Tensor.of(new float[] {1f, 1f, 1f, 1f}, 2, 2));
        assertArrayEquals(new float[] {1f, 1f, 1f, -1f}, dx.toFloatArray());
        float[] dw = m.weight().grad().toFloatArray();
        // the tied unit 0 sends its whole gradient to piece 0 (row 0); row 2 (piece 1 of unit 0) gets none
        assertArrayEquals(new float[] {-0.5f, -1f}, new float[] {dw[0], dw[1]});
        assertArrayEquals(new float[] {0f, 0f}, new float[] {dw[4], dw[5]});
        assertTrue(m.parameterCount() == 8 + 4);
    }
}
