package dev.jtrain.backend.cpu;

/**
 * Weight penalties and constraints (FORMAT.md items 25-26): the L1 subgradient with sign(0) = 0, row
 * norms (in double) and the max-norm constraint w &lt;- w c / ||w|| for rows with ||w|| &gt; c.
 */
final class CpuRegularizers {
    private CpuRegularizers() {
    }

    /** grad += lambda sign(w), sign(0) = 0 (NaN stays NaN). */
    static void addSign(float lambda, float[] w, float[] grad, int n) {
        CpuLoops.forRange(n, (from, to) -> {
            for (int i = from; i < to; i++) {
                grad[i] += lambda * Math.signum(w[i]);
            }
        });
    }

    /** norms[r] = sqrt(sum of w[r, :]^2) over rows of length len. */
    static void rowNorms(float[] w, float[] norms, int rows, int len) {
        CpuLoops.forTasks(rows, (long) rows * len, r -> norms[r] = (float) Math.sqrt(
                CpuReductions.sumSquaresRange(w, r * len, (r + 1) * len)));
    }

    /** Rows with norm &gt; c scaled by c / norm (norm in double). */
    static void maxNormRows(float[] w, float c, int rows, int len) {
        CpuLoops.forTasks(rows, (long) rows * len, r -> {
            double norm = Math.sqrt(CpuReductions.sumSquaresRange(w, r * len, (r + 1) * len));
            if (norm > c) {
                double f = c / norm;
                for (int i = r * len; i < (r + 1) * len; i++) {
                    w[i] = (float) (w[i] * f);
                }
            }
        });
    }
}
