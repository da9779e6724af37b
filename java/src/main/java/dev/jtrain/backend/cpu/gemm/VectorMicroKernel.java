package dev.jtrain.backend.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD micro-kernel (Vector API, {@code jdk.incubator.vector}) for machines with 32 vector
 * registers (AVX-512, NEON, SVE): an 8 x (2 vectors) tile of C kept in 16 registers across the whole
 * kc loop, one broadcast of A and two {@code fma}s per tile row and depth step. With 512-bit vectors
 * the tile is 8 x 32 floats and runs at the FMA limit (2 x 16-lane fma per cycle on Zen 5).
 *
 * <p>Loaded only after {@link Sgemm} has checked that the incubator module is present.
 * Rules learned the hard way:
 * <ul>
 *   <li>the species sits in a {@code static final} field (held in an instance field the same code
 *       ran 40x slower);</li>
 *   <li>each tile method stays a small method that the driver calls many times (a long loop
 *       entered once got an on-stack-replacement compile that boxed the vectors);</li>
 *   <li>each tile method is branch-free apart from its loop (one method per A layout and per
 *       beta case): a branch first taken late (beta != 0 appears only once k > kc) made C2
 *       deoptimise the kernel, and the recompile went through slow OSR code for seconds.</li>
 * </ul>
 * Each lane is one fma chain, so every element of C gets the same roundings as
 * {@code Math.fma(a, b, acc)} in depth order, whatever the tile position.
 *
 * <p>The unrolled tile methods were generated (the accumulators must be separate locals, not an
 * array, or C2 boxes them); keep the pattern when editing.
 */
