package dev.jtrain.backend.cpu.gemm;

/**
 * The fallback micro-kernel, plain Java with no Vector API: used when the JVM was started without
 * {@code --add-modules jdk.incubator.vector} (or the preferred vector is too narrow). The 4 x 16
 * accumulator tile lives in a small array whose fixed-length inner loops C2 can auto-vectorise;
 * it reaches a fraction of the vector kernel's speed, but the same packing and blocking keep it
 * cache-friendly. Uses multiply-then-add (no fma), so its bits differ slightly from the vector path.
 */
final class ScalarMicroKernel implements GemmKernel {
    static final int MR = 4;
    static final int NR = 16;

    /** Per-thread accumulator tile. */
    private static final ThreadLocal<float[]> ACC = ThreadLocal.withInitial(() -> new float[MR * NR]);

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public String describe() {
        return "scalar (jdk.incubator.vector not enabled), tile " + MR + "x" + NR;
    }

    @Override
    public void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        PackA.pack(transA, a, aOff, lda, i0, mc, p0, kc, MR, dst);
    }

    @Override
    public void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        PackB.pack(transB, b, bOff, ldb, p0, kc, j0, nc, NR, dst);
    }

    @Override
    public void setDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha,
                          float[] c, int co, int ldc) {
        compute(kc, ap, ao, PackA.GROUP, 1, bp, bo, alpha, 0f, c, co, ldc);
    }

    @Override
    public void addDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta,
                          float[] c, int co, int ldc) {
        compute(kc, ap, ao, PackA.GROUP, 1, bp, bo, alpha, beta, c, co, ldc);
    }

    @Override
    public void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha,
                        float[] c, int co, int ldc) {
        compute(kc, ap, ao, 1, kc, bp, bo, alpha, 0f, c, co, ldc);
    }

    @Override
    public void addRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta,
                        float[] c, int co, int ldc) {
        compute(kc, ap, ao, 1, kc, bp, bo, alpha, beta, c, co, ldc);
    }

    /** A element (r, p) at ap[ao + p*depthStride + r*rowStride]; beta == 0: C is not read. */
    private static void compute(int kc, float[] ap, int ao, int depthStride, int rowStride,
                                float[] bp, int bo, float alpha, float beta, float[] c, int co, int ldc) {
        float[] acc = ACC.get();
        java.util.Arrays.fill(acc, 0f);
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * depthStride;
            int bi = bo + p * NR;
            float a0 = ap[ai];
            float a1 = ap[ai + rowStride];
            float a2 = ap[ai + 2 * rowStride];
            float a3 = ap[ai + 3 * rowStride];
            for (int j = 0; j < NR; j++) {
                float bv = bp[bi + j];
                acc[j] += a0 * bv;
                acc[NR + j] += a1 * bv;
                acc[2 * NR + j] += a2 * bv;
                acc[3 * NR + j] += a3 * bv;
            }
        }
        for (int r = 0; r < MR; r++) {
            int ci = co + r * ldc;
            int ti = r * NR;
            if (beta == 0f) {
                for (int j = 0; j < NR; j++) {
                    c[ci + j] = alpha * acc[ti + j];
                }
            } else {
                for (int j = 0; j < NR; j++) {
                    c[ci + j] = alpha * acc[ti + j] + beta * c[ci + j];
                }
            }
        }
    }

    @Override
    public void storeEdge(float[] t, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        for (int r = 0; r < rows; r++) {
            int ti = r * NR;
            int ci = co + r * ldc;
            if (beta == 0f) {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = alpha * t[ti + j];
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    c[ci + j] = alpha * t[ti + j] + beta * c[ci + j];
                }
            }
        }
    }
}
