package dev.jtrain.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One SGEMM workload of {@link GemmBenchmark}: C [m x n] = op(A) [m x k] op(B) [k x n], optionally with its own
 * transpose ({@code op}: nn, nt, tn or tt; null means "each of --transpose"). Written {@code MxNxK} or
 * {@code MxNxK:op}; {@code numpy_gemm.py --shapes} reads the same notation.
 *
 * <p>{@link #training()} is the set of products an MLP 784-512-512-128 layer stack runs in training at batch
 * 64, 128 and 256: per Linear(in, out) the forward {@code B x out x in:nt} (x W^T), the input gradient
 * {@code B x in x out:nn} (dy W) and the weight gradient {@code out x in x B:tn} (dy^T x).
 */
public record GemmShape(int m, int n, int k, String op) {
    public static final List<String> OPS = List.of("nn", "nt", "tn", "tt");

    public GemmShape {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("GEMM shape sizes must be >= 1, got " + m + "x" + n + "x" + k);
        }
        if (op != null && !OPS.contains(op)) {
            throw new IllegalArgumentException("transpose must be one of nn, nt, tn, tt (got '" + op + "')");
        }
    }

    public static GemmShape square(int n) {
        return new GemmShape(n, n, n, null);
    }

    /** Parses {@code MxNxK} or {@code MxNxK:op}; a message names the text on error. */
    public static GemmShape parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        String op = null;
        int colon = t.indexOf(':');
        if (colon >= 0) {
            op = t.substring(colon + 1);
            t = t.substring(0, colon);
        }
        String[] p = t.split("x");
        if (p.length != 3) {
            throw new IllegalArgumentException("a GEMM shape is MxNxK or MxNxK:op (e.g. 128x512x784:nt), got '" + text + "'");
        }
        try {
            return new GemmShape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), op);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a GEMM shape is MxNxK or MxNxK:op (e.g. 128x512x784:nt), got '" + text + "'");
        }
    }

    /** The products of training Linear layers 784-512, 512-512, 512-128 at batch 64, 128, 256 (see class doc). */
    public static List<GemmShape> training() {
        List<GemmShape> out = new ArrayList<>();
        int[][] layers = {{784, 512}, {512, 512}, {512, 128}};
        for (int batch : new int[] {64, 128, 256}) {
            for (int[] l : layers) {
                out.add(new GemmShape(batch, l[1], l[0], "nt"));
                out.add(new GemmShape(batch, l[0], l[1], "nn"));
                out.add(new GemmShape(l[1], l[0], batch, "tn"));
            }
        }
        return out;
    }

    /** Floating-point operations of one product: 2 m n k. */
    public double flops() {
        return 2.0 * m * n * (double) k;
    }

    /** {@code MxNxK} (without the op). */
    public String dims() {
        return m + "x" + n + "x" + k;
    }

    @Override
    public String toString() {
        return op == null ? dims() : dims() + ":" + op;
    }
}
