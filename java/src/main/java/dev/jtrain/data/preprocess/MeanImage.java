package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;

/**
 * {@code mean-image}: subtracts the training set's mean image, one mean per feature (pixel and channel),
 * as AlexNet-era pipelines did: x_j - m_j, m_j = (1/N) sum_i x_ij (summed in double).
 */
public final class MeanImage implements Preprocessor {
    public static final String TYPE = "mean-image";

    private final int[] dims;
    private final float[] mean;

    public MeanImage(int[] dims, float[] mean) {
        this.dims = dims.clone();
        if (mean.length != Preprocessors.product(dims)) {
            throw new IllegalArgumentException("mean image must have " + Preprocessors.product(dims) + " values");
        }
        this.mean = mean.clone();
    }

    public static MeanImage fit(Dataset train) {
        return new MeanImage(train.sampleDims(), toFloat(featureMeans(train)));
    }

    /** The per-feature means of {@code data}, in double. */
    static double[] featureMeans(Dataset data) {
        int d = data.sampleSize();
        int n = data.size();
        float[] x = data.features();
        double[] sum = new double[d];
        for (int s = 0; s < n; s++) {
            int o = s * d;
            for (int j = 0; j < d; j++) {
                sum[j] += x[o + j];
            }
        }
        for (int j = 0; j < d; j++) {
            sum[j] /= n;
        }
        return sum;
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    public float[] mean() {
        return mean.clone();
    }

    @Override
    public String spec() {
        return TYPE;
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
        int d = mean.length;
        for (int s = 0; s < n; s++) {
            int o = s * d;
            for (int j = 0; j < d; j++) {
                out[o + j] = in[o + j] - mean[j];
            }
        }
    }

    @Override
    public String summary() {
        return TYPE + " (per-feature mean of " + mean.length + " features subtracted)";
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", TYPE);
        o.set("input_dims", JsonArrays.ints(dims));
        o.set("mean", JsonArrays.floats(mean));
        return o;
    }

    static MeanImage fromJson(ObjectNode o) {
        int[] dims = JsonArrays.readInts(o, "input_dims");
        return new MeanImage(dims, JsonArrays.readFloats(o, "mean", Preprocessors.product(dims)));
    }
}
