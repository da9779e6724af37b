package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A few steps of each optimizer on p = [1, -2] with gradients g1 = [0.5, -1], g2 = [0.25, 0.5] (g3 = [1e-3, 1e-3]
 * where a third step is taken), against values worked out by hand from FORMAT.md items 27-35.
 */
class OptimizerTest {
    private static final float[] G1 = {0.5f, -1f};
    private static final float[] G2 = {0.25f, 0.5f};
    private static final float[] G3 = {1e-3f, 1e-3f};
    private static final float TOL = 1e-6f;

    private static Parameter param() {
        return Parameter.trainable("p", Tensor.of(new float[] {1f, -2f}, 2));
    }

    private static void step(Optimizer opt, Parameter p, float[] g) {
        System.arraycopy(g, 0, p.grad().floats(), 0, g.length);
        opt.step();
    }

    private static float[] values(Tensor t) {
        return t.toFloatArray();
    }

    private static void assertValues(double[] expected, Tensor actual) {
        float[] a = values(actual);
        assertEquals(expected.length, a.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(expected[i], a[i], TOL * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    @Test
    void plainSgd() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1);
        step(opt, p, G1);
        assertValues(new double[] {0.95, -1.9}, p.value());
        step(opt, p, G2);
        assertValues(new double[] {0.925, -1.95}, p.value());
        assertTrue(opt.state(p).isEmpty(), "no momentum buffer without momentum");
        assertEquals(2, opt.steps());
    }

    @Test
    void sgdMomentumStartsWithTheRawGradient() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1, 0.9);
        step(opt, p, G1);
        assertValues(new double[] {0.5, -1}, opt.state(p).get("momentum_buffer"));
        assertValues(new double[] {0.95, -1.9}, p.value());
        step(opt, p, G2);
        assertValues(new double[] {0.7, -0.4}, opt.state(p).get("momentum_buffer"));
        assertValues(new double[] {0.88, -1.86}, p.value());
    }

    @Test
    void sgdDampeningSkipsTheFirstStep() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1, 0.9, 0.5, 0, false);
        step(opt, p, G1);
        assertValues(new double[] {0.5, -1}, opt.state(p).get("momentum_buffer"));
        step(opt, p, G2);
        assertValues(new double[] {0.575, -0.65}, opt.state(p).get("momentum_buffer"));
        assertValues(new double[] {0.8925, -1.835}, p.value());
    }

    @Test
    void sgdNesterovUsesTheUpdatedBuffer() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1, 0.9, 0, 0, true);
        step(opt, p, G1);
        assertValues(new double[] {0.905, -1.81}, p.value());
        step(opt, p, G2);
        assertValues(new double[] {0.817, -1.824}, p.value());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(List.of(param()), 0.1, 0, 0, 0, true));
    }

    @Test
    void sgdWeightDecayIsCoupled() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1, 0.9, 0, 0.1, false);
        step(opt, p, G1);
        assertValues(new double[] {0.6, -1.2}, opt.state(p).get("momentum_buffer"));
        assertValues(new double[] {0.94, -1.88}, p.value());
    }

    @Test
    void adagradEpsOutsideTheSqrtAndLrDecay() {
        Parameter p = param();
        Adagrad opt = new Adagrad(List.of(p), 0.1, 0.5, 0, 1e-10);
        step(opt, p, G1);
        assertValues(new double[] {0.25, 1}, opt.state(p).get("sum"));
        assertValues(new double[] {0.9, -1.9}, p.value());
        step(opt, p, G2);
        assertValues(new double[] {0.3125, 1.25}, opt.state(p).get("sum"));
        double clr = 0.1 / 1.5;
        assertValues(new double[] {0.9 - clr * 0.25 / Math.sqrt(0.3125), -1.9 - clr * 0.5 / Math.sqrt(1.25)}, p.value());
    }

    @Test
    void rmspropNoBiasCorrection() {
        Parameter p = param();
        RmsProp opt = new RmsProp(List.of(p), 0.01);
        step(opt, p, G1);
        assertValues(new double[] {0.0025, 0.01}, opt.state(p).get("square_avg"));
        assertValues(new double[] {0.9, -1.9}, p.value());
        step(opt, p, G2);
        assertValues(new double[] {0.0031, 0.0124}, opt.state(p).get("square_avg"));
        double u0 = 0.01 * 0.25 / Math.sqrt(0.0031);
        double u1 = 0.01 * 0.5 / Math.sqrt(0.0124);
        assertValues(new double[] {0.9 - u0, -1.9 - u1}, p.value());
        assertEquals(List.of("square_avg"), List.copyOf(opt.state(p).keySet()));
    }

    @Test
    void rmspropMomentum() {
        Parameter p = param();
        RmsProp opt = new RmsProp(List.of(p), 0.01, 0.99, 1e-8, 0, 0.9);
        step(opt, p, G1);
        assertValues(new double[] {10, -10}, opt.state(p).get("momentum_buffer"));
        step(opt, p, G2);
        double b0 = 9 + 0.25 / Math.sqrt(0.0031);
        double b1 = -9 + 0.5 / Math.sqrt(0.0124);
        assertValues(new double[] {b0, b1}, opt.state(p).get("momentum_buffer"));
        assertValues(new double[] {0.9 - 0.01 * b0, -1.9 - 0.01 * b1}, p.value());
    }

    /** Adam's update from FORMAT.md item 32, in double. */
    private static double adamStep(double p, double m, double v, int t, double lr) {
        double b1 = 0.9;
        double b2 = 0.999;
        return p - (lr / (1 - Math.pow(b1, t))) * m / (Math.sqrt(v) / Math.sqrt(1 - Math.pow(b2, t)) + 1e-8);
    }

    @Test
    void adamFirstStepsAndState() {
        Parameter p = param();
        Adam opt = new Adam(List.of(p));
        step(opt, p, G1);
        assertValues(new double[] {0.999, -1.999}, p.value());
        assertValues(new double[] {0.05, -0.1}, opt.state(p).get("exp_avg"));
        assertValues(new double[] {0.00025, 0.001}, opt.state(p).get("exp_avg_sq"));
        step(opt, p, G2);
        double[] m = {0.07, -0.04};
        double[] v = {0.00031225, 0.001249};
        assertValues(m, opt.state(p).get("exp_avg"));
        assertValues(v, opt.state(p).get("exp_avg_sq"));
        assertValues(new double[] {adamStep(0.999, m[0], v[0], 2, 1e-3), adamStep(-1.999, m[1], v[1], 2, 1e-3)},
                p.value());
        assertEquals(List.of("exp_avg", "exp_avg_sq"), List.copyOf(opt.state(p).keySet()));
    }

    @Test
    void amsgradKeepsTheMaximumOfTheRawV() {
        Parameter p = param();
        Adam opt = new Adam(List.of(p), 1e-3, 0.9, 0.999, 1e-8, 0, true);
        step(opt, p, G1);
        step(opt, p, G2);
        step(opt, p, G3);
        Map<String, Tensor> s = opt.state(p);
        assertEquals(List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq"), List.copyOf(s.keySet()));
        assertValues(new double[] {0.00031225, 0.001249}, s.get("max_exp_avg_sq"));
        float[] v = values(s.get("exp_avg_sq"));
        assertTrue(v[0] < 0.00031225 && v[1] < 0.001249, "v decreased at step 3");
    }

    @Test
    void adamL2AndAdamWDecoupled() {
        Parameter p = param();
        Adam adam = new Adam(List.of(p), 0.1, 0.9, 0.999, 1e-8, 0.1, false);
        step(adam, p, G1);
        assertValues(new double[] {0.06, -0.12}, adam.state(p).get("exp_avg"));
        assertValues(new double[] {0.9, -1.9}, p.value());

        Parameter q = param();
        AdamW adamw = new AdamW(List.of(q), 0.1, 0.9, 0.999, 1e-8, 0.1, false);
        step(adamw, q, G1);
        assertValues(new double[] {0.05, -0.1}, adamw.state(q).get("exp_avg"));
        assertValues(new double[] {0.99 - 0.1, -1.98 + 0.1}, q.value());
    }

    @Test
    void lrIsReadAndWritten() {
        Parameter p = param();
        Sgd opt = new Sgd(List.of(p), 0.1);
        opt.setLr(0.5);
        assertEquals(0.5, opt.lr());
        assertEquals(0.1, opt.initialLr());
        step(opt, p, G1);
        assertValues(new double[] {0.75, -1.5}, p.value());
        assertThrows(IllegalArgumentException.class, () -> opt.setLr(-1));
    }

    @Test
    void clipGradNormReturnsTheNormBeforeClipping() {
        Parameter a = Parameter.trainable("a", Tensor.of(new float[2], 2));
        Parameter b = Parameter.trainable("b", Tensor.of(new float[1], 1));
        System.arraycopy(new float[] {3f, 0f}, 0, a.grad().floats(), 0, 2);
        b.grad().floats()[0] = 4f;
        Tensor total = GradClipping.clipGradNorm(List.of(a, b), 1f);
        assertEquals(5f, total.item(), 1e-6f);
        double coef = 1 / (5 + 1e-6);
        assertValues(new double[] {3 * coef, 0}, a.grad());
        assertValues(new double[] {4 * coef}, b.grad());

        Tensor again = GradClipping.clipGradNorm(List.of(a, b), 10f);
        assertEquals(1f, again.item(), 1e-6f);
        assertValues(new double[] {3 * coef, 0}, a.grad());

        a.zeroGrad();
        b.zeroGrad();
        assertEquals(0f, GradClipping.clipGradNorm(List.of(a, b), 1f).item());
        assertArrayEquals(new float[] {0f, 0f}, values(a.grad()));
    }
}
