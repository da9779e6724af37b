package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.data.Dataset;
import dev.jtrain.search.CoarseToFine;
import dev.jtrain.search.GridSearch;
import dev.jtrain.search.HyperparameterSearch;
import dev.jtrain.search.Param;
import dev.jtrain.plot.SearchPlots;
import dev.jtrain.search.SearchReport;
import dev.jtrain.search.SearchSpace;
import dev.jtrain.search.Trial;
import dev.jtrain.train.DivergenceMonitor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.Evaluation;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingListener;
import dev.jtrain.train.TrainingReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code jtrain search}: random or grid search over {@code jtrain train} options, with coarse-to-fine rounds. Each
 * trial is a {@link TrainCommand} run in this process with the search's training options, the trial's
 * {@code --KEY VALUE}s, the search's {@code --seed} and {@code --val-split}, and its metrics and epoch log written
 * into {@code OUT/trial-NNN/}. Trials are ranked on the validation split only; the test set is evaluated for the best
 * trial alone (each time a trial becomes the best so far, so the final best's weights need not be kept).
 * See {@link HyperparameterSearch} and {@link SearchReport}.
 */
@Command(name = "search", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = TrainCommand.VersionProvider.class,
        description = {"Search hyperparameters of 'jtrain train': random or grid search, coarse-to-fine rounds, "
                + "results ranked by validation accuracy.",
                "Every other option is passed to each trial's 'jtrain train' (e.g. --model mlp --epochs 2 --train-limit 2000)."},
        footer = {"", "Example: jtrain search --space lr=log:1e-4:1e-1,weight-decay=log:1e-6:1e-2,dropout=lin:0:0.5 "
                + "--trials 12 --rounds 2 --keep 3 --out runs/s1 --model mlp --epochs 2"})
public final class SearchCommand implements Callable<Integer> {
    /** Options of jtrain train that a search sets itself for every trial, or that make no sense per trial. */
    static final Set<String> RESERVED = Set.of("--metrics-out", "--log", "--plot", "--save", "--resume", "--quiet",
            "--val-split", "--help", "--version");
    /** Option types whose values may come from a numeric range (others: a list of choices). */
    private static final Set<Class<?>> DECIMAL = Set.of(Double.class, double.class, Float.class, float.class);
    private static final Set<Class<?>> INTEGER = Set.of(Integer.class, int.class, Long.class, long.class);

    private CommandSpec spec;

    @Option(names = "--space", paramLabel = "NAME=RANGE[,...]", required = true,
            description = {"hyperparameters to search, by jtrain train option name without --: log:LO:HI (log-uniform), "
                    + "lin:LO:HI (uniform), int:LO:HI (integers) or A|B|C (choices), e.g. "
                    + "lr=log:1e-4:1e-1,weight-decay=log:1e-6:1e-2,dropout=lin:0:0.5 (repeatable)"})
    List<String> space = new ArrayList<>();

    @Option(names = "--mode", paramLabel = "random|grid", description = "random search or grid search (default: ${DEFAULT-VALUE})")
    String mode = "random";

    @Option(names = "--trials", paramLabel = "N", description = "random search: trials per round (default: 10)")
    Integer trials;

    @Option(names = "--grid-points", paramLabel = "K",
            description = "grid search: values per continuous range, geometric for log ranges (default: ${DEFAULT-VALUE})")
    int gridPoints = 3;

    @Option(names = "--rounds", paramLabel = "R",
            description = "coarse-to-fine rounds: each round after the first searches the box of the best --keep trials so far (default: ${DEFAULT-VALUE})")
    int rounds = 1;

    @Option(names = "--keep", paramLabel = "K", description = "trials that span the next round's box (default: ${DEFAULT-VALUE})")
    int keep = 3;

    @Option(names = "--margin", paramLabel = "M",
            description = "widening of the next box on each side, as a fraction of the kept span (log10 span for log ranges; default: ${DEFAULT-VALUE})")
    double margin = CoarseToFine.DEFAULT_MARGIN;

    @Option(names = "--val-split", paramLabel = "F",
            description = "fraction of the training set held out to rank the trials (default: ${DEFAULT-VALUE})")
    double valSplit = 0.1;

    @Option(names = "--seed", paramLabel = "N", description = "seed of the random search and of every trial's training (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "output folder: results.csv, results.json and trial-NNN/ (epochs.csv, metrics.json, command.txt)")
    String out;

    @Option(names = "--plot", description = "draw OUT/val-curves.png (every trial's validation accuracy per epoch) and "
            + "OUT/val-vs-NAME.png per numeric hyperparameter; each trial's curves.png")
    boolean plot;

    @Option(names = {"-q", "--quiet"}, description = "no line per trial, only the results table")
    boolean quiet;

    @Unmatched
    List<String> trainArgs = new ArrayList<>();

    @Spec
    void spec(CommandSpec spec) {
        this.spec = spec;
        spec.parser().collectErrors(true);
    }

    @Override
    public Integer call() {
        PrintWriter console = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            List<Exception> errors = spec.commandLine().getParseResult() == null ? List.of()
                    : spec.commandLine().getParseResult().errors();
            if (!errors.isEmpty()) {
                throw new TrainCommand.UsageException(errors.get(0).getMessage());
            }
            return run(console);
        } catch (TrainCommand.UsageException | IllegalArgumentException e) {
            return fail(err, e.getMessage(), TrainCommand.EXIT_USAGE);
        } catch (TrainCommand.RunFailure e) {
            return fail(err, e.getMessage(), TrainCommand.EXIT_FAILURE);
        } catch (IOException e) {
            return fail(err, e.getClass().getSimpleName() + ": " + e.getMessage(), TrainCommand.EXIT_FAILURE);
        } catch (java.io.UncheckedIOException e) {
            return fail(err, e.getMessage(), TrainCommand.EXIT_FAILURE);
        } catch (RuntimeException e) {
            if (System.getenv("JTRAIN_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return fail(err, e.getClass().getSimpleName() + ": " + e.getMessage(), TrainCommand.EXIT_FAILURE);
        }
    }

    private static int fail(PrintWriter err, String message, int code) {
        String line = message == null ? "unknown error" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
        err.println("jtrain search: error: " + line);
        err.flush();
        return code;
    }

    private int run(PrintWriter console) throws IOException {
        // ---- validate everything before the first trial
        SearchSpace searchSpace;
        HyperparameterSearch.Settings settings;
        try { // the library's messages name its parameters; shown with this command's options
            searchSpace = SearchSpace.parse(space);
            HyperparameterSearch.Mode m = HyperparameterSearch.Mode.parse(mode);
            if (m == HyperparameterSearch.Mode.GRID && trials != null) {
                throw new TrainCommand.UsageException("--trials applies to random search; a grid runs every combination (here "
                        + GridSearch.size(searchSpace, gridPoints) + ", see --grid-points)");
            }
            settings = new HyperparameterSearch.Settings(m, trials == null ? 10 : trials, gridPoints, rounds, keep, margin, seed);
        } catch (IllegalArgumentException e) {
            throw new TrainCommand.UsageException(OptionNames.reword(e.getMessage(), OptionNames.SEARCH));
        }
        if (!(valSplit > 0 && valSplit < 1)) {
            throw new TrainCommand.UsageException("--val-split must be in (0, 1), got " + valSplit
                    + " (a search ranks its trials on the validation split)");
        }
        CommandLine trainCli = new CommandLine(new TrainCommand()); // jtrain train's options: the keys a space may use
        for (Param p : searchSpace.params()) {
            checkSearchable(trainCli.getCommandSpec(), p);
        }
        checkTrainArgs(trainCli, searchSpace);
        Path outDir = outDir();

        // ---- the search
        TrialRunner runner = new TrialRunner(outDir, trainCli.getCommandSpec());
        HyperparameterSearch search = new HyperparameterSearch(settings);
        if (!quiet) {
            console.printf(Locale.ROOT, "jtrain search: %s search, %s, %d round%s, ranked on a %s validation split; results in %s%n",
                    settings.mode().label(), settings.mode() == HyperparameterSearch.Mode.GRID ? "a grid of " + GridSearch.size(searchSpace, gridPoints) + " combinations"
                            : settings.trials() + " trials per round", rounds, rounds == 1 ? "" : "s", fmt(valSplit),
                    outDir);
            console.flush();
        }
        ObjectNode settingsJson = settingsJson(searchSpace, settings);
        HyperparameterSearch.Result result = search.run(searchSpace, runner, new ProgressLines(console, quiet, rounds, keep,
                soFar -> writeResults(new SearchReport(searchSpace, soFar), outDir, settingsJson, runner.bestTest)));

        // ---- the results (also rewritten after every trial; the last rounds may have run no new trial)
        SearchReport report = new SearchReport(searchSpace, result);
        writeResults(report, outDir, settingsJson, runner.bestTest);
        if (plot) {
            SearchPlots.validationCurves(result.trials(), outDir.resolve("val-curves.png"));
            for (Param p : searchSpace.params()) {
                if (p.numeric()) {
                    SearchPlots.accuracyVersus(result.trials(), p, outDir.resolve("val-vs-" + p.name() + ".png"));
                }
            }
        }
        console.println();
        console.print(report.table());
        Trial best = result.best();
        if (best == null) {
            console.flush();
            Trial first = result.trials().get(0);
            throw new TrainCommand.RunFailure("no trial finished with a validation accuracy (trial " + first.id() + ": "
                    + first.message() + ")", null);
        }
        SearchReport.TestResult test = runner.bestTest;
        console.printf(Locale.ROOT, "best: trial %d (%s): validation accuracy %.2f%%", best.id(), best.describeValues(),
                100 * best.valAccuracy());
        if (test != null && test.trial() == best.id()) {
            console.printf(Locale.ROOT, "; test accuracy %.2f%% on %d samples (the best trial's only)", 100 * test.accuracy(),
                    test.samples());
        }
        console.println();
        console.printf("results: %s, %s%n", outDir.resolve("results.csv"), outDir.resolve("results.json"));
        console.flush();
        return 0;
    }

    /** results.csv and results.json, rewritten after every trial so that a search cut off keeps what it found. */
    private static void writeResults(SearchReport report, Path outDir, ObjectNode settings, SearchReport.TestResult test) {
        try {
            report.writeCsv(outDir.resolve("results.csv"));
            report.writeJson(outDir.resolve("results.json"), settings, test);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the results in " + outDir + ": " + e.getMessage(), e);
        }
    }

    /** A key must be a jtrain train option that takes a value of the range's kind (a switch: true|false). */
    static void checkSearchable(CommandSpec trainSpec, Param p) {
        String flag = "--" + p.name();
        OptionSpec o = null;
        for (OptionSpec candidate : trainSpec.options()) {
            if (List.of(candidate.names()).contains(flag)) {
                o = candidate;
            }
        }
        if (o == null) {
            throw new TrainCommand.UsageException("--space: unknown key '" + p.name() + "': jtrain train has no option " + flag
                    + " (e.g. lr, weight-decay, dropout, batch, momentum, optimizer; see 'jtrain train --help')");
        }
        if (RESERVED.contains(o.longestName())) {
            throw new TrainCommand.UsageException("--space: '" + p.name() + "' cannot be searched: the search sets " + flag
                    + " itself");
        }
        Class<?> type = o.type();
        String kind = p.spec();
        if (o.arity().max() == 0) {
            if (!(p instanceof Param.Choice c) || !Set.of("true", "false").containsAll(c.values())) {
                throw new TrainCommand.UsageException("--space: '" + p.name() + "=" + kind + "': " + flag
                        + " is a switch; search it as " + p.name() + "=true|false");
            }
        } else if (INTEGER.contains(type)) {
            if (p instanceof Param.LogUniform || p instanceof Param.Uniform) {
                throw new TrainCommand.UsageException("--space: '" + p.name() + "=" + kind + "': " + flag
                        + " takes an integer; use int:LO:HI or a list such as 32|64|128");
            }
        } else if (!DECIMAL.contains(type) && p.numeric()) {
            throw new TrainCommand.UsageException("--space: '" + p.name() + "=" + kind + "': " + flag
                    + " does not take a number; list its values as A|B|C");
        }
    }

    /** The training options given to the search must parse as jtrain train's and must not set what the search sets. */
    private void checkTrainArgs(CommandLine trainCli, SearchSpace searchSpace) {
        CommandLine.ParseResult pr = trainCli.parseArgs(trainArgs.toArray(String[]::new));
        if (!pr.errors().isEmpty()) {
            throw new TrainCommand.UsageException(pr.errors().get(0).getMessage()
                    + " (options other than the search's are passed to jtrain train)");
        }
        for (String flag : RESERVED) {
            if (pr.hasMatchedOption(flag)) {
                throw new TrainCommand.UsageException(flag + " cannot be given to a search: it writes each trial's metrics, "
                        + "log and plot into OUT/trial-NNN/ itself, and a trial does not save or resume checkpoints");
            }
        }
        for (String name : searchSpace.names()) {
            if (pr.hasMatchedOption("--" + name)) {
                throw new TrainCommand.UsageException("--" + name + " is given and searched (--space " + name + "=...): drop one");
            }
        }
    }

    private Path outDir() throws IOException {
        Path dir;
        try {
            dir = Path.of(out);
        } catch (InvalidPathException e) {
            throw new TrainCommand.UsageException("--out: bad path '" + out + "': " + e.getReason());
        }
        if (Files.exists(dir.resolve("results.json")) || Files.exists(dir.resolve(Trial.folder(1)))) {
            throw new TrainCommand.UsageException("--out: " + dir + " already holds a search (results.json or "
                    + Trial.folder(1) + "); choose another folder or remove it");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new TrainCommand.UsageException("--out: " + dir + " is a file, not a folder");
        }
        Files.createDirectories(dir);
        return dir;
    }

    private ObjectNode settingsJson(SearchSpace searchSpace, HyperparameterSearch.Settings s) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("space", searchSpace.spec());
        o.put("mode", s.mode().label());
        if (s.mode() == HyperparameterSearch.Mode.RANDOM) {
            o.put("trials_per_round", s.trials());
        } else {
            o.put("grid_points", s.gridPoints());
        }
        o.put("rounds", s.rounds());
        o.put("keep", s.keep());
        o.put("margin", s.margin());
        o.put("seed", s.seed());
        o.put("val_split", valSplit);
        o.put("significant_digits", Param.SIGNIFICANT_DIGITS);
        o.putPOJO("train_args", List.copyOf(trainArgs));
        return o;
    }

    private static String fmt(double v) {
        return Double.toString(v).replaceAll("\\.0$", "");
    }

    /** Runs one trial: the train command in this process, its files in OUT/trial-NNN/. */
    private final class TrialRunner implements HyperparameterSearch.TrialRunner {
        private final Path outDir;
        private final CommandSpec trainSpec;
        /** The test result of the best trial so far. */
        SearchReport.TestResult bestTest;
        private Trial bestSoFar;

        TrialRunner(Path outDir, CommandSpec trainSpec) {
            this.outDir = outDir;
            this.trainSpec = trainSpec;
        }

        /** The train arguments of a trial: the search's, the trial's values, seed, split and the trial's files. */
        List<String> arguments(Map<String, String> values, Path dir) {
            List<String> args = new ArrayList<>(trainArgs);
            values.forEach((name, value) -> {
                boolean isSwitch = trainSpec.findOption("--" + name).arity().max() == 0;
                if (!isSwitch) {
                    args.add("--" + name);
                    args.add(value);
                } else if (value.equals("true")) {
                    args.add("--" + name);
                }
            });
            if (!values.containsKey("seed")) {
                args.addAll(List.of("--seed", Long.toString(seed)));
            }
            args.addAll(List.of("--val-split", Double.toString(valSplit), "--metrics-out", dir.resolve("metrics.json").toString(),
                    "--log", dir.resolve("epochs.csv").toString(), "--quiet"));
            if (plot) {
                args.addAll(List.of("--plot", dir.resolve("curves.png").toString()));
            }
            return args;
        }

        @Override
        public Trial run(int id, int round, Map<String, String> values) {
            Path dir = outDir.resolve(Trial.folder(id));
            List<String> args;
            try {
                Files.createDirectories(dir);
                args = arguments(values, dir);
                Files.writeString(dir.resolve("command.txt"), "jtrain train " + String.join(" ", args.stream().map(SearchCommand::quote).toList())
                        + System.lineSeparator(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot write the trial folder " + dir + ": " + e.getMessage(), e);
            }
            Observer observer = new Observer(id, round, values);
            TrainCommand cmd = new TrainCommand();
            cmd.trialObserver = observer;
            CommandLine cl = new CommandLine(cmd);
            StringWriter text = new StringWriter();
            cl.setOut(new PrintWriter(text, true));
            cl.setErr(new PrintWriter(text, true));
            long t0 = System.nanoTime();
            int code = cl.execute(args.toArray(String[]::new));
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<EpochMetrics> h = observer.history;
            double[] curve = h.stream().mapToDouble(EpochMetrics::valAccuracy).toArray();
            int epochs = h.size();
            double trainLoss = h.isEmpty() ? Double.NaN : h.get(h.size() - 1).trainLoss();
            if (code != 0) {
                Trial.Status status = observer.abortedBy instanceof DivergenceMonitor.TrainingDivergedException
                        ? Trial.Status.DIVERGED : Trial.Status.FAILED;
                String message = text.toString().lines().filter(l -> l.startsWith("jtrain train: error: "))
                        .map(l -> l.substring("jtrain train: error: ".length())).findFirst().orElse(text.toString().trim());
                return new Trial(id, round, values, status, Double.NaN, Double.NaN, trainLoss, epochs, seconds, message, curve);
            }
            Trial t = observer.trial(seconds, curve, trainLoss);
            return t;
        }

        /** Records the epochs of one trial; evaluates the test set when the trial is the best so far. */
        private final class Observer implements TrialObserver, TrainingListener {
            private final int id;
            private final int round;
            private final Map<String, String> values;
            final List<EpochMetrics> history = new ArrayList<>();
            Throwable abortedBy;
            private Trial finished;

            Observer(int id, int round, Map<String, String> values) {
                this.id = id;
                this.round = round;
                this.values = values;
            }

            @Override
            public void starting(Trainer trainer) {
                trainer.addListener(this);
            }

            @Override
            public void onEpochEnd(EpochMetrics metrics) {
                history.add(metrics);
            }

            @Override
            public void onTrainAborted(Throwable error) {
                abortedBy = error;
            }

            @Override
            public void finished(Trainer trainer, TrainingReport report, Dataset test, int batch) {
                JsonNode json = report.toJson();
                int requested = json.path("epochs").asInt(history.size());
                JsonNode bestEpoch = json.path("early_stop_best_epoch");
                // The weights the run ended with: early stopping's best epoch, else the last one.
                EpochMetrics kept = bestEpoch.isNumber() ? history.get(bestEpoch.asInt() - history.get(0).epoch()) : history.get(history.size() - 1);
                Trial.Status status = history.size() < requested ? Trial.Status.EARLY_STOPPED : Trial.Status.OK;
                finished = new Trial(id, round, values, status, kept.valAccuracy(), kept.valLoss(),
                        history.get(history.size() - 1).trainLoss(), history.size(), Double.NaN,
                        status == Trial.Status.EARLY_STOPPED ? "stopped after epoch " + history.size() + ", kept epoch " + kept.epoch() : "",
                        null);
                if (finished.ranked() && (bestSoFar == null || Trial.RANKING.compare(finished, bestSoFar) < 0)) {
                    bestSoFar = finished;
                    Evaluation ev = trainer.evaluate(test, batch);
                    bestTest = new SearchReport.TestResult(id, ev.accuracy(), ev.loss(), ev.samples());
                }
            }

            Trial trial(double seconds, double[] curve, double trainLoss) {
                if (finished == null) {
                    throw new IllegalStateException("trial " + id + " ended without its report");
                }
                return new Trial(id, round, values, finished.status(), finished.valAccuracy(), finished.valLoss(), trainLoss,
                        history.size(), seconds, finished.message(), curve);
            }
        }
    }

    /** The console lines of a search (a line per round and one per trial) and the results files after each trial. */
    private record ProgressLines(PrintWriter out, boolean quiet, int rounds, int keep,
                                 java.util.function.Consumer<HyperparameterSearch.Result> save) implements HyperparameterSearch.Listener {
        @Override
        public void resultsSoFar(HyperparameterSearch.Result soFar) {
            save.accept(soFar);
        }

        @Override
        public void roundStarting(int round, SearchSpace box, int trials) {
            if (quiet) {
                return;
            }
            if (rounds > 1) {
                out.printf(Locale.ROOT, "round %d of %d: %d trial%s in %s%s%n", round, rounds, trials, trials == 1 ? "" : "s",
                        box.spec(), round > 1 ? " (around the best " + keep + " so far)" : "");
            }
            out.flush();
        }

        @Override
        public void trialFinished(Trial t, int index, int total) {
            if (quiet) {
                return;
            }
            String outcome = switch (t.status()) {
                case OK, EARLY_STOPPED -> String.format(Locale.ROOT, "val acc %.2f%%, val loss %.4f, train loss %.4f, %d epoch%s%s",
                        100 * t.valAccuracy(), t.valLoss(), t.trainLoss(), t.epochs(), t.epochs() == 1 ? "" : "s",
                        t.status() == Trial.Status.EARLY_STOPPED ? " (early-stopped)" : "");
                case DIVERGED -> "diverged: " + t.message();
                case FAILED -> "failed: " + t.message();
            };
            out.printf(Locale.ROOT, "trial %d (round %d, %d/%d) %s: %s, %.1f s%n", t.id(), t.round(), index, total,
                    t.describeValues(), outcome, t.seconds());
            out.flush();
        }
    }

    /** A shell-safe word for command.txt. */
    static String quote(String s) {
        return s.matches("[A-Za-z0-9_./:=,+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
