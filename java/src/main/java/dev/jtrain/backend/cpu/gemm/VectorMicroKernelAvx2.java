package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD micro-kernel for 256-bit vectors with 16 vector registers (AVX2): a 4 x (3 vectors) tile,
 * 4 x 24 floats, so the 12 accumulators, 3 vectors of B and the broadcast of A fit in the 16
 * registers (the 8 x 2 tile of {@link VectorMicroKernel} would need 19 and spill). Otherwise the
 * same as {@link VectorMicroKernel}, and unrolled the same way.
 */
final class VectorMicroKernelAvx2 implements GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = 4;
    static final int NR = 3 * VL;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public SmallGemm small() {
        return VectorSmallGemm.INSTANCE;
    }

    @Override
    public String describe() {
        return "Vector API, " + S.vectorBitSize() + "-bit (" + VL + " floats), tile " + MR + "x" + NR;
    }

    @Override
    public void packA(boolean transA, float[] a, int aOff, int lda, int i0, int mc, int p0, int kc, float[] dst) {
        VectorPack.packA(transA, a, aOff, lda, i0, mc, p0, kc, MR, dst);
    }

    @Override
    public void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kc, int j0, int nc, float[] dst) {
        VectorPack.packB(transB, b, bOff, ldb, p0, kc, j0, nc, NR, dst);
    }

    @Override
    public void setDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * PackA.GROUP;
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai + 0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        c00.mul(alpha).intoArray(c, co + 0 * ldc);
        c01.mul(alpha).intoArray(c, co + 0 * ldc + VL);
        c02.mul(alpha).intoArray(c, co + 0 * ldc + 2 * VL);
        c10.mul(alpha).intoArray(c, co + 1 * ldc);
        c11.mul(alpha).intoArray(c, co + 1 * ldc + VL);
        c12.mul(alpha).intoArray(c, co + 1 * ldc + 2 * VL);
        c20.mul(alpha).intoArray(c, co + 2 * ldc);
        c21.mul(alpha).intoArray(c, co + 2 * ldc + VL);
        c22.mul(alpha).intoArray(c, co + 2 * ldc + 2 * VL);
        c30.mul(alpha).intoArray(c, co + 3 * ldc);
        c31.mul(alpha).intoArray(c, co + 3 * ldc + VL);
        c32.mul(alpha).intoArray(c, co + 3 * ldc + 2 * VL);
    }

    @Override
    public void addDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * PackA.GROUP;
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai + 0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        FloatVector av = FloatVector.broadcast(S, alpha);
        c00.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc).mul(beta)).intoArray(c, co + 0 * ldc);
        c01.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + VL).mul(beta)).intoArray(c, co + 0 * ldc + VL);
        c02.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 0 * ldc + 2 * VL);
        c10.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc).mul(beta)).intoArray(c, co + 1 * ldc);
        c11.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + VL).mul(beta)).intoArray(c, co + 1 * ldc + VL);
        c12.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 1 * ldc + 2 * VL);
        c20.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc).mul(beta)).intoArray(c, co + 2 * ldc);
        c21.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + VL).mul(beta)).intoArray(c, co + 2 * ldc + VL);
        c22.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 2 * ldc + 2 * VL);
        c30.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc).mul(beta)).intoArray(c, co + 3 * ldc);
        c31.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + VL).mul(beta)).intoArray(c, co + 3 * ldc + VL);
        c32.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 3 * ldc + 2 * VL);
    }

    @Override
    public void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float[] c, int co, int ldc) {
        final int a0 = ao, a1 = ao + 1 * kc, a2 = ao + 2 * kc, a3 = ao + 3 * kc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[a0 + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        c00.mul(alpha).intoArray(c, co + 0 * ldc);
        c01.mul(alpha).intoArray(c, co + 0 * ldc + VL);
        c02.mul(alpha).intoArray(c, co + 0 * ldc + 2 * VL);
        c10.mul(alpha).intoArray(c, co + 1 * ldc);
        c11.mul(alpha).intoArray(c, co + 1 * ldc + VL);
        c12.mul(alpha).intoArray(c, co + 1 * ldc + 2 * VL);
        c20.mul(alpha).intoArray(c, co + 2 * ldc);
        c21.mul(alpha).intoArray(c, co + 2 * ldc + VL);
        c22.mul(alpha).intoArray(c, co + 2 * ldc + 2 * VL);
        c30.mul(alpha).intoArray(c, co + 3 * ldc);
        c31.mul(alpha).intoArray(c, co + 3 * ldc + VL);
        c32.mul(alpha).intoArray(c, co + 3 * ldc + 2 * VL);
    }

    @Override
    public void addRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta, float[] c, int co, int ldc) {
        final int a0 = ao, a1 = ao + 1 * kc, a2 = ao + 2 * kc, a3 = ao + 3 * kc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, bp, bi + 2 * VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[a0 + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            c02 = a.fma(b2, c02);
            a = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            c12 = a.fma(b2, c12);
            a = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            c22 = a.fma(b2, c22);
            a = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            c32 = a.fma(b2, c32);
        }
        FloatVector av = FloatVector.broadcast(S, alpha);
        c00.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc).mul(beta)).intoArray(c, co + 0 * ldc);
        c01.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + VL).mul(beta)).intoArray(c, co + 0 * ldc + VL);
        c02.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 0 * ldc + 2 * VL);
        c10.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc).mul(beta)).intoArray(c, co + 1 * ldc);
        c11.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + VL).mul(beta)).intoArray(c, co + 1 * ldc + VL);
        c12.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 1 * ldc + 2 * VL);
        c20.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc).mul(beta)).intoArray(c, co + 2 * ldc);
        c21.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + VL).mul(beta)).intoArray(c, co + 2 * ldc + VL);
        c22.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 2 * ldc + 2 * VL);
        c30.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc).mul(beta)).intoArray(c, co + 3 * ldc);
        c31.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + VL).mul(beta)).intoArray(c, co + 3 * ldc + VL);
        c32.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + 2 * VL).mul(beta)).intoArray(c, co + 3 * ldc + 2 * VL);
    }

    @Override
    public void storeEdge(float[] t, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        VectorPack.storeEdge(t, NR, rows, cols, alpha, beta, c, co, ldc);
    }
}
