package dev.jtrain.random;

/**
 * The one source of randomness of a training run: a 64-bit seed and a call counter (the Philox
 * "offset" of docs/architecture.md, section 6). Each consumer (an init, a dropout call, a shuffle) takes the
 * next offset, so results depend only on (seed, order of calls), on every device. Checkpoints save seed and offset.
 */
public final class Generator {
    private final long seed;
    private long offset;

    public Generator(long seed) {
        this(seed, 0);
    }

    public Generator(long seed, long offset) {
        this.seed = seed;
        this.offset = offset;
    }

    public long seed() {
        return seed;
    }

    /** The offset the next call will get. */
    public long offset() {
        return offset;
    }

    /** Moves to {@code offset}: restores the state a checkpoint saved (the seed is fixed at construction). */
    public void seek(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("generator offset must be >= 0, got " + offset);
        }
        this.offset = offset;
    }

    /** Returns the current offset and advances by one. */
    public long nextOffset() {
        return offset++;
    }
}
