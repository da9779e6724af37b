package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static dev.jtrain.backend.cpu.CpuTestSupport.withThreads;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link CpuConv}'s chunks of samples (one im2col matrix and one GEMM per chunk): every chunk layout
 * against the naive float64 convolution of {@link CpuConvPoolTest#convRef}, the optional outputs, and
 * thread independence. The chunk budget (floats of one column matrix) is passed in, so chunk
 * boundaries fall where each case wants them.
 */
class CpuConvChunkTest {

    /** Float32 sums of at most a few hundred O(1) products: relative 1e-4, absolute 1e-5 (as CpuConvPoolTest). */
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-5;

    private record Outputs(float[] y, float[] dx, float[] dw, float[] db) {
    }

    /**
     * Runs forward and backward with {@code samplesPerChunk} samples per chunk, dW and db starting from
     * nonzero values and dx from garbage; the null flags leave that output out.
     */
    private static Outputs run(long seed, int n, int cin, int h, int wd, int cout, ConvSpec s, int samplesPerChunk,
                               boolean bias, boolean wantDx, boolean wantDw, boolean wantDb) {
        int oh = s.outH(h);
        int ow = s.outW(wd);
        int k = cin * s.kernelH() * s.kernelW();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = rand(r, n * cin * h * wd, -1, 1);
        float[] w = rand(r, cout * k, -1, 1);
        float[] b = bias ? rand(r, cout, -1, 1) : null;
        float[] dy = rand(r, n * cout * oh * ow, -1, 1);
        float[] y = rand(r, n * cout * oh * ow, -9, 9); // overwritten
        float[] dx = wantDx ? rand(r, x.length, -9, 9) : null; // overwritten
        float[] dw = wantDw ? rand(r, w.length, -1, 1) : null; // accumulated
        float[] db = wantDb ? rand(r, cout, -1, 1) : null; // accumulated
        int budget = samplesPerChunk * k * oh * ow;
        // (the backward also caps chunks at ceil(n / MAX_GROUPS) samples)
        assertEquals(Math.min(n, samplesPerChunk), CpuConv.samplesPerChunk(k, oh * ow, n, budget), "chunk size");
        CpuConv.forward(x, w, b, y, n, cin, h, wd, cout, oh, ow, s, budget);
        CpuConv.backward(x, w, dy, dx, dw, db, n, cin, h, wd, cout, oh, ow, s, budget);
        return new Outputs(y, dx, dw, db);
    }

    /** {@link #run} checked against the float64 reference. */
    private static void check(int n, int cin, int h, int wd, int cout, ConvSpec s, int samplesPerChunk,
                              boolean bias, boolean wantDx, boolean wantDw, boolean wantDb) {
        long seed = 1000L * n + 100L * cin + h + wd + cout + samplesPerChunk;
        Outputs out = run(seed, n, cin, h, wd, cout, s, samplesPerChunk, bias, wantDx, wantDw, wantDb);
        // the same draws again for the inputs, the reference and the starting values
        int oh = s.outH(h);
        int ow = s.outW(wd);
        int k = cin * s.kernelH() * s.kernelW();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = rand(r, n * cin * h * wd, -1, 1);
        float[] w = rand(r, cout * k, -1, 1);
        float[] b = bias ? rand(r, cout, -1, 1) : null;
        float[] dy = rand(r, n * cout * oh * ow, -1, 1);
        rand(r, n * cout * oh * ow, -9, 9);
        if (wantDx) {
            rand(r, x.length, -9, 9);
        }
        float[] dw0 = wantDw ? rand(r, w.length, -1, 1) : null;
        float[] db0 = wantDb ? rand(r, cout, -1, 1) : null;
        double[][] ref = CpuConvPoolTest.convRef(x, w, b, dy, n, cin, h, wd, cout, s);
        String name = "conv n=" + n + " cin=" + cin + " " + h + "x" + wd + " cout=" + cout + " " + s
                + " chunk=" + samplesPerChunk;
        close(name + " y", ref[0], out.y(), RTOL, ATOL);
        if (wantDx) {
            close(name + " dx", ref[1], out.dx(), RTOL, ATOL);
        }
        if (wantDw) {
            close(name + " dw (accumulated)", plus(dw0, ref[2]), out.dw(), RTOL, ATOL);
        }
        if (wantDb) {
            close(name + " db (accumulated)", plus(db0, ref[3]), out.db(), RTOL, ATOL);
        }
    }

    private static double[] plus(float[] a, double[] b) {
        double[] s = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }

    @Test
    void chunkBoundaries() {
        ConvSpec s = ConvSpec.square(3, 1, 1);
        check(7, 2, 6, 5, 3, s, 3, true, true, true, true); // 3 + 3 + 1
        check(7, 2, 6, 5, 3, s, 7, true, true, true, true); // one chunk
        check(7, 2, 6, 5, 3, s, 1, true, true, true, true); // a chunk per sample
        check(7, 2, 6, 5, 3, s, 100, true, true, true, true); // budget beyond the batch
        check(1, 2, 6, 5, 3, s, 1, true, true, true, true); // N = 1
        check(1, 2, 6, 5, 3, s, 4, true, true, true, true);
        // the backward's chunks (at most ceil(n / MAX_GROUPS) samples) in MAX_GROUPS groups of
        // consecutive chunks, one dW partial each: 19 chunks of 2 (the last 1) and 17 of 3 (the last 2)
        assertEquals(16, CpuConv.MAX_GROUPS);
        check(37, 2, 5, 5, 3, s, 2, true, true, true, true);
        check(50, 2, 5, 4, 3, s, 3, true, true, true, true);
        check(50, 2, 5, 4, 3, s, 50, true, true, true, true); // forward one chunk, backward 4 samples per chunk
    }

    @Test
    void stridesPaddingAndKernelShapes() {
        check(5, 3, 9, 8, 4, ConvSpec.square(3, 2, 1), 2, true, true, true, true);
        check(5, 3, 9, 8, 4, ConvSpec.square(3, 2, 0), 2, true, true, true, true);
        check(4, 2, 7, 7, 3, ConvSpec.square(5, 1, 2), 3, true, true, true, true); // LeNet conv1's padding
        check(4, 5, 6, 7, 6, ConvSpec.square(1, 1, 0), 3, true, true, true, true); // 1x1
        check(4, 5, 6, 7, 6, ConvSpec.square(1, 2, 0), 3, true, true, true, true); // 1x1, stride 2
        check(3, 2, 9, 7, 3, new ConvSpec(3, 2, 2, 3, 1, 0), 2, true, true, true, true); // rectangular
        check(3, 1, 10, 10, 8, ConvSpec.square(3, 1, 1), 2, true, true, true, true); // one input channel
        // outputs of >= WIDE_OUTPUT positions: the forward runs one GEMM per sample
        check(3, 1, 24, 24, 5, ConvSpec.square(3, 1, 1), 2, true, true, true, true);
        check(2, 2, 26, 24, 3, ConvSpec.square(5, 1, 2), 1, false, true, true, true);
    }

    @Test
    void optionalOutputsMayBeLeftOut() {
        ConvSpec s = ConvSpec.square(3, 2, 1);
        check(5, 3, 8, 8, 4, s, 2, false, true, true, true); // no bias
        check(5, 3, 8, 8, 4, s, 2, true, false, true, true); // dx == null (a first layer)
        check(5, 3, 8, 8, 4, s, 2, true, true, false, true); // dw == null
        check(5, 3, 8, 8, 4, s, 2, true, true, true, false); // db == null
        check(5, 3, 8, 8, 4, s, 2, true, true, false, false); // dx only
        check(5, 3, 8, 8, 4, s, 2, true, false, false, true); // db only
    }

    @Test
    void bitsDoNotDependOnTheThreadCount() {
        // wide enough chunks that the GEMMs and the per-sample loops go to the pool
        for (int chunk : new int[] {1, 5, 24}) { // forward: 24 chunks, 5 chunks, one chunk
            Outputs[] out = new Outputs[2];
            for (int t = 0; t < 2; t++) {
                int slot = t;
                withThreads(t == 0 ? 1 : 2, () -> out[slot] = run(77, 24, 8, 14, 14, 16, ConvSpec.square(3, 1, 1),
                        chunk, true, true, true, true));
            }
            bitsEqual("y 1 vs 2 threads, chunk " + chunk, out[0].y(), out[1].y());
            bitsEqual("dx 1 vs 2 threads, chunk " + chunk, out[0].dx(), out[1].dx());
            bitsEqual("dw 1 vs 2 threads, chunk " + chunk, out[0].dw(), out[1].dw());
            bitsEqual("db 1 vs 2 threads, chunk " + chunk, out[0].db(), out[1].db());
        }
        // the one-GEMM-per-sample forward of wide outputs: with 1 sample (each GEMM on the pool) and 5
        for (int n : new int[] {1, 5}) {
            Outputs[] out = new Outputs[2];
            for (int t = 0; t < 2; t++) {
                int slot = t;
                withThreads(t == 0 ? 1 : 2, () -> out[slot] = run(78, n, 3, 24, 24, 16, ConvSpec.square(3, 1, 1),
                        2, true, true, true, true));
            }
            bitsEqual("wide y 1 vs 2 threads, n " + n, out[0].y(), out[1].y());
            bitsEqual("wide dw 1 vs 2 threads, n " + n, out[0].dw(), out[1].dw());
        }
    }
}
