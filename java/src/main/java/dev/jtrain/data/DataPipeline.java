package dev.jtrain.data;

import dev.jtrain.data.augment.Augmentation;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.data.preprocess.Preprocessors;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * Turns loaded data into what a {@link dev.jtrain.train.Trainer} consumes, in the course's order:
 * <ol>
 *   <li>hold out a validation set from the training set ({@link ValidationSplit}, deterministic from the seed);</li>
 *   <li>fit the preprocessing on what is left of the training set only;</li>
 *   <li>apply it to the validation and test sets (once, in place);</li>
 *   <li>training set: without augmentation, preprocess it once too; with augmentation, keep it as loaded
 *       and hand the trainer a {@link BatchTransform} that augments each batch, then preprocesses it.</li>
 * </ol>
 * Every set ends up with samples of the model's input shape ({@code modelDims} of the preprocessed shape).
 */
public final class DataPipeline {
    private DataPipeline() {
    }

    /**
     * What the trainer gets: the three sets (validation and test may be null), the fitted preprocessing,
     * the training batch transform (null without augmentation; the training set is then preprocessed) and
     * the model's input shape.
     */
    public record Prepared(Dataset train, Dataset validation, Dataset test, Preprocessor preprocessor,
                           BatchTransform trainTransform, int[] inputDims) {
    }

    /**
     * @param train          the training set as loaded (image samples [C, H, W])
     * @param test           the test set (may be null)
     * @param valFraction    fraction of {@code train} to hold out, or null for no validation set
     * @param seed           the run's seed (the split's permutation and the augmentation draw from it)
     * @param preprocessing  what to fit ({@link Preprocessors#parse})
     * @param augmentation   training augmentation, or null
     * @param modelDims      the model's input shape for a given (preprocessed) sample shape
     */
    public static Prepared prepare(Dataset train, Dataset test, Double valFraction, long seed,
                                   Preprocessors.Spec preprocessing, Augmentation augmentation,
                                   UnaryOperator<int[]> modelDims) {
        return prepare(train, test, valFraction, seed, preprocessing, null, augmentation, modelDims);
    }

    /**
     * As above with a preprocessing fitted before (e.g. restored from a checkpoint with
     * {@link Preprocessors#fromJson}): it is applied as it is, not fitted again.
     */
    public static Prepared prepare(Dataset train, Dataset test, Double valFraction, long seed, Preprocessor fitted,
                                   Augmentation augmentation, UnaryOperator<int[]> modelDims) {
        return prepare(train, test, valFraction, seed, null, fitted, augmentation, modelDims);
    }

    private static Prepared prepare(Dataset train, Dataset test, Double valFraction, long seed,
                                    Preprocessors.Spec preprocessing, Preprocessor fitted, Augmentation augmentation,
                                    UnaryOperator<int[]> modelDims) {
        Dataset validation = null;
        if (valFraction != null) {
            ValidationSplit.Parts parts = ValidationSplit.split(train, valFraction, seed);
            train = parts.train();
            validation = parts.validation();
        }
        int[] imageDims = train.sampleDims();
        if (augmentation != null && !augmentation.steps().isEmpty() && imageDims.length != 3) {
            throw new IllegalArgumentException("augmentation " + augmentation.spec() + " needs image samples [C, H, W], "
                    + train.name() + " has samples of " + Arrays.toString(imageDims));
        }
        Preprocessor pre;
        int[] dims;
        if (fitted != null) {
            if (fitted.inputSize() != train.sampleSize()) {
                throw new IllegalArgumentException("the preprocessing " + fitted.spec() + " was fitted on samples of "
                        + Arrays.toString(fitted.inputDims()) + ", " + train.name() + " has samples of "
                        + Arrays.toString(imageDims));
            }
            pre = fitted;
            dims = modelDims.apply(pre.outputDims());
        } else {
            dims = modelDims.apply(preprocessing.outputDims(imageDims)); // a model/shape mismatch fails before fitting
            pre = preprocessing.fit(train);
        }
        if (validation != null) {
            validation = pre.apply(validation).withSampleDims(dims);
        }
        if (test != null) {
            test = pre.apply(test).withSampleDims(dims);
        }
        BatchTransform transform = null;
        if (augmentation == null || augmentation.isEmpty()) {
            train = pre.apply(train).withSampleDims(dims);
        } else {
            transform = augmentation.transform(imageDims, pre, dims);
        }
        return new Prepared(train, validation, test, pre, transform, dims);
    }
}
