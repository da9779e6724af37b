package dev.jtrain.search;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One searched hyperparameter: a name (a {@code jtrain train} option without {@code --}) and the values it may take,
 * written {@code log:LO:HI} (log-uniform), {@code lin:LO:HI} (uniform), {@code int:LO:HI} (integers, both ends
 * included) or {@code A|B|C} (a list of choices; one value alone is a constant).
 *
 * <p>A value is always handled as the text given to the option. Continuous values (log, lin) are rounded to
 * {@link #SIGNIFICANT_DIGITS} significant digits and kept in the range, so the results show exactly the value a
 * trial trained with, in a form that can be typed back into {@code jtrain train}.
 */
public sealed interface Param permits Param.LogUniform, Param.Uniform, Param.IntUniform, Param.Choice {

    /** Significant digits of a sampled or grid value of a continuous range. */
    int SIGNIFICANT_DIGITS = 4;

    /** The option name without {@code --}, e.g. {@code lr}. */
    String name();

    /** The value for a uniform number {@code u} in [0, 1): the inverse of the range's distribution at u. */
    String sample(double u);

    /**
     * The grid values: for log ranges {@code points} geometric points from LO to HI (both included; one point: the
     * geometric middle), for lin ranges evenly spaced points, for int ranges evenly spaced integers (each at most
     * once), for a list every choice ({@code points} ignored).
     */
    List<String> grid(int points);

    /**
     * The range of the next coarse-to-fine round (see {@link CoarseToFine}): for a numeric range, the span [a, b] of
     * {@code kept} (in log10 space for a log range), widened on each side by {@code margin * max(b - a, w / 10)} where
     * w is this range's width (in the same space), and clipped to {@code original}; for a list, the choices among
     * {@code kept}, in their order here.
     */
    Param narrow(List<String> kept, Param original, double margin);

    /** The text of the range, as it is parsed: {@code log:0.0001:0.1}, {@code 0|0.5}. */
    String spec();

    /** Whether the values are numbers that can be drawn on an axis (log on a logarithmic one). */
    default boolean numeric() {
        return !(this instanceof Choice);
    }

    /** Parses {@code log:LO:HI}, {@code lin:LO:HI}, {@code int:LO:HI} or {@code A|B|C} for hyperparameter {@code name}. */
    static Param parse(String name, String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("search space: '" + name + "' has no values (expected log:LO:HI, lin:LO:HI, "
                    + "int:LO:HI or A|B|C)");
        }
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.startsWith("log:") || lower.startsWith("lin:")) {
            double[] b = bounds(name, t, false);
            if (lower.startsWith("log:")) {
                if (!(b[0] > 0)) {
                    throw new IllegalArgumentException("search space: '" + name + "=" + t + "': a log range needs LO > 0, got " + t.split(":")[1]);
                }
                return new LogUniform(name, b[0], b[1]);
            }
            return new Uniform(name, b[0], b[1]);
        }
        if (lower.startsWith("int:")) {
            double[] b = bounds(name, t, true);
            return new IntUniform(name, (long) b[0], (long) b[1]);
        }
        String[] parts = t.split("\\|", -1);
        List<String> values = new ArrayList<>();
        for (String p : parts) {
            String v = p.trim();
            if (v.isEmpty()) {
                throw new IllegalArgumentException("search space: '" + name + "=" + t + "' has an empty choice (expected A|B|C)");
            }
            if (values.contains(v)) {
                throw new IllegalArgumentException("search space: '" + name + "=" + t + "' lists '" + v + "' twice");
            }
            values.add(v);
        }
        return new Choice(name, values);
    }

    private static double[] bounds(String name, String text, boolean integers) {
        String[] f = text.split(":", -1);
        String kind = f[0].toLowerCase(Locale.ROOT);
        if (f.length != 3) {
            throw new IllegalArgumentException("search space: '" + name + "=" + text + "': expected " + kind + ":LO:HI");
        }
        double[] b = new double[2];
        for (int i = 0; i < 2; i++) {
            String s = f[i + 1].trim();
            try {
                b[i] = integers ? Long.parseLong(s) : Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("search space: '" + name + "=" + text + "': " + (i == 0 ? "LO" : "HI") + " '" + s
                        + "' is not " + (integers ? "an integer" : "a number"));
            }
            if (!Double.isFinite(b[i])) {
                throw new IllegalArgumentException("search space: '" + name + "=" + text + "': " + (i == 0 ? "LO" : "HI")
                        + " must be finite, got " + s);
            }
        }
        if (!(b[0] <= b[1])) {
            throw new IllegalArgumentException("search space: '" + name + "=" + text + "': LO must be <= HI");
        }
        return b;
    }

    /** {@code v} rounded to {@link #SIGNIFICANT_DIGITS} digits, then kept in [lo, hi]. */
    private static double round(double v, double lo, double hi) {
        double r = v == 0 ? 0 : new BigDecimal(v).round(new MathContext(SIGNIFICANT_DIGITS)).doubleValue();
        return Math.min(hi, Math.max(lo, r));
    }

    /**
     * Shortest text of a double that parses back to it: plain digits from 1e-4 to below 1e7 ({@code 0.0003162}),
     * else {@code 3.162e-6}.
     */
    static String text(double v) {
        if (v == 0) {
            return "0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        double a = Math.abs(v);
        if (a >= 1e-4 && a < 1e7) {
            return d.toPlainString();
        }
        int exponent = d.precision() - d.scale() - 1;
        return d.movePointLeft(exponent).stripTrailingZeros().toPlainString() + "e" + exponent;
    }

    /** Distinct values in order. */
    private static List<String> distinct(List<String> values) {
        Set<String> s = new LinkedHashSet<>(values);
        return List.copyOf(s);
    }

    /** Log-uniform on [lo, hi] (lo > 0): log10 of the value is uniform on [log10 lo, log10 hi]. */
    record LogUniform(String name, double lo, double hi) implements Param {
        @Override
        public String sample(double u) {
            double a = Math.log10(lo);
            double b = Math.log10(hi);
            return text(round(Math.pow(10, a + u * (b - a)), lo, hi));
        }

        @Override
        public List<String> grid(int points) {
            double a = Math.log10(lo);
            double b = Math.log10(hi);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < points; i++) {
                double e = points == 1 ? (a + b) / 2 : a + i * (b - a) / (points - 1);
                out.add(text(round(Math.pow(10, e), lo, hi)));
            }
            return distinct(out);
        }

        @Override
        public Param narrow(List<String> kept, Param original, double margin) {
            LogUniform o = (LogUniform) original;
            double[] ab = span(kept, true);
            double d = Math.max(ab[1] - ab[0], (Math.log10(hi) - Math.log10(lo)) / 10);
            double nlo = Math.max(o.lo, Math.pow(10, ab[0] - margin * d));
            double nhi = Math.min(o.hi, Math.pow(10, ab[1] + margin * d));
            return new LogUniform(name, round(nlo, o.lo, o.hi), round(nhi, o.lo, o.hi));
        }

        @Override
        public String spec() {
            return "log:" + text(lo) + ":" + text(hi);
        }
    }

    /** Uniform on [lo, hi]. */
    record Uniform(String name, double lo, double hi) implements Param {
        @Override
        public String sample(double u) {
            return text(round(lo + u * (hi - lo), lo, hi));
        }

        @Override
        public List<String> grid(int points) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < points; i++) {
                double v = points == 1 ? (lo + hi) / 2 : lo + i * (hi - lo) / (points - 1);
                out.add(text(round(v, lo, hi)));
            }
            return distinct(out);
        }

        @Override
        public Param narrow(List<String> kept, Param original, double margin) {
            Uniform o = (Uniform) original;
            double[] ab = span(kept, false);
            double d = Math.max(ab[1] - ab[0], (hi - lo) / 10);
            return new Uniform(name, round(Math.max(o.lo, ab[0] - margin * d), o.lo, o.hi),
                    round(Math.min(o.hi, ab[1] + margin * d), o.lo, o.hi));
        }

        @Override
        public String spec() {
            return "lin:" + text(lo) + ":" + text(hi);
        }
    }

    /** Integers lo..hi, both included, each equally likely. */
    record IntUniform(String name, long lo, long hi) implements Param {
        @Override
        public String sample(double u) {
            long n = hi - lo + 1;
            return Long.toString(Math.min(hi, lo + (long) Math.floor(u * n)));
        }

        @Override
        public List<String> grid(int points) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < points; i++) {
                double v = points == 1 ? (lo + hi) / 2.0 : lo + i * (double) (hi - lo) / (points - 1);
                out.add(Long.toString(Math.round(v)));
            }
            return distinct(out);
        }

        @Override
        public Param narrow(List<String> kept, Param original, double margin) {
            IntUniform o = (IntUniform) original;
            double[] ab = span(kept, false);
            double d = Math.max(ab[1] - ab[0], (hi - lo) / 10.0);
            long nlo = Math.max(o.lo, (long) Math.floor(ab[0] - margin * d));
            long nhi = Math.min(o.hi, (long) Math.ceil(ab[1] + margin * d));
            return new IntUniform(name, nlo, nhi);
        }

        @Override
        public String spec() {
            return "int:" + lo + ":" + hi;
        }
    }

    /** A list of choices, each equally likely. */
    record Choice(String name, List<String> values) implements Param {
        public Choice {
            values = List.copyOf(values);
        }

        @Override
        public String sample(double u) {
            return values.get(Math.min(values.size() - 1, (int) Math.floor(u * values.size())));
        }

        @Override
        public List<String> grid(int points) {
            return values;
        }

        @Override
        public Param narrow(List<String> kept, Param original, double margin) {
            List<String> out = values.stream().filter(kept::contains).toList();
            return new Choice(name, out.isEmpty() ? values : out);
        }

        @Override
        public String spec() {
            return String.join("|", values);
        }
    }

    /** [min, max] of the values (log10 of them when {@code log}). */
    private static double[] span(List<String> kept, boolean log) {
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("narrowing a range needs at least one kept value");
        }
        double a = Double.POSITIVE_INFINITY;
        double b = Double.NEGATIVE_INFINITY;
        for (String s : kept) {
            double v = Double.parseDouble(s);
            v = log ? Math.log10(v) : v;
            a = Math.min(a, v);
            b = Math.max(b, v);
        }
        return new double[] {a, b};
    }
}
