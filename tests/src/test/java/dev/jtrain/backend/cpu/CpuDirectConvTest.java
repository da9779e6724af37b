package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static dev.jtrain.backend.cpu.CpuTestSupport.withThreads;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CpuDirectConv}, the convolution forward with output channels in vector lanes: against the float64
 * convolution, bit for bit against the im2col + GEMM forward (the same fma chain while the window fits one
 * GEMM depth block, plus the bias), at odd output sizes (tiles of 8 positions with a remainder, tiles across
 * output rows), strides, padding, rectangular windows, no bias, and 1 vs 2 threads; and the direct weight
 * gradient (window steps x channels in lanes) against the float64 reference, accumulated, at chunk budgets of one
 * sample and the whole batch.
 */
class CpuDirectConvTest {

    /** Float32 sums of at most a few hundred O(1) products: relative 1e-4, absolute 1e-5 (as CpuConvChunkTest). */
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;

    private static void check(int n, int cin, int h, int wd, int cout, ConvSpec s, boolean bias) {
        assumeTrue(CpuSimd.VECTOR, "the direct path needs the Vector API");
        int oh = s.outH(h);
        int ow = s.outW(wd);
        int k = cin * s.kernelH() * s.kernelW();
        String name = "direct conv n=" + n + " cin=" + cin + " " + h + "x" + wd + " cout=" + cout + " " + s
                + (bias ? "" : " no bias");
        assertTrue(CpuDirectConv.applies(cin, cout, k, oh * ow), name + ": the direct path should take it");
        SplittableRandom r = new SplittableRandom(31L * n + cin + 7L * h + wd + cout);
        float[] x = rand(r, n * cin * h * wd, -1, 1);
        float[] w = rand(r, cout * k, -1, 1);
        float[] b = bias ? rand(r, cout, -1, 1) : null;
        float[] dy = rand(r, n * cout * oh * ow, -1, 1);
        float[] y = rand(r, n * cout * oh * ow, -9, 9); // overwritten
        CpuConv.forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s, CpuConv.COL_FLOATS);
        double[][] ref = CpuConvPoolTest.convRef(x, w, b, dy, n, cin, h, wd, cout, s);
        close(name + " y", ref[0], y, RTOL, ATOL);
        // the backward: the direct weight gradient (accumulated onto a nonzero dW), dx and db through im2col,
        // with chunk budgets of 1 sample and of the whole batch
        for (int chunk : new int[] {1, n}) {
            float[] dw = rand(new SplittableRandom(9), w.length, -1, 1);
            double[] expected = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                expected[i] = dw[i] + ref[2][i];
            }
            float[] dx = new float[x.length];
            CpuConv.backward(x, w, dy, dx, dw, null, n, cin, h, wd, cout, oh, ow, s, chunk * k * oh * ow);
            close(name + " dw (accumulated), chunk " + chunk, expected, dw, RTOL, ATOL);
            close(name + " dx, chunk " + chunk, ref[1], dx, RTOL, ATOL);
        }
        float[] viaGemm = rand(r, y.length, -9, 9);
        CpuConv.forwardIm2col(x, w, b, viaGemm, n, cin, h, wd, cout, oh, ow, s, CpuConv.COL_FLOATS);
        bitsEqual(name + " y vs im2col + GEMM", viaGemm, y);
    }

    @Test
    void lenetAndCnnLayers() {
        check(3, 6, 14, 14, 16, ConvSpec.square(5, 1, 0), true); // LeNet's conv2: 100 positions
        check(2, 8, 14, 14, 64, ConvSpec.square(3, 1, 1), true); // 4-vector tiles, 196 positions, padded
        check(2, 5, 9, 9, 32, ConvSpec.square(3, 1, 1), true); // 2-vector tiles, 81 positions
        check(2, 5, 9, 9, 48, ConvSpec.square(3, 1, 1), false); // 2 + 1 vectors (on 16 lanes), no bias
    }

    @Test
    void oddSizesStridesPaddingAndWindows() {
        check(2, 4, 5, 7, 16, ConvSpec.square(3, 1, 0), true); // 3x5 = 15 positions: one tile and 7 left
        check(1, 5, 3, 3, 32, ConvSpec.square(3, 1, 0), true); // one position only
        check(2, 4, 9, 8, 32, ConvSpec.square(3, 2, 1), true); // stride 2 with padding
        check(2, 3, 11, 10, 48, new ConvSpec(5, 3, 2, 1, 2, 1), true); // rectangular window and strides
        check(2, 8, 6, 6, 16, ConvSpec.square(5, 1, 2), false); // padding 2, no bias
        check(1, 64, 4, 4, 64, ConvSpec.square(1, 1, 0), true); // 1x1
    }

    /** {@link CpuRowConv} (positions in lanes, few input channels): forward against float64 and the GEMM's bits. */
    private static void checkRow(int n, int cin, int h, int wd, int cout, ConvSpec s, boolean bias) {
        assumeTrue(CpuSimd.VECTOR, "the row path needs the Vector API");
        int oh = s.outH(h);
        int ow = s.outW(wd);
        int k = cin * s.kernelH() * s.kernelW();
        String name = "row conv n=" + n + " cin=" + cin + " " + h + "x" + wd + " cout=" + cout + " " + s
                + (bias ? "" : " no bias");
        assertTrue(CpuRowConv.applies(cin, ow, s) && !CpuDirectConv.applies(cin, cout, k, oh * ow),
                name + ": the row path should take it");
        SplittableRandom r = new SplittableRandom(17L * n + cin + 5L * h + wd + cout);
        float[] x = rand(r, n * cin * h * wd, -1, 1);
        float[] w = rand(r, cout * k, -1, 1);
        float[] b = bias ? rand(r, cout, -1, 1) : null;
        float[] dy = rand(r, n * cout * oh * ow, -1, 1);
        float[] y = rand(r, n * cout * oh * ow, -9, 9); // overwritten
        CpuConv.forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s, CpuConv.COL_FLOATS);
        double[][] ref = CpuConvPoolTest.convRef(x, w, b, dy, n, cin, h, wd, cout, s);
        close(name + " y", ref[0], y, RTOL, ATOL);
        float[] viaGemm = rand(r, y.length, -9, 9);
        CpuConv.forwardIm2col(x, w, b, viaGemm, n, cin, h, wd, cout, oh, ow, s, CpuConv.COL_FLOATS);
        bitsEqual(name + " y vs im2col + GEMM", viaGemm, y);
        // the weight gradient by rows (accumulated onto a nonzero dW), dx through im2col, chunks of 1 and n
        for (int chunk : new int[] {1, n}) {
            float[] dw = rand(new SplittableRandom(8), w.length, -1, 1);
            double[] expected = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                expected[i] = dw[i] + ref[2][i];
            }
            float[] dx = new float[x.length];
            CpuConv.backward(x, w, dy, dx, dw, null, n, cin, h, wd, cout, oh, ow, s, chunk * k * oh * ow);
            close(name + " dw (accumulated), chunk " + chunk, expected, dw, RTOL, ATOL);
            close(name + " dx, chunk " + chunk, ref[1], dx, RTOL, ATOL);
        }
    }

    @Test
    void firstLayersByRows() {
        checkRow(3, 1, 28, 28, 6, ConvSpec.square(5, 1, 2), true); // LeNet's conv1: 4 + 2 channels
        checkRow(2, 1, 28, 28, 32, ConvSpec.square(3, 1, 1), true); // the cnn's conv1
        checkRow(2, 3, 13, 37, 5, ConvSpec.square(3, 1, 0), false); // RGB, 35 columns: 2 vectors + 3 (on 16 lanes)
        checkRow(1, 2, 9, 30, 7, new ConvSpec(3, 5, 1, 1, 1, 2), true); // rectangular window and padding
        checkRow(2, 1, 5, 64, 3, ConvSpec.square(7, 1, 3), true); // 7x7, exactly 4 vectors of 16 per row
    }

    @Test
    void layersOutsideTheRuleKeepTheGemm() {
        assumeTrue(CpuSimd.VECTOR, "the direct path needs the Vector API");
        assertTrue(!CpuDirectConv.applies(32, 64, 288, 196), "the cnn's conv2: weights beyond the L1 budget");
        assertTrue(!CpuDirectConv.applies(1, 32, 9, 784), "a 3x3 first layer: window too short");
        assertTrue(!CpuDirectConv.applies(6, 12, 150, 100), "12 channels: not whole vectors");
        assertTrue(!CpuRowConv.applies(1, 28, ConvSpec.square(3, 2, 1)), "stride 2");
        assertTrue(!CpuRowConv.applies(8, 28, ConvSpec.square(3, 1, 1)), "8 input channels");
        assertTrue(!CpuRowConv.applies(1, 10, ConvSpec.square(3, 1, 1)), "rows of 10");
    }

    @Test
    void bitsDoNotDependOnTheThreadCount() {
        assumeTrue(CpuSimd.VECTOR, "the direct path needs the Vector API");
        ConvSpec s = ConvSpec.square(5, 1, 0);
        SplittableRandom r = new SplittableRandom(5);
        int n = 16;
        float[] x = rand(r, n * 6 * 14 * 14, -1, 1);
        float[] w = rand(r, 16 * 150, -1, 1);
        float[] b = rand(r, 16, -1, 1);
        float[][] y = new float[2][n * 16 * 100];
        for (int t = 0; t < 2; t++) {
            float[] out = y[t];
            withThreads(t + 1, () -> CpuConv.forward(x, w, b, out, n, 6, 14, 14, 16, 10, 10, s, CpuConv.COL_FLOATS));
        }
        bitsEqual("direct conv y, 1 vs 2 threads", y[0], y[1]);
        float[] dy = rand(r, n * 16 * 100, -1, 1);
        float[][] dw = new float[2][16 * 150];
        for (int t = 0; t < 2; t++) {
            float[] out = dw[t];
            withThreads(t + 1, () -> CpuConv.backward(x, w, dy, null, out, null, n, 6, 14, 14, 16, 10, 10, s,
                    CpuConv.COL_FLOATS));
        }
        bitsEqual("direct conv dw, 1 vs 2 threads", dw[0], dw[1]);
        // the row path (LeNet's conv1): forward and weight gradient
        ConvSpec c1 = ConvSpec.square(5, 1, 2);
        float[] x1 = rand(r, n * 784, -1, 1);
        float[] w1 = rand(r, 6 * 25, -1, 1);
        float[] dy1 = rand(r, n * 6 * 784, -1, 1);
        float[][] y1 = new float[2][n * 6 * 784];
        float[][] dw1 = new float[2][6 * 25];
        for (int t = 0; t < 2; t++) {
            int slot = t;
            withThreads(t + 1, () -> {
                CpuConv.forward(x1, w1, null, y1[slot], n, 1, 28, 28, 6, 28, 28, c1, CpuConv.COL_FLOATS);
                CpuConv.backward(x1, w1, dy1, null, dw1[slot], null, n, 1, 28, 28, 6, 28, 28, c1, CpuConv.COL_FLOATS);
            });
        }
        bitsEqual("row conv y, 1 vs 2 threads", y1[0], y1[1]);
        bitsEqual("row conv dw, 1 vs 2 threads", dw1[0], dw1[1]);
    }
}
