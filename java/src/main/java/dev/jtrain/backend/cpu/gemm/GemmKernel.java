package dev.jtrain.backend.cpu.gemm;

/**
 * A register-tiled micro-kernel on one mr x nr tile of C, from one packed mr x kc micro-panel of A
 * ({@link PackA}: row-major when A is not transposed, depth-major when it is) and one packed
 * kc x nr micro-panel of B ({@link PackB}).
 *
 * <p>With acc[r][j] = sum over p < kc of A(r, p) * bp[bo + p*nr + j], summed in order p = 0, 1, ...:
 * <ul>
 *   <li>{@code set*}: c[co + r*ldc + j] = acc (C is not read);</li>
 *   <li>{@code *DepthA}: A(r, p) = ap[ao + p*PackA.GROUP + r]; {@code *RowA}: A(r, p) = ap[ao + r*kc + p];</li>
 *   <li>{@link #storeTile} / {@link #storeEdge}: C = alpha * acc (beta == 0, C not read) or alpha * acc + beta * C
 *       (one fused rounding where the kernel uses fma) from a tile of raw sums.</li>
 * </ul>
 * The tile methods do not scale: with alpha = 1 and beta = 0 (most GEMMs) they store straight into C, otherwise
 * into a tile buffer that {@link #storeTile} merges (see the vector kernels' doc for why).
 */
interface GemmKernel {
    /** Rows of the register tile. */
    int mr();

    /** Columns of the register tile. */
    int nr();

    /** A short description for {@link Sgemm#simdPath()}. */
    String describe();

    /** The unpacked small-batch path that goes with this kernel (same SIMD choice). */
    default SmallGemm small() {
        return ScalarSmallGemm.INSTANCE;
    }

    /** Floats of the shared packed-B buffer that {@link #packB} needs for a kc x nc block. */
    default int packedBFloats(int kc, int nc) {
        return GemmDriver.roundUp(nc, nr()) * kc;
    }

    /** Packs op(A) rows [i0, i0+mc), depth [p0, p0+kc) in the {@link PackA} layout. */
    void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst);

    /**
     * Packs op(B) depth [p0, p0+kc), columns [j0, j0+nc) in the {@link PackB} layout (a kernel may
     * keep its own layout instead: the tile methods then find the panel of columns jr from
     * bo = jr * kc).
     */
    void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst);

    void setDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc);

    void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc);

    /**
     * Columns that {@link #setRowANarrow} / {@link #setDepthANarrow} compute: an edge tile with at most this many
     * columns is computed narrow (one vector of B instead of the whole tile: the cnn's n = 196 leaves 4 columns in a
     * 32-wide last panel); 0 when the kernel has no narrow form.
     */
    default int narrowCols() {
        return 0;
    }

    /**
     * {@link #setRowA} for the first {@link #narrowCols} columns of the tile (the other columns of C are not
     * written). Each column's sum is the same chain of roundings as in the whole tile, so edges get the same bits.
     */
    default void setRowANarrow(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
        setRowA(kc, ap, ao, bp, bo, c, co, ldc);
    }

    /** {@link #setDepthA} for the first {@link #narrowCols} columns, as {@link #setRowANarrow}. */
    default void setDepthANarrow(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc) {
        setDepthA(kc, ap, ao, bp, bo, c, co, ldc);
    }

    /**
     * Stores a whole tile of raw sums {@code t} (row stride nr) into C: alpha * t (beta == 0; C is not read) or
     * alpha * t + beta * C, rounded as {@link #storeEdge} rounds.
     */
    default void storeTile(float[] t, float alpha, float beta, float[] c, int co, int ldc) {
        storeEdge(t, mr(), nr(), alpha, beta, c, co, ldc);
    }

    /**
     * Stores a partial tile (rows x cols of it) of raw sums, computed with {@code set*} into {@code t} (row stride
     * nr), into C as {@link #storeTile} stores a whole one, so edge tiles round like interior ones.
     */
    void storeEdge(float[] t, int rows, int cols, float alpha, float beta, float[] c, int co, int ldc);

    /**
     * C[i, j] = T[j, i] for rows i in [r0, r1) of C and all n columns, where T is n x m with row stride m
     * (the result of {@link SwappedNt}); a plain copy, no rounding.
     */
    default void transposeInto(float[] t, int n, int m, int r0, int r1, float[] c, int co, int ldc) {
        SwappedNt.transposeScalar(t, n, m, r0, r1, 0, c, co, ldc);
    }

    /**
     * Packs a block of a plain (not transposed) A in the depth-major layout of {@link PackA} (a transpose). That layout
     * is the transposed-B panel layout with nr = {@link PackA#GROUP}, so B's transposing packer does it.
     */
    default void packPlainADepthMajor(float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        PackB.packTranspose(a, aOff, lda, p0, kc, i0, mc, PackA.GROUP, 0, mc, 0, kc, dst);
    }
}
