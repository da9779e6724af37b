package dev.jtrain.ensemble;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * What {@link Ensemble#evaluate} measured: each member's accuracy (fraction in [0, 1]) and mean cross-entropy loss on
 * the data set, and the ensemble's (loss NaN for {@link Combine#VOTE}).
 */
public record EnsembleReport(Combine rule, int samples, List<Row> members, Row ensemble) {

    /** One line of the table: a member (its file) or the ensemble. */
    public record Row(String name, double accuracy, double loss) {
    }

    public EnsembleReport {
        members = List.copyOf(members);
    }

    /** The member with the highest accuracy (the first of equals). */
    public Row bestSingle() {
        Row best = members.get(0);
        for (Row r : members) {
            if (r.accuracy() > best.accuracy()) {
                best = r;
            }
        }
        return best;
    }

    /** The member table, then the ensemble's row. */
    public String table() {
        int w = "ensemble of 10 (logits)".length();
        for (Row r : members) {
            w = Math.max(w, r.name().length());
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-" + w + "s  %9s  %8s%n", "member", "accuracy", "loss"));
        for (Row r : members) {
            sb.append(line(r.name(), r, w));
        }
        sb.append(line(ensemble.name() + " (" + rule + ")", ensemble, w));
        return sb.toString();
    }

    private static String line(String name, Row r, int w) {
        String loss = Double.isNaN(r.loss()) ? "-" : String.format(Locale.ROOT, "%.4f", r.loss());
        return String.format(Locale.ROOT, "%-" + w + "s  %7.2f %%  %8s%n", name, 100 * r.accuracy(), loss);
    }

    /** One line, e.g. {@code ensemble of 3: 98.90 % (best single 98.50 %)}. */
    public String summary() {
        return String.format(Locale.ROOT, "%s: %.2f %% (best single %.2f %%, %s)", ensemble.name(), 100 * ensemble.accuracy(),
                100 * bestSingle().accuracy(), bestSingle().name());
    }

    /**
     * {@code {"combine", "samples", "members": [{"name", "accuracy", "loss"}], "ensemble": {"members", "accuracy",
     * "loss"}, "best_single": {"name", "accuracy"}}}; a NaN loss is null.
     */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("combine", rule.toString());
        o.put("samples", samples);
        var arr = o.putArray("members");
        for (Row r : members) {
            ObjectNode m = arr.addObject();
            m.put("name", r.name());
            m.put("accuracy", r.accuracy());
            putNumber(m, "loss", r.loss());
        }
        ObjectNode e = o.putObject("ensemble");
        e.put("members", members.size());
        e.put("accuracy", ensemble.accuracy());
        putNumber(e, "loss", ensemble.loss());
        ObjectNode b = o.putObject("best_single");
        b.put("name", bestSingle().name());
        b.put("accuracy", bestSingle().accuracy());
        return o;
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
