package dev.jtrain.backend.cpu.gemm;

/** {@link SmallGemm} in plain Java (no Vector API): the reference of the rules the vector one follows. */
final class ScalarSmallGemm implements SmallGemm {
    static final ScalarSmallGemm INSTANCE = new ScalarSmallGemm();

    @Override
    public void nn(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                   int ldb, float beta, float[] c, int cOff, int ldc) {
        for (int r = 0; r < m; r++) {
            nnColumns(r, j0, j1, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** Row r, columns [j0, j1) of the NN product, each element in depth order (the vector path's tail too). */
    static void nnColumns(int r, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b,
                          int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        int aRow = aOff + r * lda;
        for (int j = j0; j < j1; j++) {
            float acc = 0f;
            for (int p = 0; p < k; p++) {
                acc = Math.fma(a[aRow + p], b[bOff + p * ldb + j], acc);
            }
            int at = cOff + r * ldc + j;
            c[at] = SmallGemm.finish(acc, alpha, beta, c, at);
        }
    }

    @Override
    public void nt(int m, int j0, int j1, int k, float alpha, float[] a, int aOff, int lda, float[] b, int bOff,
                   int ldb, float beta, float[] c, int cOff, int ldc) {
        for (int r = 0; r < m; r++) {
            int aRow = aOff + r * lda;
            for (int j = j0; j < j1; j++) {
                int bRow = bOff + j * ldb;
                float acc = 0f;
                for (int p = 0; p < k; p++) {
                    acc = Math.fma(a[aRow + p], b[bRow + p], acc);
                }
                int at = cOff + r * ldc + j;
                c[at] = SmallGemm.finish(acc, alpha, beta, c, at);
            }
        }
    }
}
