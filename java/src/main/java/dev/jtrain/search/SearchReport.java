package dev.jtrain.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The results of a search, best first ({@link Trial#RANKING}): the console table, {@code results.csv} and
 * {@code results.json}. Columns: rank, trial, round, each hyperparameter, validation accuracy and loss, train loss
 * (last epoch run), epochs run, seconds (the trial's wall time), status. In the files accuracies are fractions in
 * [0, 1] and a value not measured is empty (CSV) or null (JSON); on the console accuracies are percentages.
 * The test set appears once, for the best trial ({@link TestResult}): it never takes part in the ranking.
 */
public final class SearchReport {

    /** The test-set evaluation of the best trial's final weights. */
    public record TestResult(int trial, double accuracy, double loss, int samples) {
    }

    private final SearchSpace space;
    private final HyperparameterSearch.Result result;
    private final List<Trial> ranked;

    public SearchReport(SearchSpace space, HyperparameterSearch.Result result) {
        this.space = space;
        this.result = result;
        this.ranked = result.ranked();
    }

    public List<Trial> ranked() {
        return ranked;
    }

    private List<String> header(boolean file) {
        List<String> h = new ArrayList<>(List.of("rank", "trial", "round"));
        h.addAll(space.names());
        h.addAll(file ? List.of("val_accuracy", "val_loss", "train_loss", "epochs", "seconds", "status")
                : List.of("val acc", "val loss", "train loss", "epochs", "seconds", "status"));
        return h;
    }

    /** The console table (one line per trial, aligned). */
    public String table() {
        List<String> header = header(false);
        List<List<String>> rows = new ArrayList<>();
        for (int r = 0; r < ranked.size(); r++) {
            Trial t = ranked.get(r);
            List<String> row = new ArrayList<>(List.of(Integer.toString(r + 1), Integer.toString(t.id()), Integer.toString(t.round())));
            for (String name : space.names()) {
                row.add(t.values().get(name));
            }
            row.add(Double.isNaN(t.valAccuracy()) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * t.valAccuracy()));
            row.add(fixed(t.valLoss(), 4));
            row.add(fixed(t.trainLoss(), 4));
            row.add(Integer.toString(t.epochs()));
            row.add(fixed(t.seconds(), 1));
            row.add(t.status().label());
            rows.add(row);
        }
        int[] width = new int[header.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = header.get(c).length();
            for (List<String> row : rows) {
                width[c] = Math.max(width[c], row.get(c).length());
            }
        }
        int firstParam = 3;
        int lastParam = 3 + space.size();
        StringBuilder b = new StringBuilder();
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.size(); c++) {
                boolean left = (c >= firstParam && c < lastParam) || c == row.size() - 1;  // values and status: text
                String cell = row.get(c);
                String pad = " ".repeat(width[c] - cell.length());
                line.append(c == 0 ? "" : "  ").append(left ? cell + pad : pad + cell);
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }

    /** Fixed decimals; scientific for magnitudes from 1e5 (a loss that blew up) so the column stays narrow. */
    private static String fixed(double v, int decimals) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return String.format(Locale.ROOT, Math.abs(v) < 1e5 ? "%." + decimals + "f" : "%.3e", v);
    }

    /** {@code results.csv}: the table's rows with the values at full precision. */
    public void writeCsv(Path file) throws IOException {
        StringBuilder b = new StringBuilder(String.join(",", header(true))).append('\n');
        for (int r = 0; r < ranked.size(); r++) {
            Trial t = ranked.get(r);
            List<String> row = new ArrayList<>(List.of(Integer.toString(r + 1), Integer.toString(t.id()), Integer.toString(t.round())));
            for (String name : space.names()) {
                row.add(csv(t.values().get(name)));
            }
            row.add(number(t.valAccuracy()));
            row.add(number(t.valLoss()));
            row.add(number(t.trainLoss()));
            row.add(Integer.toString(t.epochs()));
            row.add(number(t.seconds()));
            row.add(t.status().label());
            b.append(String.join(",", row)).append('\n');
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    /** RFC 4180 quoting where needed (a choice such as {@code 128,128} holds a comma). */
    static String csv(String s) {
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    /**
     * {@code results.json}: {@code search} (the caller's settings), {@code rounds} (each round's box and trial count),
     * {@code trials} (best first: rank, trial, round, folder, values, status, message, the metrics,
     * {@code val_accuracy_curve}) and {@code best} (the best trial with {@code test}, when measured).
     */
    public ObjectNode toJson(ObjectNode settings, TestResult test) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.set("search", settings);
        ArrayNode rounds = root.putArray("rounds");
        for (int r = 0; r < result.boxes().size(); r++) {
            int round = r + 1;
            ObjectNode o = rounds.addObject();
            o.put("round", round);
            o.put("space", result.boxes().get(r).spec());
            o.put("trials", result.trials().stream().filter(t -> t.round() == round).count());
        }
        ArrayNode trials = root.putArray("trials");
        for (int r = 0; r < ranked.size(); r++) {
            trials.add(trialJson(ranked.get(r), r + 1));
        }
        Trial best = result.best();
        if (best == null) {
            root.putNull("best");
        } else {
            ObjectNode b = trialJson(best, 1);
            if (test != null && test.trial() == best.id()) {
                ObjectNode t = b.putObject("test");
                putNumber(t, "accuracy", test.accuracy());
                putNumber(t, "loss", test.loss());
                t.put("samples", test.samples());
            }
            root.set("best", b);
        }
        return root;
    }

    private ObjectNode trialJson(Trial t, int rank) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("rank", rank);
        o.put("trial", t.id());
        o.put("round", t.round());
        o.put("folder", t.folder());
        ObjectNode v = o.putObject("values");
        for (String name : space.names()) {
            putValue(v, name, space.get(name), t.values().get(name));
        }
        o.put("status", t.status().label());
        if (!t.message().isEmpty()) {
            o.put("message", t.message());
        }
        putNumber(o, "val_accuracy", t.valAccuracy());
        putNumber(o, "val_loss", t.valLoss());
        putNumber(o, "train_loss", t.trainLoss());
        o.put("epochs", t.epochs());
        putNumber(o, "seconds", t.seconds());
        ArrayNode curve = o.putArray("val_accuracy_curve");
        for (double a : t.valAccuracyCurve()) {
            if (Double.isFinite(a)) {
                curve.add(a);
            } else {
                curve.addNull();
            }
        }
        return o;
    }

    /** Numbers of numeric ranges as JSON numbers, choices as strings. */
    private static void putValue(ObjectNode o, String name, Param p, String value) {
        if (p instanceof Param.IntUniform) {
            o.put(name, Long.parseLong(value));
        } else if (p.numeric()) {
            o.put(name, Double.parseDouble(value));
        } else {
            o.put(name, value);
        }
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }

    public void writeJson(Path file, ObjectNode settings, TestResult test) throws IOException {
        String text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(settings, test));
        Files.writeString(file, text + System.lineSeparator(), StandardCharsets.UTF_8);
    }
}
