package dev.jtrain.data.augment;

import dev.jtrain.random.Philox;

/**
 * The random numbers of one augmentation stream: consecutive Philox4x32-10 words of (seed, offset) at
 * counter blocks {@code (stream << 24) + 0, 1, 2, ...}. The batch pipeline gives each sample of an
 * epoch its own stream (1 + its position in the epoch) and each batch's mixup another
 * ({@link #MIXUP_STREAMS} + batch index), under the epoch's shuffle offset; the shuffle itself uses
 * blocks below 2^24 (stream 0). So what a sample gets depends only on (seed, epoch offset, position),
 * not on threads, prefetching or the device.
 */
public final class AugmentRandom {
    /** First stream of the per-batch mixup draws. */
    public static final long MIXUP_STREAMS = 1L << 32;

    private final long seed;
    private final long offset;
    private final long base;
    private final int[] words = new int[4];
    private long block;
    private int used = 4;

    public AugmentRandom(long seed, long offset, long stream) {
        if (stream < 0 || stream >= (1L << 39)) {
            throw new IllegalArgumentException("augmentation stream out of range: " + stream);
        }
        this.seed = seed;
        this.offset = offset;
        this.base = stream << 24;
    }

    /** The next 32-bit word. */
    public int nextWord() {
        if (used == 4) {
            Philox.block(seed, offset, base + block++, words, 0);
            used = 0;
        }
        return words[used++];
    }

    /** A float in [0, 1) from the next word: (word >>> 8) * 2^-24, as dropout draws its u. */
    public float uniform() {
        return Philox.toUniform(nextWord());
    }

    /** A double in [0, 1) with 53 random bits (two words). */
    public double uniformDouble() {
        long hi = (nextWord() >>> 5) & 0x7ffffffL;   // 27 bits
        long lo = (nextWord() >>> 6) & 0x3ffffffL;   // 26 bits
        return ((hi << 26) | lo) * 0x1.0p-53;
    }

    /** An integer in [0, bound): floor(word * bound / 2^32), as {@link dev.jtrain.data.Permutation} does. */
    public int nextInt(int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("bound must be >= 1, got " + bound);
        }
        return (int) (((nextWord() & 0xffffffffL) * bound) >>> 32);
    }

    /** A standard normal (Box-Muller over two uniform doubles). */
    public double normal() {
        double u1 = 1.0 - uniformDouble(); // (0, 1]
        double u2 = uniformDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape &lt; 1 via Gamma(shape + 1) * U^(1/shape). */
    public double gamma(double shape) {
        if (!(shape > 0) || Double.isInfinite(shape)) {
            throw new IllegalArgumentException("gamma shape must be > 0, got " + shape);
        }
        if (shape < 1) {
            double u = 1.0 - uniformDouble();
            return gamma(shape + 1) * Math.pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x = normal();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = uniformDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    /** Beta(a, b) as X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b) (a fair 0 or 1 if both underflow to 0). */
    public double beta(double a, double b) {
        double x = gamma(a);
        double y = gamma(b);
        if (x + y == 0) {
            return uniform() < 0.5f ? 0.0 : 1.0;
        }
        return x / (x + y);
    }
}
