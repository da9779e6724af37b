package dev.jtrain.backend.cpu.gemm;

/**
 * The small-batch path of {@link Sgemm}: C = alpha * A op(B) + beta * C with A not transposed and at most
 * {@link #MAX_ROWS} rows (a Linear layer at batch 1-8: forward x W^T is NT, the input gradient dy W is NN).
 * No packing: packing B copies the whole weight matrix on every call, which costs more than the few
 * multiply-adds per weight that a handful of rows needs. Each call computes columns [j0, j1) of every row,
 * so threads split the columns and every element is computed the same way whatever the split.
 *
 * <p>NN: each element is {@code acc = fma(A(r,p), B(p,j), acc)} for p = 0, 1, ... then {@code alpha * acc}
 * ({@code beta == 0}, C not read) or {@code fma(beta, C, alpha * acc)}, in the scalar and the vector
 * implementation alike (same bits). NT: a dot product of two contiguous rows; the vector implementation keeps
 * one partial sum per lane and adds the lanes at the end, so its bits depend on the vector width.
 */
interface SmallGemm {
    /**
     * Row counts up to this take the small path (above it packing pays for itself); the system property
     * {@code jtrain.gemm.smallRows} changes it (0 turns the path off: benchmarks compare both).
     */
    int MAX_ROWS = Integer.getInteger("jtrain.gemm.smallRows", 8);

    /** C[r, j] for r in [0, m), j in [j0, j1), op(B) = B (k x n, row stride ldb). */
    void nn(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc);

    /** C[r, j] for r in [0, m), j in [j0, j1), op(B) = B^T (B stored n x k, row stride ldb). */
    void nt(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc);

    /** The epilogue of one element, shared by both implementations. */
    static float finish(float acc, float alpha, float beta, float[] c, int at) {
        return beta == 0f ? alpha * acc : Math.fma(beta, c[at], alpha * acc);
    }
}
