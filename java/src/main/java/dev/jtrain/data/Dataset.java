package dev.jtrain.data;

import dev.jtrain.tensor.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * An in-memory labelled data set on the host: float32 features, one sample after another (row-major,
 * each sample of shape {@link #sampleDims()}, e.g. [784] or [1, 28, 28]), and int64 class labels in
 * {@code 0 .. numClasses-1}. Samples are read in batches by {@link BatchIterator}; the arrays are
 * shared, not copied, by {@link #withSampleDims} (a view) and modified in place by {@link Normalizer} and the
 * shape-keeping preprocessings ({@link dev.jtrain.data.preprocess.Preprocessor#apply(Dataset)}).
 */
public final class Dataset {
    private final String name;
    private final float[] features;
    private final int[] sampleDims;
    private final int sampleSize;
    private final long[] labels;
    private final int numClasses;

    public Dataset(String name, float[] features, int[] sampleDims, long[] labels, int numClasses) {
        this.name = Objects.requireNonNull(name, "name");
        this.features = Objects.requireNonNull(features, "features");
        this.sampleDims = sampleDims.clone();
        this.labels = Objects.requireNonNull(labels, "labels");
        this.numClasses = numClasses;
        long d = 1;
        for (int x : sampleDims) {
            if (x < 1) {
                throw new IllegalArgumentException("sample dimensions must be >= 1, got " + Arrays.toString(sampleDims));
            }
            d *= x;
        }
        if (sampleDims.length == 0 || d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad sample dimensions " + Arrays.toString(sampleDims));
        }
        this.sampleSize = (int) d;
        if ((long) labels.length * sampleSize != features.length) {
            throw new IllegalArgumentException(name + ": " + labels.length + " labels but " + features.length
                    + " feature values (expected " + sampleSize + " per sample)");
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException(name + ": numClasses must be >= 1, got " + numClasses);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " at index " + i
                        + " is out of range 0.." + (numClasses - 1));
            }
        }
    }

    /** A short name for messages ("mnist train"). */
    public String name() {
        return name;
    }

    /** Number of samples. */
    public int size() {
        return labels.length;
    }

    /** The shape of one sample, e.g. [784] or [1, 28, 28]. */
    public int[] sampleDims() {
        return sampleDims.clone();
    }

    /** Elements per sample. */
    public int sampleSize() {
        return sampleSize;
    }

    public int numClasses() {
        return numClasses;
    }

    /** The feature array (shared, not copied): sample i occupies [i * sampleSize, (i + 1) * sampleSize). */
    public float[] features() {
        return features;
    }

    /** The label array (shared, not copied). */
    public long[] labels() {
        return labels;
    }

    /** The same samples seen with another per-sample shape of the same size (shares the arrays). */
    public Dataset withSampleDims(int... dims) {
        long d = 1;
        for (int x : dims) {
            d *= x;
        }
        if (d != sampleSize) {
            throw new IllegalArgumentException(name + ": cannot view samples of shape " + Arrays.toString(sampleDims)
                    + " as " + Arrays.toString(dims));
        }
        return new Dataset(name, features, dims, labels, numClasses, true);
    }

    /** The same samples with each one flattened to a vector ([sampleSize]). */
    public Dataset flattened() {
        return sampleDims.length == 1 ? this : withSampleDims(sampleSize);
    }

    /** A copy of the first {@code n} samples (all of them when n >= size()). */
    public Dataset head(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("head: n must be >= 0, got " + n);
        }
        int m = Math.min(n, size());
        return new Dataset(name, Arrays.copyOf(features, m * sampleSize), sampleDims,
                Arrays.copyOf(labels, m), numClasses, true);
    }

    /** A copy of the samples at {@code indices} (in that order), named {@code name}. */
    public Dataset select(int[] indices, String name) {
        float[] x = new float[indices.length * sampleSize];
        long[] y = new long[indices.length];
        for (int r = 0; r < indices.length; r++) {
            int i = indices[r];
            if (i < 0 || i >= size()) {
                throw new IndexOutOfBoundsException(this.name + ": sample index " + i + " outside 0.." + (size() - 1));
            }
            System.arraycopy(features, i * sampleSize, x, r * sampleSize, sampleSize);
            y[r] = labels[i];
        }
        return new Dataset(name, x, sampleDims, y, numClasses, true);
    }

    /** The same labels and sample order with other features (e.g. preprocessed), checked for size. */
    public Dataset withFeatures(float[] newFeatures, int... newSampleDims) {
        long d = 1;
        for (int v : newSampleDims) {
            d *= v;
        }
        if (d * size() != newFeatures.length) {
            throw new IllegalArgumentException(name + ": " + newFeatures.length + " feature values do not make "
                    + size() + " samples of " + Arrays.toString(newSampleDims));
        }
        return new Dataset(name, newFeatures, newSampleDims, labels, numClasses, true);
    }

    /** How many samples each class has. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (long l : labels) {
            counts[(int) l]++;
        }
        return counts;
    }

    /** All features as one cpu tensor [N, sampleDims...] over the shared array. */
    public Tensor featuresTensor() {
        int[] d = new int[sampleDims.length + 1];
        d[0] = size();
        System.arraycopy(sampleDims, 0, d, 1, sampleDims.length);
        return Tensor.of(features, d);
    }

    /** All labels as one int64 cpu tensor [N] over the shared array. */
    public Tensor labelsTensor() {
        return Tensor.ofLongs(labels, size());
    }

    /** Trusted constructor for views and copies of already checked data. */
    private Dataset(String name, float[] features, int[] sampleDims, long[] labels, int numClasses, boolean checked) {
        this.name = name;
        this.features = features;
        this.sampleDims = sampleDims.clone();
        int d = 1;
        for (int x : sampleDims) {
            d *= x;
        }
        this.sampleSize = d;
        this.labels = labels;
        this.numClasses = numClasses;
    }

    @Override
    public String toString() {
        return name + " (" + size() + " samples of " + Arrays.toString(sampleDims) + ", " + numClasses + " classes)";
    }
}
