package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;

import java.util.Arrays;

/**
 * A preprocessing step fitted on the training set ({@link Preprocessors#fit}) and then applied, unchanged,
 * to every sample the model sees: training (after augmentation), validation and test. Its fitted state
 * round-trips through JSON ({@link #toJson()} / {@link Preprocessors#fromJson}) so that it is saved with
 * the model (a checkpoint's sidecar keeps it under "preprocessing"). Preprocessing runs on the host while
 * data is prepared, so every device sees the same bits.
 */
public interface Preprocessor {
    /** The step as written on the command line, e.g. {@code standardize}, {@code pca:50}, {@code zca:1e-05}. */
    String spec();

    /** The sample shape it was fitted on, e.g. [3, 32, 32]. */
    int[] inputDims();

    /** The sample shape it produces (the input shape, or [K] for PCA). */
    int[] outputDims();

    /**
     * Transforms {@code n} samples of {@code in} (each of {@link #inputDims()}) into {@code out} (each of
     * {@link #outputDims()}); {@code out} may be {@code in} itself.
     */
    void apply(float[] in, float[] out, int n);

    /** One line for the console, e.g. what PCA keeps of the variance. */
    String summary();

    /** The fitted state: {@code {"type": ..., "input_dims": [...], ...}}; see {@link Preprocessors#fromJson}. */
    ObjectNode toJson();

    /** Elements per input sample. */
    default int inputSize() {
        return Preprocessors.product(inputDims());
    }

    /** Elements per output sample. */
    default int outputSize() {
        return Preprocessors.product(outputDims());
    }

    /**
     * The data set preprocessed: in place (the arrays of {@code data} are changed) when the sample size
     * stays, else in a new array; the result has samples of {@link #outputDims()}.
     */
    default Dataset apply(Dataset data) {
        if (data.sampleSize() != inputSize()) {
            throw new IllegalArgumentException(spec() + " was fitted on samples of " + Arrays.toString(inputDims())
                    + ", " + data.name() + " has samples of " + Arrays.toString(data.sampleDims()));
        }
        float[] in = data.features();
        float[] out = outputSize() == inputSize() ? in : new float[data.size() * outputSize()];
        apply(in, out, data.size());
        return data.withFeatures(out, outputDims());
    }
}
