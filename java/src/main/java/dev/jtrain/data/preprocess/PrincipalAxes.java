package dev.jtrain.data.preprocess;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.data.Dataset;
import dev.jtrain.tensor.Tensor;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The principal axes of a training set, shared by PCA and ZCA: the per-feature mean, the covariance
 * C = (1/N) sum_i (x_i - m)(x_i - m)^T (population covariance, as in the course notes'
 * {@code X.T @ X / N}), and its eigendecomposition C = U diag(lambda) U^T with the eigenvalues in
 * descending order. Each eigenvector's sign is fixed so that its largest-magnitude entry is positive,
 * so the axes do not depend on the eigensolver's choice. The covariance is accumulated over chunks of
 * samples with the cpu backend's float GEMM, chunk sums added in double; the eigendecomposition is
 * EJML's symmetric solver in double. Eigenvalues below zero (rounding) are clamped to zero.
 */
public final class PrincipalAxes {
    static final int CHUNK = 512;

    private final double[] mean;
    private final double[] eigenvalues;   // descending
    private final double[][] axes;        // axes[k] = k-th eigenvector (length D)

    private PrincipalAxes(double[] mean, double[] eigenvalues, double[][] axes) {
        this.mean = mean;
        this.eigenvalues = eigenvalues;
        this.axes = axes;
    }

    /** Fits the mean, covariance and eigendecomposition of the samples of {@code train}. */
    public static PrincipalAxes fit(Dataset train) {
        int d = train.sampleSize();
        int n = train.size();
        if (n < 2) {
            throw new IllegalArgumentException(train.name() + ": PCA/ZCA need at least 2 samples, got " + n);
        }
        double[] mean = MeanImage.featureMeans(train);
        float[] meanF = MeanImage.toFloat(mean);
        double[] cov = covariance(train.features(), n, d, meanF);
        DMatrixRMaj c = new DMatrixRMaj(d, d, true, cov);
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
        if (!eig.decompose(c)) {
            throw new IllegalStateException(train.name() + ": the eigendecomposition of the " + d + "x" + d
                    + " covariance did not converge");
        }
        Integer[] idx = new Integer[d];
        double[] lambda = new double[d];
        for (int k = 0; k < d; k++) {
            idx[k] = k;
            lambda[k] = eig.getEigenvalue(k).getReal();
        }
        java.util.Arrays.sort(idx, (a, b) -> Double.compare(lambda[b], lambda[a]));
        double[] values = new double[d];
        double[][] axes = new double[d][];
        for (int k = 0; k < d; k++) {
            values[k] = Math.max(0, lambda[idx[k]]);
            DMatrixRMaj v = eig.getEigenVector(idx[k]);
            double[] a = new double[d];
            double norm = 0;
            int big = 0;
            for (int j = 0; j < d; j++) {
                a[j] = v.get(j);
                norm += a[j] * a[j];
                if (Math.abs(a[j]) > Math.abs(a[big])) {
                    big = j;
                }
            }
            double s = (a[big] < 0 ? -1 : 1) / Math.sqrt(norm);
            for (int j = 0; j < d; j++) {
                a[j] *= s;
            }
            axes[k] = a;
        }
        return new PrincipalAxes(mean, values, axes);
    }

    /** (1/n) sum_i (x_i - m)(x_i - m)^T as a row-major d x d double array. */
    static double[] covariance(float[] x, int n, int d, float[] mean) {
        Backend cpu = Backends.cpu();
        double[] cov = new double[d * d];
        float[] chunk = new float[Math.min(CHUNK, n) * d];
        Tensor part = Tensor.of(new float[d * d], d, d);
        for (int start = 0; start < n; start += CHUNK) {
            int rows = Math.min(CHUNK, n - start);
            for (int r = 0; r < rows; r++) {
                int o = (start + r) * d;
                for (int j = 0; j < d; j++) {
                    chunk[r * d + j] = x[o + j] - mean[j];
                }
            }
            float[] rowsData = rows * d == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, rows * d);
            Tensor xc = Tensor.of(rowsData, rows, d);
            cpu.gemm(true, false, 1f, xc, xc, 0f, part);
            float[] p = part.floats();
            for (int k = 0; k < p.length; k++) {
                cov[k] += p[k];
            }
        }
        // Symmetrise (the GEMM's two triangles may differ in the last bit) and divide by n.
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double v = (cov[i * d + j] + cov[j * d + i]) / (2.0 * n);
                cov[i * d + j] = v;
                cov[j * d + i] = v;
            }
        }
        return cov;
    }

    public int dim() {
        return mean.length;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** The covariance's eigenvalues, descending, clamped at zero. */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    /** The k-th principal axis (unit eigenvector of the k-th largest eigenvalue). */
    public double[] axis(int k) {
        return axes[k].clone();
    }

    /** The fraction of the total variance that the first k axes hold: {@code sum_{i<k} lambda_i / sum_i lambda_i}. */
    public double retainedVariance(int k) {
        double kept = 0;
        double total = 0;
        for (int i = 0; i < eigenvalues.length; i++) {
            total += eigenvalues[i];
            if (i < k) {
                kept += eigenvalues[i];
            }
        }
        return total > 0 ? kept / total : 1.0;
    }
}
