package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SmallGemm} with the Vector API (the process-wide preferred float species, as every vector loop here).
 * NN runs four rows by two vectors of columns at a time (8 accumulators; each B load feeds four rows); NT runs
 * four rows (or, for a single row, four columns) of dot products at a time, so each loaded vector of one
 * operand feeds four multiply-adds.
 */
final class VectorSmallGemm implements SmallGemm {
    static final VectorSmallGemm INSTANCE = new VectorSmallGemm();
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    public void nn(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                   int ldb, float beta, float[] c, int cOff, int ldc) {
        int j = j0;
        for (; j + 2 * L <= j1; j += 2 * L) {
            int r = 0;
            for (; r + 4 <= m; r += 4) {
                nn4x2(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
            for (; r < m; r++) {
                nn1x1(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
                nn1x1(r, j + L, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
        for (; j + L <= j1; j += L) {
            for (int r = 0; r < m; r++) {
                nn1x1(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
        for (int r = 0; r < m && j < j1; r++) {
            ScalarSmallGemm.nnColumns(r, j, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    private static void nn4x2(int r, int j, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                              int ldb, float beta, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int a0 = aOff + r * lda;
        for (int p = 0; p < k; p++) {
            int bp = bOff + p * ldb + j;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + L);
            FloatVector x0 = FloatVector.broadcast(S, a[a0 + p]);
            FloatVector x1 = FloatVector.broadcast(S, a[a0 + lda + p]);
            FloatVector x2 = FloatVector.broadcast(S, a[a0 + 2 * lda + p]);
            FloatVector x3 = FloatVector.broadcast(S, a[a0 + 3 * lda + p]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        int c0 = cOff + r * ldc + j;
        store(c00, alpha, beta, c, c0);
        store(c01, alpha, beta, c, c0 + L);
        store(c10, alpha, beta, c, c0 + ldc);
        store(c11, alpha, beta, c, c0 + ldc + L);
        store(c20, alpha, beta, c, c0 + 2 * ldc);
        store(c21, alpha, beta, c, c0 + 2 * ldc + L);
        store(c30, alpha, beta, c, c0 + 3 * ldc);
        store(c31, alpha, beta, c, c0 + 3 * ldc + L);
    }

    private static void nn1x1(int r, int j, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                              int ldb, float beta, float[] c, int cOff, int ldc) {
        FloatVector acc = FloatVector.zero(S);
        int a0 = aOff + r * lda;
        for (int p = 0; p < k; p++) {
            acc = FloatVector.broadcast(S, a[a0 + p]).fma(FloatVector.fromArray(S, b, bOff + p * ldb + j), acc);
        }
        store(acc, alpha, beta, c, cOff + r * ldc + j);
    }

    /** The element epilogue of {@link SmallGemm#finish}, a vector at a time. */
    private static void store(FloatVector acc, float alpha, float beta, float[] c, int at) {
        FloatVector scaled = acc.mul(alpha);
        if (beta != 0f) {
            scaled = FloatVector.fromArray(S, c, at).fma(FloatVector.broadcast(S, beta), scaled);
        }
        scaled.intoArray(c, at);
    }

    @Override
    public void nt(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                   int ldb, float beta, float[] c, int cOff, int ldc) {
        int r = 0;
        for (; r + 4 <= m; r += 4) {
            for (int j = j0; j < j1; j++) {
                nt4rows(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
        for (; r < m; r++) {
            int j = j0;
            for (; j + 4 <= j1; j += 4) {
                nt4cols(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
            for (; j < j1; j++) {
                ntOne(r, j, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            }
        }
    }

    private static void nt4rows(int r, int j, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                                int ldb, float beta, float[] c, int cOff, int ldc) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int a0 = aOff + r * lda;
        int bRow = bOff + j * ldb;
        int kb = S.loopBound(k);
        int p = 0;
        for (; p < kb; p += L) {
            FloatVector w = FloatVector.fromArray(S, b, bRow + p);
            s0 = FloatVector.fromArray(S, a, a0 + p).fma(w, s0);
            s1 = FloatVector.fromArray(S, a, a0 + lda + p).fma(w, s1);
            s2 = FloatVector.fromArray(S, a, a0 + 2 * lda + p).fma(w, s2);
            s3 = FloatVector.fromArray(S, a, a0 + 3 * lda + p).fma(w, s3);
        }
        float t0 = s0.reduceLanes(VectorOperators.ADD);
        float t1 = s1.reduceLanes(VectorOperators.ADD);
        float t2 = s2.reduceLanes(VectorOperators.ADD);
        float t3 = s3.reduceLanes(VectorOperators.ADD);
        for (; p < k; p++) {
            float w = b[bRow + p];
            t0 = Math.fma(a[a0 + p], w, t0);
            t1 = Math.fma(a[a0 + lda + p], w, t1);
            t2 = Math.fma(a[a0 + 2 * lda + p], w, t2);
            t3 = Math.fma(a[a0 + 3 * lda + p], w, t3);
        }
        int at = cOff + r * ldc + j;
        c[at] = SmallGemm.finish(t0, alpha, beta, c, at);
        c[at + ldc] = SmallGemm.finish(t1, alpha, beta, c, at + ldc);
        c[at + 2 * ldc] = SmallGemm.finish(t2, alpha, beta, c, at + 2 * ldc);
        c[at + 3 * ldc] = SmallGemm.finish(t3, alpha, beta, c, at + 3 * ldc);
    }

    private static void nt4cols(int r, int j, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                                int ldb, float beta, float[] c, int cOff, int ldc) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int a0 = aOff + r * lda;
        int b0 = bOff + j * ldb;
        int kb = S.loopBound(k);
        int p = 0;
        for (; p < kb; p += L) {
            FloatVector x = FloatVector.fromArray(S, a, a0 + p);
            s0 = x.fma(FloatVector.fromArray(S, b, b0 + p), s0);
            s1 = x.fma(FloatVector.fromArray(S, b, b0 + ldb + p), s1);
            s2 = x.fma(FloatVector.fromArray(S, b, b0 + 2 * ldb + p), s2);
            s3 = x.fma(FloatVector.fromArray(S, b, b0 + 3 * ldb + p), s3);
        }
        float t0 = s0.reduceLanes(VectorOperators.ADD);
        float t1 = s1.reduceLanes(VectorOperators.ADD);
        float t2 = s2.reduceLanes(VectorOperators.ADD);
        float t3 = s3.reduceLanes(VectorOperators.ADD);
        for (; p < k; p++) {
            float x = a[a0 + p];
            t0 = Math.fma(x, b[b0 + p], t0);
            t1 = Math.fma(x, b[b0 + ldb + p], t1);
            t2 = Math.fma(x, b[b0 + 2 * ldb + p], t2);
            t3 = Math.fma(x, b[b0 + 3 * ldb + p], t3);
        }
        int at = cOff + r * ldc + j;
        c[at] = SmallGemm.finish(t0, alpha, beta, c, at);
        c[at + 1] = SmallGemm.finish(t1, alpha, beta, c, at + 1);
        c[at + 2] = SmallGemm.finish(t2, alpha, beta, c, at + 2);
        c[at + 3] = SmallGemm.finish(t3, alpha, beta, c, at + 3);
    }

    private static void ntOne(int r, int j, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                              int ldb, float beta, float[] c, int cOff, int ldc) {
        FloatVector s = FloatVector.zero(S);
        int a0 = aOff + r * lda;
        int b0 = bOff + j * ldb;
        int kb = S.loopBound(k);
        int p = 0;
        for (; p < kb; p += L) {
            s = FloatVector.fromArray(S, a, a0 + p).fma(FloatVector.fromArray(S, b, b0 + p), s);
        }
        float t = s.reduceLanes(VectorOperators.ADD);
        for (; p < k; p++) {
            t = Math.fma(a[a0 + p], b[b0 + p], t);
        }
        int at = cOff + r * ldc + j;
        c[at] = SmallGemm.finish(t, alpha, beta, c, at);
    }
}
