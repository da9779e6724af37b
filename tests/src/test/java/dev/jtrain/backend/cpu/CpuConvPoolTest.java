package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.withThreads;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Conv2d (FORMAT.md 16-17) and pooling (17-20) against naive float64 loops. */
class CpuConvPoolTest {

    /** Naive conv: returns {y, dx, dW, db} in double for upstream dy. */
    static double[][] convRef(float[] x, float[] w, float[] b, float[] dy, int n, int cin, int h, int wd, int cout,
                              ConvSpec s) {
        int kh = s.kernelH(), kw = s.kernelW();
        int oh = (h + 2 * s.padH() - kh) / s.strideH() + 1;
        int ow = (wd + 2 * s.padW() - kw) / s.strideW() + 1;
        double[] y = new double[n * cout * oh * ow];
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] db = new double[cout];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < cout; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int yi = ((r * cout + o) * oh + i) * ow + j;
                        double acc = b == null ? 0 : b[o];
                        double g = dy == null ? 0 : dy[yi];
                        db[o] += g;
                        for (int c = 0; c < cin; c++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int hh = i * s.strideH() - s.padH() + u;
                                    int ww = j * s.strideW() - s.padW() + v;
                                    if (hh < 0 || hh >= h || ww < 0 || ww >= wd) {
                                        continue;
                                    }
                                    int xi = ((r * cin + c) * h + hh) * wd + ww;
                                    int wi = ((o * cin + c) * kh + u) * kw + v;
                                    acc += (double) w[wi] * x[xi];
                                    dx[xi] += (double) w[wi] * g;
                                    dw[wi] += (double) x[xi] * g;
                                }
                            }
                        }
                        y[yi] = acc;
                    }
                }
            }
        }
        return new double[][] {y, dx, dw, db};
    }

    private void convCase(int n, int cin, int h, int wd, int cout, ConvSpec s, int oh, int ow) {
        SplittableRandom r = new SplittableRandom(31 + n + h);
        Tensor x = randT(r, -1, 1, n, cin, h, wd);
        Tensor w = randT(r, -1, 1, cout, cin, s.kernelH(), s.kernelW());
        Tensor b = randT(r, -1, 1, cout);
        Tensor y = zerosT(n, cout, oh, ow);
        B.conv2dForward(x, w, b, s, y);
        Tensor dy = randT(r, -1, 1, n, cout, oh, ow);
        double[][] ref = convRef(x.floats(), w.floats(), b.floats(), dy.floats(), n, cin, h, wd, cout, s);
        String name = "conv " + x.shape() + " " + s;
        close(name + " y", ref[0], y.floats(), 1e-4, 1e-5);
        Tensor dx = randT(r, -1, 1, n, cin, h, wd); // overwritten
        Tensor dw = randT(r, -1, 1, cout, cin, s.kernelH(), s.kernelW()); // accumulated
        Tensor db = randT(r, -1, 1, cout);
        double[] dw0 = CpuTestSupport.d(dw.toFloatArray());
        double[] db0 = CpuTestSupport.d(db.toFloatArray());
        B.conv2dBackward(x, w, dy, s, dx, dw, db);
        for (int i = 0; i < dw0.length; i++) {
            dw0[i] += ref[2][i];
        }
        for (int i = 0; i < db0.length; i++) {
            db0[i] += ref[3][i];
        }
        close(name + " dx", ref[1], dx.floats(), 1e-4, 1e-5);
        close(name + " dw (accumulated)", dw0, dw.floats(), 1e-4, 1e-5);
        close(name + " db (accumulated)", db0, db.floats(), 1e-4, 1e-5);
    }

    @Test
    void convolutionShapesFromTheConformanceSet() {
        convCase(2, 2, 6, 6, 3, ConvSpec.square(3, 1, 1), 6, 6);
        convCase(2, 2, 8, 9, 3, ConvSpec.square(5, 1, 0), 4, 5);
        convCase(2, 3, 7, 7, 4, ConvSpec.square(3, 2, 1), 4, 4);
        convCase(2, 3, 6, 6, 4, ConvSpec.square(3, 2, 1), 3, 3); // floor: the last row and column do not fit
        convCase(3, 5, 5, 5, 4, ConvSpec.square(1, 1, 0), 5, 5); // direct (no im2col)
        convCase(1, 3, 7, 7, 4, ConvSpec.square(3, 1, 1), 7, 7);
        convCase(1, 2, 9, 7, 3, new ConvSpec(3, 2, 2, 3, 1, 0), 5, 2);
        convCase(2, 2, 5, 6, 3, ConvSpec.square(1, 2, 0), 3, 3);
    }

    @Test
    void convolutionWithManySamplesAndThreadIndependence() {
        convCase(37, 3, 11, 10, 5, ConvSpec.square(3, 2, 1), 6, 5);
        SplittableRandom r = new SplittableRandom(33);
        Tensor x = randT(r, -1, 1, 33, 4, 12, 12);
        Tensor w = randT(r, -1, 1, 8, 4, 3, 3);
        Tensor dy = randT(r, -1, 1, 33, 8, 12, 12);
        float[][] res = new float[4][];
        for (int k = 0; k < 2; k++) {
            int slot = k;
            withThreads(k == 0 ? 1 : 4, () -> {
                Tensor y = zerosT(33, 8, 12, 12);
                Tensor dx = zerosT(33, 4, 12, 12);
                Tensor dw = zerosT(8, 4, 3, 3);
                B.conv2dForward(x, w, null, ConvSpec.square(3, 1, 1), y);
                B.conv2dBackward(x, w, dy, ConvSpec.square(3, 1, 1), dx, dw, null);
                res[2 * slot] = dx.toFloatArray();
                res[2 * slot + 1] = dw.toFloatArray();
            });
        }
        bitsEqual("conv dx 1 vs 4 threads", res[0], res[2]);
        bitsEqual("conv dw 1 vs 4 threads", res[1], res[3]);
    }

    @Test
    void convBackwardWithoutDx() {
        SplittableRandom r = new SplittableRandom(34);
        Tensor x = randT(r, -1, 1, 2, 2, 5, 5);
        Tensor w = randT(r, -1, 1, 3, 2, 3, 3);
        Tensor dy = randT(r, -1, 1, 2, 3, 5, 5);
        Tensor dw = zerosT(3, 2, 3, 3);
        B.conv2dBackward(x, w, dy, ConvSpec.square(3, 1, 1), null, dw, null);
        double[][] ref = convRef(x.floats(), w.floats(), null, dy.floats(), 2, 2, 5, 5, 3, ConvSpec.square(3, 1, 1));
        close("dw", ref[2], dw.floats(), 1e-4, 1e-5);
    }

    @Test
    void maxPoolFirstMaximumWinsAndOverlapsAccumulate() {
        // 1x1x5x5 input of 0/1/2 with ties; 3x3 stride 2 windows overlap on row/column 2
        float[] x = {
            2, 2, 0, 1, 2,
            1, 2, 2, 2, 0,
            2, 0, 2, 1, 2,
            0, 1, 1, 1, 0,
            2, 1, 0, 2, 2};
        Tensor xt = t(x, 1, 1, 5, 5);
        Tensor y = zerosT(1, 1, 2, 2);
        Tensor idx = B.zeros(DType.INT64, Shape.of(1, 1, 2, 2));
        ConvSpec s = ConvSpec.square(3, 2, 0);
        B.maxPool2dForward(xt, s, y, idx);
        assertArrayEquals(new float[] {2, 2, 2, 2}, y.floats());
        assertArrayEquals(new long[] {0, 4, 10, 12}, idx.longs());
        Tensor dx = randT(new SplittableRandom(1), -1, 1, 1, 1, 5, 5); // overwritten
        B.maxPool2dBackward(t(new float[] {1, 10, 100, 1000}, 1, 1, 2, 2), idx, s, dx);
        float[] e = new float[25];
        e[0] = 1;
        e[4] = 10;
        e[10] = 100;
        e[12] = 1000;
        assertArrayEquals(e, dx.floats());
        // overlapping windows selecting the same element add up
        float[] x2 = new float[25];
        x2[12] = 5; // the centre belongs to all four 3x3/s2 windows
        B.maxPool2dForward(t(x2, 1, 1, 5, 5), s, y, idx);
        assertArrayEquals(new long[] {12, 12, 12, 12}, idx.longs());
        B.maxPool2dBackward(t(new float[] {1, 2, 3, 4}, 1, 1, 2, 2), idx, s, dx);
        assertEquals(10f, dx.floats()[12]);
    }

    @Test
    void maxPoolNaNPropagatesAndSignedZerosTie() {
        float nan = Float.NaN;
        float[] x = {-0f, 0f, 1f, nan,
                     0f, -0f, 2f, 3f};
        Tensor y = zerosT(1, 1, 1, 2);
        Tensor idx = B.zeros(DType.INT64, Shape.of(1, 1, 1, 2));
        B.maxPool2dForward(t(x, 1, 1, 2, 4), ConvSpec.square(2, 2, 0), y, idx);
        assertArrayEquals(new long[] {0, 3}, idx.longs());
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(y.floats()[0]), "first of the tied zeros");
        assertTrue(Float.isNaN(y.floats()[1]), "NaN propagates like PyTorch's max_pool2d");
    }

    @Test
    void maxPool2x2FastPathKeepsTheRuleForNaNsZerosAndInfinities() {
        // every 2x2 window over values chosen to tie and to hold NaNs (two payloads, so "which NaN" shows),
        // signed zeros and infinities; the reference is the sequential rule: replace when v > best or v is NaN
        float nanA = Float.intBitsToFloat(0x7fc00001);
        float nanB = Float.intBitsToFloat(0xffc00002);
        float[] pool = {nanA, nanB, -0f, 0f, 1f, -1f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f,
                Float.MIN_VALUE, -Float.MAX_VALUE};
        // widths: odd 11 (the last column belongs to no window; 5 outputs: a partial vector), 28 (MNIST's 14
        // outputs), 71 (35 outputs: whole vectors of 8 and 16 lanes and a partial one)
        for (int w : new int[] {11, 28, 71}) {
            twoByTwoAgainstTheSequentialRule(pool, w);
        }
    }

    private static void twoByTwoAgainstTheSequentialRule(float[] pool, int w) {
        SplittableRandom r = new SplittableRandom(77 + w);
        int n = 2, c = 3, h = 9;   // odd: the last row belongs to no window
        float[] xs = new float[n * c * h * w];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = pool[r.nextInt(pool.length)];
        }
        int oh = h / 2, ow = w / 2;
        Tensor y = zerosT(n, c, oh, ow);
        Tensor idx = B.zeros(DType.INT64, Shape.of(n, c, oh, ow));
        B.maxPool2dForward(t(xs, n, c, h, w), ConvSpec.square(2, 2, 0), y, idx);
        for (int p = 0; p < n * c; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    float best = 0;
                    int bi = -1;
                    for (int u = 0; u < 2; u++) {
                        for (int v = 0; v < 2; v++) {
                            int at = (2 * i + u) * w + 2 * j + v;
                            float val = xs[p * h * w + at];
                            if (bi < 0 || val > best || Float.isNaN(val)) {
                                best = val;
                                bi = at;
                            }
                        }
                    }
                    int o = (p * oh + i) * ow + j;
                    assertEquals(bi, idx.longs()[o], "index of output " + o + ", width " + w);
                    assertEquals(Float.floatToRawIntBits(best), Float.floatToRawIntBits(y.floats()[o]),
                            "bits of output " + o + ", width " + w);
                }
            }
        }
    }

    @Test
    void maxPoolMatchesNaiveOnOddSizes() {
        SplittableRandom r = new SplittableRandom(35);
        for (ConvSpec s : new ConvSpec[] {ConvSpec.square(2, 2, 0), ConvSpec.square(3, 2, 0), ConvSpec.square(3, 1, 1),
                new ConvSpec(2, 3, 1, 2, 1, 1)}) {
            int n = 3, c = 2, h = 7, w = 7;
            Tensor x = randT(r, -1, 1, n, c, h, w);
            // many ties
            for (int i = 0; i < x.numel(); i++) {
                x.floats()[i] = Math.round(x.floats()[i]);
            }
            int oh = (h + 2 * s.padH() - s.kernelH()) / s.strideH() + 1;
            int ow = (w + 2 * s.padW() - s.kernelW()) / s.strideW() + 1;
            Tensor y = zerosT(n, c, oh, ow);
            Tensor idx = B.zeros(DType.INT64, Shape.of(n, c, oh, ow));
            B.maxPool2dForward(x, s, y, idx);
            Tensor dy = randT(r, -1, 1, n, c, oh, ow);
            Tensor dx = zerosT(n, c, h, w);
            B.maxPool2dBackward(dy, idx, s, dx);
            double[] ey = new double[y.numel()];
            double[] edx = new double[x.numel()];
            for (int p = 0; p < n * c; p++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double best = Double.NEGATIVE_INFINITY;
                        int bi = -1;
                        for (int u = 0; u < s.kernelH(); u++) {
                            for (int v = 0; v < s.kernelW(); v++) {
                                int hh = i * s.strideH() - s.padH() + u;
                                int ww = j * s.strideW() - s.padW() + v;
                                if (hh < 0 || hh >= h || ww < 0 || ww >= w) {
                                    continue;
                                }
                                double val = x.floats()[p * h * w + hh * w + ww];
                                if (val > best) {
                                    best = val;
                                    bi = hh * w + ww;
                                }
                            }
                        }
                        int o = (p * oh + i) * ow + j;
                        ey[o] = best;
                        assertEquals(bi, idx.longs()[o], "index " + o + " " + s);
                        edx[p * h * w + bi] += dy.floats()[o];
                    }
                }
            }
            close("maxpool y " + s, ey, y.floats(), 0, 0);
            close("maxpool dx " + s, edx, dx.floats(), 1e-6, 1e-7);
        }
    }

    @Test
    void avgPoolDividesByKernelArea() {
        SplittableRandom r = new SplittableRandom(36);
        for (ConvSpec s : new ConvSpec[] {ConvSpec.square(2, 2, 0), ConvSpec.square(3, 2, 1)}) {
            int n = 2, c = 3, h = 7, w = 7;
            Tensor x = randT(r, -1, 1, n, c, h, w);
            int oh = (h + 2 * s.padH() - s.kernelH()) / s.strideH() + 1;
            int ow = (w + 2 * s.padW() - s.kernelW()) / s.strideW() + 1;
            Tensor y = zerosT(n, c, oh, ow);
            B.avgPool2dForward(x, s, y);
            Tensor dy = randT(r, -1, 1, n, c, oh, ow);
            Tensor dx = randT(r, -1, 1, n, c, h, w);
            B.avgPool2dBackward(dy, s, dx);
            double k2 = s.kernelH() * s.kernelW();
            double[] ey = new double[y.numel()];
            double[] edx = new double[x.numel()];
            for (int p = 0; p < n * c; p++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        int o = (p * oh + i) * ow + j;
                        for (int u = 0; u < s.kernelH(); u++) {
                            for (int v = 0; v < s.kernelW(); v++) {
                                int hh = i * s.strideH() - s.padH() + u;
                                int ww = j * s.strideW() - s.padW() + v;
                                if (hh >= 0 && hh < h && ww >= 0 && ww < w) {
                                    ey[o] += x.floats()[p * h * w + hh * w + ww] / k2;
                                    edx[p * h * w + hh * w + ww] += dy.floats()[o] / k2;
                                }
                            }
                        }
                    }
                }
            }
            close("avgpool y " + s, ey, y.floats(), 1e-6, 1e-7);
            close("avgpool dx " + s, edx, dx.floats(), 1e-6, 1e-7);
        }
    }
}