final class VectorMicroKernel implements GemmKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    static final int MR = 8;
    static final int NR = 2 * VL;

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
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * PackA.GROUP;
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai + 0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.mul(alpha).intoArray(c, co + 0 * ldc);
        c01.mul(alpha).intoArray(c, co + 0 * ldc + VL);
        c10.mul(alpha).intoArray(c, co + 1 * ldc);
        c11.mul(alpha).intoArray(c, co + 1 * ldc + VL);
        c20.mul(alpha).intoArray(c, co + 2 * ldc);
        c21.mul(alpha).intoArray(c, co + 2 * ldc + VL);
        c30.mul(alpha).intoArray(c, co + 3 * ldc);
        c31.mul(alpha).intoArray(c, co + 3 * ldc + VL);
        c40.mul(alpha).intoArray(c, co + 4 * ldc);
        c41.mul(alpha).intoArray(c, co + 4 * ldc + VL);
        c50.mul(alpha).intoArray(c, co + 5 * ldc);
        c51.mul(alpha).intoArray(c, co + 5 * ldc + VL);
        c60.mul(alpha).intoArray(c, co + 6 * ldc);
        c61.mul(alpha).intoArray(c, co + 6 * ldc + VL);
        c70.mul(alpha).intoArray(c, co + 7 * ldc);
        c71.mul(alpha).intoArray(c, co + 7 * ldc + VL);
    }

    @Override
    public void addDepthA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = ao + p * PackA.GROUP;
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ai + 0]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        FloatVector av = FloatVector.broadcast(S, alpha);
        c00.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc).mul(beta)).intoArray(c, co + 0 * ldc);
        c01.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + VL).mul(beta)).intoArray(c, co + 0 * ldc + VL);
        c10.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc).mul(beta)).intoArray(c, co + 1 * ldc);
        c11.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + VL).mul(beta)).intoArray(c, co + 1 * ldc + VL);
        c20.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc).mul(beta)).intoArray(c, co + 2 * ldc);
        c21.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + VL).mul(beta)).intoArray(c, co + 2 * ldc + VL);
        c30.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc).mul(beta)).intoArray(c, co + 3 * ldc);
        c31.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + VL).mul(beta)).intoArray(c, co + 3 * ldc + VL);
        c40.fma(av, FloatVector.fromArray(S, c, co + 4 * ldc).mul(beta)).intoArray(c, co + 4 * ldc);
        c41.fma(av, FloatVector.fromArray(S, c, co + 4 * ldc + VL).mul(beta)).intoArray(c, co + 4 * ldc + VL);
        c50.fma(av, FloatVector.fromArray(S, c, co + 5 * ldc).mul(beta)).intoArray(c, co + 5 * ldc);
        c51.fma(av, FloatVector.fromArray(S, c, co + 5 * ldc + VL).mul(beta)).intoArray(c, co + 5 * ldc + VL);
        c60.fma(av, FloatVector.fromArray(S, c, co + 6 * ldc).mul(beta)).intoArray(c, co + 6 * ldc);
        c61.fma(av, FloatVector.fromArray(S, c, co + 6 * ldc + VL).mul(beta)).intoArray(c, co + 6 * ldc + VL);
        c70.fma(av, FloatVector.fromArray(S, c, co + 7 * ldc).mul(beta)).intoArray(c, co + 7 * ldc);
        c71.fma(av, FloatVector.fromArray(S, c, co + 7 * ldc + VL).mul(beta)).intoArray(c, co + 7 * ldc + VL);
    }

    @Override
    public void setRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float[] c, int co, int ldc) {
        final int a0 = ao, a1 = ao + 1 * kc, a2 = ao + 2 * kc, a3 = ao + 3 * kc, a4 = ao + 4 * kc, a5 = ao + 5 * kc, a6 = ao + 6 * kc, a7 = ao + 7 * kc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[a0 + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[a4 + p]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[a5 + p]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ap[a6 + p]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ap[a7 + p]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        c00.mul(alpha).intoArray(c, co + 0 * ldc);
        c01.mul(alpha).intoArray(c, co + 0 * ldc + VL);
        c10.mul(alpha).intoArray(c, co + 1 * ldc);
        c11.mul(alpha).intoArray(c, co + 1 * ldc + VL);
        c20.mul(alpha).intoArray(c, co + 2 * ldc);
        c21.mul(alpha).intoArray(c, co + 2 * ldc + VL);
        c30.mul(alpha).intoArray(c, co + 3 * ldc);
        c31.mul(alpha).intoArray(c, co + 3 * ldc + VL);
        c40.mul(alpha).intoArray(c, co + 4 * ldc);
        c41.mul(alpha).intoArray(c, co + 4 * ldc + VL);
        c50.mul(alpha).intoArray(c, co + 5 * ldc);
        c51.mul(alpha).intoArray(c, co + 5 * ldc + VL);
        c60.mul(alpha).intoArray(c, co + 6 * ldc);
        c61.mul(alpha).intoArray(c, co + 6 * ldc + VL);
        c70.mul(alpha).intoArray(c, co + 7 * ldc);
        c71.mul(alpha).intoArray(c, co + 7 * ldc + VL);
    }

    @Override
    public void addRowA(int kc, float[] ap, int ao, float[] bp, int bo, float alpha, float beta, float[] c, int co, int ldc) {
        final int a0 = ao, a1 = ao + 1 * kc, a2 = ao + 2 * kc, a3 = ao + 3 * kc, a4 = ao + 4 * kc, a5 = ao + 5 * kc, a6 = ao + 6 * kc, a7 = ao + 7 * kc;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + VL);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[a0 + p]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[a1 + p]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[a2 + p]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[a3 + p]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[a4 + p]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[a5 + p]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            a = FloatVector.broadcast(S, ap[a6 + p]);
            c60 = a.fma(b0, c60);
            c61 = a.fma(b1, c61);
            a = FloatVector.broadcast(S, ap[a7 + p]);
            c70 = a.fma(b0, c70);
            c71 = a.fma(b1, c71);
        }
        FloatVector av = FloatVector.broadcast(S, alpha);
        c00.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc).mul(beta)).intoArray(c, co + 0 * ldc);
        c01.fma(av, FloatVector.fromArray(S, c, co + 0 * ldc + VL).mul(beta)).intoArray(c, co + 0 * ldc + VL);
        c10.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc).mul(beta)).intoArray(c, co + 1 * ldc);
        c11.fma(av, FloatVector.fromArray(S, c, co + 1 * ldc + VL).mul(beta)).intoArray(c, co + 1 * ldc + VL);
        c20.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc).mul(beta)).intoArray(c, co + 2 * ldc);
        c21.fma(av, FloatVector.fromArray(S, c, co + 2 * ldc + VL).mul(beta)).intoArray(c, co + 2 * ldc + VL);
        c30.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc).mul(beta)).intoArray(c, co + 3 * ldc);
        c31.fma(av, FloatVector.fromArray(S, c, co + 3 * ldc + VL).mul(beta)).intoArray(c, co + 3 * ldc + VL);
        c40.fma(av, FloatVector.fromArray(S, c, co + 4 * ldc).mul(beta)).intoArray(c, co + 4 * ldc);
        c41.fma(av, FloatVector.fromArray(S, c, co + 4 * ldc + VL).mul(beta)).intoArray(c, co + 4 * ldc + VL);
        c50.fma(av, FloatVector.fromArray(S, c, co + 5 * ldc).mul(beta)).intoArray(c, co + 5 * ldc);
        c51.fma(av, FloatVector.fromArray(S, c, co + 5 * ldc + VL).mul(beta)).intoArray(c, co + 5 * ldc + VL);
        c60.fma(av, FloatVector.fromArray(S, c, co + 6 * ldc).mul(beta)).intoArray(c, co + 6 * ldc);
        c61.fma(av, FloatVector.fromArray(S, c, co + 6 * ldc + VL).mul(beta)).intoArray(c, co + 6 * ldc + VL);
        c70.fma(av, FloatVector.fromArray(S, c, co + 7 * ldc).mul(beta)).intoArray(c, co + 7 * ldc);
        c71.fma(av, FloatVector.fromArray(S, c, co + 7 * ldc + VL).mul(beta)).intoArray(c, co + 7 * ldc + VL);
    }

    @Override
    public void storeEdge(float[] t, int rows, int cols, float alpha, float beta,
                          float[] c, int co, int ldc) {
        VectorPack.storeEdge(t, NR, rows, cols, alpha, beta, c, co, ldc);
    }
}
