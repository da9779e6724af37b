package dev.jtrain.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds out which format a {@code --data} folder holds and loads its training and test sets: the
 * CIFAR-10 binary batches ({@link Cifar10}; also when the folder only contains the extracted
 * {@code cifar-10-batches-bin}) or MNIST-layout IDX files ({@link Mnist}).
 */
public final class DataFolder {
    /** The formats {@link #load} recognises. */
    public enum Format {
        MNIST_IDX("mnist-idx"), CIFAR10_BINARY("cifar10-binary");

        private final String label;

        Format(String label) {
            this.label = label;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** A loaded folder: where the files were, their format, and the two sets. */
    public record Loaded(Path dir, Format format, Dataset train, Dataset test) {
    }

    private DataFolder() {
    }

    /** The format of {@code dir} (and the folder that holds the files), or an error listing what was looked for. */
    public static Loaded load(Path dir) throws DataFileException {
        if (!Files.isDirectory(dir)) {
            throw new DataFileException(dir, Files.exists(dir) ? "is not a directory (expected a data folder)"
                    : "data directory not found");
        }
        Path cifar = Cifar10.looksLike(dir) ? dir
                : Cifar10.looksLike(dir.resolve("cifar-10-batches-bin")) ? dir.resolve("cifar-10-batches-bin") : null;
        if (cifar != null) {
            Mnist.Split s = Cifar10.load(cifar);
            return new Loaded(cifar, Format.CIFAR10_BINARY, s.train(), s.test());
        }
        if (looksLikeMnist(dir)) {
            Mnist.Split s = Mnist.load(dir);
            return new Loaded(dir, Format.MNIST_IDX, s.train(), s.test());
        }
        throw new DataFileException(dir, "no known data set here: expected MNIST IDX files (train-images-idx3-ubyte[.gz], "
                + "train-labels-idx1-ubyte[.gz], t10k-...) or CIFAR-10 binary batches (data_batch_1.bin ... "
                + "data_batch_5.bin, test_batch.bin, also inside cifar-10-batches-bin/)");
    }

    private static boolean looksLikeMnist(Path dir) {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .anyMatch(n -> n.startsWith("train-") || n.startsWith("t10k-"));
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
