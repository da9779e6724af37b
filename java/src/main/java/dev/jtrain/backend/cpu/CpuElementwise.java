package dev.jtrain.backend.cpu;

import java.util.Arrays;

/**
 * Elementwise float32 kernels (add, mul, axpy, scale, fill, copy) over flat arrays. Exact float32
 * arithmetic, one rounding per element, so the result does not depend on how the loop is split.
 */
final class CpuElementwise {
    private CpuElementwise() {
    }

    static void add(float[] a, float[] b, float[] out, int n) {
        if (CpuLoops.parallel(n)) {
            CpuLoops.forRange(n, (from, to) -> addRange(a, b, out, from, to));
        } else {
            addRange(a, b, out, 0, n);
        }
    }

    private static void addRange(float[] a, float[] b, float[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            out[i] = a[i] + b[i];
        }
    }

    static void mul(float[] a, float[] b, float[] out, int n) {
        if (CpuLoops.parallel(n)) {
            CpuLoops.forRange(n, (from, to) -> mulRange(a, b, out, from, to));
        } else {
            mulRange(a, b, out, 0, n);
        }
    }

    private static void mulRange(float[] a, float[] b, float[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            out[i] = a[i] * b[i];
        }
    }

    /** y += alpha * x (two roundings, like PyTorch's add_(x, alpha=...) without fma). */
    static void axpy(float alpha, float[] x, float[] y, int n) {
        if (CpuLoops.parallel(n)) {
            CpuLoops.forRange(n, (from, to) -> axpyRange(alpha, x, y, from, to));
        } else {
            axpyRange(alpha, x, y, 0, n);
        }
    }

    private static void axpyRange(float alpha, float[] x, float[] y, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] += alpha * x[i];
        }
    }

    /** out = (float) Math.sqrt(x), correctly rounded like C's sqrtf. Not on a hot path: a plain loop. */
    static void sqrt(float[] x, float[] out, int n) {
        for (int i = 0; i < n; i++) {
            out[i] = (float) Math.sqrt(x[i]);
        }
    }

    static void scale(float[] x, float alpha, int n) {
        if (CpuLoops.parallel(n)) {
            CpuLoops.forRange(n, (from, to) -> scaleRange(x, alpha, from, to));
        } else {
            scaleRange(x, alpha, 0, n);
        }
    }

    private static void scaleRange(float[] x, float alpha, int from, int to) {
        for (int i = from; i < to; i++) {
            x[i] *= alpha;
        }
    }

    static void fill(float[] x, float value, int n) {
        Arrays.fill(x, 0, n, value);
    }

    static void fill(long[] x, long value, int n) {
        Arrays.fill(x, 0, n, value);
    }
}
