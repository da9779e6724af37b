package dev.jtrain.backend.cpu;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.longs;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.withThreads;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

/** Elementwise ops, GEMM, bias and reductions against float64 loops, at odd and at parallel sizes. */
class CpuElementwiseTest {

    @Test
    void addMulAxpyScale() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : new int[] {1, 7, 1001, 70001}) {
            Tensor a = randT(r, -3, 3, n);
            Tensor b = randT(r, -3, 3, n);
            Tensor out = zerosT(n);
            double[] e = new double[n];
            B.add(a, b, out);
            for (int i = 0; i < n; i++) {
                e[i] = (double) a.floats()[i] + b.floats()[i];
            }
            close("add", e, out.floats(), 1e-7, 0);
            B.mul(a, b, out);
            for (int i = 0; i < n; i++) {
                e[i] = (double) a.floats()[i] * b.floats()[i];
            }
            close("mul", e, out.floats(), 1e-7, 0);
            float[] y0 = out.toFloatArray();
            B.axpy(-0.75f, a, out);
            for (int i = 0; i < n; i++) {
                e[i] = y0[i] - 0.75 * a.floats()[i];
            }
            close("axpy", e, out.floats(), 1e-6, 1e-6);
            float[] before = a.toFloatArray();
            B.scale(a, 2.5f);
            for (int i = 0; i < n; i++) {
                e[i] = 2.5 * before[i];
            }
            close("scale", e, a.floats(), 1e-7, 0);
        }
    }

    @Test
    void addMayAliasItsOutput() {
        Tensor a = t(new float[] {1, 2, 3}, 3);
        Tensor b = t(new float[] {10, 20, 30}, 3);
        B.add(a, b, a);
        assertArrayEquals(new float[] {11, 22, 33}, a.floats());
        B.mul(a, a, a);
        assertArrayEquals(new float[] {121, 484, 1089}, a.floats());
    }

    @Test
    void fillAndCopy() {
        Tensor x = zerosT(2, 3);
        B.fill(x, 1.5f);
        assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}, x.floats());
        Tensor y = zerosT(2, 3);
        B.copy(x, y);
        assertArrayEquals(x.floats(), y.floats());
        Tensor l = B.zeros(DType.INT64, Shape.of(4));
        B.fill(l, 7f);
        assertArrayEquals(new long[] {7, 7, 7, 7}, l.longs());
        Tensor h = B.toHost(x);
        assertNotSame(x, h);
        assertArrayEquals(x.floats(), h.floats());
    }

    private static double[] gemmRef(boolean ta, boolean tb, double alpha, float[] a, float[] b, double beta, float[] c,
                                     int m, int n, int k) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = ta ? a[p * m + i] : a[i * k + p];
                    double bv = tb ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        }
        return out;
    }

    @Test
    void gemmAllTransposes() {
        SplittableRandom r = new SplittableRandom(2);
        int[][] sizes = {{1, 1, 1}, {3, 5, 7}, {17, 13, 29}, {65, 33, 130}};
        for (int[] s : sizes) {
            int m = s[0], n = s[1], k = s[2];
            for (int ta = 0; ta < 2; ta++) {
                for (int tb = 0; tb < 2; tb++) {
                    Tensor a = ta == 1 ? randT(r, -1, 1, k, m) : randT(r, -1, 1, m, k);
                    Tensor b = tb == 1 ? randT(r, -1, 1, n, k) : randT(r, -1, 1, k, n);
                    Tensor c = randT(r, -1, 1, m, n);
                    float[] c0 = c.toFloatArray();
                    B.gemm(ta == 1, tb == 1, 0.5f, a, b, 2f, c);
                    close("gemm " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb,
                            gemmRef(ta == 1, tb == 1, 0.5, a.floats(), b.floats(), 2, c0, m, n, k), c.floats(), 1e-4, 1e-5);
                }
            }
        }
    }

    @Test
    void gemmBetaZeroIgnoresNaN() {
        Tensor a = t(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor c = t(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN}, 2, 2);
        B.gemm(false, false, 1f, a, a, 0f, c);
        assertArrayEquals(new float[] {7, 10, 15, 22}, c.floats());
    }

    @Test
    void addBiasAndBiasGradRank2AndRank4() {
        SplittableRandom r = new SplittableRandom(3);
        int[][] shapes = {{5, 3}, {128, 513}, {3, 4, 5, 7}, {64, 9, 17, 15}};
        for (int[] sh : shapes) {
            Tensor y = randT(r, -1, 1, sh);
            int c = sh[1];
            int inner = y.numel() / (sh[0] * c);
            Tensor bias = randT(r, -1, 1, c);
            float[] y0 = y.toFloatArray();
            B.addBias(y, bias);
            double[] e = new double[y.numel()];
            for (int i = 0; i < e.length; i++) {
                e[i] = (double) y0[i] + bias.floats()[(i / inner) % c];
            }
            close("addBias " + y.shape(), e, y.floats(), 1e-7, 0);

            Tensor db = randT(r, -1, 1, c);
            float[] db0 = db.toFloatArray();
            B.biasGrad(y, db);
            double[] eb = new double[c];
            for (int i = 0; i < y.numel(); i++) {
                eb[(i / inner) % c] += y.floats()[i];
            }
            for (int j = 0; j < c; j++) {
                eb[j] += db0[j];
            }
            close("biasGrad " + y.shape() + " (accumulated)", eb, db.floats(), 1e-6, 1e-6);
        }
    }

    @Test
    void reductions() {
        SplittableRandom r = new SplittableRandom(4);
        for (int n : new int[] {1, 3, 1001, 100_003}) {
            Tensor x = randT(r, -2, 2, n);
            double s = 0, s2 = 0, sa = 0;
            for (float v : x.floats()) {
                s += v;
                s2 += (double) v * v;
                sa += Math.abs(v);
            }
            Tensor out = zerosT(1);
            B.sum(x, out);
            close("sum n=" + n, s, out.item(), 1e-6, 1e-6);
            B.sumSquares(x, out, false);
            close("sumSquares", s2, out.item(), 1e-6, 0);
            float first = out.item();
            B.sumSquares(x, out, true);
            close("sumSquares accumulated", s2 + (double) first, out.item(), 1e-6, 0);
            B.sumAbs(x, out);
            close("sumAbs", sa, out.item(), 1e-6, 0);
        }
    }

    @Test
    void argmaxFirstMaximumAndCountEqual() {
        Tensor x = t(new float[] {1, 3, 3, 0, -1, -1, -2, -1, 5, 5, 5, 5}, 3, 4);
        Tensor idx = B.zeros(DType.INT64, Shape.of(3));
        B.argmaxRows(x, idx);
        assertArrayEquals(new long[] {1, 0, 0}, idx.longs());
        Tensor out = zerosT(1);
        B.countEqual(idx, longs(new long[] {1, 2, 0}, 3), out);
        assertEquals(2f, out.item());
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        SplittableRandom r = new SplittableRandom(5);
        Tensor x = randT(r, -1, 1, 300_001);
        Tensor dy = randT(r, -1, 1, 256, 700);
        float[][] res = new float[2][];
        for (int k = 0; k < 2; k++) {
            int threads = k == 0 ? 1 : 3;
            int slot = k;
            withThreads(threads, () -> {
                Tensor o = zerosT(1);
                Tensor db = zerosT(700);
                B.sumSquares(x, o, false);
                B.biasGrad(dy, db);
                float[] all = new float[701];
                all[0] = o.item();
                System.arraycopy(db.floats(), 0, all, 1, 700);
                res[slot] = all;
            });
        }
        bitsEqual("1 vs 3 threads", res[0], res[1]);
    }
}
