package dev.jtrain.ensemble;

import dev.jtrain.data.Dataset;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.nn.Layer;

import java.util.Objects;

/**
 * One model of an ensemble, ready to evaluate: a name (its file), the trained model, the preprocessing it was
 * trained with (fitted on its own training set: each member sees the data as it was trained to), the input shape the
 * model takes and its number of classes. Closing it releases the model.
 */
public record Member(String name, Layer model, Preprocessor preprocessing, int[] inputDims, int classes)
        implements AutoCloseable {

    public Member {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(preprocessing, "preprocessing");
        inputDims = inputDims.clone();
        if (classes < 1) {
            throw new IllegalArgumentException(name + ": " + classes + " classes");
        }
    }

    /**
     * {@code raw} (samples as loaded, e.g. pixels in [0, 1]) as this member sees it: its preprocessing applied to a
     * copy (the raw set is left as it is, for the other members), reshaped to the model's input.
     */
    public Dataset prepare(Dataset raw) {
        if (raw.sampleSize() != preprocessing.inputSize()) {
            throw new IllegalArgumentException(name + ": trained on samples of "
                    + java.util.Arrays.toString(preprocessing.inputDims()) + " (its preprocessing " + preprocessing.spec()
                    + "), " + raw.name() + " has samples of " + java.util.Arrays.toString(raw.sampleDims()));
        }
        float[] out = new float[raw.size() * preprocessing.outputSize()];
        preprocessing.apply(raw.features(), out, raw.size());
        return raw.withFeatures(out, preprocessing.outputDims()).withSampleDims(inputDims);
    }

    @Override
    public void close() {
        model.close();
    }
}
