package dev.jtrain.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.Version;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.LrSchedule;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A checkpoint: two files written and verified together.
 * <ul>
 *   <li>{@code F.safetensors} (any name): the model's weights and buffers under PyTorch's names
 *       ({@link StateDict}), in the safetensors format ({@link SafeTensors}), metadata {@code format: pt}. A
 *       PyTorch {@code nn.Sequential} of the same layers loads it with {@code strict=True}.</li>
 *   <li>the sidecar {@code F.json} ({@link #sidecarOf}: the name with {@code .safetensors} replaced by
 *       {@code .json}, else {@code .json} appended): {@code format} "jtrain-checkpoint", {@code version} 1,
 *       {@code kind} ("training", or "inference" for an export), {@code weights_sha256} and
 *       {@code weights_bytes} of the weights file, {@code epoch} (completed epochs), {@code step} (completed
 *       optimizer steps), {@code schedule_step} (or null), {@code rng} {seed, offset} (the run's one
 *       {@link Generator}: init, shuffling and dropout all draw from it), {@code optimizer} ({@link OptimizerState}:
 *       type, steps, lr, per-parameter state tensors), {@code config} (the run's settings, opaque here),
 *       {@code preprocessing} (opaque: whatever JSON the data pipeline gave), {@code history} (per-epoch
 *       metrics, opaque), {@code jtrain_version}; and, when the run has them, sections of further training state
 *       ({@link #withSection}): {@code ema} ({@link AveragingState}) and {@code early_stopping}
 *       ({@link EarlyStoppingState}).</li>
 * </ul>
 * Saving is atomic per file and ordered: both are written to temporaries and synced, then the weights are
 * renamed over the old, then the sidecar ({@link AtomicFiles}); a failed save leaves the previous checkpoint
 * loadable. Loading checks the header bounds, sizes and dtypes ({@link SafeTensors}), the weights' checksum
 * against the sidecar (which also catches a crash between the two renames), and, when restoring, every name
 * and shape against the model and optimizer.
 */
public final class Checkpoint {
    public static final String FORMAT = "jtrain-checkpoint";
    public static final int VERSION = 1;
    public static final String KIND_TRAINING = "training";
    public static final String KIND_INFERENCE = "inference";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path file;                 // where it was loaded from (null for a new one)
    private final Map<String, Tensor> weights;
    private final ObjectNode sidecar;

    private Checkpoint(Path file, Map<String, Tensor> weights, ObjectNode sidecar) {
        this.file = file;
        this.weights = weights;
        this.sidecar = sidecar;
    }

    /** The sidecar of a weights file: {@code run.safetensors -> run.json}, {@code run.bin -> run.bin.json}. */
    public static Path sidecarOf(Path weightsFile) {
        String name = weightsFile.getFileName().toString();
        String base = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
        return weightsFile.resolveSibling(base + ".json");
    }

    /**
     * The state of a training run after {@code epoch} completed epochs: the model's weights and buffers, the
     * optimizer's state (under the model's parameter names), the generator's position, the schedule's step
     * (null without a schedule), and the caller's {@code config}, {@code preprocessing} and {@code history}
     * JSON (each may be null). The weights of a cpu model are its own tensors, not copies (a checkpoint is
     * made to be saved at once): save it before training goes on.
     */
    public static Checkpoint ofTraining(Layer model, Optimizer optimizer, Generator gen, int epoch, LrSchedule schedule,
                                        JsonNode config, JsonNode preprocessing, JsonNode history) {
        ObjectNode s = header(KIND_TRAINING);
        s.put("epoch", epoch);
        s.put("step", optimizer.steps());
        if (schedule != null) {
            s.put("schedule_step", schedule.stepCount());
        } else {
            s.putNull("schedule_step");
        }
        s.putObject("rng").put("seed", gen.seed()).put("offset", gen.offset());
        s.set("optimizer", OptimizerState.toJson(model, optimizer));
        s.set("config", orNull(config));
        s.set("preprocessing", orNull(preprocessing));
        s.set("history", orNull(history));
        return new Checkpoint(null, StateDict.of(model), s);
    }

    /** An inference checkpoint (an export): weights and the caller's {@code info} fields, no training state. */
    public static Checkpoint ofInference(Map<String, Tensor> weights, ObjectNode info) {
        ObjectNode s = header(KIND_INFERENCE);
        if (info != null) {
            s.setAll(info);
        }
        return new Checkpoint(null, new java.util.LinkedHashMap<>(weights), s);
    }

    private static ObjectNode header(String kind) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("format", FORMAT);
        s.put("version", VERSION);
        s.put("kind", kind);
        s.put("jtrain_version", Version.get());
        return s;
    }

    private static JsonNode orNull(JsonNode n) {
        return n == null ? NullNode.getInstance() : n.deepCopy();
    }

    /** Sidecar keys that {@link #withSection} may not replace. */
    private static final java.util.Set<String> RESERVED = java.util.Set.of("format", "version", "kind", "jtrain_version",
            "epoch", "step", "schedule_step", "rng", "optimizer", "config", "preprocessing", "history", "weights_file",
            "weights_bytes", "weights_sha256");

    /**
     * Adds a section of further state to the sidecar under {@code key} (e.g. {@code ema}, {@code early_stopping});
     * returns this. The built-in keys are refused.
     */
    public Checkpoint withSection(String key, JsonNode section) {
        if (RESERVED.contains(key)) {
            throw new IllegalArgumentException("'" + key + "' is a built-in field of the checkpoint sidecar, not a section");
        }
        sidecar.set(key, section == null ? NullNode.getInstance() : section.deepCopy());
        return this;
    }

    /** The section {@link #withSection} added under {@code key}; a MissingNode when there is none. */
    public JsonNode section(String key) {
        return sidecar.path(key);
    }

    /** The sidecar's path (for error messages; a placeholder for a checkpoint made in this process). */
    public Path sidecarFile() {
        return sidecarPath();
    }

    // ---- saving

    /** Writes the weights to {@code file} and the sidecar beside it, atomically ({@link AtomicFiles}). */
    public void save(Path file) throws IOException {
        save(file, UnaryOperator.identity());
    }

    /** {@link #save(Path)} with each file's stream decorated by {@code wrap} (tests inject failing streams). */
    public void save(Path file, UnaryOperator<OutputStream> wrap) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        SafeTensors.write(bytes, weights, Map.of("format", "pt"));
        byte[] data = bytes.toByteArray();
        ObjectNode s = sidecar.deepCopy();
        s.put("weights_file", file.getFileName().toString());
        s.put("weights_bytes", data.length);
        s.put("weights_sha256", sha256(data));
        byte[] json = JSON.writeValueAsBytes(s);
        AtomicFiles.replaceAll(List.of(
                new AtomicFiles.Target(file, out -> out.write(data)),
                new AtomicFiles.Target(sidecarOf(file), out -> out.write(json))), wrap);
    }

    // ---- loading

    /** Loads and verifies a checkpoint and its sidecar. */
    public static Checkpoint load(Path file) throws CheckpointException {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "no such file");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e.getMessage(), e);
        }
        Path sc = sidecarOf(file);
        ObjectNode s = readSidecar(sc, file);
        long bytes = s.path("weights_bytes").asLong(-1);
        if (bytes != data.length) {
            throw new CheckpointException(file, "has " + data.length + " bytes but its sidecar " + sc.getFileName()
                    + " records " + bytes + " (the files are not from the same save: an interrupted save, or one was replaced)");
        }
        String sum = sha256(data);
        if (!sum.equals(s.path("weights_sha256").asText())) {
            throw new CheckpointException(file, "SHA-256 " + sum + " differs from " + s.path("weights_sha256").asText()
                    + " recorded in its sidecar " + sc.getFileName() + " (corrupt, or not from the same save)");
        }
        SafeTensors.Contents c = SafeTensors.read(data, file);
        return new Checkpoint(file, c.tensors(), s);
    }

    /** The weights of any safetensors file (one PyTorch wrote too); no sidecar needed. */
    public static Map<String, Tensor> loadWeights(Path file) throws CheckpointException {
        return SafeTensors.read(file).tensors();
    }

    private static ObjectNode readSidecar(Path sc, Path file) throws CheckpointException {
        JsonNode n;
        try {
            n = JSON.readTree(sc.toFile());
        } catch (JsonProcessingException e) {
            throw new CheckpointException(sc, "the sidecar of " + file.getFileName() + " is not valid JSON: "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(sc, Files.exists(sc) ? "cannot read the sidecar of " + file.getFileName()
                    + ": " + e.getMessage() : "missing: the sidecar of " + file.getFileName()
                    + " (jtrain writes both files; load the weights alone with Checkpoint.loadWeights)", e);
        }
        if (n == null || !n.isObject() || !FORMAT.equals(n.path("format").asText())) {
            throw new CheckpointException(sc, "not a jtrain checkpoint sidecar (no \"format\": \"" + FORMAT + "\")");
        }
        if (n.path("version").asInt(-1) != VERSION) {
            throw new CheckpointException(sc, "sidecar version " + n.path("version") + " is not supported (this jtrain reads "
                    + VERSION + ")");
        }
        return (ObjectNode) n;
    }

    // ---- contents

    /** The file it was loaded from; null for one made in this process. */
    public Path file() {
        return file;
    }

    /** The weights and buffers by PyTorch name (host tensors). */
    public Map<String, Tensor> weights() {
        return weights;
    }

    /** The whole sidecar (a copy). */
    public ObjectNode sidecar() {
        return sidecar.deepCopy();
    }

    public String kind() {
        return sidecar.path("kind").asText();
    }

    /** Completed epochs. */
    public int epoch() {
        return sidecar.path("epoch").asInt();
    }

    /** Completed optimizer steps. */
    public long step() {
        return sidecar.path("step").asLong();
    }

    /** The run's settings, as the saver recorded them (a copy; a NullNode when none). */
    public JsonNode config() {
        return sidecar.path("config").deepCopy();
    }

    /** The preprocessing JSON handed to {@link #ofTraining}, unchanged (a copy; a NullNode when none). */
    public JsonNode preprocessing() {
        return sidecar.path("preprocessing").deepCopy();
    }

    /** The per-epoch history handed to {@link #ofTraining} (a copy; a NullNode when none). */
    public JsonNode history() {
        return sidecar.path("history").deepCopy();
    }

    // ---- restoring

    /** Copies the weights into {@code model}; names {@code skip} accepts keep the model's values (see {@link StateDict#load}). */
    public void restoreModel(Layer model, Predicate<String> skip) throws CheckpointException {
        StateDict.load(model, weights, file, skip);
    }

    /** Restores the optimizer's steps, learning rate and state tensors (parameters named by {@code model}). */
    public void restoreOptimizer(Layer model, Optimizer optimizer) throws CheckpointException {
        requireTraining();
        OptimizerState.restore(sidecar.path("optimizer"), model, optimizer, sidecarPath());
    }

    /** Moves {@code gen} to the saved offset; its seed must be the saved one. */
    public void restoreGenerator(Generator gen) throws CheckpointException {
        requireTraining();
        JsonNode rng = sidecar.path("rng");
        if (!rng.path("seed").canConvertToLong() || !rng.path("offset").canConvertToLong()) {
            throw new CheckpointException(sidecarPath(), "rng: expected {seed, offset}, got " + rng);
        }
        if (rng.path("seed").asLong() != gen.seed()) {
            throw new CheckpointException(sidecarPath(), "rng seed " + rng.path("seed").asLong() + " differs from the run's "
                    + gen.seed());
        }
        gen.seek(rng.path("offset").asLong());
    }

    /** Advances a fresh {@code schedule} to the saved step (its LR is the saved run's at that step). */
    public void restoreSchedule(LrSchedule schedule) throws CheckpointException {
        requireTraining();
        JsonNode k = sidecar.path("schedule_step");
        if (!k.canConvertToInt()) {
            throw new CheckpointException(sidecarPath(), "schedule_step: the saved run had no schedule");
        }
        if (schedule.stepCount() > k.asInt()) {
            throw new IllegalArgumentException("the schedule is already at step " + schedule.stepCount()
                    + ", past the checkpoint's " + k.asInt());
        }
        while (schedule.stepCount() < k.asInt()) {
            schedule.step();
        }
    }

    private Path sidecarPath() {
        return file == null ? Path.of("(unsaved checkpoint)") : sidecarOf(file);
    }

    private void requireTraining() throws CheckpointException {
        if (!KIND_TRAINING.equals(kind())) {
            throw new CheckpointException(file == null ? Path.of("(unsaved checkpoint)") : file, "is an " + kind()
                    + " checkpoint (an export), not a training checkpoint: it holds no training state to resume");
        }
    }

    static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
