package dev.jtrain.backend.gpu;

/**
 * A tensor value a GPU kernel rejected (a label outside [0, C), a maxout piece or pooling index out of range),
 * found on the device and reported at the next sync ({@link DeviceErrors}). An {@link IllegalArgumentException},
 * like the CPU backend's immediate check of the same value, with the details as fields.
 */
public final class DeviceValueException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String op;
    private final long index;
    private final int value;
    private final long limit;
    private final long count;

    DeviceValueException(String message, String op, long index, int value, long limit, long count) {
        super(message);
        this.op = op;
        this.index = index;
        this.value = value;
        this.limit = limit;
        this.count = count;
    }

    /** The Java op name (Backend method), e.g. "softmaxCrossEntropy". */
    public String op() {
        return op;
    }

    /** The flat index of the first (smallest) bad element in its tensor. */
    public long index() {
        return index;
    }

    /** Its value, clamped to int32. */
    public int value() {
        return value;
    }

    /** The valid range is [0, limit). */
    public long limit() {
        return limit;
    }

    /** Bad values in the failing call. */
    public long count() {
        return count;
    }
}
