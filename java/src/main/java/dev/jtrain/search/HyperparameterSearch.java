package dev.jtrain.search;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Runs a search: {@code rounds} rounds of random or grid trials, the box of each round after the first narrowed by
 * {@link CoarseToFine} around the best {@code keep} trials so far. Training a trial is the caller's
 * ({@link TrialRunner}); trials run one after another, numbered from 1 over the whole search. A grid round skips the
 * combinations an earlier round already ran (same seed and values: same result).
 */
public final class HyperparameterSearch {

    /** Random search or grid search. */
    public enum Mode {
        RANDOM, GRID;

        public static Mode parse(String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "random" -> RANDOM;
                case "grid" -> GRID;
                default -> throw new IllegalArgumentException("mode must be random or grid, got '" + s + "'");
            };
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param trials     random search: trials per round
     * @param gridPoints grid search: values per continuous range
     * @param seed       the sampler's seed (random search)
     */
    public record Settings(Mode mode, int trials, int gridPoints, int rounds, int keep, double margin, long seed) {
        public Settings {
            if (trials < 1) {
                throw new IllegalArgumentException("trials must be >= 1, got " + trials);
            }
            if (gridPoints < 1) {
                throw new IllegalArgumentException("gridPoints must be >= 1, got " + gridPoints);
            }
            if (rounds < 1) {
                throw new IllegalArgumentException("rounds must be >= 1, got " + rounds);
            }
            if (keep < 1) {
                throw new IllegalArgumentException("keep must be >= 1, got " + keep);
            }
            if (!(margin >= 0) || !Double.isFinite(margin)) {
                throw new IllegalArgumentException("margin must be a finite number >= 0, got " + margin);
            }
        }
    }

    /** Trains one trial with {@code values} (option name -> value text) and says how it went. */
    @FunctionalInterface
    public interface TrialRunner {
        Trial run(int id, int round, Map<String, String> values);
    }

    /** Progress callbacks (console lines). */
    public interface Listener {
        /** Round {@code round} is about to run {@code trials} trials in {@code box}. */
        default void roundStarting(int round, SearchSpace box, int trials) {
        }

        /** {@code trial} ended; it was number {@code index} (1-based) of the {@code total} of its round. */
        default void trialFinished(Trial trial, int index, int total) {
        }

        /** After each trial: the search so far (e.g. to keep the results files current, should the search be cut off). */
        default void resultsSoFar(Result soFar) {
        }
    }

    /** The trials in the order they ran, and the box of each round (first: the original space). */
    public record Result(List<Trial> trials, List<SearchSpace> boxes) {
        public Result {
            trials = List.copyOf(trials);
            boxes = List.copyOf(boxes);
        }

        /** The trials best first ({@link Trial#RANKING}). */
        public List<Trial> ranked() {
            return trials.stream().sorted(Trial.RANKING).toList();
        }

        /** The best trial, or null when no trial has a validation accuracy. */
        public Trial best() {
            return trials.stream().filter(Trial::ranked).min(Trial.RANKING).orElse(null);
        }
    }

    private final Settings settings;

    public HyperparameterSearch(Settings settings) {
        this.settings = settings;
    }

    /** The configurations round {@code round} would run in {@code box}, before grid de-duplication. */
    public List<Map<String, String>> configurations(SearchSpace box, int round) {
        return settings.mode() == Mode.GRID
                ? GridSearch.combinations(box, settings.gridPoints())
                : RandomSearch.sample(box, settings.trials(), round, settings.seed());
    }

    public Result run(SearchSpace space, TrialRunner runner, Listener listener) {
        List<Trial> trials = new ArrayList<>();
        List<SearchSpace> boxes = new ArrayList<>();
        Set<Map<String, String>> done = new HashSet<>();
        SearchSpace box = space;
        for (int round = 1; round <= settings.rounds(); round++) {
            if (round > 1) {
                box = CoarseToFine.nextBox(box, space, trials, settings.keep(), settings.margin());
            }
            boxes.add(box);
            List<Map<String, String>> configs = new ArrayList<>(configurations(box, round));
            if (settings.mode() == Mode.GRID) {
                configs.removeIf(done::contains);
            }
            listener.roundStarting(round, box, configs.size());
            for (int i = 0; i < configs.size(); i++) {
                Trial t = runner.run(trials.size() + 1, round, configs.get(i));
                trials.add(t);
                done.add(t.values());
                listener.trialFinished(t, i + 1, configs.size());
                listener.resultsSoFar(new Result(trials, boxes));
            }
        }
        return new Result(trials, boxes);
    }
}
