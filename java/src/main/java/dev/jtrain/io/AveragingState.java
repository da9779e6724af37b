package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.WeightAveraging;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The EMA of a run ({@link WeightAveraging}, {@code --ema}) in a checkpoint: the sidecar section {@value #KEY}, so that
 * a resumed run continues the average bit-exactly. A checkpoint is saved at the end of an epoch, when the averaged
 * weights are swapped into the model, so the weights file holds the <b>averaged</b> weights (the ones evaluated, and
 * the ones a PyTorch model or {@code jtrain ensemble} should load); the section holds what training continues from:
 *
 * <pre>
 *   "ema": {"decay": 0.99, "updates": 750,
 *           "averaged_in_weights_file": true,
 *           "training_weights": {"0.weight": tensor, ...}, "training_weights_sha256": "...",
 *           ["averaged": {...}, "averaged_sha256": "..."]   only when the weights file holds the raw weights}
 * </pre>
 *
 * Tensors as {@link TensorJson}, by the model's PyTorch names (trainable parameters only; buffers are not averaged).
 */
public final class AveragingState {
    public static final String KEY = "ema";

    private AveragingState() {
    }

    /** The section for {@code model} trained with {@code averaging}, at the moment of the save. */
    public static ObjectNode toJson(Layer model, WeightAveraging averaging) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("decay", averaging.decay());
        o.put("updates", averaging.updates());
        o.put("averaged_in_weights_file", averaging.averagedSwappedIn());
        List<String> names = trainableNames(model);
        Map<String, Tensor> training = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            training.put(names.get(i), averaging.trainingValue(i));
        }
        TensorJson.putAll(o, "training_weights", training);
        if (!averaging.averagedSwappedIn() && averaging.updates() > 0) {
            Map<String, Tensor> averaged = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                averaged.put(names.get(i), averaging.averaged(i));
            }
            TensorJson.putAll(o, "averaged", averaged);
        }
        return o;
    }

    /**
     * Gets a resumed run ready, after the model was loaded from the weights file: when the checkpoint has an
     * {@value #KEY} section, the model gets the weights training continues from, and {@code averaging} (may be null:
     * the resumed run does not average) the saved average. Without the section nothing changes (a run that did not
     * average; a resumed run that starts averaging starts afresh).
     */
    public static void restore(Checkpoint checkpoint, Layer model, WeightAveraging averaging) throws CheckpointException {
        JsonNode o = checkpoint.section(KEY);
        if (o.isMissingNode() || o.isNull()) {
            return;
        }
        Path sidecar = checkpoint.sidecarFile();
        long updates = o.path("updates").asLong(-1);
        if (!o.path("averaged_in_weights_file").isBoolean() || updates < 0) {
            throw new CheckpointException(sidecar, KEY + ": expected updates >= 0 and averaged_in_weights_file, got "
                    + o.path("updates") + " and " + o.path("averaged_in_weights_file"));
        }
        boolean averagedInFile = o.path("averaged_in_weights_file").booleanValue();
        List<String> names = trainableNames(model);
        Map<String, Tensor> training = TensorJson.readAll(o, KEY, "training_weights", sidecar);
        Map<String, Tensor> averaged = averagedInFile || updates == 0 ? null : TensorJson.readAll(o, KEY, "averaged", sidecar);
        check(names, training, model, sidecar, "training_weights");
        if (averaged != null) {
            check(names, averaged, model, sidecar, "averaged");
        }
        Map<String, Parameter> params = model.namedParameters();
        List<Tensor> avg = new ArrayList<>();
        for (String n : names) {
            avg.add(averagedInFile ? params.get(n).value() : averaged == null ? null : averaged.get(n));
        }
        if (averaging != null) {
            averaging.restore(updates, updates == 0 ? List.of() : avg); // copies: before the model's values change
        }
        for (String n : names) {
            params.get(n).value().copyFrom(training.get(n));
        }
    }

    private static void check(List<String> names, Map<String, Tensor> tensors, Layer model, Path sidecar,
                              String what) throws CheckpointException {
        if (!tensors.keySet().equals(new LinkedHashSet<>(names))) {
            throw new CheckpointException(sidecar, KEY + "." + what + ": tensors " + tensors.keySet()
                    + ", the model trains " + names);
        }
        for (String n : names) {
            Tensor v = model.namedParameters().get(n).value();
            if (!tensors.get(n).shape().equals(v.shape()) || tensors.get(n).dtype() != v.dtype()) {
                throw new CheckpointException(sidecar, KEY + "." + what + "." + n + ": shape " + tensors.get(n).shape()
                        + ", the model has " + v.shape());
            }
        }
    }

    /** The names of the model's trainable parameters, in {@link Layer#parameters()} order. */
    private static List<String> trainableNames(Layer model) {
        return new ArrayList<>(model.namedParameters().keySet());
    }
}
