package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;

import java.util.Locale;

/**
 * {@code pca:K}: centers each feature with the training mean and projects onto the first K principal
 * axes of the training covariance ({@link PrincipalAxes}): y = (x - m) U_K, samples become [K]. The
 * retained variance, sum of the first K eigenvalues over the sum of all, is reported. Models then see
 * flat vectors (use an MLP).
 */
public final class Pca implements Preprocessor {
    public static final String TYPE = "pca";

    private final int[] dims;
    private final int components;
    private final float[] mean;
    private final float[] projection;      // [D, K] row-major: column k = axis k
    private final double[] eigenvalues;    // all D, descending
    private final CenteredProjection transform;

    public Pca(int[] dims, int components, float[] mean, float[] projection, double[] eigenvalues) {
        this.dims = dims.clone();
        int d = Preprocessors.product(dims);
        if (components < 1 || components > d) {
            throw new IllegalArgumentException("pca: K must be in 1.." + d + " (the number of features), got " + components);
        }
        if (mean.length != d || projection.length != d * components || eigenvalues.length != d) {
            throw new IllegalArgumentException("pca: state does not match " + d + " features and " + components + " components");
        }
        this.components = components;
        this.mean = mean.clone();
        this.projection = projection.clone();
        this.eigenvalues = eigenvalues.clone();
        this.transform = new CenteredProjection(this.mean, this.projection, components);
    }

    public static Pca fit(Dataset train, int components) {
        int d = train.sampleSize();
        if (components < 1 || components > d) {
            throw new IllegalArgumentException("pca:" + components + ": K must be in 1.." + d + " (" + train.name()
                    + " has " + d + " features per sample)");
        }
        PrincipalAxes axes = PrincipalAxes.fit(train);
        float[] p = new float[d * components];
        for (int k = 0; k < components; k++) {
            double[] a = axes.axis(k);
            for (int j = 0; j < d; j++) {
                p[j * components + k] = (float) a[j];
            }
        }
        return new Pca(train.sampleDims(), components, MeanImage.toFloat(axes.mean()), p, axes.eigenvalues());
    }

    public int components() {
        return components;
    }

    /** The covariance eigenvalues of the training set, descending (all D of them). */
    public double[] eigenvalues() {
        return eigenvalues.clone();
    }

    /** The projection matrix [D, K] (row-major; column k is the k-th principal axis). */
    public float[] projection() {
        return projection.clone();
    }

    public float[] mean() {
        return mean.clone();
    }

    /** sum of the first K eigenvalues / sum of all. */
    public double retainedVariance() {
        double kept = 0;
        double total = 0;
        for (int i = 0; i < eigenvalues.length; i++) {
            total += eigenvalues[i];
            if (i < components) {
                kept += eigenvalues[i];
            }
        }
        return total > 0 ? kept / total : 1.0;
    }

    @Override
    public String spec() {
        return TYPE + ":" + components;
    }

    @Override
    public int[] inputDims() {
        return dims.clone();
    }

    @Override
    public int[] outputDims() {
        return new int[] {components};
    }

    @Override
    public void apply(float[] in, float[] out, int n) {
        transform.apply(in, out, n);
    }

    @Override
    public String summary() {
        return String.format(Locale.ROOT, "pca: %d of %d components keep %.2f%% of the training variance",
                components, mean.length, 100 * retainedVariance());
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", TYPE);
        o.set("input_dims", JsonArrays.ints(dims));
        o.put("components", components);
        o.put("retained_variance", retainedVariance());
        o.set("mean", JsonArrays.floats(mean));
        o.set("eigenvalues", JsonArrays.doubles(eigenvalues));
        o.set("projection", JsonArrays.matrix(projection, mean.length, components));
        return o;
    }

    static Pca fromJson(ObjectNode o) {
        int[] dims = JsonArrays.readInts(o, "input_dims");
        int d = Preprocessors.product(dims);
        int k = JsonArrays.field(o, "components").asInt();
        if (k < 1 || k > d) {
            throw new IllegalArgumentException("preprocessing pca: components must be in 1.." + d + ", got " + k);
        }
        return new Pca(dims, k, JsonArrays.readFloats(o, "mean", d), JsonArrays.readMatrix(o, "projection", d, k),
                JsonArrays.readDoubles(o, "eigenvalues", d));
    }
}
