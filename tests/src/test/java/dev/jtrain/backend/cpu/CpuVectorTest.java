package dev.jtrain.backend.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.bitsEqual;
import static dev.jtrain.backend.cpu.CpuTestSupport.rand;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void rangeSumMatchesItsScalarTwinAndTheDefinedOrder() {
        Assumptions.assumeTrue(CpuSimd.VECTOR && CpuVector.SUM_RANGE, "needs 512-bit vectors");
        SplittableRandom r = new SplittableRandom(83);
        for (int n : new int[] {0, 1, 15, 16, 17, 31, 32, 49, 196, 1001}) {
            for (int off : new int[] {0, 3}) {
                float[] x = rand(r, n + off + 2, -1, 1);
                for (int i = 0; i < x.length; i++) {
                    x[i] *= (float) Math.pow(2, r.nextInt(-30, 30)); // magnitudes where the order shows in the bits
                }
                double v = CpuVector.sumRange(x, off, off + n);
                double s = CpuReductions.sumRangeScalar(x, off, off + n);
                assertEquals(Double.doubleToLongBits(s), Double.doubleToLongBits(v), "n=" + n + " off=" + off);
                // the documented order, written out
                double[] acc = new double[16];
                int whole = n / 16 * 16;
                for (int i = 0; i < whole; i++) {
                    acc[i % 16] += x[off + i];
                }
                double tail = 0;
                for (int i = whole; i < n; i++) {
                    tail += x[off + i];
                }
                double want = ((acc[0] + acc[8] + (acc[1] + acc[9])) + (acc[2] + acc[10] + (acc[3] + acc[11])))
                        + ((acc[4] + acc[12] + (acc[5] + acc[13])) + (acc[6] + acc[14] + (acc[7] + acc[15]))) + tail;
                assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(s), "order n=" + n + " off=" + off);
            }
        }
        float[] special = new float[40];
        special[5] = Float.POSITIVE_INFINITY;
        assertEquals(Double.POSITIVE_INFINITY, CpuVector.sumRange(special, 0, 40));
        special[21] = Float.NaN;
        assertEquals(Double.doubleToLongBits(CpuReductions.sumRangeScalar(special, 0, 40)),
                Double.doubleToLongBits(CpuVector.sumRange(special, 0, 40)));
        assertTrue(Double.isNaN(CpuVector.sumRange(special, 0, 40)));
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
