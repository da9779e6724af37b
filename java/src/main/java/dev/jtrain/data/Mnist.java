package dev.jtrain.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads an MNIST folder laid out like the full distribution: {@code train-images-idx3-ubyte.gz},
 * {@code train-labels-idx1-ubyte.gz}, {@code t10k-images-idx3-ubyte.gz}, {@code t10k-labels-idx1-ubyte.gz}
 * (each also accepted without {@code .gz}, or with the {@code -images.idx3-ubyte} spelling of some mirrors).
 * Pixels become float32 in [0, 1] (byte / 255); samples have shape [1, rows, cols]; labels must be 0..9.
 */
public final class Mnist {
    public static final int CLASSES = 10;

    private Mnist() {
    }

    /** The training and test sets of one folder. */
    public record Split(Dataset train, Dataset test) {
        /** Both sets with samples flattened to vectors ([rows * cols]). */
        public Split flattened() {
            return new Split(train.flattened(), test.flattened());
        }

        /** Normalises both sets in place with the training set's mean/std; returns the normalizer. */
        public Normalizer normalize() {
            Normalizer n = Normalizer.fit(train);
            n.apply(train);
            n.apply(test);
            return n;
        }
    }

    /** Loads the train and t10k sets of {@code dir}. */
    public static Split load(Path dir) throws DataFileException {
        if (!Files.isDirectory(dir)) {
            throw new DataFileException(dir, Files.exists(dir) ? "is not a directory (expected an MNIST data folder)"
                    : "data directory not found");
        }
        Dataset train = loadSet(dir, "train");
        Dataset test = loadSet(dir, "t10k");
        int[] a = train.sampleDims();
        int[] b = test.sampleDims();
        if (!java.util.Arrays.equals(a, b)) {
            throw new DataFileException(dir, "train images are " + a[1] + "x" + a[2] + " but t10k images are "
                    + b[1] + "x" + b[2]);
        }
        return new Split(train, test);
    }

    /** Loads one set: {@code prefix} is "train" or "t10k". */
    public static Dataset loadSet(Path dir, String prefix) throws DataFileException {
        Path imagesFile = find(dir, prefix, "images", 3);
        Path labelsFile = find(dir, prefix, "labels", 1);
        IdxReader.IdxFile images = IdxReader.readImages(imagesFile);
        IdxReader.IdxFile labels = IdxReader.readLabels(labelsFile);
        if (images.count() != labels.count()) {
            throw new DataFileException(labelsFile, "label/image count mismatch: " + labels.count()
                    + " labels but " + imagesFile.getFileName() + " holds " + images.count() + " images");
        }
        int rows = images.dims()[1];
        int cols = images.dims()[2];
        if (rows < 1 || cols < 1) {
            throw new DataFileException(imagesFile, "bad header: images of " + rows + "x" + cols + " pixels");
        }
        int n = labels.count();
        long[] y = new long[n];
        byte[] lb = labels.data();
        for (int i = 0; i < n; i++) {
            int v = lb[i] & 0xff;
            if (v >= CLASSES) {
                throw new DataFileException(labelsFile, "label " + v + " at index " + i + " (byte offset " + (8 + i)
                        + ") is out of range 0.." + (CLASSES - 1));
            }
            y[i] = v;
        }
        byte[] px = images.data();
        float[] x = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            x[i] = (px[i] & 0xff) / 255f;
        }
        return new Dataset("mnist " + prefix, x, new int[] {1, rows, cols}, y, CLASSES);
    }

    /** The first existing spelling of a file, or the canonical .gz name in the error. */
    private static Path find(Path dir, String prefix, String kind, int rank) throws DataFileException {
        String base = prefix + "-" + kind + "-idx" + rank + "-ubyte";
        String[] names = {base + ".gz", base, prefix + "-" + kind + ".idx" + rank + "-ubyte",
                prefix + "-" + kind + ".idx" + rank + "-ubyte.gz"};
        for (String name : names) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new DataFileException(dir.resolve(names[0]), "file not found (MNIST " + prefix + " " + kind
                + "; also looked for " + names[1] + ")");
    }
}
