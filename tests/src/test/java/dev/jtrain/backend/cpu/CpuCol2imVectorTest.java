package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The vector col2im (stride 1) against the scalar {@link CpuConv#col2im}: the same bits, at widths below, at and
 * above a vector and not multiples of it, with and without padding, for several samples in one dcol (the layout
 * the backward's chunks use), inside a padded buffer whose surroundings hold values the kernel must not add.
 */
class CpuCol2imVectorTest {

    @Test
    void sameBitsAsTheScalarLoop() {
        assumeTrue(CpuSimd.VECTOR, "needs --add-modules jdk.incubator.vector");
        int[][] shapes = { // cin, h, wd, kh, kw, ph, pw
            {6, 14, 14, 5, 5, 0, 0},   // LeNet conv2's input
            {1, 28, 28, 5, 5, 2, 2},   // LeNet conv1's input (padded)
            {3, 11, 11, 3, 3, 1, 1},
            {2, 7, 71, 3, 3, 1, 1},    // several vectors per row, a partial one last
            {2, 9, 16, 3, 5, 0, 2},    // exactly a vector (on 512-bit), unequal kernel sides
            {1, 5, 33, 1, 1, 0, 0},
            {2, 6, 17, 4, 2, 3, 1},    // padding up to the kernel side - 1
        };
        SplittableRandom r = new SplittableRandom(12);
        for (int[] sh : shapes) {
            int cin = sh[0], h = sh[1], wd = sh[2];
            ConvSpec s = new ConvSpec(sh[3], sh[4], 1, 1, sh[5], sh[6]);
            int oh = h + 2 * s.padH() - s.kernelH() + 1;
            int ow = wd + 2 * s.padW() - s.kernelW() + 1;
            int k = cin * s.kernelH() * s.kernelW();
            int p = oh * ow;
            int samples = 3;
            int ld = samples * p;
            int pad = CpuCol2imVector.slack(s);
            float[] dcol = new float[k * ld + 2 * pad];
            for (int i = 0; i < dcol.length; i++) {
                // the padding holds large values: a lane that should be cleared and is not changes the result
                dcol[i] = i < pad || i >= pad + k * ld ? 1e6f : (float) r.nextGaussian();
            }
            float[] plain = java.util.Arrays.copyOfRange(dcol, pad, pad + k * ld);
            int xs = cin * h * wd;
            float[] want = new float[samples * xs];
            float[] got = new float[samples * xs];
            java.util.Arrays.fill(got, Float.NaN); // overwritten, not added to
            assertTrue(CpuCol2imVector.applies(s));
            assertTrue(CpuCol2imVector.fits(dcol, pad, ld, k, s));
            CpuCol2imVector.Plan plan = CpuCol2imVector.plan(h, wd, oh, ow, ld, s);
            for (int t = 0; t < samples; t++) {
                CpuConv.col2im(plain, t * p, ld, cin, h, wd, oh, ow, s, want, t * xs);
                CpuCol2imVector.col2im(dcol, pad + t * p, ld, cin, s, plan, got, t * xs);
            }
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]),
                        java.util.Arrays.toString(sh) + " element " + i + ": " + want[i] + " vs " + got[i]);
            }
        }
    }

    @Test
    void onlyStrideOneAndOnlyWithRoomAroundTheRuns() {
        assumeTrue(CpuSimd.VECTOR, "needs --add-modules jdk.incubator.vector");
        assertFalse(CpuCol2imVector.applies(new ConvSpec(3, 3, 2, 2, 1, 1)));
        assertFalse(CpuCol2imVector.applies(new ConvSpec(3, 3, 1, 2, 1, 1)));
        ConvSpec s = new ConvSpec(3, 3, 1, 1, 1, 1);
        int k = 9;
        int ld = 16;
        int pad = CpuCol2imVector.slack(s);
        assertTrue(CpuCol2imVector.fits(new float[k * ld + 2 * pad], pad, ld, k, s));
        assertFalse(CpuCol2imVector.fits(new float[k * ld + 2 * pad], 0, ld, k, s));
        assertFalse(CpuCol2imVector.fits(new float[k * ld + pad], pad, ld, k, s));
    }
}
