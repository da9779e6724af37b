package dev.jtrain.backend.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API loops give exactly the bits of their scalar twins, at odd lengths and offsets. */
class CpuVectorTest {

    @Test
    void vectorLoopsMatchScalarTwins() {
        Assumptions.assumeTrue(CpuSimd.VECTOR, "jdk.incubator.vector is not enabled");
        SplittableRandom r = new SplittableRandom(81);
        for (int n : new int[] {1, 7, 16, 33, 1001}) {
            float[] x = rand(r, n + 5, -1, 1);
            x[3] = 0f;
            x[4] = -0f;
            float[] dy = rand(r, n + 5, -1, 1);
            float[] a = new float[n + 5];
            float[] b = new float[n + 5];
            x[2] = Float.NaN;
            CpuVector.reluForward(x, a, 2, n + 2);
            CpuActivations.reluForwardScalar(x, b, 2, n + 2);
            bitsEqual("relu forward n=" + n, b, a);
            x[2] = 0.5f;
            CpuVector.reluBackward(x, dy, a, 2, n + 2);
            CpuActivations.reluBackwardScalar(x, dy, b, 2, n + 2);
            bitsEqual("relu backward n=" + n, b, a);

            CpuVector.leakyForward(x, a, 0.1f, 2, n + 2);
            CpuActivations.leakyForwardScalar(x, b, 0.1f, 2, n + 2);
            bitsEqual("leaky forward n=" + n, b, a);
            CpuVector.leakyBackward(x, dy, a, 0.01f, 1, n + 1);
            CpuActivations.leakyBackwardScalar(x, dy, b, 0.01f, 1, n + 1);
            bitsEqual("leaky backward n=" + n, b, a);

            float[] bias = rand(r, n, -1, 1);
            float[] y1 = rand(new SplittableRandom(n), n + 9, -1, 1);
            float[] y2 = y1.clone();
            CpuVector.addRow(y1, 5, bias, n);
            CpuBias.addRowScalar(y2, 5, bias, n);
            bitsEqual("addRow n=" + n, y2, y1);

            double[] acc1 = new double[n];
            double[] acc2 = new double[n];
            for (int rep = 0; rep < 3; rep++) {
                CpuVector.accumulateRow(acc1, dy, 3, n);
                CpuBias.accumulateRowScalar(acc2, dy, 3, n);
            }
            for (int j = 0; j < n; j++) {
                assertEquals(Double.doubleToLongBits(acc2[j]), Double.doubleToLongBits(acc1[j]), "accumulateRow " + j);
            }

        }
    }

    private static double[] drand(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextDouble() * 2 - 1;
        }
        return a;
    }

    private static void sameBits(String what, double[] e, double[] a) {
        for (int j = 0; j < e.length; j++) {
            assertEquals(Double.doubleToLongBits(e[j]), Double.doubleToLongBits(a[j]), what + "[" + j + "]");
        }
    }

    @Test
    void batchNormLoopsMatchScalarTwins() {
        Assumptions.assumeTrue(CpuSimd.VECTOR, "jdk.incubator.vector is not enabled");
        SplittableRandom r = new SplittableRandom(82);
        for (int n : new int[] {1, 5, 8, 19, 64, 197}) {
            float[] x = rand(r, n + 7, -2, 2);
            float[] dy = rand(r, n + 7, -1, 1);
            double[] mean = drand(r, n);
            double[] scale = drand(r, n);
            double[] shift = drand(r, n);
            double[] acc1 = drand(new SplittableRandom(n), n);
            double[] acc2 = acc1.clone();
            CpuVector.accSqDev(acc1, x, 3, n, mean);
            CpuBatchNorm.accSqDevScalar(acc2, x, 3, 0, n, mean);
            sameBits("accSqDev", acc2, acc1);
            float[] y1 = new float[n + 7];
            float[] y2 = new float[n + 7];
            CpuVector.normalize(x, y1, 3, n, mean, scale, shift);
            CpuBatchNorm.normalizeScalar(x, y2, 3, 0, n, mean, scale, shift);
            bitsEqual("normalize", y2, y1);
            double[] s1 = new double[n];
            double[] s2 = new double[n];
            double[] t1 = new double[n];
            double[] t2 = new double[n];
            CpuVector.accDyDev(s1, t1, dy, x, 2, n, mean);
            CpuBatchNorm.accDyDevScalar(s2, t2, dy, x, 2, 0, n, mean);
            sameBits("accDy", s2, s1);
            sameBits("accDyX", t2, t1);
            CpuVector.bnDx(dy, x, y1, 1, n, 37, mean, scale, shift, acc1);
            CpuBatchNorm.bnDxScalar(dy, x, y2, 1, 0, n, 37, mean, scale, shift, acc1);
            bitsEqual("bnDx", y2, y1);
            CpuVector.scaleCols(dy, y1, 4, n, scale);
            CpuBatchNorm.scaleColsScalar(dy, y2, 4, 0, n, scale);
            bitsEqual("scaleCols", y2, y1);
        }
    }
}
