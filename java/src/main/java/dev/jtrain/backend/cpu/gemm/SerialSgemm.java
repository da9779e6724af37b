package dev.jtrain.backend.cpu.gemm;

/**
 * {@link Sgemm#sgemm} on the calling thread only, for callers that already run one task per thread
 * (e.g. the convolution's chunks): there a GEMM partitioned for the pool would run its parts one
 * after the other, each packing its own copy of the shared panel. The bits are those of
 * {@link Sgemm#sgemm} (which do not depend on the thread count).
 */
public final class SerialSgemm {
    private SerialSgemm() {}

    /** {@link Sgemm#sgemm} with one thread; same arguments, same checks. */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k,
                             float alpha, float[] a, int aOff, int lda,
                             float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc) {
        Sgemm.sgemm(Sgemm.kernel(), 1, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb,
                beta, c, cOff, ldc);
    }
}
