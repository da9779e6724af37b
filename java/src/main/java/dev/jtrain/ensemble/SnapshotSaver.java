package dev.jtrain.ensemble;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Snapshot ensembles (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for free"): with cosine annealing with
 * warm restarts, the model is saved at the end of every restart cycle, where the learning rate is at its lowest, and
 * the snapshots are averaged as an ensemble. With cycles of T0, T0 T_mult, T0 T_mult^2, ... epochs the cycle ends
 * are epochs T0, T0 + T0 T_mult, ... ({@link #cycleEnds}): the schedule restarts exactly there
 * ({@code --schedule cosine-restarts}, stepped per optimizer step with T0 epochs of steps).
 *
 * <p>Snapshot k is {@code DIR/snapshot-k.safetensors} with its sidecar, an inference checkpoint ({@link Checkpoint}:
 * the weights evaluated at that epoch, averaged ones under EMA) whose sidecar adds the run's {@code config} and
 * {@code preprocessing} (so {@code jtrain ensemble} rebuilds and evaluates it like any checkpoint) and
 * {@code snapshot: {cycle, epoch, step, lr}}: the cycle (1-based), the epoch and the optimizer steps completed, and
 * the LR the cycle's last step ran at. Register it after the listener that sets the LR (the schedule), so that it
 * sees the LR each step used.
 */
public final class SnapshotSaver implements TrainingListener {
    private final Path dir;
    private final Layer model;
    private final Optimizer optimizer;
    private final List<Integer> cycleEnds;
    private final JsonNode config;
    private final JsonNode preprocessing;
    private final List<Path> written = new ArrayList<>();
    private double nextStepLr = Double.NaN;   // the LR the next step will run at
    private double lastStepLr = Double.NaN;   // the LR the last step ran at

    /**
     * @param cycleEnds the epochs (1-based) that end a cycle ({@link #cycleEnds})
     * @param config    the run's settings for the sidecar (e.g. {command, options}), or null
     * @param preprocessing the run's fitted preprocessing (JSON), or null
     */
    public SnapshotSaver(Path dir, Layer model, Optimizer optimizer, List<Integer> cycleEnds, JsonNode config,
                         JsonNode preprocessing) {
        this.dir = dir;
        this.model = model;
        this.optimizer = optimizer;
        this.cycleEnds = List.copyOf(cycleEnds);
        this.config = config;
        this.preprocessing = preprocessing;
    }

    /** The epochs (1-based, at most {@code epochs}) that end a cycle of T0, T0 tMult, T0 tMult^2, ... epochs. */
    public static List<Integer> cycleEnds(int t0, int tMult, int epochs) {
        if (t0 < 1 || tMult < 1) {
            throw new IllegalArgumentException("restart cycles need T0 >= 1 and T_mult >= 1, got " + t0 + ", " + tMult);
        }
        List<Integer> out = new ArrayList<>();
        long end = t0;
        long length = t0;
        while (end <= epochs) {
            out.add((int) end);
            length *= tMult;
            end += length;
        }
        return out;
    }

    /** The file of snapshot {@code k} (1-based) in {@code dir}. */
    public static Path file(Path dir, int k) {
        return dir.resolve("snapshot-" + k + ".safetensors");
    }

    /** The snapshots of the cycles that end at or before {@code lastEpoch}, in order (written by this run or before it). */
    public List<Path> files(int lastEpoch) {
        List<Path> out = new ArrayList<>();
        for (int k = 0; k < cycleEnds.size() && cycleEnds.get(k) <= lastEpoch; k++) {
            out.add(file(dir, k + 1));
        }
        return out;
    }

    /** The snapshots this run wrote, in order. */
    public List<Path> written() {
        return List.copyOf(written);
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        nextStepLr = optimizer.lr();
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        lastStepLr = nextStepLr;
        nextStepLr = optimizer.lr(); // the schedule, registered before, has set the next step's LR
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        int k = cycleEnds.indexOf(m.epoch());
        if (k < 0) {
            return;
        }
        Path f = file(dir, k + 1);
        ObjectNode info = JsonNodeFactory.instance.objectNode();
        ObjectNode s = info.putObject("snapshot");
        s.put("cycle", k + 1);
        s.put("epoch", m.epoch());
        s.put("step", optimizer.steps());
        s.put("lr", lastStepLr);
        info.put("epoch", m.epoch());
        info.put("step", optimizer.steps());
        if (Double.isFinite(m.testAccuracy())) {
            info.put("test_accuracy", m.testAccuracy());
        }
        info.set("config", config == null ? JsonNodeFactory.instance.nullNode() : config.deepCopy());
        info.set("preprocessing", preprocessing == null ? JsonNodeFactory.instance.nullNode() : preprocessing.deepCopy());
        try {
            Checkpoint.ofInference(StateDict.of(model), info).save(f);
        } catch (IOException e) {
            throw new UncheckedIOException(new CheckpointException(f, "cannot save the snapshot of cycle " + (k + 1)
                    + " (epoch " + m.epoch() + "): " + e.getMessage(), e));
        }
        written.add(f);
    }
}
