package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.io.CheckpointSaver;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.train.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The checkpoint and transfer-learning options of {@code jtrain train} (a picocli mixin):
 * <ul>
 *   <li>{@code --save F.safetensors}: after every epoch, the weights (PyTorch names) and the sidecar
 *       {@code F.json} (optimizer state, RNG, counters, the run's options), replaced atomically
 *       ({@link Checkpoint});</li>
 *   <li>{@code --resume F.safetensors}: continues the saved run up to {@code --epochs} in total, with its
 *       recorded options (given options override them, except those that fix the model and its randomness:
 *       {@link #FIXED}), saving into F after each epoch unless {@code --save} names another file; on the cpu
 *       with the same threads, the result has the bits of a run never stopped;</li>
 *   <li>{@code --load-weights F.safetensors}: starts from the weights of any safetensors file (a jtrain
 *       checkpoint, or one PyTorch wrote), with fresh optimizer state; {@code --reinit-head} keeps the fresh
 *       initialisation of the last Linear layer instead (for another class count: {@code --classes N});</li>
 *   <li>{@code --freeze 0,2} / {@code --freeze 0.}: parameters left out of the optimizer (no update, no state);</li>
 *   <li>{@code --lr-group PREFIX=LR}: parameters under PREFIX get their own learning rate.</li>
 * </ul>
 */
public final class CheckpointOptions {
    /** Options of the recorded run that a resumed run cannot change (they fix the tensors' names, shapes and bits). */
    static final Set<String> FIXED = Set.of("--model", "--hidden", "--optimizer", "--seed", "--dropout", "--classes",
            "--freeze");
    /** Options that belong to one invocation and are neither recorded nor restored. */
    static final Set<String> SESSION = Set.of("--save", "--resume", "--load-weights", "--reinit-head", "--epochs", "--quiet",
            "--metrics-out", "--device", "--kernels", "--threads", "--help", "--version");

    @Option(names = "--save", paramLabel = "FILE",
            description = "after every epoch, save the weights to FILE (safetensors, PyTorch names) and the training "
                    + "state to its sidecar (FILE with .json for .safetensors), atomically")
    String save;

    @Option(names = "--resume", paramLabel = "FILE",
            description = "continue the run saved in FILE up to --epochs in total, with its recorded options; "
                    + "it is saved into FILE after each epoch unless --save names another")
    String resume;

    @Option(names = "--load-weights", paramLabel = "FILE",
            description = "start from the weights in FILE (any safetensors file with this model's names), fresh optimizer")
    String loadWeights;

    @Option(names = "--reinit-head", description = "with --load-weights: keep the fresh initialisation of the last "
            + "Linear layer (a new head, e.g. for another --classes)")
    boolean reinitHead;

    @Option(names = "--classes", paramLabel = "N", description = "number of outputs of the head (default: the data's classes)")
    Integer classes;

    @Option(names = "--freeze", paramLabel = "NAMES", split = ",",
            description = "parameters not to train: names (0.weight), layers (0 = 0.weight and 0.bias) or prefixes ending in '.'")
    List<String> freeze;

    @Option(names = "--lr-group", paramLabel = "PREFIX=LR",
            description = "learning rate LR for the parameters under PREFIX (a layer like 4, a name, or a prefix); repeatable")
    List<String> lrGroups;

    private Checkpoint resumed;   // the checkpoint of --resume, loaded once

    /**
     * With {@code --resume}: loads the checkpoint and gives every option that the user did not give the value
     * the saved run had (parsed by picocli like the original command line; {@code fresh} makes an unparsed
     * command object to parse into). Checks the combinations of this mixin's options first.
     */
    void applyRecordedRun(CommandSpec spec, Supplier<Object> fresh, PrintWriter notes) throws CheckpointException {
        if (resume != null && loadWeights != null) {
            throw new IllegalArgumentException("--resume and --load-weights exclude each other (--resume restores the "
                    + "weights and the training state, --load-weights only the weights)");
        }
        if (reinitHead && loadWeights == null) {
            throw new IllegalArgumentException("--reinit-head needs --load-weights (it keeps the new head's fresh weights)");
        }
        if (classes != null && classes < 1) {
            throw new IllegalArgumentException("--classes must be >= 1, got " + classes);
        }
        if (lrGroups != null) {
            lrGroups.forEach(CheckpointOptions::parseLrGroup); // syntax errors before any data is read
        }
        if (save != null) {
            Path dir = path("--save", save).toAbsolutePath().getParent();
            if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--save " + save + ": the folder " + dir + " does not exist");
            }
        }
        if (resume == null) {
            return;
        }
        Path file = path("--resume", resume);
        resumed = Checkpoint.load(file);
        if (!Checkpoint.KIND_TRAINING.equals(resumed.kind())) {
            throw new CheckpointException(file, "is an " + resumed.kind() + " checkpoint (an export), not a training "
                    + "checkpoint: use it with --load-weights");
        }
        JsonNode recorded = resumed.config().path("options");
        if (!recorded.isObject()) {
            throw new CheckpointException(Checkpoint.sidecarOf(file), "config.options: the saved run's options are missing");
        }
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        List<String> args = new ArrayList<>();
        List<String> restored = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = recorded.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            OptionSpec current = spec.findOption(name);
            if (current == null || SESSION.contains(name)) {
                continue; // an option this jtrain does not have (ignored), or one of this invocation's
            }
            if (given != null && given.hasMatchedOption(name)) {
                JsonNode now = record(current.getValue());
                if (!e.getValue().equals(now)) {
                    if (FIXED.contains(name)) {
                        throw new IllegalArgumentException(name + " " + show(now) + " differs from the resumed run's "
                                + show(e.getValue()) + " (" + file + "); a resumed run keeps its model, optimizer and seed");
                    }
                    if (notes != null) {
                        notes.println("resume: " + name + " " + show(now) + " replaces the saved run's " + show(e.getValue()));
                    }
                }
                continue;
            }
            if (addArgs(name, e.getValue(), args)) {
                restored.add(name);
            }
        }
        CommandLine parsed = new CommandLine(fresh.get());
        CommandLine.ParseResult pr = parsed.parseArgs(args.toArray(new String[0]));
        if (!pr.errors().isEmpty()) {
            throw new CheckpointException(Checkpoint.sidecarOf(file), "the saved run's options " + args
                    + " do not parse: " + pr.errors().get(0).getMessage());
        }
        for (String name : restored) {
            spec.findOption(name).setValue(parsed.getCommandSpec().findOption(name).getValue());
        }
    }

    /**
     * Adds a recorded option's value as command-line arguments: a true boolean as the bare flag, a list as the flag
     * repeated, anything else as flag and text. Returns whether anything was added (a false boolean adds nothing).
     */
    static boolean addArgs(String name, JsonNode v, List<String> args) {
        if (v.isBoolean()) {
            if (v.booleanValue()) {
                args.add(name);
            }
            return v.booleanValue();
        }
        if (v.isArray()) {
            for (JsonNode x : v) {
                args.add(name);
                args.add(x.asText());
            }
            return true;
        }
        args.add(name);
        args.add(v.asText());
        return true;
    }

    /** The class count of the model's head: --classes, else the data's. */
    int classes(int dataClasses) {
        if (classes != null && classes < dataClasses) {
            throw new IllegalArgumentException("--classes " + classes + " is fewer than the " + dataClasses
                    + " classes of the training data");
        }
        return classes != null ? classes : dataClasses;
    }

    /** The parameters the optimizer updates: the model's trainable ones less those --freeze names. */
    List<Parameter> trainable(Layer model) {
        if (freeze == null || freeze.isEmpty()) {
            return model.parameters();
        }
        Map<String, Parameter> named = trainableByName(model);
        List<String> frozen = new ArrayList<>();
        for (String f : freeze) {
            List<String> m = matching(named.keySet(), f.trim(), "--freeze");
            frozen.addAll(m);
        }
        List<Parameter> out = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : named.entrySet()) {
            if (!frozen.contains(e.getKey())) {
                out.add(e.getValue());
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--freeze " + String.join(",", freeze) + " freezes every parameter: nothing to train");
        }
        return out;
    }

    /**
     * Gets the run ready after model and optimizer are built: parameter groups (--lr-group), then --resume
     * (weights, optimizer, generator; the data were prepared with {@link #savedPreprocessing()}) or
     * --load-weights. Returns the first epoch to run.
     */
    int prepare(Layer model, Optimizer optimizer, Generator gen, JsonNode preprocessing, int epochs, PrintWriter notes)
            throws CheckpointException {
        applyLrGroups(model, optimizer);
        if (resumed != null) {
            Path file = resumed.file();
            if (resumed.epoch() >= epochs) {
                throw new IllegalArgumentException(file + " already holds " + resumed.epoch() + " epoch"
                        + (resumed.epoch() == 1 ? "" : "s") + "; ask for more with --epochs (the total, e.g. --epochs "
                        + (resumed.epoch() + 1) + ")");
            }
            resumed.restoreModel(model, name -> false);
            resumed.restoreOptimizer(model, optimizer);
            resumed.restoreGenerator(gen);
            if (notes != null) {
                notes.printf(Locale.ROOT, "resuming %s: %d epoch%s (%d steps) done%n", file, resumed.epoch(),
                        resumed.epoch() == 1 ? "" : "s", resumed.step());
            }
            return resumed.epoch() + 1;
        }
        if (loadWeights != null) {
            Path file = path("--load-weights", loadWeights);
            List<String> head = reinitHead ? StateDict.headNames(model) : List.of();
            if (reinitHead && head.isEmpty()) {
                throw new IllegalArgumentException("--reinit-head: the model has no Linear layer");
            }
            Map<String, dev.jtrain.tensor.Tensor> weights = Checkpoint.loadWeights(file);
            try {
                StateDict.load(model, weights, file, head::contains);
            } catch (CheckpointException e) {
                for (String h : StateDict.headNames(model)) {
                    if (!reinitHead && e.getMessage().contains("tensor " + h + ": shape")) {
                        throw new CheckpointException(file, e.getMessage().substring(file.toString().length() + 2)
                                + " (for a head of another class count add --reinit-head)", e);
                    }
                }
                throw e;
            }
            if (notes != null) {
                notes.printf(Locale.ROOT, "loaded %d tensors from %s%s%n", weights.size() - (reinitHead ? head.size() : 0),
                        file, reinitHead ? "; new head " + head : "");
            }
        }
        return 1;
    }

    /** With --resume: the saved run's fitted preprocessing (JSON), to apply instead of fitting again; else null. */
    JsonNode savedPreprocessing() {
        if (resumed == null) {
            return null;
        }
        JsonNode p = resumed.preprocessing();
        return p.isNull() ? null : p;
    }

    /** With --save: a listener saving after every epoch (add it after the divergence monitor). */
    CheckpointSaver saver(CommandSpec spec, Layer model, Optimizer optimizer, Generator gen, JsonNode preprocessing) {
        String target = save != null ? save : resume; // a resumed run goes on saving into its checkpoint
        if (target == null) {
            return null;
        }
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.put("command", spec.qualifiedName());
        config.set("options", recordOptions(spec));
        return new CheckpointSaver(path(save != null ? "--save" : "--resume", target), model, optimizer, gen, null, config, preprocessing,
                resumed == null ? null : resumed.history());
    }

    /** Registers the saver, if any, with the trainer, and returns it (null without --save/--resume). */
    CheckpointSaver addSaver(Trainer trainer, CommandSpec spec, Layer model, Optimizer optimizer, Generator gen,
                             JsonNode preprocessing) {
        CheckpointSaver s = saver(spec, model, optimizer, gen, preprocessing);
        if (s != null) {
            trainer.addListener(s);
        }
        return s;
    }

    /** With --resume: the loaded checkpoint (its weights are in the model after {@link #prepare}); else null. */
    Checkpoint resumed() {
        return resumed;
    }

    /** Every option's value except this invocation's ({@link #SESSION}), as JSON: booleans, strings, lists of strings. */
    static ObjectNode recordOptions(CommandSpec spec) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        for (OptionSpec opt : spec.options()) {
            String name = opt.longestName();
            if (opt.usageHelp() || opt.versionHelp() || SESSION.contains(name) || opt.getValue() == null) {
                continue;
            }
            o.set(name, record(opt.getValue()));
        }
        return o;
    }

    private static JsonNode record(Object v) {
        if (v instanceof Boolean b) {
            return BooleanNode.valueOf(b);
        }
        if (v instanceof Collection<?> c) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            c.forEach(x -> a.add(String.valueOf(x)));
            return a;
        }
        if (v != null && v.getClass().isArray()) {
            ArrayNode a = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < Array.getLength(v); i++) {
                a.add(String.valueOf(Array.get(v, i)));
            }
            return a;
        }
        return v == null ? JsonNodeFactory.instance.nullNode() : TextNode.valueOf(String.valueOf(v));
    }

    private static String show(JsonNode v) {
        if (v.isArray()) {
            List<String> parts = new ArrayList<>();
            v.forEach(x -> parts.add(x.asText()));
            return String.join(",", parts);
        }
        return v.asText();
    }

    private void applyLrGroups(Layer model, Optimizer optimizer) {
        if (lrGroups == null) {
            return;
        }
        Map<String, Parameter> updated = new LinkedHashMap<>();
        List<Parameter> opt = optimizer.parameters();
        for (Map.Entry<String, Parameter> e : trainableByName(model).entrySet()) {
            if (opt.contains(e.getValue())) {
                updated.put(e.getKey(), e.getValue());
            }
        }
        for (String g : lrGroups) {
            Map.Entry<String, Double> pl = parseLrGroup(g);
            List<Parameter> group = new ArrayList<>();
            for (String n : matching(updated.keySet(), pl.getKey(), "--lr-group")) {
                group.add(updated.get(n));
            }
            optimizer.setGroupLr(group, pl.getValue());
        }
    }

    /** "PREFIX=LR" -> (PREFIX, LR). */
    static Map.Entry<String, Double> parseLrGroup(String g) {
        int eq = g.lastIndexOf('=');
        if (eq <= 0 || eq == g.length() - 1) {
            throw new IllegalArgumentException("--lr-group: expected PREFIX=LR (e.g. 4=0.01), got '" + g + "'");
        }
        double lr;
        try {
            lr = Double.parseDouble(g.substring(eq + 1).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--lr-group " + g + ": '" + g.substring(eq + 1) + "' is not a number");
        }
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr-group " + g + ": the learning rate must be >= 0");
        }
        return Map.entry(g.substring(0, eq).trim(), lr);
    }

    private static Map<String, Parameter> trainableByName(Layer model) {
        return model.namedParameters();
    }

    /**
     * The names a selector picks: itself when it is a name, the names under it when it ends in '.', else the
     * names under "selector." (a layer index or path). Picking nothing is an error listing the names.
     */
    static List<String> matching(Collection<String> names, String selector, String option) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            boolean hit = selector.endsWith(".") ? n.startsWith(selector) : n.equals(selector) || n.startsWith(selector + ".");
            if (hit) {
                out.add(n);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(option + ": '" + selector + "' matches no trainable parameter (they are "
                    + String.join(", ", names) + ")");
        }
        return out;
    }

    private static Path path(String option, String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(option + ": bad path '" + text + "': " + e.getReason());
        }
    }
}
