package dev.jtrain.nn;

import dev.jtrain.nn.loss.Loss;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Numerical gradient checks by central differences, on cpu tensors (tests may touch host arrays).
 *
 * <p>For a layer, the scalar is L = Σ y·r for a fixed random r (so backward gets dy = r), accumulated
 * in double. Each input element and each element of every trainable parameter is moved by ±h in
 * float32 (the actual float step (x+h) − (x−h) is used as the denominator), L is recomputed with a
 * fresh forward, and the slope is compared with the analytic gradient from one backward:
 * |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
 *
 * <p>Float32 forwards give L a rounding noise of about 6e-8·Σ|y·r|, so the numeric slope has an
 * absolute noise of roughly that divided by 2h; the truncation error is O(h²·f'''). Callers pick h
 * and the tolerances per layer, with the reason written next to them.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** A fresh forward of the function under test (e.g. a layer in train mode). */
    @FunctionalInterface
    public interface Forward {
        Tensor apply(Tensor x);
    }

    /** Checks dx and every trainable parameter's gradient of {@code layer} at {@code x}. */
    public static void checkLayer(Layer layer, Tensor x, boolean training, double h, double rtol, double atol) {
        checkLayer(layer, x, training, h, rtol, atol, true);
    }

    /**
     * Like {@link #checkLayer(Layer, Tensor, boolean, double, double, double)}; {@code checkInput}
     * false skips dx (e.g. for integer-like inputs).
     */
    public static void checkLayer(Layer layer, Tensor x, boolean training, double h, double rtol, double atol,
                                  boolean checkInput) {
        Forward f = in -> layer.forward(in, training);
        Tensor y = f.apply(x);
        float[] r = random(y.numel(), 0x5EEDL + y.numel());
        Tensor dy = Tensor.of(r.clone(), y.dims());
        layer.zeroGrad();
        Tensor dx = layer.backward(dy);
        List<String> failures = new ArrayList<>();
        if (checkInput) {
            if (!dx.shape().equals(x.shape())) {
                fail("dx has shape " + dx.shape() + " but x has shape " + x.shape());
            }
            compare("dx", dx.toFloatArray(), numeric(f, x, x.floats(), x.numel(), r, h), rtol, atol, failures);
        }
        for (Map.Entry<String, Parameter> e : layer.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            float[] analytic = p.grad().toFloatArray();
            double[] num = numeric(f, x, p.value().floats(), p.value().numel(), r, h);
            compare("d" + e.getKey(), analytic, num, rtol, atol, failures);
        }
        if (!failures.isEmpty()) {
            fail(layer.getClass().getSimpleName() + " gradient check failed (h=" + h + ", rtol=" + rtol + ", atol=" + atol
                    + "):\n  " + String.join("\n  ", failures));
        }
    }

    /** Checks a loss' gradient with respect to the prediction. */
    public static void checkLoss(Loss loss, Tensor pred, Tensor target, double h, double rtol, double atol) {
        loss.forward(pred, target);
        float[] analytic = loss.backward().toFloatArray();
        float[] p = pred.floats();
        double[] num = new double[pred.numel()];
        for (int i = 0; i < num.length; i++) {
            float orig = p[i];
            float xp = (float) (orig + h);
            float xm = (float) (orig - h);
            p[i] = xp;
            double lp = loss.forward(pred, target).to(dev.jtrain.tensor.Device.CPU).item();
            p[i] = xm;
            double lm = loss.forward(pred, target).to(dev.jtrain.tensor.Device.CPU).item();
            p[i] = orig;
            num[i] = (lp - lm) / ((double) xp - (double) xm);
        }
        List<String> failures = new ArrayList<>();
        compare("dpred", analytic, num, rtol, atol, failures);
        if (!failures.isEmpty()) {
            fail(loss.getClass().getSimpleName() + " gradient check failed (h=" + h + ", rtol=" + rtol + ", atol=" + atol
                    + "):\n  " + String.join("\n  ", failures));
        }
    }

    /** Numeric dL/dv for every element of {@code data} (the host array of x or of a parameter). */
    private static double[] numeric(Forward f, Tensor x, float[] data, int n, float[] r, double h) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            float orig = data[i];
            float xp = (float) (orig + h);
            float xm = (float) (orig - h);
            data[i] = xp;
            double lp = dot(f.apply(x), r);
            data[i] = xm;
            double lm = dot(f.apply(x), r);
            data[i] = orig;
            out[i] = (lp - lm) / ((double) xp - (double) xm);
        }
        return out;
    }

    /** Σ y·r in double. */
    public static double dot(Tensor y, float[] r) {
        float[] a = y.floats();
        double s = 0;
        for (int i = 0; i < r.length; i++) {
            s += (double) a[i] * r[i];
        }
        return s;
    }

    private static void compare(String what, float[] analytic, double[] numeric, double rtol, double atol,
                                List<String> failures) {
        if (analytic.length != numeric.length) {
            failures.add(what + ": analytic has " + analytic.length + " elements, numeric " + numeric.length);
            return;
        }
        int bad = 0;
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < analytic.length; i++) {
            double a = analytic[i];
            double n = numeric[i];
            double ratio = Math.abs(a - n) / (atol + rtol * Math.max(Math.abs(a), Math.abs(n)));
            if (!(ratio <= 1.0)) {
                bad++;
            }
            if (!(ratio <= worstRatio)) {
                worstRatio = ratio;
                worst = i;
            }
        }
        if (bad > 0) {
            failures.add(String.format("%s: %d of %d elements differ; worst [%d] analytic %.7g numeric %.7g (ratio %.3g)",
                    what, bad, analytic.length, worst, analytic[worst], numeric[worst], worstRatio));
        }
    }

    /** n floats uniform in [-1, 1) from a fixed seed. */
    public static float[] random(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** A cpu float32 tensor, uniform in [lo, hi). */
    public static Tensor uniform(long seed, double lo, double hi, int... dims) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = dev.jtrain.tensor.Shape.of(dims).numel();
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return Tensor.of(a, dims);
    }

    /** Uniform magnitudes in [minAbs, maxAbs) with random signs: keeps inputs away from a kink at 0. */
    public static Tensor awayFromZero(long seed, double minAbs, double maxAbs, int... dims) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = dev.jtrain.tensor.Shape.of(dims).numel();
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double m = minAbs + (maxAbs - minAbs) * rnd.nextDouble();
            a[i] = (float) (rnd.nextBoolean() ? m : -m);
        }
        return Tensor.of(a, dims);
    }

    /**
     * Distinct values: a random permutation of {0, 1, ..., n-1}·step + offset, so any two elements differ
     * by at least {@code step} (no ties in max pooling while h < step/2).
     */
    public static Tensor distinct(long seed, double step, double offset, int... dims) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = dev.jtrain.tensor.Shape.of(dims).numel();
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (perm[i] * step + offset);
        }
        return Tensor.of(a, dims);
    }
}
