package dev.jtrain.search;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One finished trial of a search: its number (1-based over the whole search), round, hyperparameter values (the texts
 * given to the options), how it ended and what the validation set measured of the weights it ended with (with early
 * stopping: the restored best epoch's). {@code valAccuracyCurve} holds the validation accuracy of every epoch run.
 * Values not measured (a failed trial) are NaN.
 */
public record Trial(int id, int round, Map<String, String> values, Status status, double valAccuracy, double valLoss,
                    double trainLoss, int epochs, double seconds, String message, double[] valAccuracyCurve) {

    /** How a trial ended. */
    public enum Status {
        /** Ran all its epochs. */
        OK,
        /** Early stopping ended it before its last epoch (its best epoch's weights were kept). */
        EARLY_STOPPED,
        /** The loss or the weights became NaN/Inf; the trial is ranked last. */
        DIVERGED,
        /** Any other error (the message says which); ranked last. */
        FAILED;

        /** The name in the results: ok, early-stopped, diverged, failed. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * The ranking of a search: by validation accuracy, highest first; ties by validation loss, lowest first; then by
     * trial number. Trials without a validation accuracy (failed, diverged) come last.
     */
    public static final Comparator<Trial> RANKING = Comparator
            .comparing((Trial t) -> !t.ranked())
            .thenComparing(Trial::valAccuracy, Trial::descendingNanLast)
            .thenComparing(Trial::valLoss, Trial::ascendingNanLast)
            .thenComparingInt(Trial::id);

    public Trial {
        values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
        message = message == null ? "" : message;
        valAccuracyCurve = valAccuracyCurve == null ? new double[0] : valAccuracyCurve.clone();
    }

    /** Whether the trial takes part in the ranking: it ended normally with a finite validation accuracy. */
    public boolean ranked() {
        return (status == Status.OK || status == Status.EARLY_STOPPED) && Double.isFinite(valAccuracy);
    }

    /** The trial's folder under the search's output folder: {@code trial-001}. */
    public String folder() {
        return folder(id);
    }

    public static String folder(int id) {
        return String.format(Locale.ROOT, "trial-%03d", id);
    }

    /** {@code lr=0.001 dropout=0.2}. */
    public String describeValues() {
        StringBuilder b = new StringBuilder();
        values.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return b.toString();
    }

    private static int descendingNanLast(double a, double b) {
        return ascendingNanLast(-a, -b);
    }

    private static int ascendingNanLast(double a, double b) {
        boolean na = Double.isNaN(a);
        boolean nb = Double.isNaN(b);
        if (na || nb) {
            return Boolean.compare(na, nb);
        }
        return Double.compare(a, b);
    }
}
