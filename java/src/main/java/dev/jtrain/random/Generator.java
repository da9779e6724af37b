package dev.jtrain.random;

/**
 * The one source of randomness of a training run: a 64-bit seed and a call counter (the Philox
 * "offset" of docs/architecture.md, section 6). Each consumer (an init, a dropout call, a shuffle) takes the
 * next offset, so results depend only on (seed, order of calls), on every device. Checkpoints save seed and offset.
 *
 * <p>Streams (data-parallel runs): replicas share seed and call counter, but each sets its own stream (its rank),
 * which {@link #nextOffset()} puts into the offset's bits {@value #STREAM_SHIFT} and up, so dropout masks differ
 * between replicas. Draws every replica must agree on (the epoch's shuffle) take {@link #nextSharedOffset()}.
 * Stream 0 (the default) gives the offsets of a run without streams; {@link #offset()} and {@link #seek} are the
 * shared counter, so a checkpoint holds no stream.
 */
public final class Generator {
    private final long seed;
    /** Where a stream's number sits in the offsets {@link #nextOffset()} hands out (counters stay below 2^40). */
    public static final int STREAM_SHIFT = 40;

    private long offset;
    private long streamBits;

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

    /** Returns the current offset (with this generator's stream) and advances by one. */
    public long nextOffset() {
        return (offset++) | streamBits;
    }

    /** Returns the current offset without the stream (the same on every replica) and advances by one. */
    public long nextSharedOffset() {
        return offset++;
    }

    /** This generator's stream (0 unless set). */
    public int stream() {
        return (int) (streamBits >>> STREAM_SHIFT);
    }

    /** Sets the stream (a replica's rank, 0..65535) of later {@link #nextOffset()} calls. */
    public void setStream(int stream) {
        if (stream < 0 || stream > 0xFFFF) {
            throw new IllegalArgumentException("generator stream must be in 0..65535, got " + stream);
        }
        this.streamBits = (long) stream << STREAM_SHIFT;
    }
}
