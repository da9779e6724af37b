package dev.jtrain.search;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Grid search: every combination of the hyperparameters' grid values ({@link Param#grid}): for continuous ranges
 * {@code points} values each (geometric for log ranges), for lists every choice. The first hyperparameter varies
 * slowest, as in nested loops written in the space's order.
 */
public final class GridSearch {
    private GridSearch() {
    }

    /** The number of combinations, or -1 when it exceeds {@code Integer.MAX_VALUE}. */
    public static long size(SearchSpace space, int points) {
        long n = 1;
        for (Param p : space.params()) {
            n *= p.grid(points).size();
            if (n > Integer.MAX_VALUE) {
                return -1;
            }
        }
        return n;
    }

    /** Every combination, each a map name -> value text in space order. */
    public static List<Map<String, String>> combinations(SearchSpace space, int points) {
        if (points < 1) {
            throw new IllegalArgumentException("gridPoints must be >= 1, got " + points);
        }
        if (size(space, points) < 0) {
            throw new IllegalArgumentException("the grid of " + space.spec() + " has more than " + Integer.MAX_VALUE + " points");
        }
        List<Map<String, String>> out = new ArrayList<>();
        out.add(new LinkedHashMap<>());
        for (Param p : space.params()) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> partial : out) {
                for (String v : p.grid(points)) {
                    Map<String, String> m = new LinkedHashMap<>(partial);
                    m.put(p.name(), v);
                    next.add(m);
                }
            }
            out = next;
        }
        return out;
    }
}
