package dev.jtrain.backend.cpu;

/**
 * Per-thread scratch arrays for the cpu kernels (im2col columns, per-channel double accumulators, ...),
 * grown on demand and reused, so hot paths do not allocate on every call. Each slot is owned by one
 * kernel concept; a kernel must not hold a slot across a call into another kernel that uses the same slot.
 * Contents are garbage on return: callers initialise what they read.
 */
final class CpuWorkspace {
    private CpuWorkspace() {
    }

    /** Float slots. */
    static final int COL = 0;
    static final int DCOL = 1;
    /** Conv output or output gradient of a chunk of samples, in column order (see CpuConv). */
    static final int CONV_OUT = 2;
    static final int CONV_PARTIAL = 3;
    private static final int FLOAT_SLOTS = 4;

    /** Double slots (BN_* belong to {@link CpuBatchNorm}). */
    static final int ACC = 0;
    static final int ACC2 = 1;
    static final int BN_MEAN = 2;
    static final int BN_SCALE = 3;
    static final int BN_SHIFT = 4;
    static final int BN_A = 5;
    static final int BN_B = 6;
    private static final int DOUBLE_SLOTS = 7;

    /** Largest scratch array kept for reuse (bigger ones are allocated per call and dropped). */
    private static final int KEEP_MAX = 1 << 23;

    private static final ThreadLocal<float[][]> FLOATS = ThreadLocal.withInitial(() -> new float[FLOAT_SLOTS][]);
    private static final ThreadLocal<double[][]> DOUBLES = ThreadLocal.withInitial(() -> new double[DOUBLE_SLOTS][]);

    /** A float array of at least n elements for this thread's slot. */
    static float[] floats(int slot, int n) {
        float[][] s = FLOATS.get();
        float[] a = s[slot];
        if (a == null || a.length < n) {
            a = new float[Math.max(n, a == null ? 0 : Math.min(KEEP_MAX, a.length + (a.length >> 1)))];
            if (a.length <= KEEP_MAX) {
                s[slot] = a;
            }
        }
        return a;
    }

    /** A double array of at least n elements for this thread's slot. */
    static double[] doubles(int slot, int n) {
        double[][] s = DOUBLES.get();
        double[] a = s[slot];
        if (a == null || a.length < n) {
            a = new double[Math.max(n, a == null ? 0 : Math.min(KEEP_MAX, a.length + (a.length >> 1)))];
            if (a.length <= KEEP_MAX) {
                s[slot] = a;
            }
        }
        return a;
    }
}
