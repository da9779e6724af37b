package dev.jtrain.cli;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.CpuThreads;
import dev.jtrain.backend.gpu.KernelChoice;
import dev.jtrain.data.DataFileException;
import dev.jtrain.data.Dataset;
import dev.jtrain.distributed.DataParallel;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.AdamW;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.train.CosineDecayListener;
import dev.jtrain.train.DivergenceMonitor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.JitWarmup;
import dev.jtrain.train.Models;
import dev.jtrain.train.Optimizers;
import dev.jtrain.train.Recipe;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingReport;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jtrain train}: trains a classifier on an MNIST-layout folder (default: the bundled
 * {@code data/mnist-10k}) and prints one line per epoch; {@code --metrics-out} writes the JSON report
 * of {@link TrainingReport}. Pixels are scaled to [0, 1] and normalised with the training set's
 * mean/std; batches are reshuffled every epoch from the seed; same seed and threads give the same bits.
 *
 * <p>Every error (bad flag or value, unknown device, missing or corrupt data) is one line on stderr,
 * {@code jtrain train: error: ...}, with exit status 2 (usage) or 1 (data/run); parse errors are
 * collected rather than thrown, so this holds whether the command runs on its own
 * ({@code new CommandLine(new TrainCommand())}) or as a subcommand.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        versionProvider = TrainCommand.VersionProvider.class,
        description = "Train a model on MNIST (IDX) or CIFAR-10 (binary) data and report loss, accuracy and throughput per epoch.")
