package dev.jtrain.search;

import dev.jtrain.random.Philox;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Random search: each trial draws every hyperparameter independently from its range ({@link Param#sample}). The
 * uniform numbers are Philox words (the project's one generator: docs/architecture.md, section 6) of (seed, round,
 * trial, parameter), so the same seed gives the same trials on every machine, and asking for more trials keeps the
 * first ones unchanged.
 */
public final class RandomSearch {
    /** Keys the sampler's Philox stream apart from the training run's, which uses the same --seed. */
    private static final long STREAM = 0x5EA2C4_0000_0000L;

    private RandomSearch() {
    }

    /** {@code trials} configurations of round {@code round} (1-based), each a map name -> value text in space order. */
    public static List<Map<String, String>> sample(SearchSpace space, int trials, int round, long seed) {
        if (trials < 1) {
            throw new IllegalArgumentException("trials must be >= 1, got " + trials);
        }
        List<Param> params = space.params();
        List<Map<String, String>> out = new ArrayList<>(trials);
        for (int t = 0; t < trials; t++) {
            Map<String, String> values = new LinkedHashMap<>();
            for (int j = 0; j < params.size(); j++) {
                values.put(params.get(j).name(), params.get(j).sample(uniform(seed, round, t, j)));
            }
            out.add(values);
        }
        return out;
    }

    /**
     * A uniform double in [0, 1) with 53 random bits: the first two words of the Philox block (trial, parameter) of
     * the call (seed ^ STREAM, round).
     */
    public static double uniform(long seed, int round, int trial, int param) {
        int[] w = new int[4];
        Philox.block(seed ^ STREAM, round, ((long) trial << 20) | param, w, 0);
        long bits = (Integer.toUnsignedLong(w[0]) << 21) ^ (Integer.toUnsignedLong(w[1]) >>> 11);
        return (bits & ((1L << 53) - 1)) * 0x1.0p-53;
    }
}
