package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.tensor.Tensor;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An optimizer's state in a checkpoint's sidecar (JSON object {@code optimizer}):
 * {@code type} (the class, e.g. "Adam"), {@code steps} (completed steps: Adam's bias correction and SGD's
 * first-step buffer depend on it), {@code lr} (current) and {@code initial_lr}, and {@code state}: per parameter
 * (by the model's PyTorch name) its state tensors by PyTorch's names ({@code momentum_buffer}, {@code exp_avg},
 * {@code exp_avg_sq}, ...), each {@code {"dtype": "F32", "shape": [...], "data": base64 of the little-endian
 * bytes}}, so the values come back bit for bit; {@code state_sha256} covers those bytes in order. Frozen
 * parameters are not in the optimizer and so have no entry.
 */
final class OptimizerState {
    private OptimizerState() {
    }

    static ObjectNode toJson(Layer model, Optimizer optimizer) {
        Map<Parameter, String> names = names(model);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("type", optimizer.getClass().getSimpleName());
        o.put("steps", optimizer.steps());
        o.put("lr", optimizer.lr());
        o.put("initial_lr", optimizer.initialLr());
        ObjectNode state = o.putObject("state");
        MessageDigest digest = TensorJson.sha256();
        for (Parameter p : optimizer.parameters()) {
            String name = names.get(p);
            if (name == null) {
                throw new IllegalArgumentException("the optimizer updates a parameter (" + p.name() + ") that is not in the model");
            }
            ObjectNode ps = state.putObject(name);
            for (Map.Entry<String, Tensor> e : optimizer.state(p).entrySet()) {
                TensorJson.put(ps.putObject(e.getKey()), e.getValue(), digest);
            }
        }
        o.put("state_sha256", HexFormat.of().formatHex(digest.digest()));
        return o;
    }

    static void restore(JsonNode o, Layer model, Optimizer optimizer, Path sidecar) throws CheckpointException {
        if (!o.isObject()) {
            throw new CheckpointException(sidecar, "no \"optimizer\" object");
        }
        String type = optimizer.getClass().getSimpleName();
        if (!type.equals(o.path("type").asText())) {
            throw new CheckpointException(sidecar, "optimizer " + o.path("type").asText() + " in the checkpoint, the run uses "
                    + type);
        }
        Map<String, Parameter> byName = new LinkedHashMap<>();
        Map<Parameter, Boolean> updated = new IdentityHashMap<>();
        for (Parameter p : optimizer.parameters()) {
            updated.put(p, Boolean.TRUE);
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            if (updated.containsKey(e.getValue())) {
                byName.put(e.getKey(), e.getValue());
            }
        }
        JsonNode state = o.path("state");
        if (!state.isObject()) {
            throw new CheckpointException(sidecar, "optimizer.state must be an object");
        }
        Map<Parameter, Map<String, Tensor>> restored = new IdentityHashMap<>();
        MessageDigest digest = TensorJson.sha256();
        for (Iterator<Map.Entry<String, JsonNode>> it = state.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> pe = it.next();
            Parameter p = byName.get(pe.getKey());
            if (p == null) {
                throw new CheckpointException(sidecar, "optimizer state for " + pe.getKey()
                        + ", which this run's optimizer does not update (updated: " + byName.keySet() + ")");
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> st = pe.getValue().fields(); st.hasNext(); ) {
                Map.Entry<String, JsonNode> te = st.next();
                String where = "optimizer state " + pe.getKey() + "." + te.getKey();
                Tensor t = TensorJson.read(te.getValue(), where, sidecar, digest);
                if (!t.shape().equals(p.value().shape())) {
                    throw new CheckpointException(sidecar, where + ": shape " + t.shape() + ", the parameter has "
                            + p.value().shape());
                }
                tensors.put(te.getKey(), t);
            }
            restored.put(p, tensors);
        }
        String sum = HexFormat.of().formatHex(digest.digest());
        if (!sum.equals(o.path("state_sha256").asText())) {
            throw new CheckpointException(sidecar, "the optimizer state's SHA-256 " + sum + " differs from state_sha256 "
                    + o.path("state_sha256").asText() + " (corrupt sidecar)");
        }
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : byName.entrySet()) {
            if (!restored.containsKey(e.getValue())) {
                missing.add(e.getKey());
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(sidecar, "no optimizer state for " + missing
                    + ", which this run's optimizer updates (were other layers frozen when it was saved?)");
        }
        int steps = o.path("steps").asInt(-1);
        double lr = o.path("lr").asDouble(Double.NaN);
        if (steps < 0 || !(lr >= 0)) {
            throw new CheckpointException(sidecar, "optimizer: bad steps " + o.path("steps") + " or lr " + o.path("lr"));
        }
        try {
            optimizer.restore(steps, restored);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(sidecar, e.getMessage(), e);
        }
        optimizer.setLr(lr);
    }

    private static Map<Parameter, String> names(Layer model) {
        Map<Parameter, String> out = new IdentityHashMap<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            out.put(e.getValue(), e.getKey());
        }
        return out;
    }
}
