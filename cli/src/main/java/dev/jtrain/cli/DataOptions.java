package dev.jtrain.cli;

import dev.jtrain.data.DataFileException;
import dev.jtrain.data.DataFolder;
import dev.jtrain.data.DataPipeline;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.augment.Augmentation;
import dev.jtrain.data.preprocess.Preprocessors;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The data options of {@code jtrain train} (a picocli mixin): validation split, preprocessing and
 * augmentation. The data folder's format (MNIST IDX or CIFAR-10 binary) is detected from its files.
 */
public final class DataOptions {
    @Option(names = "--val-split", paramLabel = "F",
            description = "hold out a fraction F in (0, 1) of the training set for validation (deterministic from the seed); "
                    + "validation loss and accuracy are reported per epoch")
    Double valSplit;

    @Option(names = "--preprocess", paramLabel = "KIND",
            description = "fitted on the training set only: none, center (per-channel mean), standardize (per-channel "
                    + "mean/std), mean-image, pca:K (K principal components), zca[:EPS] (ZCA whitening) (default: ${DEFAULT-VALUE})")
    String preprocess = "standardize";

    @Option(names = "--augment", paramLabel = "LIST",
            description = "training-only augmentation, comma-separated: crop:P, flip, jitter:S, brightness:S, contrast:S, "
                    + "rotate:DEG, cutout:S, mixup:ALPHA (e.g. crop:4,flip,mixup:0.2)")
    String augment;

    private Preprocessors.Spec preprocessSpec;
    private Augmentation augmentation;

    /** Checks the values (before any data is read); errors name the option. */
    void validate() {
        if (valSplit != null && !(valSplit > 0 && valSplit < 1)) {
            throw new TrainCommand.UsageException("--val-split must be in (0, 1), got " + valSplit);
        }
        try {
            preprocessSpec = Preprocessors.parse(preprocess);
            augmentation = augment == null ? null : Augmentation.parse(augment);
        } catch (IllegalArgumentException e) {
            throw new TrainCommand.UsageException(OptionNames.reword(e.getMessage(), OptionNames.DATA));
        }
    }

    /** The loaded and prepared data. */
    record Loaded(DataFolder.Loaded source, DataPipeline.Prepared prepared) {
    }

    /**
     * Loads {@code dir} (format detected), cuts the sets to the limits (null: all), splits, fits and
     * applies the preprocessing, and sets up the augmentation.
     */
    Loaded load(Path dir, Integer trainLimit, Integer testLimit, long seed, UnaryOperator<int[]> modelDims)
            throws DataFileException {
        return load(dir, trainLimit, testLimit, seed, modelDims, null);
    }

    /** As above; a non-null {@code fitted} (a resumed checkpoint's preprocessing JSON) is applied instead of a new fit. */
    Loaded load(Path dir, Integer trainLimit, Integer testLimit, long seed, UnaryOperator<int[]> modelDims,
                com.fasterxml.jackson.databind.JsonNode fitted) throws DataFileException {
        if (preprocessSpec == null) {
            validate();
        }
        DataFolder.Loaded source = DataFolder.load(dir);
        Dataset train = trainLimit == null ? source.train() : source.train().head(trainLimit);
        Dataset test = testLimit == null ? source.test() : source.test().head(testLimit);
        try {
            return new Loaded(source, fitted == null
                    ? DataPipeline.prepare(train, test, valSplit, seed, preprocessSpec, augmentation, modelDims)
                    : DataPipeline.prepare(train, test, valSplit, seed, Preprocessors.fromJson(fitted), augmentation, modelDims));
        } catch (IllegalArgumentException e) { // e.g. an augmentation that needs images, given flat samples
            throw new IllegalArgumentException(OptionNames.reword(e.getMessage(), OptionNames.DATA), e);
        }
    }

    /** The settings to record in the metrics file. */
    Map<String, Object> settings(Loaded d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("data_format", d.source().format().toString());
        m.put("val_split", valSplit == null ? 0.0 : valSplit);
        m.put("validation_samples", d.prepared().validation() == null ? 0 : d.prepared().validation().size());
        m.put("preprocess", d.prepared().preprocessor().spec());
        m.put("augment", augmentation == null ? "" : augmentation.spec());
        return m;
    }
}
