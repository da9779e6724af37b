package dev.jtrain.backend.cpu;

import dev.jtrain.random.Philox;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Philox4x32-10 ({@link Philox}) for L consecutive blocks at once, one block per int lane, and the dropout built on
 * it. The scalar generator spends ~50 ns per block of 4 elements, and the scalar dropout loop branches on every
 * element's random keep/drop (half of them mispredicted at p = 0.5): ~12 ns per element, a fifth of an MLP step with
 * dropout.
 *
 * <p>The round's 32×32→64-bit products have no int-lane intrinsic in JDK 17's Vector API, so the high word is built
 * from four 16×16-bit products (each exact in an int lane, unsigned): for a = ah·2¹⁶ + al and M = mh·2¹⁶ + ml,
 * hi = ah·mh + (ah·ml)>>>16 + (al·mh)>>>16 + carry, carry = ((al·ml)>>>16 + (ah·ml &amp; 0xFFFF) + (al·mh &amp;
 * 0xFFFF))>>>16; the low word is the lane multiply a·M. Words come out lane-major (word w of the L blocks in one
 * vector) and are interleaved into element order through a small int buffer.
 *
 * <p>Dropout's keep test u ≥ p, with u = k·2⁻²⁴ and k = word &gt;&gt;&gt; 8, is the integer test k ≥ ⌈p·2²⁴⌉ (both sides
 * exact), and kept/dropped values are selected with an AND of their bits by a 0/−1 lane mask (no masked Vector API
 * call, none of which is an intrinsic on JDK 17): y = x·scale or +0, mask = scale or +0, the same bits as
 * {@link CpuDropout}'s scalar loop (tested). Each method is one flat loop over groups of L blocks (the JDK 17 rule of
 * {@link CpuPoolingVector}). Only referenced behind {@link CpuSimd#VECTOR}.
 */
final class CpuPhiloxVector {
    private CpuPhiloxVector() {
    }

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Blocks per group: the int lanes of a vector. */
    static final int L = I.length();
    private static final int[] IOTA = new int[L];

    static {
        for (int j = 0; j < L; j++) {
            IOTA[j] = j;
        }
    }

    private static final int M0_LO = Philox.M0 & 0xFFFF;
    private static final int M0_HI = Philox.M0 >>> 16;
    private static final int M1_LO = Philox.M1 & 0xFFFF;
    private static final int M1_HI = Philox.M1 >>> 16;

    /** Whether the vector dropout applies: int and float vectors of the same lane count, and a finite p in (0, 1]. */
    static boolean applies(float p) {
        return F.length() == L && p > 0f && p <= 1f;
    }

    /** The integer keep threshold: u = k 2^-24 &ge; p exactly when k &ge; ⌈p 2^24⌉ (p in (0, 1]). */
    static int keepThreshold(float p) {
        return (int) Math.ceil(p * 16777216.0);
    }

    /**
     * Dropout of the whole groups of L blocks in [b0, b1) that lie inside n elements (the elements 4b .. 4b + 4L);
     * returns the first block it did not do (the caller's scalar loop does the rest). {@code mask} may be null.
     */
    static int dropout(float[] x, float p, float scale, long seed, long offset, float[] y, float[] mask, int n,
                       int b0, int b1) {
        int threshold = keepThreshold(p);
        int k0 = (int) seed;
        int k1 = (int) (seed >>> 32);
        int c2 = (int) offset;
        int c3 = (int) (offset >>> 32);
        int[] lanes = new int[4 * L];
        int[] words = new int[4 * L];
        int scaleBits = Float.floatToRawIntBits(scale);
        int end = Math.min(b1, n / 4);   // blocks whose 4 elements are all inside n
        int b = b0;
        for (; b + L <= end; b += L) {
            blockWords(b, c2, c3, k0, k1, lanes, words);
            int e = 4 * b;
            for (int q = 0; q < 4 * L; q += L) {
                apply(x, y, mask, words, q, e + q, threshold, scale, scaleBits);
            }
        }
        return b;
    }

    /** Elements [e, e + L): keep when (word &gt;&gt;&gt; 8) &ge; threshold. */
    private static void apply(float[] x, float[] y, float[] mask, int[] words, int q, int e, int threshold,
                              float scale, int scaleBits) {
        IntVector k = IntVector.fromArray(I, words, q).lanewise(VectorOperators.LSHR, 8);
        // threshold - 1 - k < 0 exactly when k >= threshold (no overflow: both in [0, 2^24]); its sign fills the lane
        IntVector keep = k.neg().add(threshold - 1).lanewise(VectorOperators.ASHR, 31);
        IntVector yb = FloatVector.fromArray(F, x, e).mul(scale).reinterpretAsInts().and(keep);
        yb.reinterpretAsFloats().intoArray(y, e);
        if (mask != null) {
            keep.and(scaleBits).reinterpretAsFloats().intoArray(mask, e);
        }
    }

    /**
     * The four words of the L blocks b, b + 1, ... (high counter word 0: blocks below 2^31), counter words 2, 3 =
     * (c2, c3) and key (k0, k1), in element order: words[4j + w] = word w of block b + j ({@code lanes}: 4L ints of
     * scratch). The high words of the products are written out here, not in a helper: a method of ours that takes or
     * returns a vector is boxed when C2 leaves it out of line (see {@link CpuVector}).
     */
    static void blockWords(int b, int c2s, int c3s, int k0, int k1, int[] lanes, int[] words) {
        IntVector x0 = IntVector.fromArray(I, IOTA, 0).add(b);
        IntVector x1 = IntVector.zero(I);
        IntVector x2 = IntVector.broadcast(I, c2s);
        IntVector x3 = IntVector.broadcast(I, c3s);
        IntVector zero = IntVector.zero(I);
        for (int r = 0; r < 10; r++) {
            // the state carried around the loop re-enters as arguments of a vector of exact type: C2 parses the loop
            // body with the declared type IntVector for them, and calls on them as receivers can be boxed (see
            // VectorMicroKernel)
            x0 = zero.or(x0);
            x1 = zero.or(x1);
            x2 = zero.or(x2);
            x3 = zero.or(x3);
            // hi0 = high word of x0 * M0, from 16-bit halves (each partial product exact, unsigned, in an int)
            IntVector al = x0.and(0xFFFF);
            IntVector ah = x0.lanewise(VectorOperators.LSHR, 16);
            IntVector lh = al.mul(M0_HI);
            IntVector hl = ah.mul(M0_LO);
            IntVector carry = al.mul(M0_LO).lanewise(VectorOperators.LSHR, 16).add(lh.and(0xFFFF))
                    .add(hl.and(0xFFFF)).lanewise(VectorOperators.LSHR, 16);
            IntVector hi0 = ah.mul(M0_HI).add(lh.lanewise(VectorOperators.LSHR, 16))
                    .add(hl.lanewise(VectorOperators.LSHR, 16)).add(carry);
            // hi1 = high word of x2 * M1, the same way
            IntVector bl = x2.and(0xFFFF);
            IntVector bh = x2.lanewise(VectorOperators.LSHR, 16);
            IntVector lh1 = bl.mul(M1_HI);
            IntVector hl1 = bh.mul(M1_LO);
            IntVector carry1 = bl.mul(M1_LO).lanewise(VectorOperators.LSHR, 16).add(lh1.and(0xFFFF))
                    .add(hl1.and(0xFFFF)).lanewise(VectorOperators.LSHR, 16);
            IntVector hi1 = bh.mul(M1_HI).add(lh1.lanewise(VectorOperators.LSHR, 16))
                    .add(hl1.lanewise(VectorOperators.LSHR, 16)).add(carry1);
            IntVector lo0 = x0.mul(Philox.M0);
            IntVector lo1 = x2.mul(Philox.M1);
            x0 = hi1.lanewise(VectorOperators.XOR, x1).lanewise(VectorOperators.XOR, k0);
            x1 = lo1;
            x2 = hi0.lanewise(VectorOperators.XOR, x3).lanewise(VectorOperators.XOR, k1);
            x3 = lo0;
            k0 += Philox.W0;
            k1 += Philox.W1;
        }
        // lane-major out, then interleaved to element order (JDK 17 has no intrinsic two-vector shuffle)
        zero.or(x0).intoArray(lanes, 0);
        zero.or(x1).intoArray(lanes, L);
        zero.or(x2).intoArray(lanes, 2 * L);
        zero.or(x3).intoArray(lanes, 3 * L);
        for (int j = 0; j < L; j++) {
            words[4 * j] = lanes[j];
            words[4 * j + 1] = lanes[L + j];
            words[4 * j + 2] = lanes[2 * L + j];
            words[4 * j + 3] = lanes[3 * L + j];
        }
    }
}
