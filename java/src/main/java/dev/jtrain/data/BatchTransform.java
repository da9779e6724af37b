package dev.jtrain.data;

/**
 * What {@link BatchIterator} does to each gathered training batch before handing it out: the training-only
 * augmentation pipeline ({@link dev.jtrain.data.augment.Augmentation}), with the preprocessing that must
 * follow it. Called on the host, for one batch at a time (possibly on the iterator's loader thread).
 */
public interface BatchTransform {
    /** The shape of the samples it produces. */
    int[] outputDims();

    /** Whether it mixes samples (mixup): batches then carry second labels and a weight. */
    boolean mixes();

    /**
     * Transforms the {@code n} samples of {@code src} (in the data set's sample shape, in epoch order)
     * into {@code dst} ({@link #outputDims()} each). {@code y} are their labels; when {@link #mixes()},
     * {@code yMix} receives the labels of the mixed-in samples. Returns the weight lambda of {@code y}
     * in the mix (1 when nothing is mixed). {@code src} may be changed.
     *
     * @param seed          the run's seed
     * @param offset        the epoch's generator offset (that of its shuffle)
     * @param firstPosition the epoch position of the batch's first sample
     * @param batchIndex    the batch's index in the epoch
     */
    float apply(float[] src, float[] dst, long[] y, long[] yMix, int n, long seed, long offset, int firstPosition,
                int batchIndex);
}
