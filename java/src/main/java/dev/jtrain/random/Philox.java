package dev.jtrain.random;

/**
 * Philox4x32-10 (Salmon et al., SC'11; Random123), the one counter-based generator behind dropout
 * masks and random initialisation on every backend (specified in docs/architecture.md, section 6 "Random numbers").
 * Pure static functions: the same (counter, key) gives the same four words everywhere, so the cpu,
 * emu and cuda backends produce the same bits for the same (seed, offset).
 *
 * <p>Round function: with multipliers M0 = 0xD2511F53 and M1 = 0xCD9E8D57,
 * {@code (hi0, lo0) = M0 * c0}, {@code (hi1, lo1) = M1 * c2} (64-bit products) and
 * {@code c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)}; ten rounds, the key bumped by
 * (0x9E3779B9, 0xBB67AE85) between rounds.
 *
 * <p>Element mapping (one generator call = one (seed, offset)): element {@code i} (row-major, 0-based)
 * takes key = (low32(seed), high32(seed)), counter = (low32(i / 4), high32(i / 4), low32(offset),
 * high32(offset)) and word {@code i mod 4} of the output; its uniform is
 * {@code u = (word >>> 8) * 2^-24}, a float in [0, 1) with 24 random bits (exact in float).
 *
 * <p>Derived distributions (the CUDA backend must use the same formulas):
 * <ul>
 *   <li>{@link #uniform(long, long, long)}: u of element i as above (dropout keeps element i when u &ge; p).</li>
 *   <li>{@link #uniformIn}: {@code v = (float) (lo + (hi - lo) * u)} computed in double, then, if the
 *       rounding to float reached {@code hi}, the largest float below {@code hi} (so v is in [lo, hi)).</li>
 *   <li>{@link #normal}: Box-Muller on the pair of elements (2j, 2j+1): with u_a = u of element 2j and
 *       u_b = u of element 2j+1, {@code u1 = 1 - u_a} (in (0, 1], exact, so log(u1) is finite),
 *       {@code r = sqrt(-2 ln u1)}, {@code theta = 2 pi u_b}; element 2j gets {@code r cos(theta)} and
 *       element 2j+1 gets {@code r sin(theta)}, computed in double and scaled as
 *       {@code (float) (mean + std * z)}. A tensor with an odd element count still uses the pair
 *       (2j, 2j+1) for its last element (the counter space is unbounded). The uniforms are bit-exact on
 *       every backend; the normals agree to the last float bit except when a device's double
 *       log/cos/sin differs by an ulp right at a float rounding boundary.</li>
 * </ul>
 */
public final class Philox {
    public static final int M0 = 0xD2511F53;
    public static final int M1 = 0xCD9E8D57;
    public static final int W0 = 0x9E3779B9;
    public static final int W1 = 0xBB67AE85;

    /** 2^-24: the spacing of the uniforms. */
    public static final float TWO_POW_M24 = 0x1.0p-24f;

    private static final long MASK32 = 0xFFFFFFFFL;

    private Philox() {
    }

    /**
     * Philox4x32-10 of counter (c0, c1, c2, c3) and key (k0, k1); writes the four output words to
     * {@code out[outOff .. outOff + 3]}.
     */
    public static void philox4x32_10(int c0, int c1, int c2, int c3, int k0, int k1, int[] out, int outOff) {
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & MASK32) * (c0 & MASK32);
            long p1 = (M1 & MASK32) * (c2 & MASK32);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[outOff] = c0;
        out[outOff + 1] = c1;
        out[outOff + 2] = c2;
        out[outOff + 3] = c3;
    }

    /** Philox4x32-10 as a new array of four words (convenient for tests; hot loops use the other form). */
    public static int[] philox4x32_10(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        philox4x32_10(c0, c1, c2, c3, k0, k1, out, 0);
        return out;
    }

    /**
     * The four words of block {@code block} (elements 4*block .. 4*block+3) of the call (seed, offset),
     * written to {@code out[outOff .. outOff + 3]}.
     */
    public static void block(long seed, long offset, long block, int[] out, int outOff) {
        philox4x32_10((int) block, (int) (block >>> 32), (int) offset, (int) (offset >>> 32),
                (int) seed, (int) (seed >>> 32), out, outOff);
    }

    /** The Philox word of element {@code i} of the call (seed, offset). */
    public static int word(long seed, long offset, long i) {
        int[] out = new int[4];
        block(seed, offset, i >>> 2, out, 0);
        return out[(int) (i & 3)];
    }

    /** A word's uniform: {@code (word >>> 8) * 2^-24}, in [0, 1). */
    public static float toUniform(int word) {
        return (word >>> 8) * TWO_POW_M24;
    }

    /** The uniform u of element {@code i} of the call (seed, offset), as dropout uses it. */
    public static float uniform(long seed, long offset, long i) {
        return toUniform(word(seed, offset, i));
    }

    /** {@code lo + (hi - lo) * u} in double, rounded to float and kept below {@code hi} (see class doc). */
    public static float uniformIn(float u, float lo, float hi) {
        float v = (float) (lo + ((double) hi - (double) lo) * u);
        if (v >= hi && lo < hi) {
            v = Math.nextDown(hi);
        }
        return v;
    }

    /**
     * Box-Muller of the uniforms of elements 2j and 2j+1 (see class doc): returns r cos(theta) when
     * {@code second} is false, r sin(theta) when true.
     */
    public static double normal(float ua, float ub, boolean second) {
        double u1 = 1.0 - ua;
        double r = Math.sqrt(-2.0 * Math.log(u1));
        double theta = 2.0 * Math.PI * ub;
        return second ? r * Math.sin(theta) : r * Math.cos(theta);
    }
}
