package dev.jtrain.search;

import java.util.ArrayList;
import java.util.List;

/**
 * Coarse-to-fine search: round r + 1 samples inside the box spanned by the best {@code keep} trials of all earlier
 * rounds ({@link Trial#RANKING}), per hyperparameter:
 * <ul>
 *   <li>log range: [a, b] = min and max of log10 of the kept values; widened on each side by
 *       {@code margin * max(b - a, w / 10)}, w the current round's log10 width; then clipped to the original range;</li>
 *   <li>lin and int ranges: the same in the values themselves (int: outwards to integers);</li>
 *   <li>list: the choices that appear among the kept trials.</li>
 * </ul>
 * The {@code w / 10} floor keeps a box that all kept trials share one value of (e.g. on a grid) from collapsing to a
 * point: it is then a tenth of the current width, widened by the margin on each side.
 */
public final class CoarseToFine {
    /** The default margin: a quarter of the kept span on each side. */
    public static final double DEFAULT_MARGIN = 0.25;

    private CoarseToFine() {
    }

    /** The best {@code keep} ranked trials, best first. */
    public static List<Trial> top(List<Trial> trials, int keep) {
        return trials.stream().filter(Trial::ranked).sorted(Trial.RANKING).limit(keep).toList();
    }

    /**
     * The next round's box. {@code current} is the box of the round just finished, {@code original} the space the
     * search started with; with no ranked trial the box stays {@code current}.
     */
    public static SearchSpace nextBox(SearchSpace current, SearchSpace original, List<Trial> trials, int keep, double margin) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1, got " + keep);
        }
        if (!(margin >= 0) || !Double.isFinite(margin)) {
            throw new IllegalArgumentException("margin must be a finite number >= 0, got " + margin);
        }
        List<Trial> best = top(trials, keep);
        if (best.isEmpty()) {
            return current;
        }
        List<Param> out = new ArrayList<>();
        for (Param p : current.params()) {
            List<String> kept = best.stream().map(t -> t.values().get(p.name())).toList();
            out.add(p.narrow(kept, original.get(p.name()), margin));
        }
        return new SearchSpace(out);
    }
}
