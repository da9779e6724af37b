package dev.jtrain.backend.cpu;

import dev.jtrain.random.Philox;

/**
 * Philox4x32-10 ({@link Philox}) for four consecutive blocks at once in scalar code, and the dropout built on it. One
 * block's ten rounds are a chain of dependent 64-bit multiplies; four independent chains are interleaved (two were
 * slower). Dropout of 128 x 512 floats at p = 0.5, one thread (ElementwiseBenchmark): 785 us with the scalar loop
 * before, 266-447 us here (the VM's vCPU speed varies), against PyTorch's 804-964 us. The keep test u &ge; p, with
 * u = k 2^-24 and k = word &gt;&gt;&gt; 8, is the integer test k &ge; ⌈p 2^24⌉ (exact on both sides), and kept or
 * dropped values are selected by an AND of their bits with a 0/-1 mask instead of a branch (the scalar loop's random
 * branch was mispredicted for half the elements at p = 0.5): y = x * scale or +0, mask = scale or +0, the same bits
 * as {@link CpuDropout}'s loop (tested).
 *
 * <p>Plain Java on purpose: a Vector API version (one block per int lane, the high words of the products from 16-bit
 * halves) took 102 us alone, but its graph sat near C2's inlining cutoff, and in some JVMs every vector in it was
 * boxed (several MB allocated per MLP step, the run 1.5x slower).
 */
final class CpuPhilox4 {
    private CpuPhilox4() {
    }

    private static final long MASK32 = 0xFFFFFFFFL;
    private static final long M0 = Philox.M0 & MASK32;
    private static final long M1 = Philox.M1 & MASK32;

    /** Whether the fast dropout applies: p in (0, 1] (NaN and p &le; 0 go to the caller's loop). */
    static boolean applies(float p) {
        return p > 0f && p <= 1f;
    }

    /** The integer keep threshold: u = k 2^-24 &ge; p exactly when k &ge; ⌈p 2^24⌉ (p in (0, 1]). */
    static int keepThreshold(float p) {
        return (int) Math.ceil(p * 16777216.0);
    }

    /**
     * Dropout of the groups of four whole blocks in [b0, b1) that lie inside n elements; returns the first block it did
     * not do (the caller's loop does the rest). {@code mask} may be null.
     */
    static int dropout(float[] x, float p, float scale, long seed, long offset, float[] y, float[] mask, int n,
                       int b0, int b1) {
        int threshold = keepThreshold(p);
        int scaleBits = Float.floatToRawIntBits(scale);
        int[] w = new int[16];
        int end = Math.min(b1, n / 4);
        int b = b0;
        for (; b + 4 <= end; b += 4) {
            words4(seed, offset, b, w);
            int e = 4 * b;
            for (int i = 0; i < 16; i++) {
                int keep = (threshold - 1 - (w[i] >>> 8)) >> 31;   // -1 when k >= threshold, else 0
                y[e + i] = Float.intBitsToFloat(Float.floatToRawIntBits(x[e + i] * scale) & keep);
                if (mask != null) {
                    mask[e + i] = Float.intBitsToFloat(scaleBits & keep);
                }
            }
        }
        return b;
    }

    /** The words of blocks b .. b + 3 (blocks below 2^31) of the call (seed, offset): w[4j + i] = word i of b + j. */
    static void words4(long seed, long offset, int b, int[] w) {
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        int c2 = (int) offset;
        int c3 = (int) (offset >>> 32);
        int a0 = b, a1 = 0, a2 = c2, a3 = c3;
        int b0 = b + 1, b1 = 0, b2 = c2, b3 = c3;
        int d0 = b + 2, d1 = 0, d2 = c2, d3 = c3;
        int e0 = b + 3, e1 = 0, e2 = c2, e3 = c3;
        for (int r = 0; r < 10; r++) {
            long pa0 = M0 * (a0 & MASK32);
            long pa1 = M1 * (a2 & MASK32);
            long pb0 = M0 * (b0 & MASK32);
            long pb1 = M1 * (b2 & MASK32);
            long pd0 = M0 * (d0 & MASK32);
            long pd1 = M1 * (d2 & MASK32);
            long pe0 = M0 * (e0 & MASK32);
            long pe1 = M1 * (e2 & MASK32);
            a0 = (int) (pa1 >>> 32) ^ a1 ^ k0;
            a1 = (int) pa1;
            a2 = (int) (pa0 >>> 32) ^ a3 ^ k1;
            a3 = (int) pa0;
            b0 = (int) (pb1 >>> 32) ^ b1 ^ k0;
            b1 = (int) pb1;
            b2 = (int) (pb0 >>> 32) ^ b3 ^ k1;
            b3 = (int) pb0;
            d0 = (int) (pd1 >>> 32) ^ d1 ^ k0;
            d1 = (int) pd1;
            d2 = (int) (pd0 >>> 32) ^ d3 ^ k1;
            d3 = (int) pd0;
            e0 = (int) (pe1 >>> 32) ^ e1 ^ k0;
            e1 = (int) pe1;
            e2 = (int) (pe0 >>> 32) ^ e3 ^ k1;
            e3 = (int) pe0;
            k0 += Philox.W0;
            k1 += Philox.W1;
        }
        w[0] = a0;
        w[1] = a1;
        w[2] = a2;
        w[3] = a3;
        w[4] = b0;
        w[5] = b1;
        w[6] = b2;
        w[7] = b3;
        w[8] = d0;
        w[9] = d1;
        w[10] = d2;
        w[11] = d3;
        w[12] = e0;
        w[13] = e1;
        w[14] = e2;
        w[15] = e3;
    }
}
