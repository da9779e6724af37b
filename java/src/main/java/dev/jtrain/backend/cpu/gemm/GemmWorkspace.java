package dev.jtrain.backend.cpu.gemm;

/**
 * Per-thread packing buffers, kept for the life of the thread and grown only when a larger
 * problem needs more, so a steady stream of GEMM calls allocates nothing for packing.
 */
final class GemmWorkspace {
    private static final ThreadLocal<GemmWorkspace> LOCAL = ThreadLocal.withInitial(GemmWorkspace::new);

    /** Packed mc x kc block of op(A). */
    float[] a = new float[0];
    /** Packed kc x nc block of op(B). */
    float[] b = new float[0];
    /** One mr x nr tile of C, for tiles at the right and bottom edges. */
    float[] tile = new float[0];

    /** The transposed product of {@link SwappedNt} (n x m), before it is transposed into C. */
    float[] swapped = new float[0];

    static GemmWorkspace get() {
        return LOCAL.get();
    }

    void ensure(int aFloats, int bFloats, int tileFloats) {
        if (a.length < aFloats) {
            a = new float[aFloats];
        }
        if (b.length < bFloats) {
            b = new float[bFloats];
        }
        if (tile.length < tileFloats) {
            tile = new float[tileFloats];
        }
    }

    float[] swapped(int floats) {
        if (swapped.length < floats) {
            swapped = new float[floats];
        }
        return swapped;
    }
}
