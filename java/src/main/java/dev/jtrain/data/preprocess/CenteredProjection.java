package dev.jtrain.data.preprocess;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Tensor;

/**
 * y = (x - m) W for a batch of flat samples: x [n, d], m [d], W [d, k] (row-major), y [n, k], the
 * product by the cpu backend's float GEMM over chunks of samples. Centering first (rather than
 * subtracting m W afterwards) keeps the rounding of the formula as written. The transform PCA and ZCA
 * apply.
 */
final class CenteredProjection {
    private final float[] mean;
    private final float[] w;
    private final int d;
    private final int k;

    CenteredProjection(float[] mean, float[] w, int k) {
        this.mean = mean;
        this.w = w;
        this.d = mean.length;
        this.k = k;
        if (w.length != d * k) {
            throw new IllegalArgumentException("projection must be [" + d + ", " + k + "], got " + w.length + " values");
        }
    }

    /** out may be in (chunks are centered into a separate buffer first). */
    void apply(float[] in, float[] out, int n) {
        Backend cpu = Backends.cpu();
        Tensor wt = Tensor.of(w, d, k);
        int chunk = Math.min(PrincipalAxes.CHUNK, n);
        if (chunk == 0) {
            return;
        }
        float[] xc = new float[chunk * d];
        float[] yc = new float[chunk * k];
        for (int start = 0; start < n; start += chunk) {
            int rows = Math.min(chunk, n - start);
            if (rows != chunk) {
                xc = new float[rows * d];
                yc = new float[rows * k];
            }
            for (int r = 0; r < rows; r++) {
                int o = (start + r) * d;
                for (int j = 0; j < d; j++) {
                    xc[r * d + j] = in[o + j] - mean[j];
                }
            }
            cpu.gemm(false, false, 1f, Tensor.of(xc, rows, d), wt, 0f, Tensor.of(yc, rows, k));
            System.arraycopy(yc, 0, out, start * k, rows * k);
        }
    }
}
