package dev.jtrain.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.tensor.TransferStats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metrics file of {@code jtrain train --metrics-out}: the run's settings, then
 * {@code test_accuracy} (fraction in [0, 1], last epoch), {@code final_train_loss} (last epoch's
 * mean train loss), {@code samples_per_sec} (training samples per second over epochs 2..n: total
 * samples / total training seconds; epoch 1 when it is the only one), and {@code history} with one
 * object per epoch ({@code epoch, train_loss, train_accuracy, [val_loss, val_accuracy,] test_loss, test_accuracy,
 * samples_per_sec, seconds, eval_seconds, alloc_bytes_per_step, alloc_bytes_per_step_all_threads}).
 * On a device, {@code transfers} ({@code h2d_bytes, d2h_bytes, h2d_seconds, d2h_seconds, pinned_bytes}: the whole run
 * at top level, the epoch's in {@code history}) and {@code device_memory} ({@code in_use_bytes,
 * peak_bytes, cached_bytes, device_mallocs}, at the end of the run / the epoch) are added.
 * With a validation set ({@code --val-split}) the last epoch's {@code val_loss} and {@code val_accuracy}
 * are added at top level and per epoch. NaN values (no test set) are written as null.
 */
public final class TrainingReport {
    private final Map<String, Object> settings = new LinkedHashMap<>();
    private final List<EpochMetrics> history;

    /**
     * @param settings the run's settings in the order they should appear, e.g. device, model, epochs,
     *                 batch, threads (values: strings, numbers, booleans, int arrays)
     */
    public TrainingReport(Map<String, ?> settings, List<EpochMetrics> history) {
        this.settings.putAll(settings);
        this.history = List.copyOf(history);
        if (history.isEmpty()) {
            throw new IllegalArgumentException("a training report needs at least one epoch");
        }
    }

    public List<EpochMetrics> history() {
        return history;
    }

    public EpochMetrics last() {
        return history.get(history.size() - 1);
    }

    /** Samples per second over epochs 2..n (epoch 1 when it is the only one). */
    public double samplesPerSec() {
        return steadySamplesPerSec(history);
    }

    public static double steadySamplesPerSec(List<EpochMetrics> history) {
        int from = history.size() > 1 ? 1 : 0;
        double samples = 0;
        double seconds = 0;
        for (int i = from; i < history.size(); i++) {
            samples += history.get(i).trainSamples();
            seconds += history.get(i).seconds();
        }
        return samples / seconds;
    }

    public ObjectNode toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        for (Map.Entry<String, Object> e : settings.entrySet()) {
            root.set(e.getKey(), mapper.valueToTree(e.getValue()));
        }
        EpochMetrics last = last();
        putNumber(root, "test_accuracy", last.testAccuracy());
        putNumber(root, "test_loss", last.testLoss());
        putNumber(root, "final_train_loss", last.trainLoss());
        putNumber(root, "final_train_accuracy", last.trainAccuracy());
        if (last.hasValidation()) {
            putNumber(root, "val_loss", last.valLoss());
            putNumber(root, "val_accuracy", last.valAccuracy());
        }
        putNumber(root, "samples_per_sec", samplesPerSec());
        root.put("alloc_bytes_per_step", last.allocBytesPerStep());
        root.put("alloc_bytes_per_step_all_threads", last.allocBytesPerStepAllThreads());
        if (last.transfers() != null) {
            TransferStats.Totals sum = TransferStats.Totals.ZERO;
            for (EpochMetrics m : history) {
                sum = sum.plus(m.transfers());
            }
            putTransfers(root, sum);
        }
        if (last.deviceMemory() != null) {
            putMemory(root, last.deviceMemory());
        }
        ArrayNode hist = root.putArray("history");
        for (EpochMetrics m : history) {
            ObjectNode o = hist.addObject();
            o.put("epoch", m.epoch());
            putNumber(o, "train_loss", m.trainLoss());
            putNumber(o, "train_accuracy", m.trainAccuracy());
            if (m.hasValidation()) {
                putNumber(o, "val_loss", m.valLoss());
                putNumber(o, "val_accuracy", m.valAccuracy());
            }
            putNumber(o, "test_loss", m.testLoss());
            putNumber(o, "test_accuracy", m.testAccuracy());
            putNumber(o, "samples_per_sec", m.samplesPerSec());
            putNumber(o, "seconds", m.seconds());
            putNumber(o, "eval_seconds", m.evalSeconds());
            o.put("steps", m.steps());
            o.put("alloc_bytes_per_step", m.allocBytesPerStep());
            o.put("alloc_bytes_per_step_all_threads", m.allocBytesPerStepAllThreads());
            if (m.transfers() != null) {
                putTransfers(o, m.transfers());
            }
            if (m.deviceMemory() != null) {
                putMemory(o, m.deviceMemory());
            }
        }
        return root;
    }

    private static void putTransfers(ObjectNode o, TransferStats.Totals t) {
        ObjectNode n = o.putObject("transfers");
        n.put("h2d_bytes", t.h2dBytes());
        n.put("d2h_bytes", t.d2hBytes());
        n.put("h2d_seconds", t.h2dSeconds());
        n.put("d2h_seconds", t.d2hSeconds());
        n.put("pinned_bytes", t.pinnedBytes());
    }

    private static void putMemory(ObjectNode o, MemoryStats s) {
        ObjectNode n = o.putObject("device_memory");
        n.put("in_use_bytes", s.inUseBytes());
        n.put("peak_bytes", s.peakBytes());
        n.put("cached_bytes", s.cachedBytes());
        n.put("device_mallocs", s.deviceMallocs());
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }

    public String toJsonString() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson());
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the training report", e);
        }
    }

    /** Writes the JSON to {@code file} (parent folders are created). */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJsonString() + System.lineSeparator());
    }
}
