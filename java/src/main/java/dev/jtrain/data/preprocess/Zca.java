package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.backend.Backends;
import dev.jtrain.data.Dataset;
import dev.jtrain.tensor.Tensor;

import java.util.Locale;

/**
 * {@code zca[:EPS]}: ZCA whitening with the training set's principal axes ({@link PrincipalAxes}):
 * y = (x - m) W, W = U diag(1 / sqrt(lambda + eps)) U^T (symmetric, so samples keep their shape and
 * stay image-like). With eps much smaller than the eigenvalues the training data's covariance becomes
 * the identity; eps (default {@value #DEFAULT_EPSILON}, as in the course notes) limits how much the
 * near-zero-variance directions are amplified.
 */
public final class Zca implements Preprocessor {
    public static final String TYPE = "zca";
    public static final double DEFAULT_EPSILON = 1e-5;

    private final int[] dims;
    private final double epsilon;
    private final float[] mean;
    private final float[] whitening;     // [D, D] row-major, symmetric
    private final double[] eigenvalues;  // descending
    private final CenteredProjection transform;

    public Zca(int[] dims, double epsilon, float[] mean, float[] whitening, double[] eigenvalues) {
        this.dims = dims.clone();
        int d = Preprocessors.product(dims);
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("zca: epsilon must be a finite number >= 0, got " + epsilon);
        }
        if (mean.length != d || whitening.length != d * d || eigenvalues.length != d) {
            throw new IllegalArgumentException("zca: state does not match " + d + " features");
        }
        this.epsilon = epsilon;
        this.mean = mean.clone();
        this.whitening = whitening.clone();
        this.eigenvalues = eigenvalues.clone();
        this.transform = new CenteredProjection(this.mean, this.whitening, d);
    }

    public static Zca fit(Dataset train, double epsilon) {
        if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("zca: epsilon must be a finite number >= 0, got " + epsilon);
        }
        PrincipalAxes axes = PrincipalAxes.fit(train);
        int d = axes.dim();
        double[] lambda = axes.eigenvalues();
        if (epsilon == 0 && lambda[d - 1] <= 1e-10 * lambda[0]) {
            throw new IllegalArgumentException(train.name() + ": the training covariance is singular (eigenvalues "
                    + lambda[0] + " .. " + lambda[d - 1] + "); use zca:EPS with EPS > 0");
        }
        // W = sum_k u_k u_k^T / sqrt(lambda_k + eps) = (U S) U^T, one float GEMM on the cpu backend
        // (D = 3072 for CIFAR-10: a scalar triple loop would take tens of seconds).
        float[] us = new float[d * d];   // [D, D]: column k = u_k / sqrt(lambda_k + eps)
        float[] ut = new float[d * d];   // [D, D]: row k = u_k
        for (int k = 0; k < d; k++) {
            double sk = 1.0 / Math.sqrt(lambda[k] + epsilon);
            double[] u = axes.axis(k);
            for (int i = 0; i < d; i++) {
                us[i * d + k] = (float) (u[i] * sk);
                ut[k * d + i] = (float) u[i];
            }
        }
        float[] wf = new float[d * d];
        Backends.cpu().gemm(false, false, 1f, Tensor.of(us, d, d), Tensor.of(ut, d, d), 0f, Tensor.of(wf, d, d));
        // Exactly symmetric, as the formula is.
        for (int i = 0; i < d; i++) {
            for (int j = i + 1; j < d; j++) {
                float v = (float) (0.5 * ((double) wf[i * d + j] + wf[j * d + i]));
                wf[i * d + j] = v;
                wf[j * d + i] = v;
            }
        }
        return new Zca(train.sampleDims(), epsilon, MeanImage.toFloat(axes.mean()), wf, lambda);
    }

    public double epsilon() {
        return epsilon;
    }

    /** The whitening matrix W [D, D] (row-major). */
    public float[] whitening() {
        return whitening.clone();
    }

    public float[] mean() {
        return mean.clone();
    }

    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    @Override
    public String spec() {
        return TYPE + ":" + epsilon;
    }

    @Override
    public int[] inputDims() {
        return dims.clone();
    }

    @Override
    public int[] outputDims() {
        return dims.clone();
    }

    @Override
    public void apply(float[] in, float[] out, int n) {
        transform.apply(in, out, n);
    }

    @Override
    public String summary() {
        return String.format(Locale.ROOT, "zca whitening of %d features, eps %g (covariance eigenvalues %.3g .. %.3g)",
                mean.length, epsilon, eigenvalues[0], eigenvalues[eigenvalues.length - 1]);
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", TYPE);
        o.set("input_dims", JsonArrays.ints(dims));
        o.put("epsilon", epsilon);
        o.set("mean", JsonArrays.floats(mean));
        o.set("eigenvalues", JsonArrays.doubles(eigenvalues));
        o.set("whitening", JsonArrays.matrix(whitening, mean.length, mean.length));
        return o;
    }

    static Zca fromJson(ObjectNode o) {
        int[] dims = JsonArrays.readInts(o, "input_dims");
        int d = Preprocessors.product(dims);
        return new Zca(dims, JsonArrays.field(o, "epsilon").asDouble(), JsonArrays.readFloats(o, "mean", d),
                JsonArrays.readMatrix(o, "whitening", d, d), JsonArrays.readDoubles(o, "eigenvalues", d));
    }
}
