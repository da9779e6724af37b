package dev.jtrain.check;

import java.util.Locale;

/**
 * The elementwise comparison of one tensor: pass when {@code |a - e| <= atol + rtol |e|}; the ratio
 * {@code |a - e| / (atol + rtol |e|)} is reported (pass: &le; 1). Integer tensors must match exactly (a
 * mismatch has ratio +Infinity). A NaN or infinite actual where the expected value is finite fails with
 * ratio +Infinity; equal non-finite values match.
 */
public final class Comparison {
    private final String tensor;
    private final int[] shape;
    private double worstRatio;
    private double maxAbsErr;
    private int compared;
    private int firstFail = -1;
    private double failActual;
    private double failExpected;
    private double failAllowed;

    private Comparison(String tensor, int[] shape) {
        this.tensor = tensor;
        this.shape = shape;
    }

    /** Compares with per-element tolerances: rtol/atol arrays of length 1 (broadcast) or the element count. */
    public static Comparison of(String tensor, int[] shape, double[] actual, double[] expected, double[] rtol,
                                double[] atol, boolean integer) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException("comparison of " + tensor + ": " + actual.length + " actual values, "
                    + expected.length + " expected");
        }
        Comparison c = new Comparison(tensor, shape);
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i];
            double e = expected[i];
            double r = rtol[rtol.length == 1 ? 0 : i];
            double t = atol[atol.length == 1 ? 0 : i];
            double allowed = integer ? 0 : t + r * Math.abs(e);
            double err;
            double ratio;
            if (a == e || (Double.isNaN(a) && Double.isNaN(e))) {
                err = 0;
                ratio = 0;
            } else {
                err = Math.abs(a - e);
                if (Double.isNaN(err) || Double.isInfinite(err) || integer) {
                    ratio = Double.POSITIVE_INFINITY;
                } else {
                    ratio = allowed > 0 ? err / allowed : Double.POSITIVE_INFINITY;
                }
            }
            c.compared++;
            if (!(err <= c.maxAbsErr)) {
                c.maxAbsErr = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
            }
            if (ratio > c.worstRatio) {
                c.worstRatio = ratio;
            }
            if (ratio > 1 && c.firstFail < 0) {
                c.firstFail = i;
                c.failActual = a;
                c.failExpected = e;
                c.failAllowed = allowed;
            }
        }
        return c;
    }

    public static Comparison of(String tensor, int[] shape, double[] actual, double[] expected, double rtol,
                                double atol, boolean integer) {
        return of(tensor, shape, actual, expected, new double[] {rtol}, new double[] {atol}, integer);
    }

    public String tensor() {
        return tensor;
    }

    public boolean passed() {
        return firstFail < 0;
    }

    public double worstRatio() {
        return worstRatio;
    }

    public double maxAbsErr() {
        return maxAbsErr;
    }

    public int compared() {
        return compared;
    }

    /** "dx[1, 2]: actual 0.5 expected 0.6 (|diff| 0.1 > allowed 1.1e-05)", or null when it passed. */
    public String failureMessage() {
        if (firstFail < 0) {
            return null;
        }
        return tensor + index(firstFail, shape) + ": actual " + fmt(failActual) + " expected " + fmt(failExpected)
                + " (|diff| " + fmt(Math.abs(failActual - failExpected)) + " > allowed " + fmt(failAllowed) + ")";
    }

    static String index(int flat, int[] shape) {
        if (shape == null || shape.length == 0) {
            return "";
        }
        int[] idx = new int[shape.length];
        int rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = Math.max(shape[d], 1);
            idx[d] = rest % n;
            rest /= n;
        }
        StringBuilder sb = new StringBuilder("[");
        for (int d = 0; d < idx.length; d++) {
            sb.append(d == 0 ? "" : ",").append(idx[d]);
        }
        return sb.append(']').toString();
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return String.format(Locale.ROOT, "%.9g", v);
    }
}
