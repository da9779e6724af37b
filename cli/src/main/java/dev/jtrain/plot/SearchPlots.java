package dev.jtrain.plot;

import dev.jtrain.search.Param;
import dev.jtrain.search.Trial;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The charts of {@code jtrain search --plot}: every trial's validation accuracy per epoch in one chart, and for a
 * numeric hyperparameter the final validation accuracy of each trial against its value (a logarithmic x axis for a
 * log range). Trials without a finite value are left out.
 */
public final class SearchPlots {
    /** More series than this and the curves chart has no legend (it would cover the curves). */
    static final int MAX_LEGEND = 12;

    private SearchPlots() {
    }

    /** One series per trial with at least one finite validation accuracy; false when there is none to draw. */
    public static boolean validationCurves(List<Trial> trials, Path file) throws IOException {
        LinePlot p = new LinePlot("Validation accuracy per trial", "epoch", "validation accuracy");
        int n = 0;
        for (Trial t : trials) {
            List<double[]> pts = new ArrayList<>();
            double[] c = t.valAccuracyCurve();
            for (int e = 0; e < c.length; e++) {
                if (Double.isFinite(c[e])) {
                    pts.add(new double[] {e + 1, c[e]});
                }
            }
            if (!pts.isEmpty()) {
                p.series("trial " + t.id(), pts.stream().mapToDouble(a -> a[0]).toArray(), pts.stream().mapToDouble(a -> a[1]).toArray());
                n++;
            }
        }
        if (n == 0) {
            return false;
        }
        p.legend(n <= MAX_LEGEND).savePng(file);
        return true;
    }

    /** Validation accuracy against {@code param}'s value, one point per ranked trial; false when there is none. */
    public static boolean accuracyVersus(List<Trial> trials, Param param, Path file) throws IOException {
        if (!param.numeric()) {
            throw new IllegalArgumentException("'" + param.name() + "' is a list of choices, not a numeric range");
        }
        List<Trial> ranked = trials.stream().filter(Trial::ranked).toList();
        if (ranked.isEmpty()) {
            return false;
        }
        double[] x = ranked.stream().mapToDouble(t -> Double.parseDouble(t.values().get(param.name()))).toArray();
        double[] y = ranked.stream().mapToDouble(Trial::valAccuracy).toArray();
        boolean log = param instanceof Param.LogUniform;
        new LinePlot("Validation accuracy against " + param.name(), param.name() + (log ? " (log scale)" : ""),
                "validation accuracy").series("trials", x, y).scatter(true).logX(log).legend(false).savePng(file);
        return true;
    }
}
