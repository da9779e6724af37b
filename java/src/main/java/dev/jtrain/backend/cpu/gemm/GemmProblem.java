package dev.jtrain.backend.cpu.gemm;

/** The arguments of one validated sgemm call, shared read-only by the tasks that compute it. */
final class GemmProblem {
    final boolean transA, transB;
    final int m, n, k;
    final float alpha, beta;
    final float[] a, b, c;
    final int aOff, lda, bOff, ldb, cOff, ldc;

    GemmProblem(boolean transA, boolean transB, int m, int n, int k, float alpha,
                float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                float beta, float[] c, int cOff, int ldc) {
        this.transA = transA;
        this.transB = transB;
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.a = a;
        this.aOff = aOff;
        this.lda = lda;
        this.b = b;
        this.bOff = bOff;
        this.ldb = ldb;
        this.beta = beta;
        this.c = c;
        this.cOff = cOff;
        this.ldc = ldc;
    }
}
