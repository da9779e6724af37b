package dev.jtrain.io;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A model's state under PyTorch's {@code state_dict()} names, so that an {@code nn.Sequential} of the same
 * layers loads a jtrain checkpoint with {@code strict=True} (and the other way round): per module, its
 * parameters, then its buffers, then its children, with dotted prefixes ({@code 0.weight}, {@code 0.bias},
 * {@code 1.running_mean}). Layouts are PyTorch's: Linear weight [out, in], Conv2d weight [out, in, kh, kw].
 * BatchNorm adds {@code num_batches_tracked}, an int64 of shape [] (its count of training forwards).
 */
public final class StateDict {
    public static final String NUM_BATCHES_TRACKED = "num_batches_tracked";

    private StateDict() {
    }

    /**
     * The model's tensors as host tensors, in PyTorch's order: the model's own tensors for cpu parameters (not
     * copies: write them before training goes on), host copies (counted transfers) for device ones.
     */
    public static Map<String, Tensor> of(Layer model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        walk(model, "", (name, p, bn) -> {
            if (p != null) {
                out.put(name, p.value().to(Device.CPU));
            } else {
                out.put(name, Tensor.ofLongs(new long[] {bn.numBatchesTracked()}));
            }
        });
        return out;
    }

    /** The names and shapes the model's state has (no copies). */
    public static Map<String, Shape> shapes(Layer model) {
        Map<String, Shape> out = new LinkedHashMap<>();
        walk(model, "", (name, p, bn) -> out.put(name, p != null ? p.value().shape() : Shape.scalar()));
        return out;
    }

    /**
     * Copies {@code state} into {@code model}. Every tensor of the model must be in {@code state} with the same
     * shape and dtype, and {@code state} must hold nothing else, except the names {@code skip} accepts (left as
     * they are in the model, and ignored in {@code state}). Nothing is copied unless everything matches; errors
     * name {@code file} (for messages), the tensor and what differs.
     */
    public static void load(Layer model, Map<String, Tensor> state, Path file, Predicate<String> skip)
            throws CheckpointException {
        Map<String, StateTensor> params = new LinkedHashMap<>();
        Map<String, BatchNorm> counters = new LinkedHashMap<>();
        walk(model, "", (name, p, bn) -> {
            if (p != null) {
                params.put(name, p);
            } else {
                counters.put(name, bn);
            }
        });
        List<String> missing = new ArrayList<>();
        for (String name : params.keySet()) {
            if (!skip.test(name)) {
                Tensor t = state.get(name);
                if (t == null) {
                    missing.add(name);
                    continue;
                }
                Tensor v = params.get(name).value();
                check(file, name, t, v.dtype(), v.shape());
            }
        }
        for (String name : counters.keySet()) {
            if (!skip.test(name)) {
                Tensor t = state.get(name);
                if (t == null) {
                    missing.add(name);
                    continue;
                }
                check(file, name, t, DType.INT64, Shape.scalar());
                if (t.longs()[0] < 0) {
                    throw new CheckpointException(file, "tensor " + name + ": " + t.longs()[0] + " is not a count of batches");
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(file, "missing tensor" + (missing.size() == 1 ? " " : "s ") + list(missing)
                    + " that the model has (the model is not the one this checkpoint was saved from)");
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : state.keySet()) {
            if (!params.containsKey(name) && !counters.containsKey(name) && !skip.test(name)) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new CheckpointException(file, "tensor" + (unexpected.size() == 1 ? " " : "s ") + list(unexpected)
                    + " in the file but not in the model (model tensors: " + list(new ArrayList<>(params.keySet())) + ")");
        }
        for (Map.Entry<String, StateTensor> e : params.entrySet()) {
            if (!skip.test(e.getKey())) {
                e.getValue().set(state.get(e.getKey()));
            }
        }
        for (Map.Entry<String, BatchNorm> e : counters.entrySet()) {
            if (!skip.test(e.getKey())) {
                e.getValue().setNumBatchesTracked(state.get(e.getKey()).longs()[0]);
            }
        }
    }

    /**
     * The tensor names of the model's classification head: its last Linear layer (in PyTorch's module order),
     * e.g. {@code [4.weight, 4.bias]}; empty when the model has no Linear layer.
     */
    public static List<String> headNames(Layer model) {
        String[] prefix = {null};
        findLastLinear(model, "", prefix);
        List<String> out = new ArrayList<>();
        if (prefix[0] != null) {
            for (String name : shapes(model).keySet()) {
                if (name.startsWith(prefix[0]) && name.indexOf('.', prefix[0].length()) < 0) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    private static void findLastLinear(Layer layer, String prefix, String[] found) {
        if (layer instanceof Linear) {
            found[0] = prefix;
        }
        for (Map.Entry<String, Layer> c : layer.children().entrySet()) {
            findLastLinear(c.getValue(), prefix + c.getKey() + ".", found);
        }
    }

    private static void check(Path file, String name, Tensor t, DType dtype, Shape shape) throws CheckpointException {
        if (t.dtype() != dtype) {
            throw new CheckpointException(file, "tensor " + name + ": dtype " + SafeTensors.dtypeName(t.dtype())
                    + " in the file, the model has " + SafeTensors.dtypeName(dtype));
        }
        if (!t.shape().equals(shape)) {
            throw new CheckpointException(file, "tensor " + name + ": shape " + t.shape() + " in the file, the model has "
                    + shape);
        }
    }

    private static String list(List<String> names) {
        return names.size() <= 8 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 8)) + ", ... (" + names.size() + " in all)";
    }

    /** One tensor of the state: a parameter or buffer, or (p null) a BatchNorm's batch counter. */
    private interface Visitor {
        void visit(String name, StateTensor p, BatchNorm bn);
    }

    /** PyTorch's order: a module's parameters, its buffers (namedState's order), then its children. */
    private static void walk(Layer layer, String prefix, Visitor v) {
        for (Map.Entry<String, StateTensor> e : layer.namedState().entrySet()) {
            if (e.getKey().indexOf('.') < 0) { // a child's (dotted) is visited with the child
                v.visit(prefix + e.getKey(), e.getValue(), null);
            }
        }
        if (layer instanceof BatchNorm bn) {
            v.visit(prefix + NUM_BATCHES_TRACKED, null, bn);
        }
        for (Map.Entry<String, Layer> c : layer.children().entrySet()) {
            walk(c.getValue(), prefix + c.getKey() + ".", v);
        }
    }
}
