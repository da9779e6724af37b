package dev.jtrain.data;

import java.util.Arrays;

/**
 * A held-out validation set taken from the training set ({@code --val-split F}): the first
 * round(F * n) positions of the {@link Permutation} of (seed, {@link #OFFSET}) become the validation
 * set, the rest stay for training; both keep the samples in their original order. The permutation
 * has its own Philox offset, far from the run generator's (which counts 0, 1, 2, ... for init,
 * dropout and shuffles), so a split never changes the rest of the run's random numbers.
 */
public final class ValidationSplit {
    /** The Philox offset of the split's permutation (2^62: unreachable by a run's generator). */
    public static final long OFFSET = 1L << 62;

    private ValidationSplit() {
    }

    /** The two parts: what is left for training, and the validation set. */
    public record Parts(Dataset train, Dataset validation) {
    }

    /**
     * Splits {@code data}: a fraction {@code fraction} in (0, 1) of its samples (rounded, at least one)
     * becomes the validation set; at least one sample must be left for training.
     */
    public static Parts split(Dataset data, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + fraction);
        }
        int n = data.size();
        int nVal = (int) Math.max(1, Math.round(fraction * n));
        if (nVal >= n) {
            throw new IllegalArgumentException(data.name() + ": a validation fraction of " + fraction + " of " + n
                    + " samples leaves no training sample");
        }
        int[] order = Permutation.of(n, seed, OFFSET);
        boolean[] isVal = new boolean[n];
        for (int i = 0; i < nVal; i++) {
            isVal[order[i]] = true;
        }
        int[] valIdx = new int[nVal];
        int[] trainIdx = new int[n - nVal];
        for (int i = 0, v = 0, t = 0; i < n; i++) {
            if (isVal[i]) {
                valIdx[v++] = i;
            } else {
                trainIdx[t++] = i;
            }
        }
        return new Parts(data.select(trainIdx, data.name()), data.select(valIdx, data.name() + " (validation)"));
    }

    /** The indices, in the original order, of the samples that {@link #split} puts in the validation set. */
    public static int[] validationIndices(int n, double fraction, long seed) {
        int nVal = (int) Math.max(1, Math.round(fraction * n));
        int[] order = Permutation.of(n, seed, OFFSET);
        int[] v = Arrays.copyOf(order, nVal);
        Arrays.sort(v);
        return v;
    }
}
