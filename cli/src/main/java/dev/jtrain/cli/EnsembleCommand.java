package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.DeviceUnavailableException;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.data.DataFileException;
import dev.jtrain.data.DataFolder;
import dev.jtrain.data.Dataset;
import dev.jtrain.ensemble.Combine;
import dev.jtrain.ensemble.Ensemble;
import dev.jtrain.ensemble.EnsembleReport;
import dev.jtrain.ensemble.Member;
import dev.jtrain.ensemble.MemberLoader;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.tensor.Device;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code jtrain ensemble A.safetensors B.safetensors ...}: evaluates the checkpoints on a data set's test set, each
 * with its own recorded model and preprocessing ({@link RecordedModel}, {@link MemberLoader}), and combines their
 * predictions ({@link Ensemble}); prints each member's accuracy and loss and the ensemble's. Errors are one line,
 * {@code jtrain ensemble: error: ...}, naming the file or option: exit status 2 for bad usage, 1 for a bad file.
 */
@Command(name = "ensemble", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate several checkpoints and their ensemble (mean of the softmax probabilities) on the test set.")
public final class EnsembleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "CHECKPOINT", description = "checkpoints written by jtrain train (--save, "
            + "--snapshots): .safetensors files with their .json sidecars")
    List<String> files;

    @Option(names = "--data", paramLabel = "DIR", description = "MNIST or CIFAR-10 folder whose test set is evaluated "
            + "(default: the folder the first checkpoint was trained on, else the bundled data/mnist-10k)")
    String data;

    @Option(names = "--combine", paramLabel = "RULE", description = "probs (mean of the softmax probabilities), logits "
            + "(softmax of the mean logits) or vote (majority of the top classes, ties to the lowest class) (default: ${DEFAULT-VALUE})")
    String combine = "probs";

    @Option(names = "--test-limit", paramLabel = "N", description = "use only the first N test samples")
    Integer testLimit;

    @Option(names = "--batch", paramLabel = "N", description = "evaluation batch size (default: ${DEFAULT-VALUE})")
    int batch = 256;

    @Option(names = "--device", paramLabel = "DEV", description = "cpu, emu, cuda or cuda:N (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores)")
    Integer threads;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the table as JSON")
    String json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (CpuThreadPool pool = new CpuThreadPool(threads != null && threads > 0 ? threads : CpuThreadPool.processorCount());
             CpuThreadPool.Binding bound = pool.bind()) { // the members' cpu ops use this pool
            return run(out);
        } catch (IllegalArgumentException | UnsupportedOperationException | DeviceUnavailableException e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.USAGE);
        } catch (DataFileException | BadMembers e) {
            return fail(err, e.getMessage(), CommandLine.ExitCode.SOFTWARE);
        } catch (IOException e) {
            return fail(err, e.getClass().getSimpleName() + ": " + e.getMessage(), CommandLine.ExitCode.SOFTWARE);
        }
    }

    /** Checkpoints that cannot form an ensemble (e.g. different class counts): exit status 1. */
    private static final class BadMembers extends RuntimeException {
        BadMembers(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private int run(PrintWriter out) throws IOException {
        Combine rule;
        try {
            rule = Combine.parse(combine);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--combine: " + e.getMessage(), e);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        if (testLimit != null && testLimit < 1) {
            throw new IllegalArgumentException("--test-limit must be >= 1, got " + testLimit);
        }
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            }
        }
        Device dev = Device.parse(device);
        Backends.forDevice(dev);
        Path jsonPath = json == null ? null : path("--json", json);
        List<Path> paths = files.stream().map(f -> path("CHECKPOINT", f)).toList();
        Path dir = dataDir(paths.get(0));
        Dataset test = DataFolder.load(dir).test();
        if (testLimit != null) {
            test = test.head(testLimit);
        }
        EnsembleReport report;
        List<Member> members = MemberLoader.loadAll(paths, new RecordedModel(), test.sampleDims(), dev);
        try {
            report = Ensemble.evaluate(members, test, rule, dev, batch);
        } catch (IllegalArgumentException e) {
            throw new BadMembers(e.getMessage(), e); // the files do not go together (classes): not a usage error
        } finally {
            members.forEach(Member::close);
        }
        out.printf(Locale.ROOT, "jtrain ensemble: %d member%s on %s (%d test samples), %s, combine %s%n", members.size(),
                members.size() == 1 ? "" : "s", dir, test.size(), dev, rule);
        out.print(report.table());
        out.println(report.summary());
        out.flush();
        if (jsonPath != null) {
            ObjectNode o = report.toJson();
            o.put("data", dir.toString());
            o.put("device", dev.toString());
            try {
                new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(jsonPath.toFile(), o);
            } catch (IOException e) {
                throw new DataFileException(jsonPath, "cannot write: " + e.getMessage(), e);
            }
        }
        return 0;
    }

    /** --data, else the folder the first checkpoint recorded (when it still exists), else the bundled data. */
    private Path dataDir(Path first) throws CheckpointException {
        if (data != null) {
            return path("--data", data);
        }
        if (Files.exists(first)) {
            try {
                JsonNode recorded = Checkpoint.load(first).config().path("options").path("--data");
                if (recorded.isTextual() && Files.isDirectory(Path.of(recorded.asText()))) {
                    return Path.of(recorded.asText());
                }
            } catch (InvalidPathException ignored) {
                // not a usable path here: the bundled data
            }
        }
        return ProjectPaths.root().resolve("data").resolve("mnist-10k");
    }

    private static Path path(String what, String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(what + ": bad path '" + text + "': " + e.getReason());
        }
    }

    private static int fail(PrintWriter err, String message, int code) {
        err.println("jtrain ensemble: error: " + (message == null ? "unknown error"
                : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim()));
        err.flush();
        return code;
    }
}