public final class TrainCommand implements Callable<Integer> {
    static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;
    static final int EXIT_FAILURE = CommandLine.ExitCode.SOFTWARE;

    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", description = "lenet, mlp, cnn, vgg or resnet (default: ${DEFAULT-VALUE}); each has its own default "
                    + "recipe (optimizer, lr, batch, epochs, dropout) for the flags left out")
    String model = "lenet";

    @Option(names = "--hidden", paramLabel = "N[,N...]",
            description = "hidden layer sizes (default: 512,512 for mlp, 128 for cnn)")
    String hidden;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs (default: the model's recipe; lenet 10)")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "N", description = "batch size (default: the model's recipe; lenet 32)")
    Integer batch;

    @Option(names = "--optimizer", paramLabel = "NAME",
            description = "sgd, adam, adamw, rmsprop or adagrad (default: the model's recipe; lenet adam)")
    String optimizer;

    @Option(names = "--lr", paramLabel = "X", description = "learning rate (default: the recipe's with the recipe's optimizer, else "
            + Optimizers.SGD_LR + "; " + Adam.DEFAULT_LR + " for adam/adamw)")
    Double lr;

    @Option(names = "--lr-decay", paramLabel = "HOW", description = "cosine (the lr falls to 0 over the run, per step) or "
            + "none; ignored when --schedule is given (default: the model's recipe: cosine when --optimizer is not given)")
    String lrDecay;

    @Option(names = "--momentum", paramLabel = "X", description = "momentum (sgd: default " + Optimizers.SGD_MOMENTUM
            + "; rmsprop: default 0)")
    Double momentum;

    @Option(names = "--nesterov", description = "Nesterov momentum (sgd)")
    boolean nesterov;

    @Option(names = "--weight-decay", paramLabel = "X", description = "weight decay (default: 0; "
            + AdamW.DEFAULT_WEIGHT_DECAY + " for adamw)")
    Double weightDecay;

    @Option(names = "--dropout", paramLabel = "P", description = "dropout after each hidden layer (default: the model's recipe; mlp 0.2, else 0)")
    Float dropout;

    @Option(names = "--seed", paramLabel = "N", description = "random seed: init, shuffling, dropout (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    Integer threads;

    /**
     * The warm-up's batch: one more than the GEMM's small-batch path (8 rows), so the Linear layers take the blocked
     * path with a full and a partial row tile, as training does; small, because until C2 has compiled a kernel its
     * cost is in proportion to the work (the first step runs the Vector API's fallback code throughout).
     */
    static final int JIT_WARMUP_BATCH = 9;
    static final java.time.Duration JIT_WARMUP_BUDGET = java.time.Duration.ofSeconds(10);
    /** A shorter run skips the warm-up: it would cost about as much as the run itself. */
    static final int JIT_WARMUP_MIN_STEPS = 50;

    @Option(names = "--jit-warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "On the cpu, train a throwaway copy of the network on random data for a moment before epoch 1, "
                    + "so the JIT has compiled the kernels when the run starts (same results; default: on for runs of 50 steps or more)")
    boolean jitWarmup;

    @Option(names = "--device", paramLabel = "DEV", description = "cpu, emu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @Option(names = "--kernels", paramLabel = "WHO", description = "on emu/cuda: custom (our kernels), vendor "
            + "(cuBLAS GEMM; cuDNN conv, pooling, BatchNorm, activations; cuda only) or auto (default: ${DEFAULT-VALUE})")
    String kernels = "custom";

    @Option(names = "--data", paramLabel = "DIR",
            description = "MNIST folder (train-/t10k- IDX files) or CIFAR-10 binary folder (data_batch_N.bin, test_batch.bin), "
                    + "detected from its files (default: data/mnist-10k of the project)")
    String data;

    @Mixin
    DataOptions dataOptions = new DataOptions();

    @Option(names = "--metrics-out", paramLabel = "FILE", description = "write the run's metrics as JSON")
    String metricsOut;

    @Option(names = "--train-limit", paramLabel = "N", description = "use only the first N training samples")
    Integer trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", description = "use only the first N test samples")
    Integer testLimit;

    @Option(names = {"-q", "--quiet"}, description = "no per-epoch lines and no progress bar")
    boolean quiet;

    @CommandLine.Mixin
    InitOptions initOptions = new InitOptions();

    @CommandLine.Mixin
    CheckpointOptions checkpoint = new CheckpointOptions();

    @CommandLine.Mixin
    ScheduleOptions scheduleOptions = new ScheduleOptions();

    @CommandLine.Mixin
    WeightOptions weightOptions = new WeightOptions();

    @CommandLine.Mixin
    WatchOptions watchOptions = new WatchOptions();

    @CommandLine.Mixin
    ModelOptions modelOptions = new ModelOptions();

    /** Set when the run is a trial of {@code jtrain search} (then the test set is left to it); null otherwise. */
    TrialObserver trialObserver;

    @CommandLine.Mixin
    SnapshotOptions snapshotOptions = new SnapshotOptions();

    @CommandLine.Mixin
    DistributedOptions distributedOptions = new DistributedOptions();

    /** The command's picocli model (its options' values, as {@link CheckpointOptions#recordOptions} records them). */
    CommandSpec commandSpec() {
        return spec;
    }

    /** Parse errors are collected (not thrown) so that call() can report them as one line. */
    @Spec
    void spec(CommandSpec spec) {
        this.spec = spec;
        spec.parser().collectErrors(true);
    }

    /** {@code --version}: the library's version. */
    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"jtrain " + dev.jtrain.Version.get()};
        }
    }

    /** A usage error: bad flag or value. */
    /** An error met while training with valid flags: exit status 1, not the usage status. */
    static final class RunFailure extends RuntimeException {
        RunFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new TrainCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            List<Exception> errors = spec.commandLine().getParseResult() == null ? List.of()
                    : spec.commandLine().getParseResult().errors();
            if (!errors.isEmpty()) {
                throw new UsageException(errors.get(0).getMessage());
            }
            // the run's cpu ops use this pool (bound to this thread), not a process-wide setting
            try (CpuThreadPool pool = new CpuThreadPool(threads != null && threads > 0 ? threads : CpuThreadPool.processorCount());
                 CpuThreadPool.Binding bound = pool.bind()) {
                return run(out);
            } finally {
                distributedOptions.close(); // also when the run failed before training: the other ranks must not wait
            }
        } catch (UsageException | IllegalArgumentException e) {
            return fail(err, e.getMessage(), EXIT_USAGE);
        } catch (UnsupportedOperationException | DeviceUnavailableException e) {
            return fail(err, e.getMessage(), EXIT_USAGE);
        } catch (DataFileException | RunFailure e) {
            return fail(err, e.getMessage(), EXIT_FAILURE);
        } catch (IOException e) {
            return fail(err, e.getClass().getSimpleName() + ": " + e.getMessage(), EXIT_FAILURE);
        } catch (java.io.UncheckedIOException e) {
            return fail(err, e.getCause().getMessage(), EXIT_FAILURE);
        } catch (DivergenceMonitor.TrainingDivergedException e) {
            return fail(err, e.getMessage(), EXIT_FAILURE);
        } catch (OutOfMemoryError e) {
            return fail(err, "out of memory (" + e.getMessage() + "); try a smaller --batch or a larger -Xmx", EXIT_FAILURE);
        } catch (RuntimeException e) {
            if (System.getenv("JTRAIN_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return fail(err, e.getClass().getSimpleName() + ": " + e.getMessage(), EXIT_FAILURE);
        }
    }

    private int fail(PrintWriter err, String message, int code) {
        String line = message == null ? "unknown error" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
        err.println("jtrain train: error: " + distributedOptions.prefix() + line);
        err.flush();
        return code;
    }

    private int run(PrintWriter out) throws IOException {
        // ---- validate the flags (cheap checks first, before touching data or devices)
        checkpoint.applyRecordedRun(spec, TrainCommand::new, quiet ? null : out); // --resume: the saved run's options
        Device dev = Device.parse(device);
        // the recipe's per-step cosine decay (or --lr-decay), unless --schedule sets the lr
        boolean recipeDecay = applyRecipe(Recipe.forModel(model)) && scheduleOptions.schedule == null;
        positive("--epochs", epochs);
        positive("--batch", batch);
        if (threads != null) {
            positive("--threads", threads);
        }
        if (trainLimit != null) {
            positive("--train-limit", trainLimit);
        }
        if (testLimit != null) {
            positive("--test-limit", testLimit);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new UsageException("--dropout must be in [0, 1), got " + dropout);
        }
        dataOptions.validate();
        int[] hiddenSizes = parseHidden(hidden);
        distributedOptions.validate(dev.isHost());
        DataParallel dp = distributedOptions.open(); // null without --distributed
        if (dp != null) {
            scheduleOptions.workers = dp.size();
            if (!dp.isRoot()) { // rank 0 alone prints and writes files
                out = new PrintWriter(java.io.Writer.nullWriter()); // also what --monitor, --sanity would print
                quiet = true;
                metricsOut = null;
                watchOptions.log = null;
                watchOptions.plot = null;
                snapshotOptions.snapshots = null;
            }
        }
        scheduleOptions.validate(batch);
        snapshotOptions.validate(scheduleOptions.schedule, epochs);
        weightOptions.validate();
        watchOptions.validate();
        try { // unknown model, misplaced switch -> error naming the option
            Models.validate(model, hiddenSizes, dropout, modelOptions.options());
        } catch (IllegalArgumentException e) {
            throw new UsageException(OptionNames.reword(e.getMessage(), OptionNames.MODEL));
        }
        if (!Optimizers.NAMES.contains(optimizer.trim().toLowerCase(Locale.ROOT))) {
            throw new UsageException("unknown optimizer '" + optimizer + "' (expected one of "
                    + String.join(", ", Optimizers.NAMES) + ")");
        }
        Backends.forDevice(dev); // unavailable device -> DeviceUnavailableException, one line naming why
        KernelChoice kernelChoice = KernelChoice.parse(kernels);
        if (!dev.isHost()) {
            try {
                Backends.gpu(dev).useKernels(kernelChoice);
            } catch (IllegalArgumentException e) {
                throw new UsageException(OptionNames.reword(e.getMessage(), OptionNames.KERNELS));
            }
        } else if (kernelChoice == KernelChoice.VENDOR) {
            throw new UsageException("--kernels vendor needs --device cuda (the cpu runs jtrain's own Java kernels)");
        }
        Path dataDir = dataDir();
        Path metricsPath = null;
        if (metricsOut != null) {
            try {
                metricsPath = Path.of(metricsOut);
            } catch (InvalidPathException e) {
                throw new UsageException("--metrics-out: bad path '" + metricsOut + "': " + e.getReason());
            }
        }

        // ---- data
        DataOptions.Loaded loaded = dataOptions.load(dataDir, trainLimit, testLimit, seed, d -> Models.inputDims(model, d),
                checkpoint.savedPreprocessing()); // --resume: the saved run's fitted preprocessing, not a new fit
        Dataset train = loaded.prepared().train();
        Dataset validation = loaded.prepared().validation();
        Dataset test = loaded.prepared().test();
        int[] inDims = loaded.prepared().inputDims();

        // ---- model, loss, optimizer
        Generator gen = new Generator(seed);
        Layer net = Models.build(model, inDims, checkpoint.classes(train.numClasses()), hiddenSizes, dropout, modelOptions.options(), gen, dev);
        initOptions.apply(net, gen);
        JsonNode preprocessing = loaded.prepared().preprocessor().toJson();
        SoftmaxCrossEntropy lossFn = new SoftmaxCrossEntropy(0f);
        // Everything on the device is closed when the run ends, also when it fails.
        Optimizers.Settings optSettings = new Optimizers.Settings(lr, momentum, nesterov, weightDecay);
        try (net; lossFn;
             Optimizer opt = createOptimizer(optimizer, checkpoint.trainable(net), optSettings);
             Trainer trainer = new Trainer(net, lossFn, opt, dev).setTrainTransform(loaded.prepared().trainTransform());
             WeightOptions weights = weightOptions; WatchOptions watch = watchOptions;
             DistributedOptions distributed = distributedOptions) {
            if (dp != null) {
                trainer.setDataParallel(dp);
                if (distributed.syncBn) {
                    dp.synchronizeBatchNorm(net);
                }
                distributed.installTestHook(trainer, spec.commandLine().getErr());
            }
            scheduleOptions.install(trainer, opt, batch); // first: the header shows its LR, later listeners read it
            String description = Models.describe(model, inDims,
                    hiddenSizes.length == 0 ? Models.defaultHidden(model) : hiddenSizes, train.numClasses());
            int nThreads = CpuThreads.threads();
            if (!quiet) {
                out.printf(Locale.ROOT, "jtrain train: %s (%,d parameters), %s lr %s, batch %d, %d epoch%s, %s with %d thread%s, "
                                + "data %s (%s: %d train, %s%d test; %s%s)%n",
                        description, net.parameterCount(), optimizer.toLowerCase(Locale.ROOT), fmt(opt.lr()) + (recipeDecay ? " (cosine decay)" : ""), batch, epochs, epochs == 1 ? "" : "s",
                        dev, nThreads, nThreads == 1 ? "" : "s", loaded.source().dir(), loaded.source().format(), train.size(),
                        validation == null ? "" : validation.size() + " validation, ", test.size(),
                        loaded.prepared().preprocessor().summary(),
                        loaded.prepared().trainTransform() == null ? "" : "; augment " + dataOptions.augment);
                if (dp != null) {
                    out.println(distributed.describe(batch, dev.toString()));
                }
                out.flush();
                trainer.addListener(new ConsoleReporter(out, opt::lr)); // after the schedule: the epoch's first LR
                if (ProgressBarListener.wanted()) {
                    trainer.addListener(new ProgressBarListener());
                }
            }

            if (trialObserver != null) {
                trialObserver.starting(trainer);
            }
            trainer.addListener(new DivergenceMonitor()); // after the console line, so the bad epoch is shown
            int firstEpoch = checkpoint.prepare(net, opt, gen, preprocessing, epochs, quiet ? null : out);
            weights.install(trainer, checkpoint.resumed(), out); // before the saver: each save holds the epoch's EMA/best
            if (distributed.isRoot()) { // rank 0 alone saves; every rank can resume from its checkpoint
                weights.saveWith(checkpoint.addSaver(trainer, spec, net, opt, gen, preprocessing), net); // after the monitor
            }
            watch.install(trainer, lossFn, m -> createOptimizer(optimizer, checkpoint.trainable(m), optSettings), train,
                    gen, firstEpoch == 1, out);
            if (recipeDecay) {
                trainer.addListener(new CosineDecayListener(opt));
            }
            snapshotOptions.install(this, trainer, loaded.source().dir(), preprocessing, dev, quiet ? null : out);

            long runSteps = (long) (epochs - firstEpoch + 1) * ((train.size() + batch - 1) / batch);
            if (jitWarmup && dev.isHost() && runSteps >= JIT_WARMUP_MIN_STEPS) {
                warmUp(inDims, hiddenSizes, checkpoint.classes(train.numClasses()), optSettings, gen.seed(), quiet ? null : out);
            }

            // ---- train
            List<EpochMetrics> history;
            try {
                history = trainer.fit(train, validation, trialObserver == null ? test : null, firstEpoch, epochs, batch, gen);
            } catch (IllegalArgumentException e) {
                // The flags were valid; a bad value met during the run (e.g. a label outside the classes) is a run failure.
                throw new RunFailure(e.getMessage(), e);
            }
            if (dp != null && !quiet && distributed.isRoot()) {
                out.println(distributed.describeSyncTime());
            }

            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("device", dev.toString());
            settings.put("kernels", dev.isHost() ? "java" : kernelChoice.toString());
            settings.put("model", model.toLowerCase(Locale.ROOT));
            settings.put("architecture", description);
            settings.put("hidden", hiddenSizes.length == 0 ? Models.defaultHidden(model) : hiddenSizes);
            settings.put("parameters", net.parameterCount());
            settings.put("epochs", epochs);
            settings.put("batch", batch);
            settings.put("threads", nThreads);
            settings.put("optimizer", optimizer.toLowerCase(Locale.ROOT));
            settings.put("lr", opt.initialLr());
            settings.put("lr_decay", recipeDecay ? "cosine" : "none");
            settings.put("momentum", momentum != null ? momentum : Optimizers.defaultMomentum(optimizer));
            settings.put("nesterov", nesterov);
            settings.put("weight_decay", weightDecay != null ? weightDecay : Optimizers.defaultWeightDecay(optimizer));
            settings.put("dropout", dropout);
            settings.put("init", initOptions.scheme().toString());
            settings.put("seed", seed);
            settings.put("data", loaded.source().dir().toString());
            settings.put("train_samples", train.size());
            settings.put("test_samples", test.size());
            settings.putAll(dataOptions.settings(loaded));
            settings.putAll(scheduleOptions.settings());
            settings.putAll(weights.settings());
            settings.putAll(watch.settings());
            settings.putAll(snapshotOptions.settings());
            settings.putAll(distributed.settings());
            settings.put("java", Runtime.version().toString());
            TrainingReport report = new TrainingReport(settings, history);
            if (!quiet) {
                out.printf(Locale.ROOT, "test accuracy %.2f%%, final train loss %.4f, %.0f samples/s (epochs %s)%n",
                        100 * report.last().testAccuracy(), report.last().trainLoss(), report.samplesPerSec(),
                        history.size() > 1 ? "2-" + history.size() : "1");
                out.flush();
            }
            if (metricsPath != null) {
                try {
                    report.write(metricsPath);
                } catch (IOException e) {
                    throw new DataFileException(metricsPath, "cannot write the metrics file: " + e.getMessage(), e);
                }
            }
            if (trialObserver != null) {
                trialObserver.finished(trainer, report, test, batch);
            }
            return 0;
        }
    }

    /** {@link Optimizers#create} with its messages in this command's option names. */
    /** {@link JitWarmup} on a throwaway network of the same recipe (its own generator: the run's streams are untouched). */
    private void warmUp(int[] inDims, int[] hiddenSizes, int classes, Optimizers.Settings optSettings, long seed, PrintWriter out) {
        Generator warmGen = new Generator(seed ^ 0x5EED5EEDL);
        try (Layer warmNet = Models.build(model, inDims, classes, hiddenSizes, dropout, modelOptions.options(), warmGen, Device.CPU);
             SoftmaxCrossEntropy warmLoss = new SoftmaxCrossEntropy(0f);
             Optimizer warmOpt = createOptimizer(optimizer, warmNet.parameters(), optSettings)) {
            initOptions.apply(warmNet, warmGen);
            JitWarmup.Report r = JitWarmup.run(warmNet, warmLoss, warmOpt, inDims, classes, Math.min(batch, JIT_WARMUP_BATCH),
                    JIT_WARMUP_BUDGET);
            if (out != null) {
                out.printf(Locale.ROOT, "jit warm-up: %d steps in %.2f s (step %.1f ms -> %.1f ms)%n", r.steps(), r.seconds(),
                        r.firstStepNanos() / 1e6, r.lastStepNanos() / 1e6);
                out.flush();
            }
        }
    }

    private static Optimizer createOptimizer(String name, List<Parameter> params, Optimizers.Settings settings) {
        try {
            return Optimizers.create(name, params, settings);
        } catch (IllegalArgumentException e) {
            throw new UsageException(OptionNames.reword(e.getMessage(), OptionNames.OPTIMIZER));
        }
    }

    /** The model's recipe fills the flags left out (the recipe's lr goes with the recipe's optimizer only). */
    private boolean applyRecipe(Recipe r) {
        boolean recipeOptimizer = optimizer == null;
        if (recipeOptimizer) {
            optimizer = r.optimizer();
            if (lr == null) {
                lr = r.lr();
            }
        }
        epochs = epochs != null ? epochs : r.epochs();
        batch = batch != null ? batch : r.batch();
        dropout = dropout != null ? dropout : r.dropout();
        // Recorded in a checkpoint like the other filled-in flags, so a resumed run keeps its decay.
        if (lrDecay == null) {
            lrDecay = recipeOptimizer && r.cosineDecay() ? "cosine" : "none";
        }
        return switch (lrDecay.trim().toLowerCase(Locale.ROOT)) {
            case "cosine" -> true;
            case "none" -> false;
            default -> throw new UsageException("--lr-decay must be cosine or none, got '" + lrDecay + "'");
        };
    }

    private static String fmt(double v) {
        String s = String.format(Locale.ROOT, "%.6g", v);
        return s.contains(".") && !s.contains("e") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
    }

    private static void positive(String flag, long v) {
        if (v < 1) {
            throw new UsageException(flag + " must be >= 1, got " + v);
        }
    }

    static int[] parseHidden(String text) {
        if (text == null) {
            return new int[0];
        }
        String t = text.trim();
        if (t.isEmpty()) {
            throw new UsageException("--hidden: empty list (expected sizes like 512,512)");
        }
        String[] parts = t.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--hidden: '" + parts[i].trim() + "' in '" + text
                        + "' is not a positive integer (expected sizes like 512,512)");
            }
            if (out[i] < 1) {
                throw new UsageException("--hidden: sizes must be >= 1, got " + Arrays.toString(out));
            }
        }
        return out;
    }

    /** --data, else data/mnist-10k under the project root (-Djtrain.root, else the current directory). */
    private Path dataDir() {
        try {
            return data != null ? Path.of(data) : ProjectPaths.root().resolve("data").resolve("mnist-10k");
        } catch (InvalidPathException e) {
            throw new UsageException("--data: bad path '" + data + "': " + e.getReason());
        }
    }
}
