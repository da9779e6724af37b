package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.LrSchedule;
import dev.jtrain.random.Generator;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Saves a training checkpoint at the end of every epoch (after its evaluation), replacing the previous one
 * atomically, so an interrupted run can be resumed from its last completed epoch. Add it after listeners
 * that stop a bad run (e.g. the divergence monitor), so a diverged epoch is not saved. A save that fails
 * stops training with an {@link UncheckedIOException} whose cause, a {@link CheckpointException}, names the
 * file; the previous checkpoint is left as it was. Further training state ({@link #addSection}: EMA, early
 * stopping) is read when the checkpoint is made: add this saver after the listeners that update that state at the end
 * of an epoch.
 */
public final class CheckpointSaver implements TrainingListener {
    private final Path file;
    private final Layer model;
    private final Optimizer optimizer;
    private final Generator gen;
    private final LrSchedule schedule;
    private final JsonNode config;
    private final JsonNode preprocessing;
    private final ArrayNode history;
    private final Map<String, Supplier<JsonNode>> sections = new LinkedHashMap<>();
    private double lastSaveSeconds = Double.NaN;

    /**
     * @param schedule      the run's schedule, or null
     * @param priorHistory  the history of the epochs before this run's first (a resumed run's), or null
     */
    public CheckpointSaver(Path file, Layer model, Optimizer optimizer, Generator gen, LrSchedule schedule,
                           JsonNode config, JsonNode preprocessing, JsonNode priorHistory) {
        this.file = Objects.requireNonNull(file, "file");
        this.model = Objects.requireNonNull(model, "model");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.gen = Objects.requireNonNull(gen, "gen");
        this.schedule = schedule;
        this.config = config;
        this.preprocessing = preprocessing;
        this.history = JsonNodeFactory.instance.arrayNode();
        if (priorHistory != null && priorHistory.isArray()) {
            history.addAll((ArrayNode) priorHistory);
        }
    }

    /** Saves {@code state.get()} as the sidecar section {@code key} with every checkpoint ({@link Checkpoint#withSection}). */
    public CheckpointSaver addSection(String key, Supplier<JsonNode> state) {
        sections.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(state, "state"));
        return this;
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        ObjectNode h = history.addObject();
        h.put("epoch", m.epoch());
        putFinite(h, "train_loss", m.trainLoss());
        putFinite(h, "train_accuracy", m.trainAccuracy());
        putFinite(h, "val_loss", m.valLoss());
        putFinite(h, "val_accuracy", m.valAccuracy());
        putFinite(h, "test_loss", m.testLoss());
        putFinite(h, "test_accuracy", m.testAccuracy());
        long t0 = System.nanoTime();
        try {
            Checkpoint c = Checkpoint.ofTraining(model, optimizer, gen, m.epoch(), schedule, config, preprocessing, history);
            sections.forEach((key, state) -> c.withSection(key, state.get()));
            c.save(file);
        } catch (IOException e) {
            throw new UncheckedIOException(new CheckpointException(file, "cannot save the checkpoint after epoch " + m.epoch()
                    + " (the previous one is unchanged): " + e.getMessage(), e));
        }
        lastSaveSeconds = (System.nanoTime() - t0) / 1e9;
    }

    /** Seconds the last save took (NaN before one). */
    public double lastSaveSeconds() {
        return lastSaveSeconds;
    }

    private static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
