package dev.jtrain.backend.gpu;

import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.tensor.Device;

/**
 * One backend's device error record ({@code kernels/device_error.h}): where kernels that check tensor values
 * (class labels, maxout pieces, pooling indices) record the first bad value on the device, so the host never
 * reads values per op (that would be a sync per op). The CPU backend rejects such values at once; here they
 * are noticed at the next sync the run makes anyway: {@link GpuBackend#synchronize()} and every device-to-host
 * copy read the record with one extra 32-byte copy ({@link #check}), and when it is set, clear it and throw a
 * {@link DeviceValueException} (an {@link IllegalArgumentException}, like the CPU backend's check) naming the
 * op, the first bad index and its value, and the valid range. The op that failed may lie several ops before
 * the call that reports it; the kernel wrote a defined result (NaN or 0) instead of reading out of bounds.
 *
 * <p>Layout (four little-endian 64-bit words; all zero = no error):
 * <ol start="0">
 * <li>tag: (launch sequence number &lt;&lt; 8) | op code of the first launch that saw a bad value;</li>
 * <li>first: bits 63..32 = 0xFFFFFFFF - the smallest bad index of that launch, bits 31..0 = its value clamped
 * to int32;</li>
 * <li>count: bad values that launch saw;</li>
 * <li>limit: the valid range [0, limit) of that launch.</li>
 * </ol>
 * Not thread-safe, like the backend: one thread drives a backend at a time.
 */
public final class DeviceErrors {
    /** Bytes of the record (JtDeviceError). */
    public static final int RECORD_BYTES = 32;

    // Op codes: JtDeviceErrorOp in kernels/device_error.h.
    public static final int SOFTMAX_XENT_FORWARD_LABEL = 1;
    public static final int SOFTMAX_XENT_BACKWARD_LABEL = 2;
    public static final int MAXOUT_BACKWARD_PIECE = 3;
    public static final int POOL_MAX_BACKWARD_INDEX = 4;
    public static final int POOL_MAX_SCATTER_INDEX = 5;
    public static final int POOL_FRACTIONAL_BACKWARD_INDEX = 6;

    private final NativeApi api;
    private final Device device;
    private final long record;
    private long reads;

    /** Zeroes the record at {@code record} (RECORD_BYTES of device memory, 8-byte aligned, owned by the caller). */
    DeviceErrors(NativeApi api, Device device, long record) {
        this.api = api;
        this.device = device;
        this.record = record;
        clear();
    }

    /** The record's device address: the {@code err} argument of the value-checking natives. */
    public long address() {
        return record;
    }

    /** How often the record was read from the device (one 32-byte copy each): once per sync, never per op. */
    public long reads() {
        return reads;
    }

    /** Zeroes the record on the device (no error). */
    void clear() {
        api.memset(record, 0, RECORD_BYTES);
    }

    /**
     * Reads the record (the caller has just synchronised or copied to the host, so every earlier op has
     * finished); when a kernel recorded a bad value, clears the record and throws.
     *
     * @param where the call that detected it ("synchronize()", "a device-to-host copy"), for the message
     * @throws DeviceValueException naming the op, the first bad index, its value and the valid range
     */
    void check(String where) {
        long[] r = new long[RECORD_BYTES / 8];
        api.copyLongsToHost(record, r, 0, r.length);
        reads++;
        if (r[0] == 0L) {
            return;
        }
        clear();   // before throwing: the backend keeps working after the caller handles the error
        throw describe(r, device, where);
    }

    /** The exception for a set record {@code r} (four words, as read from the device). */
    static DeviceValueException describe(long[] r, Device device, String where) {
        int code = (int) (r[0] & 0xFF);
        long index = 0xFFFFFFFFL - (r[1] >>> 32);
        int value = (int) r[1];
        long count = r[2];
        long limit = r[3];
        String op;
        String arg;
        String result;   // what the kernel wrote instead of reading out of bounds
        switch (code) {
            case SOFTMAX_XENT_FORWARD_LABEL -> {
                op = "softmaxCrossEntropy";
                arg = "labels";
                result = "the loss of a bad row is NaN";
            }
            case SOFTMAX_XENT_BACKWARD_LABEL -> {
                op = "softmaxCrossEntropyBackward";
                arg = "labels";
                result = "the gradient of a bad row is NaN";
            }
            case MAXOUT_BACKWARD_PIECE -> {
                op = "maxoutBackward";
                arg = "piece";
                result = "a bad piece routes no gradient";
            }
            case POOL_MAX_BACKWARD_INDEX, POOL_MAX_SCATTER_INDEX -> {
                op = "maxPool2dBackward";
                arg = "indices";
                result = "a bad index routes no gradient";
            }
            case POOL_FRACTIONAL_BACKWARD_INDEX -> {
                op = "fractionalMaxPool2dBackward";
                arg = "indices";
                result = "a bad index routes no gradient";
            }
            default -> {
                op = "unknown op (device error code " + code + ")";
                arg = "value";
                result = "the result is undefined";
            }
        }
        // The kernel stores the value clamped to int32: at a bound the real value may lie further out.
        String shown = value == Integer.MAX_VALUE || value == Integer.MIN_VALUE
                ? value + " (clamped to int32)" : Integer.toString(value);
        String range = code == POOL_MAX_BACKWARD_INDEX || code == POOL_MAX_SCATTER_INDEX
                ? "[0, " + limit + ") (the input plane H x W of dx)"
                : code == POOL_FRACTIONAL_BACKWARD_INDEX
                ? "its pooling window (in the " + limit + "-element plane H x W of dx; indices must be the forward's"
                        + " argmax)"
                : "[0, " + limit + ")";
        String message = op + ": " + arg + "[" + index + "] = " + shown + " is outside " + range
                + (count > 1 ? " (" + count + " bad values in that call; this is the first)" : "")
                + ". Detected on " + device + " at the next sync (" + where + "), so it may be reported after "
                + "later ops (" + result + "). The device error record is cleared.";
        return new DeviceValueException(message, op, index, value, limit, count);
    }
}
