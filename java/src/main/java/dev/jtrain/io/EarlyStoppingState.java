package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.EarlyStopping;

import java.nio.file.Path;
import java.util.Map;

/**
 * Early stopping's state ({@link EarlyStopping}, {@code --early-stop}) in a checkpoint: the sidecar section
 * {@value #KEY}, so that a resumed run stops where the uninterrupted one would and restores the same best weights:
 *
 * <pre>
 *   "early_stopping": {"patience": 3, "maximize": true, "best_value": 0.95 (null before a best epoch),
 *                      "best_epoch": 4, "epochs_since_best": 1,
 *                      "best_weights": {"0.weight": tensor, ...}, "best_weights_sha256": "..."}
 * </pre>
 *
 * The best weights are every parameter and buffer ({@link dev.jtrain.train.WeightSnapshot}) by the model's PyTorch
 * names, as {@link TensorJson}; the weights file holds the last epoch's weights (what training continues from).
 */
public final class EarlyStoppingState {
    public static final String KEY = "early_stopping";

    private EarlyStoppingState() {
    }

    public static ObjectNode toJson(EarlyStopping stopping) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("patience", stopping.patience());
        o.put("maximize", stopping.maximizing());
        if (Double.isFinite(stopping.bestValue())) {
            o.put("best_value", stopping.bestValue());
        } else {
            o.putNull("best_value");
        }
        o.put("best_epoch", stopping.bestEpoch());
        o.put("epochs_since_best", stopping.epochsSinceBest());
        TensorJson.putAll(o, "best_weights", stopping.bestWeights());
        return o;
    }

    /**
     * Continues the saved early stopping in {@code stopping} (a resumed run's, possibly with another patience). A run
     * without the section starts afresh. A saved run that the resumed run's patience would already have stopped is an
     * error naming the epochs: the uninterrupted run ended there.
     */
    public static void restore(Checkpoint checkpoint, EarlyStopping stopping) throws CheckpointException {
        JsonNode o = checkpoint.section(KEY);
        if (o.isMissingNode() || o.isNull()) {
            return;
        }
        Path sidecar = checkpoint.sidecarFile();
        int bestEpoch = o.path("best_epoch").asInt(-1);
        int since = o.path("epochs_since_best").asInt(-1);
        if (bestEpoch < 0 || since < 0 || !o.path("maximize").isBoolean()) {
            throw new CheckpointException(sidecar, KEY + ": expected best_epoch, epochs_since_best >= 0 and maximize, got "
                    + o.path("best_epoch") + ", " + o.path("epochs_since_best") + ", " + o.path("maximize"));
        }
        if (o.path("maximize").booleanValue() != stopping.maximizing()) {
            throw new CheckpointException(sidecar, KEY + ": the saved run " + (stopping.maximizing() ? "minimized" : "maximized")
                    + " its metric, this run " + (stopping.maximizing() ? "maximizes" : "minimizes") + " it");
        }
        if (since >= stopping.patience()) {
            throw new IllegalArgumentException(checkpoint.file() + ": the saved run had " + since + " epoch"
                    + (since == 1 ? "" : "s") + " without a better accuracy than epoch " + bestEpoch
                    + "'s, so early stopping with patience " + stopping.patience() + " stopped it after epoch " + checkpoint.epoch()
                    + "; give a larger patience to go on");
        }
        Map<String, Tensor> best = bestEpoch == 0 ? Map.of() : TensorJson.readAll(o, KEY, "best_weights", sidecar);
        try {
            stopping.restore(o.path("best_value").asDouble(Double.NaN), bestEpoch, since, best);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(sidecar, KEY + ": " + e.getMessage(), e);
        }
    }
}
