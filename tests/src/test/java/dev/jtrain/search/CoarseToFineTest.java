package dev.jtrain.search;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Coarse-to-fine: the next round's box from hand-made trials equals the hand-computed one; the rounds of a search. */
class CoarseToFineTest {
    static final SearchSpace SPACE = SearchSpace.parse("lr=log:1e-5:1e-1,dropout=lin:0:0.5,batch=int:16:128,opt=sgd|adam|rmsprop");

    static Trial trial(int id, String lr, String dropout, String batch, String opt, double acc, double loss) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("lr", lr);
        v.put("dropout", dropout);
        v.put("batch", batch);
        v.put("opt", opt);
        return new Trial(id, 1, v, Trial.Status.OK, acc, loss, 0.5, 2, 1.0, "", new double[] {acc});
    }

    static List<Trial> trials() {
        return List.of(
                trial(1, "0.001", "0.1", "32", "adam", 0.95, 0.20),
                trial(2, "0.01", "0.2", "64", "sgd", 0.97, 0.10),
                trial(3, "0.0001", "0.4", "16", "adam", 0.90, 0.30),
                new Trial(4, 1, Map.of("lr", "0.1", "dropout", "0", "batch", "128", "opt", "rmsprop"), Trial.Status.DIVERGED,
                        Double.NaN, Double.NaN, Double.NaN, 1, 1.0, "training diverged", null),
                trial(5, "0.003", "0.3", "48", "adam", 0.96, 0.15),
                trial(6, "0.00002", "0.45", "20", "rmsprop", 0.96, 0.25));
    }

    @Test
    void rankingIsByValidationAccuracyThenLossThenTrial() {
        List<Trial> top = CoarseToFine.top(trials(), 4);
        assertEquals(List.of(2, 5, 6, 1), top.stream().map(Trial::id).toList(), "0.97, 0.96 (loss 0.15), 0.96 (loss 0.25), 0.95");
        List<Trial> all = trials().stream().sorted(Trial.RANKING).toList();
        assertEquals(4, all.get(all.size() - 1).id(), "the diverged trial ranks last");
    }

    @Test
    void nextBoxOfTheTopThree() {
        // top 3: trials 2 (lr 1e-2, dropout 0.2, batch 64, sgd), 5 (3e-3, 0.3, 48, adam), 6 (2e-5, 0.45, 20, rmsprop)
        // lr: log10 span [-4.699, -2], width of the box 4 decades: d = max(2.699, 0.4) = 2.699, margin 0.25 -> +-0.6747
        //     [10^-5.3737, 10^-1.3253] = [4.229e-6, 0.04729], clipped to [1e-5, 0.1] -> [1e-5, 0.04729]
        // dropout: span [0.2, 0.45], d = 0.25 -> [0.1375, 0.5125] -> clipped [0.1375, 0.5]
        // batch: span [20, 64], d = 44 -> [9, 75] -> clipped [16, 75]
        // opt: all three appear
        SearchSpace box = CoarseToFine.nextBox(SPACE, SPACE, trials(), 3, 0.25);
        assertEquals(SearchSpace.parse("lr=log:1e-5:0.04729,dropout=lin:0.1375:0.5,batch=int:16:75,opt=sgd|adam|rmsprop"), box);
    }

    @Test
    void nextBoxOfTheTopTwoWithAWiderMargin() {
        // top 2: trials 2 and 5. lr: log10 span [-2.5229, -2], d = 0.5229, margin 0.5 -> +-0.26144
        //     [10^-2.78432, 10^-1.73856] = [0.001643, 0.01826]
        // dropout [0.2, 0.3], d = 0.1 -> [0.15, 0.35]; batch [48, 64], d = 16 -> [40, 72]; opt: sgd, adam (space order)
        SearchSpace box = CoarseToFine.nextBox(SPACE, SPACE, trials(), 2, 0.5);
        assertEquals(SearchSpace.parse("lr=log:0.001643:0.01826,dropout=lin:0.15:0.35,batch=int:40:72,opt=sgd|adam"), box);
    }

    @Test
    void aSingleKeptTrialGivesATenthOfTheCurrentWidth() {
        // keep 1: trial 2 alone. lr: d = 4/10 = 0.4 decades, +-0.1 -> [10^-2.1, 10^-1.9] = [0.007943, 0.01259]
        // dropout: d = 0.05 -> [0.1875, 0.2125]; batch: d = 11.2 -> [61.2, 66.8] -> outwards [61, 67]; opt: sgd
        SearchSpace box = CoarseToFine.nextBox(SPACE, SPACE, trials(), 1, 0.25);
        assertEquals(SearchSpace.parse("lr=log:0.007943:0.01259,dropout=lin:0.1875:0.2125,batch=int:61:67,opt=sgd"), box);
        // the next round's floor is a tenth of this box: lr width 0.2 decades -> d = 0.02, +-0.005 around -2
        //     [10^-2.005, 10^-1.995] = [0.009886, 0.01012]; dropout width 0.025 -> d = 0.0025, +-0.000625
        //     [0.199375, 0.200625] -> 4 significant digits [0.1994, 0.2006]
        SearchSpace next = CoarseToFine.nextBox(box, SPACE, trials(), 1, 0.25);
        assertEquals(new Param.LogUniform("lr", 0.009886, 0.01012), next.get("lr"));
        assertEquals(new Param.Uniform("dropout", 0.1994, 0.2006), next.get("dropout"));
        assertEquals(new Param.IntUniform("batch", 63, 65), next.get("batch")); // d = 0.6 -> [63.85, 64.15] -> [63, 65]
    }

    @Test
    void theBoxIsClippedToTheOriginalRange() {
        List<Trial> edge = List.of(trial(1, "0.1", "0.5", "128", "rmsprop", 0.99, 0.01));
        // lr [10^-1.1, 10^-0.9] -> [0.07943, 0.1]; dropout [0.4875, 0.5]; batch 128 +- 0.25 * 11.2 = [125.2, 130.8]
        //     -> outwards [125, 131] -> [125, 128]
        SearchSpace box = CoarseToFine.nextBox(SPACE, SPACE, edge, 3, 0.25);
        assertEquals(SearchSpace.parse("lr=log:0.07943:0.1,dropout=lin:0.4875:0.5,batch=int:125:128,opt=rmsprop"), box);
    }

    @Test
    void withoutARankedTrialTheBoxStays() {
        List<Trial> failed = List.of(trials().get(3));
        assertEquals(SPACE, CoarseToFine.nextBox(SPACE, SPACE, failed, 3, 0.25));
        assertThrows(IllegalArgumentException.class, () -> CoarseToFine.nextBox(SPACE, SPACE, trials(), 0, 0.25));
        assertThrows(IllegalArgumentException.class, () -> CoarseToFine.nextBox(SPACE, SPACE, trials(), 1, -1));
    }

    /** A made-up objective: validation accuracy peaks at lr = 1e-2 and dropout 0.2. */
    static Trial objective(int id, int round, Map<String, String> v) {
        double lr = Math.log10(Double.parseDouble(v.get("lr")));
        double d = Double.parseDouble(v.get("dropout"));
        double acc = 1 - Math.abs(lr + 2) / 10 - Math.abs(d - 0.2);
        return new Trial(id, round, v, Trial.Status.OK, acc, 1 - acc, 0.1, 1, 0.01, "", new double[] {acc});
    }

    @Test
    void roundsNarrowAroundTheBestTrialsSoFar() {
        SearchSpace space = SearchSpace.parse("lr=log:1e-5:1e-1,dropout=lin:0:0.5");
        HyperparameterSearch.Settings s = new HyperparameterSearch.Settings(HyperparameterSearch.Mode.RANDOM, 8, 3, 3, 3, 0.25, 11);
        List<Integer> rounds = new ArrayList<>();
        HyperparameterSearch.Result r = new HyperparameterSearch(s).run(space, CoarseToFineTest::objective,
                new HyperparameterSearch.Listener() {
                    @Override
                    public void roundStarting(int round, SearchSpace box, int trials) {
                        rounds.add(trials);
                    }
                });
        assertEquals(List.of(8, 8, 8), rounds);
        assertEquals(24, r.trials().size());
        for (int i = 0; i < 24; i++) {
            Trial t = r.trials().get(i);
            assertEquals(i + 1, t.id());
            assertEquals(i / 8 + 1, t.round());
            // every trial lies in its round's box
            SearchSpace box = r.boxes().get(t.round() - 1);
            Param.LogUniform lr = (Param.LogUniform) box.get("lr");
            double v = Double.parseDouble(t.values().get("lr"));
            assertTrue(v >= lr.lo() && v <= lr.hi(), "trial " + t.id() + " lr " + v + " outside " + lr.spec());
        }
        // box r+1 is the narrowing of the trials of rounds 1..r
        assertEquals(space, r.boxes().get(0));
        assertEquals(CoarseToFine.nextBox(space, space, r.trials().subList(0, 8), 3, 0.25), r.boxes().get(1));
        assertEquals(CoarseToFine.nextBox(r.boxes().get(1), space, r.trials().subList(0, 16), 3, 0.25), r.boxes().get(2));
        // the rounds close in on the optimum
        double bestRound1 = r.trials().subList(0, 8).stream().mapToDouble(Trial::valAccuracy).max().orElseThrow();
        assertTrue(r.best().valAccuracy() > bestRound1, r.best() + " vs round 1's " + bestRound1);
        assertTrue(Math.abs(Math.log10(Double.parseDouble(r.best().values().get("lr"))) + 2) < 0.5, r.best().toString());
        assertEquals(r.best(), r.ranked().get(0));
    }

    @Test
    void gridRoundsSkipCombinationsAlreadyRun() {
        SearchSpace space = SearchSpace.parse("lr=log:1e-4:1,dropout=0|0.2");
        HyperparameterSearch.Settings s = new HyperparameterSearch.Settings(HyperparameterSearch.Mode.GRID, 1, 3, 2, 1, 0.25, 0);
        HyperparameterSearch.Result r = new HyperparameterSearch(s).run(space, CoarseToFineTest::objective,
                new HyperparameterSearch.Listener() { });
        // round 1: lr 1e-4, 1e-2, 1 x dropout 0, 0.2 = 6; best: lr 1e-2, dropout 0.2
        // round 2: lr in [10^-2.1, 10^-1.9] = 0.007943, 0.01, 0.01259 x dropout 0.2: (0.01, 0.2) already ran
        assertEquals(6 + 2, r.trials().size());
        assertEquals(List.of(Map.of("lr", "0.007943", "dropout", "0.2"), Map.of("lr", "0.01259", "dropout", "0.2")),
                r.trials().subList(6, 8).stream().map(Trial::values).toList());
        assertEquals(Map.of("lr", "0.01", "dropout", "0.2"), r.best().values());
    }

    @Test
    void noBestWithoutARankedTrial() {
        HyperparameterSearch.Settings s = new HyperparameterSearch.Settings(HyperparameterSearch.Mode.RANDOM, 2, 3, 1, 1, 0.25, 0);
        HyperparameterSearch.Result r = new HyperparameterSearch(s).run(SearchSpace.parse("lr=log:1e-3:1e-1"),
                (id, round, v) -> new Trial(id, round, v, Trial.Status.FAILED, Double.NaN, Double.NaN, Double.NaN, 0, 0.1,
                        "bad", null), new HyperparameterSearch.Listener() { });
        assertNull(r.best());
        assertEquals(2, r.ranked().size());
    }
}
