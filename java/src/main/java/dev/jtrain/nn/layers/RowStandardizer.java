package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * The statistics part shared by LayerNorm and GroupNorm: each row of an [R, M] view is standardised by its
 * own mean and biased variance, xhat = (x - mean) / sqrt(var + eps), and the backward goes through both
 * statistics: dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + eps) for an upstream gradient g.
 *
 * <p>Built from the Backend's batch-norm ops so it runs on every device without kernels of its own: a
 * contiguous [R, M] tensor viewed as [1, R, M] is a batch of one whose R "channels" are the rows, so
 * batch norm's per-channel statistics over (N, inner) are exactly the per-row statistics (no affine part, no
 * running statistics). A row of one element (M = 1) has xhat = 0 and dx = 0, as in PyTorch; it is handled
 * here because the batch-norm ops reject it (their running update needs M >= 2).
 */
final class RowStandardizer {
    private final Buffers buffers;
    private final float eps;
    private Tensor mean;
    private Tensor var;
    private Tensor x3;
    private int rows;
    private int cols;

    RowStandardizer(Buffers buffers, float eps) {
        this.buffers = buffers;
        this.eps = eps;
    }

    /** xhat (same shape as x, R * M elements) from x, seen as R rows of M; remembers what backward needs. */
    void forward(Backend be, Tensor x, int rows, int cols, Tensor xhat) {
        this.rows = rows;
        this.cols = cols;
        this.x3 = x.reshape(1, rows, cols);
        if (cols == 1) {
            be.fill(xhat, 0f);
            return;
        }
        Shape rs = Shape.of(rows);
        mean = buffers.ensure(mean, be, rs);
        var = buffers.ensure(var, be, rs);
        be.batchNormForwardTrain(x3, null, null, eps, 0f, null, null, xhat.reshape(1, rows, cols), mean, var);
    }

    /** dx (overwritten, shaped like the forward's x) from the gradient g with respect to xhat. */
    void backward(Backend be, Tensor g, Tensor dx) {
        if (cols == 1) {
            be.fill(dx, 0f);
            return;
        }
        be.batchNormBackward(x3, g.reshape(1, rows, cols), null, mean, var, eps, true, dx.reshape(1, rows, cols),
                null, null);
    }

    /** The per-row means of the last forward ([R]; null before one or when M = 1). */
    Tensor mean() {
        return cols == 1 ? null : mean;
    }

    /** The per-row biased variances of the last forward ([R]; null before one or when M = 1). */
    Tensor var() {
        return cols == 1 ? null : var;
    }
}
