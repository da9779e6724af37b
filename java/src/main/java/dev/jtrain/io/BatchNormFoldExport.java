package dev.jtrain.io;

import dev.jtrain.nn.BatchNormFolding;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds each eval-mode BatchNorm of a checkpoint into the Linear or Conv2d right before it, working on the
 * PyTorch-named state alone (so it also takes checkpoints PyTorch wrote): a module {@code P.k} with
 * {@code weight, bias, running_mean, running_var} (and {@code num_batches_tracked}) is a BatchNorm; when module
 * {@code P.(k-1)} has a {@code weight} of rank 2 (Linear [out, in]) or 4 (Conv2d [out, in, kh, kw]) with as many
 * outputs as the BatchNorm has channels, the BatchNorm's tensors are dropped and that layer gets
 * {@code W s[:, None]} and {@code (b - running_mean) s + beta}, {@code s = gamma / sqrt(running_var + eps)}
 * ({@link BatchNormFolding}, run by the backend of {@code device}). The folded layer always has a bias.
 * Indices are kept: in PyTorch, the folded model is the original {@code nn.Sequential} with each folded
 * BatchNorm replaced by {@code nn.Identity()} (and {@code bias=True} on the layer before it). A BatchNorm with
 * no Linear/Conv2d right before it is kept as it is.
 */
public final class BatchNormFoldExport {
    private static final Set<String> BN_KEYS = Set.of("weight", "bias", "running_mean", "running_var",
            StateDict.NUM_BATCHES_TRACKED);

    private BatchNormFoldExport() {
    }

    /** The folded state (host tensors, the input's order), and the module names of the folded and the kept BatchNorms. */
    public record Result(Map<String, Tensor> weights, List<String> folded, List<String> kept) {
    }

    public static Result fold(Map<String, Tensor> state, float eps, Device device) {
        Map<String, Map<String, Tensor>> modules = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            int dot = e.getKey().lastIndexOf('.');
            String module = dot < 0 ? "" : e.getKey().substring(0, dot);
            modules.computeIfAbsent(module, k -> new LinkedHashMap<>()).put(e.getKey().substring(dot + 1), e.getValue());
        }
        Map<String, Tensor[]> replaced = new LinkedHashMap<>(); // layer module -> folded {weight, bias}
        List<String> folded = new ArrayList<>();
        List<String> kept = new ArrayList<>();
        for (Map.Entry<String, Map<String, Tensor>> m : modules.entrySet()) {
            Map<String, Tensor> bn = m.getValue();
            if (!isBatchNorm(bn)) {
                continue;
            }
            String prev = previous(m.getKey());
            Map<String, Tensor> layer = prev == null ? null : modules.get(prev);
            if (layer == null || !isFoldableInto(layer, bn.get("running_mean").numel())) {
                kept.add(m.getKey());
                continue;
            }
            replaced.put(prev, foldOne(layer, bn, eps, device, m.getKey()));
            folded.add(m.getKey());
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Tensor>> m : modules.entrySet()) {
            String prefix = m.getKey().isEmpty() ? "" : m.getKey() + ".";
            if (folded.contains(m.getKey())) {
                continue;
            }
            Tensor[] wb = replaced.get(m.getKey());
            for (Map.Entry<String, Tensor> t : m.getValue().entrySet()) {
                if (wb == null) {
                    out.put(prefix + t.getKey(), t.getValue());
                } else if (t.getKey().equals("weight")) {
                    out.put(prefix + "weight", wb[0]);
                    out.put(prefix + "bias", wb[1]);
                }
            }
        }
        return new Result(out, folded, kept);
    }

    private static boolean isBatchNorm(Map<String, Tensor> m) {
        if (!m.keySet().containsAll(List.of("weight", "bias", "running_mean", "running_var"))
                || !BN_KEYS.containsAll(m.keySet())) {
            return false;
        }
        int c = m.get("weight").numel();
        for (String k : List.of("weight", "bias", "running_mean", "running_var")) {
            if (m.get(k).rank() != 1 || m.get(k).numel() != c) {
                return false;
            }
        }
        return true;
    }

    private static boolean isFoldableInto(Map<String, Tensor> layer, int channels) {
        Tensor w = layer.get("weight");
        if (w == null || !Set.of("weight", "bias").containsAll(layer.keySet())) {
            return false;
        }
        Tensor b = layer.get("bias");
        return (w.rank() == 2 || w.rank() == 4) && w.dim(0) == channels
                && (b == null || (b.rank() == 1 && b.numel() == channels));
    }

    /** "P.k" -> "P.(k-1)"; null when the last component is not a positive index. */
    private static String previous(String module) {
        int dot = module.lastIndexOf('.');
        String last = module.substring(dot + 1);
        int k;
        try {
            k = Integer.parseInt(last);
        } catch (NumberFormatException e) {
            return null;
        }
        return k < 1 ? null : module.substring(0, dot + 1) + (k - 1);
    }

    private static Tensor[] foldOne(Map<String, Tensor> layerState, Map<String, Tensor> bnState, float eps, Device device,
                                    String bnName) {
        Tensor w = layerState.get("weight");
        Tensor b = layerState.get("bias");
        Generator gen = new Generator(0); // the initial values are overwritten at once
        Layer layer;
        if (w.rank() == 2) {
            layer = new Linear(w.dim(1), w.dim(0), b != null, gen, device);
        } else {
            if (w.dim(2) != w.dim(3)) {
                throw new IllegalArgumentException("cannot fold BatchNorm " + bnName + ": the Conv2d before it has a "
                        + w.dim(2) + "x" + w.dim(3) + " kernel (jtrain's Conv2d is square)");
            }
            layer = new Conv2d(w.dim(1), w.dim(0), w.dim(2), 1, 0, b != null, gen, device);
        }
        try (layer; BatchNorm bn = new BatchNorm1d(w.dim(0), eps, BatchNorm.DEFAULT_MOMENTUM, device)) {
            bn.weight().set(bnState.get("weight"));
            bn.bias().set(bnState.get("bias"));
            bn.runningMean().set(bnState.get("running_mean"));
            bn.runningVar().set(bnState.get("running_var"));
            Layer fused;
            if (layer instanceof Linear lin) {
                lin.weight().set(w);
                if (b != null) {
                    lin.bias().set(b);
                }
                fused = BatchNormFolding.foldIntoLinear(lin, bn);
            } else {
                Conv2d conv = (Conv2d) layer;
                conv.weight().set(w);
                if (b != null) {
                    conv.bias().set(b);
                }
                fused = BatchNormFolding.foldIntoConv(conv, bn);
            }
            try (fused) {
                Map<String, dev.jtrain.nn.Parameter> p = fused.namedParameters();
                return new Tensor[] {copyToHost(p.get("weight").value()), copyToHost(p.get("bias").value())};
            }
        }
    }

    /** A host copy that outlives the layer (on the cpu {@code to} would return the layer's own tensor). */
    private static Tensor copyToHost(Tensor t) {
        Tensor host = t.to(Device.CPU);
        return host == t ? Tensor.of(t.toFloatArray(), t.dims()) : host;
    }
}
