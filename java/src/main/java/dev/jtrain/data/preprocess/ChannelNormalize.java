package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;

import java.util.Locale;

/**
 * Per-channel normalisation with the training set's statistics: {@code center} subtracts each channel's
 * mean (x - m_c), {@code standardize} also divides by its std ((x - m_c) / s_c, torchvision's
 * {@code Normalize(mean, std)} with the values computed from the data). Channel = the first sample
 * dimension of [C, H, W] samples; a flat sample [D] is one channel. Sums are taken in double, the std is
 * the population one (divides by the count), and the result is computed in float32 exactly as written
 * above, so for one channel {@code standardize} gives the bits of {@link dev.jtrain.data.Normalizer}.
 */
public final class ChannelNormalize implements Preprocessor {
    public static final String CENTER = "center";
    public static final String STANDARDIZE = "standardize";

    private final int[] dims;
    private final float[] mean;
    private final float[] std;   // null for center

    /** {@code std} null: center only. */
    public ChannelNormalize(int[] dims, float[] mean, float[] std) {
        this.dims = dims.clone();
        int c = channels(dims);
        if (mean.length != c || (std != null && std.length != c)) {
            throw new IllegalArgumentException("per-channel statistics must have " + c + " values (one per channel)");
        }
        for (int i = 0; i < c; i++) {
            if (!Float.isFinite(mean[i]) || (std != null && !(std[i] > 0 && Float.isFinite(std[i])))) {
                throw new IllegalArgumentException("channel " + i + ": needs a finite mean and a positive finite std, got mean "
                        + mean[i] + (std != null ? ", std " + std[i] : ""));
            }
        }
        this.mean = mean.clone();
        this.std = std == null ? null : std.clone();
    }

    /** Fits the per-channel mean (and std when {@code divideByStd}) of {@code train}. */
    public static ChannelNormalize fit(Dataset train, boolean divideByStd) {
        int[] dims = train.sampleDims();
        int c = channels(dims);
        int inner = train.sampleSize() / c;
        float[] x = train.features();
        int n = train.size();
        double[] sum = new double[c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int o = s * train.sampleSize() + ch * inner;
                for (int k = 0; k < inner; k++) {
                    sum[ch] += x[o + k];  // one running sum per channel, in data order (Normalizer's order)
                }
            }
        }
        double count = (double) n * inner;
        float[] mean = new float[c];
        float[] std = divideByStd ? new float[c] : null;
        double[] m = new double[c];
        for (int ch = 0; ch < c; ch++) {
            m[ch] = sum[ch] / count;
            mean[ch] = (float) m[ch];
        }
        if (divideByStd) {
            double[] sq = new double[c];
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    int o = s * train.sampleSize() + ch * inner;
                    for (int k = 0; k < inner; k++) {
                        double d = x[o + k] - m[ch];
                        sq[ch] += d * d;
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                double sd = Math.sqrt(sq[ch] / count);
                if (!(sd > 0)) {
                    throw new IllegalArgumentException(train.name() + ": channel " + ch + " has one value everywhere ("
                            + m[ch] + "): its std is 0 and cannot standardize (use the center preprocessor)");
                }
                std[ch] = (float) sd;
            }
        }
        return new ChannelNormalize(dims, mean, std);
    }

    /** Channels of a sample shape: the first dimension of a rank >= 2 shape, else 1. */
    static int channels(int[] dims) {
        return dims.length >= 2 ? dims[0] : 1;
    }

    public float[] mean() {
        return mean.clone();
    }

    /** The per-channel std, or null for {@code center}. */
    public float[] std() {
        return std == null ? null : std.clone();
    }

    @Override
    public String spec() {
        return std == null ? CENTER : STANDARDIZE;
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
        int size = inputSize();
        int c = mean.length;
        int inner = size / c;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int o = s * size + ch * inner;
                float m = mean[ch];
                if (std == null) {
                    for (int k = o; k < o + inner; k++) {
                        out[k] = in[k] - m;
                    }
                } else {
                    float sd = std[ch];
                    for (int k = o; k < o + inner; k++) {
                        out[k] = (in[k] - m) / sd;
                    }
                }
            }
        }
    }

    @Override
    public String summary() {
        StringBuilder b = new StringBuilder(spec()).append(" (per channel: mean");
        for (float v : mean) {
            b.append(String.format(Locale.ROOT, " %.4f", v));
        }
        if (std != null) {
            b.append(", std");
            for (float v : std) {
                b.append(String.format(Locale.ROOT, " %.4f", v));
            }
        }
        return b.append(")").toString();
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", spec());
        o.set("input_dims", JsonArrays.ints(dims));
        o.set("mean", JsonArrays.floats(mean));
        if (std != null) {
            o.set("std", JsonArrays.floats(std));
        }
        return o;
    }

    static ChannelNormalize fromJson(ObjectNode o, boolean divideByStd) {
        int[] dims = JsonArrays.readInts(o, "input_dims");
        int c = channels(dims);
        return new ChannelNormalize(dims, JsonArrays.readFloats(o, "mean", c),
                divideByStd ? JsonArrays.readFloats(o, "std", c) : null);
    }
}
