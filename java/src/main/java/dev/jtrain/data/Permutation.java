package dev.jtrain.data;

import dev.jtrain.random.Philox;

/**
 * The seeded permutation of jtrain's data pipeline: a Fisher-Yates shuffle driven by Philox4x32-10
 * words of (seed, offset). For i = n-1 down to 1, positions i and j = floor(word_k * (i + 1) / 2^32)
 * are swapped, word_k being the k-th Philox word of (seed, offset), k = n-1-i. The order depends only
 * on (seed, offset), the same on every machine. Used for the epoch shuffle of {@link BatchIterator}
 * and the validation split of {@link ValidationSplit}.
 */
public final class Permutation {
    private Permutation() {
    }

    /** Fills {@code order} with 0..n-1 shuffled from (seed, offset). */
    public static void shuffle(int[] order, long seed, long offset) {
        shuffle(order, seed, offset, new int[4]);
    }

    /** As {@link #shuffle(int[], long, long)}, with a caller's 4-int scratch (no allocation). */
    public static void shuffle(int[] order, long seed, long offset, int[] words) {
        int n = order.length;
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1, k = 0; i > 0; i--, k++) {
            if ((k & 3) == 0) {
                Philox.block(seed, offset, k >>> 2, words, 0);
            }
            long w = words[k & 3] & 0xffffffffL;
            int j = (int) ((w * (i + 1)) >>> 32);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** A new array: 0..n-1 shuffled from (seed, offset). */
    public static int[] of(int n, long seed, long offset) {
        int[] order = new int[n];
        shuffle(order, seed, offset);
        return order;
    }
}
