package dev.jtrain.backend.cpu;

import dev.jtrain.backend.ConvSpec;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link CpuConv#im2col}'s path for stride 1 and "same" width (one copy per column row) against the per-row path,
 * element for element, including the column stride, the offset into a wider chunk matrix and the padding zeros.
 */
class CpuIm2colTest {

    @Test
    void samePaddingPathCopiesExactlyWhatThePerRowPathDoes() {
        SplittableRandom r = new SplittableRandom(91);
        // kernel, pad (width: ow == wd needs kw = 2 pw + 1), padH free; input sizes down to smaller than the kernel
        int[][] cases = {{3, 1, 1}, {3, 1, 0}, {3, 1, 2}, {1, 0, 0}, {5, 2, 2}, {5, 2, 1}, {7, 3, 3}};
        int[][] sizes = {{14, 14}, {28, 28}, {1, 1}, {2, 5}, {5, 2}, {3, 17}, {9, 4}};
        for (int[] c : cases) {
            int k = c[0];
            int pw = c[1];
            int ph = c[2];
            ConvSpec s = new ConvSpec(k, k, 1, 1, ph, pw);
            for (int[] hw : sizes) {
                int h = hw[0];
                int wd = hw[1];
                if (h + 2 * ph < k) {
                    continue; // no output rows
                }
                int oh = s.outH(h);
                int ow = s.outW(wd);
                assertEquals(wd, ow, "test case must keep the width");
                int cin = 3;
                int p = oh * ow;
                int ld = 2 * p + 5; // this sample's columns inside a wider chunk matrix
                int colOff = p + 3;
                float[] x = rand(r, 7 + cin * h * wd + 4, -1, 1);
                float[] fast = rand(r, colOff + cin * k * k * ld, -9, 9);
                float[] rows = fast.clone();
                CpuConv.im2colSame(x, 7, cin, h, wd, oh, ow, s, fast, colOff, ld);
                CpuConv.im2colRows(x, 7, cin, h, wd, oh, ow, s, rows, colOff, ld);
                String what = "kernel " + k + " pad " + ph + "/" + pw + " input " + h + "x" + wd;
                bitsEqual(what, rows, fast);
                // and the dispatch takes the same path
                float[] viaDispatch = rows.clone();
                CpuConv.im2col(x, 7, cin, h, wd, oh, ow, s, viaDispatch, colOff, ld);
                bitsEqual(what + " (im2col)", rows, viaDispatch);
            }
        }
    }
}
