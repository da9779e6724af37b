package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.data.DataFileException;
import dev.jtrain.data.DataFolder;
import dev.jtrain.data.Dataset;
import dev.jtrain.ensemble.Combine;
import dev.jtrain.ensemble.Ensemble;
import dev.jtrain.ensemble.EnsembleReport;
import dev.jtrain.ensemble.Member;
import dev.jtrain.ensemble.MemberLoader;
import dev.jtrain.ensemble.SnapshotSaver;
import dev.jtrain.optim.schedule.ScheduleSpec;
import dev.jtrain.tensor.Device;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingListener;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code jtrain train --schedule cosine-restarts:T0[:MULT] --snapshots DIR}: a snapshot ensemble in one run
 * ({@link SnapshotSaver}): a checkpoint at the end of every restart cycle, and at the end of the run the test accuracy
 * of the last snapshot against the ensemble of all of them, evaluated from the files exactly as
 * {@code jtrain ensemble DIR/snapshot-*.safetensors --test-limit N} does (mean of the softmax probabilities); the
 * figures go to the console and to {@code --metrics-out} ({@code snapshot_ensemble}).
 */
public final class SnapshotOptions {
    @Option(names = "--snapshots", paramLabel = "DIR", description = "with --schedule cosine-restarts: save the model "
            + "at the end of every restart cycle (its lowest LR) as DIR/snapshot-K.safetensors, and report the snapshot "
            + "ensemble's test accuracy against the last snapshot's")
    String snapshots;

    private SnapshotSaver saver;
    private EnsembleReport report;
    private String skipped;   // why no ensemble was evaluated, or null

    /** Checks the option against the schedule and the run's length (usage errors before anything runs). */
    void validate(ScheduleSpec schedule, int epochs) {
        if (snapshots == null) {
            return;
        }
        if (Files.exists(dir()) && !Files.isDirectory(dir())) {
            throw new IllegalArgumentException("--snapshots " + snapshots + ": is a file, not a folder");
        }
        if (schedule == null || !schedule.name().equals("cosine-restarts")) {
            throw new IllegalArgumentException("--snapshots needs --schedule cosine-restarts:T0[:T_MULT[:ETA_MIN]] (a "
                    + "snapshot is taken at the end of each restart cycle), got --schedule "
                    + (schedule == null ? "(none)" : schedule.toString()));
        }
        int[] c = schedule.restartCycles();
        if (SnapshotSaver.cycleEnds(c[0], c[1], epochs).isEmpty()) {
            throw new IllegalArgumentException("--snapshots: no restart cycle of --schedule " + schedule + " ends within "
                    + epochs + " epoch" + (epochs == 1 ? "" : "s") + " (the first ends after epoch " + c[0] + ")");
        }
    }

    private Path dir() {
        try {
            return Path.of(snapshots);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("--snapshots: bad path '" + snapshots + "': " + e.getReason());
        }
    }

    /**
     * Registers the snapshot saver (after the schedule, so it sees each step's LR) and, at the end of the run, the
     * evaluation of the snapshots on {@code cmd}'s test set, reloaded from {@code dataDir} (the run's own test set is
     * preprocessed in place). {@code out} may be null (quiet).
     */
    void install(TrainCommand cmd, Trainer trainer, Path dataDir, JsonNode preprocessing, Device device, PrintWriter out)
            throws IOException {
        if (snapshots == null) {
            return;
        }
        Path dir = dir();
        Files.createDirectories(dir);
        ObjectNode config = JsonNodeFactory.instance.objectNode();
        config.put("command", cmd.commandSpec().qualifiedName());
        config.set("options", CheckpointOptions.recordOptions(cmd.commandSpec()));
        int[] c = cmd.scheduleOptions.schedule.restartCycles();
        List<Integer> ends = SnapshotSaver.cycleEnds(c[0], c[1], cmd.epochs);
        saver = new SnapshotSaver(dir, trainer.model(), trainer.optimizer(), ends, config, preprocessing);
        trainer.addListener(saver);
        if (out != null && ends.get(ends.size() - 1) != cmd.epochs) {
            out.printf(Locale.ROOT, "snapshots: restart cycles end after epochs %s; epochs %d-%d are in no snapshot%n", ends,
                    ends.get(ends.size() - 1) + 1, cmd.epochs);
        }
        trainer.addListener(new TrainingListener() {
            @Override
            public void onTrainEnd(List<EpochMetrics> history) {
                evaluate(history.get(history.size() - 1).epoch(), cmd.testLimit, dataDir, device, out);
            }
        });
    }

    private void evaluate(int lastEpoch, Integer testLimit, Path dataDir, Device device, PrintWriter out) {
        List<Path> files = saver.files(lastEpoch);
        if (files.isEmpty()) {
            skipped = "the run stopped before the first restart cycle ended";
            if (out != null) {
                out.println("snapshot ensemble: no snapshot (" + skipped + ")");
            }
            return;
        }
        try {
            Dataset test = DataFolder.load(dataDir).test();
            if (testLimit != null) {
                test = test.head(testLimit);
            }
            List<Member> members = MemberLoader.loadAll(files, new RecordedModel(), test.sampleDims(), device);
            try {
                report = Ensemble.evaluate(members, test, Combine.PROBS, device, EVAL_BATCH);
            } finally {
                members.forEach(Member::close);
            }
        } catch (DataFileException e) {
            throw new UncheckedIOException(e);
        }
        if (out != null) {
            EnsembleReport.Row last = report.members().get(report.members().size() - 1);
            out.print(report.table());
            out.printf(Locale.ROOT, "snapshot ensemble of %d: test accuracy %.2f %% (last snapshot %.2f %%, best single %.2f %%)%n",
                    files.size(), 100 * report.ensemble().accuracy(), 100 * last.accuracy(), 100 * report.bestSingle().accuracy());
            out.flush();
        }
    }

    /** The evaluation batch, as {@code jtrain ensemble}'s default (the results do not depend on it). */
    static final int EVAL_BATCH = 256;

    /** For the metrics file: the folder and, after the run, {@code snapshot_ensemble} ({@link EnsembleReport#toJson}). */
    Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (snapshots == null) {
            return m;
        }
        m.put("snapshots", snapshots);
        if (report != null) {
            ObjectNode o = report.toJson();
            EnsembleReport.Row last = report.members().get(report.members().size() - 1);
            o.putObject("last_snapshot").put("name", last.name()).put("accuracy", last.accuracy());
            m.put("snapshot_ensemble", o);
        } else if (skipped != null) {
            m.put("snapshot_ensemble", null);
        }
        return m;
    }
}
