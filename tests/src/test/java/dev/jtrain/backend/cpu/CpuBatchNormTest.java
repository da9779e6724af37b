package dev.jtrain.backend.cpu;

import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.jtrain.backend.cpu.CpuTestSupport.B;
import static dev.jtrain.backend.cpu.CpuTestSupport.close;
import static dev.jtrain.backend.cpu.CpuTestSupport.randT;
import static dev.jtrain.backend.cpu.CpuTestSupport.t;
import static dev.jtrain.backend.cpu.CpuTestSupport.zerosT;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * BatchNorm (FORMAT.md items 8-14): biased variance for normalising, unbiased for the running variance,
 * momentum as the weight of the new value, eps inside the sqrt; the backward is checked against central
 * finite differences of a float64 forward.
 */
class CpuBatchNormTest {
    static final double EPS = 1e-5;

    /** y of a float64 train-mode batchnorm over [n, c, inner]. */
    static double[] bnRef(double[] x, double[] g, double[] b, int n, int c, int inner, double[] meanOut, double[] varOut) {
        double[] y = new double[x.length];
        int m = n * inner;
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < inner; i++) {
                    s += x[(r * c + j) * inner + i];
                }
            }
            double mean = s / m;
            double v = 0;
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < inner; i++) {
                    double d = x[(r * c + j) * inner + i] - mean;
                    v += d * d;
                }
            }
            v /= m;
            if (meanOut != null) {
                meanOut[j] = mean;
                varOut[j] = v;
            }
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < inner; i++) {
                    int k = (r * c + j) * inner + i;
                    y[k] = g[j] * (x[k] - mean) / Math.sqrt(v + EPS) + b[j];
                }
            }
        }
        return y;
    }

    static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private void trainEvalCase(int... dims) {
        int n = dims[0];
        int c = dims[1];
        SplittableRandom r = new SplittableRandom(41 + n);
        Tensor gamma = randT(r, 0.5, 1.5, c);
        Tensor beta = randT(r, -0.5, 0.5, c);
        Tensor rm = zerosT(c);
        Tensor rv = zerosT(c);
        B.fill(rv, 1f);
        double[] erm = new double[c];
        double[] erv = new double[c];
        java.util.Arrays.fill(erv, 1.0);
        double[] g = CpuTestSupport.d(gamma.floats());
        double[] bt = CpuTestSupport.d(beta.floats());
        Tensor x1 = null;
        Tensor mean1 = zerosT(c);
        Tensor var1 = zerosT(c);
        int inner = 1;
        for (int k = 2; k < dims.length; k++) {
            inner *= dims[k];
        }
        int m = n * inner;
        for (int step = 1; step <= 3; step++) {
            Tensor x = randT(r, -2, 3, dims);
            Tensor y = zerosT(dims);
            Tensor sm = zerosT(c);
            Tensor sv = zerosT(c);
            B.batchNormForwardTrain(x, gamma, beta, (float) EPS, 0.1f, rm, rv, y, sm, sv);
            double[] mean = new double[c];
            double[] var = new double[c];
            double[] ey = bnRef(CpuTestSupport.d(x.floats()), g, bt, n, c, inner, mean, var);
            for (int j = 0; j < c; j++) {
                erm[j] = 0.9 * erm[j] + 0.1 * mean[j];
                erv[j] = 0.9 * erv[j] + 0.1 * var[j] * m / (m - 1);
            }
            close("y" + step, ey, y.floats(), 1e-5, 1e-5);
            close("batch mean" + step, mean, sm.floats(), 1e-6, 1e-6);
            close("batch var (biased)" + step, var, sv.floats(), 1e-6, 1e-6);
            close("running mean" + step, erm, rm.floats(), 1e-6, 1e-6);
            close("running var (unbiased)" + step, erv, rv.floats(), 1e-6, 1e-6);
            if (step == 1) {
                x1 = x;
                B.copy(sm, mean1);
                B.copy(sv, var1);
            }
        }

        // training backward at step 1 vs central differences of the float64 forward
        Tensor dy = randT(r, -1, 1, dims);
        Tensor dx = randT(r, -1, 1, dims);
        Tensor dgamma = t(new float[c], c);
        Tensor dbeta = t(new float[c], c);
        B.fill(dgamma, 0.5f);
        B.fill(dbeta, -0.5f);
        B.batchNormBackward(x1, dy, gamma, mean1, var1, (float) EPS, true, dx, dgamma, dbeta);
        double[] xd = CpuTestSupport.d(x1.floats());
        double h = 1e-6;
        double[] edx = new double[xd.length];
        for (int i = 0; i < xd.length; i++) {
            double keep = xd[i];
            xd[i] = keep + h;
            double lp = dot(bnRef(xd, g, bt, n, c, inner, null, null), dy.floats());
            xd[i] = keep - h;
            double lm = dot(bnRef(xd, g, bt, n, c, inner, null, null), dy.floats());
            xd[i] = keep;
            edx[i] = (lp - lm) / (2 * h);
        }
        double[] edg = new double[c];
        double[] edb = new double[c];
        for (int j = 0; j < c; j++) {
            double[] gp = g.clone();
            gp[j] += h;
            double[] gm = g.clone();
            gm[j] -= h;
            edg[j] = 0.5 + (dot(bnRef(xd, gp, bt, n, c, inner, null, null), dy.floats())
                    - dot(bnRef(xd, gm, bt, n, c, inner, null, null), dy.floats())) / (2 * h);
            double[] bp = bt.clone();
            bp[j] += h;
            double[] bm = bt.clone();
            bm[j] -= h;
            edb[j] = -0.5 + (dot(bnRef(xd, g, bp, n, c, inner, null, null), dy.floats())
                    - dot(bnRef(xd, g, bm, n, c, inner, null, null), dy.floats())) / (2 * h);
        }
        close("dx train", edx, dx.floats(), 1e-4, 1e-4);
        close("dgamma train (accumulated)", edg, dgamma.floats(), 1e-4, 1e-4);
        close("dbeta train (accumulated)", edb, dbeta.floats(), 1e-4, 1e-4);

        // eval forward and backward with the running stats after 3 steps
        Tensor xe = randT(r, -2, 3, dims);
        Tensor ye = zerosT(dims);
        B.batchNormForwardEval(xe, gamma, beta, rm, rv, (float) EPS, ye);
        double[] eye = new double[xe.numel()];
        double[] edxe = new double[xe.numel()];
        double[] edge = new double[c];
        Tensor dye = randT(r, -1, 1, dims);
        for (int k = 0; k < eye.length; k++) {
            int j = (k / inner) % c;
            double inv = 1 / Math.sqrt((double) rv.floats()[j] + EPS);
            eye[k] = g[j] * (xe.floats()[k] - rm.floats()[j]) * inv + bt[j];
            edxe[k] = dye.floats()[k] * g[j] * inv;
            edge[j] += dye.floats()[k] * (xe.floats()[k] - rm.floats()[j]) * inv;
        }
        close("y_eval", eye, ye.floats(), 1e-5, 1e-5);
        Tensor dxe = zerosT(dims);
        Tensor dge = zerosT(c);
        B.batchNormBackward(xe, dye, gamma, rm, rv, (float) EPS, false, dxe, dge, null);
        close("dx_eval", edxe, dxe.floats(), 1e-5, 1e-6);
        close("dgamma_eval", edge, dge.floats(), 1e-5, 1e-5);
    }

    @Test
    void batchNorm1d() {
        trainEvalCase(8, 5);
    }

    @Test
    void batchNorm2d() {
        trainEvalCase(4, 3, 5, 5);
    }

    @Test
    void batchNormLargeParallel() {
        trainEvalCase(3, 70, 19, 17);
    }

    @Test
    void noAffineAndOneValuePerChannelIsAnError() {
        Tensor x = t(new float[] {1, 2, 3, 5}, 4, 1);
        Tensor y = zerosT(4, 1);
        B.batchNormForwardTrain(x, null, null, 0f, 0.1f, null, null, y, null, null);
        double sd = Math.sqrt(2.1875);
        close("y no affine", new double[] {-1.75 / sd, -0.75 / sd, 0.25 / sd, 2.25 / sd}, y.floats(), 1e-6, 1e-7);
        assertThrows(IllegalArgumentException.class, () -> B.batchNormForwardTrain(zerosT(1, 3), null, null, 1e-5f,
                0.1f, null, null, zerosT(1, 3), null, null));
    }
}
