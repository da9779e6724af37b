package dev.jtrain.nn;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A directed acyclic graph of named nodes: one input, layer nodes (one input each), elementwise
 * {@link #sum} nodes (skip connections) and {@link #concat} nodes (parallel branches), and one output.
 * <pre>
 *   Graph g = new Graph();
 *   g.input("x");
 *   g.add("fc1", new Linear(8, 8, true, gen), "x");
 *   g.add("a", new ReLU(), "fc1");
 *   g.sum("res", "a", "x");            // residual connection
 *   g.output("res");
 * </pre>
 * A node may only use nodes defined before it, so insertion order is a topological order and a cycle
 * cannot be built. Forward runs the nodes in insertion order; backward runs them in reverse, summing
 * the gradients of a node that feeds several consumers. Nodes the output does not depend on are
 * computed by forward but skipped by backward. Layer nodes are children named by the node, so
 * parameters are "fc1.weight". Node outputs and gradients are kept in reused buffers.
 */
public class Graph extends Layer {

    private enum Kind { INPUT, LAYER, SUM, CONCAT }

    private static final class Node {
        final String name;
        final Kind kind;
        final Layer layer;
        final int[] inputs;
        final int dim;          // concat axis as given (may be negative)
        Tensor value;           // output of the last forward
        Tensor owned;           // output buffer of sum / concat nodes
        Tensor grad;            // gradient during backward (null: none)
        boolean gradOwned;      // grad is this node's own accumulation buffer
        Tensor accum;           // accumulation buffer when several consumers send gradients
        List<Tensor> viewsIn;   // concat: input views [outer, C_k, inner]
        Tensor[] splitBufs;     // concat backward: per-input gradient buffers
        int outer;              // concat: the output seen as [outer, total, inner]
        int total;
        int inner;

        Node(String name, Kind kind, Layer layer, int[] inputs, int dim) {
            this.name = name;
            this.kind = kind;
            this.layer = layer;
            this.inputs = inputs;
            this.dim = dim;
        }
    }

    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, Integer> index = new HashMap<>();
    private int inputNode = -1;
    private int outputNode = -1;
    private boolean forwarded;
    private Tensor zeroDx;

    // ---------------------------------------------------------------- building

    /** Declares the graph's input node (exactly one). */
    public Graph input(String name) {
        if (inputNode >= 0) {
            throw new IllegalStateException("graph already has an input node '" + nodes.get(inputNode).name
                    + "'; a Graph takes one input");
        }
        inputNode = addNode(new Node(checkNewName(name), Kind.INPUT, null, new int[0], 0));
        return this;
    }

    /** A layer node: {@code name = layer(input)}; the layer becomes child {@code name}. */
    public Graph add(String name, Layer layer, String input) {
        checkNewName(name);
        Objects.requireNonNull(layer, "layer");
        if (layer == this) {
            throw new IllegalArgumentException("node '" + name + "': a graph cannot contain itself");
        }
        for (Node n : nodes) {
            if (n.layer == layer) {
                throw new IllegalArgumentException("node '" + name + "': this " + layer.getClass().getSimpleName()
                        + " is already node '" + n.name + "'; a layer remembers one forward, so use a new instance");
            }
        }
        int[] in = {resolve(name, input)};
        child(name, layer);
        addNode(new Node(name, Kind.LAYER, layer, in, 0));
        return this;
    }

    /** An elementwise sum of nodes of equal shape (a skip connection); the same node may appear twice. */
    public Graph sum(String name, String... inputs) {
        checkNewName(name);
        if (inputs == null || inputs.length < 1) {
            throw new IllegalArgumentException("sum node '" + name + "' needs at least one input");
        }
        int[] in = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = resolve(name, inputs[i]);
        }
        addNode(new Node(name, Kind.SUM, null, in, 0));
        return this;
    }

    /**
     * Concatenation along {@code dim} (negative counts from the end) of nodes whose other dims match.
     * Dim 1 is the usual one (channels of NCHW, features of [N, D]); any dim works.
     */
    public Graph concat(String name, int dim, String... inputs) {
        checkNewName(name);
        if (inputs == null || inputs.length < 1) {
            throw new IllegalArgumentException("concat node '" + name + "' needs at least one input");
        }
        int[] in = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            in[i] = resolve(name, inputs[i]);
        }
        addNode(new Node(name, Kind.CONCAT, null, in, dim));
        return this;
    }

    /** Declares which node's value {@link #forward} returns. */
    public Graph output(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalArgumentException("output: unknown node '" + name + "'; known nodes: " + names());
        }
        outputNode = i;
        return this;
    }

    private String checkNewName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("graph node names must be non-empty");
        }
        if (name.contains(".")) {
            throw new IllegalArgumentException("graph node name '" + name + "' must not contain '.' (it separates parameter names)");
        }
        if (index.containsKey(name)) {
            throw new IllegalArgumentException("duplicate graph node name '" + name + "'");
        }
        return name;
    }

    private int resolve(String node, String input) {
        if (input == null) {
            throw new IllegalArgumentException("node '" + node + "': input name is null");
        }
        if (input.equals(node)) {
            throw new IllegalArgumentException("node '" + node + "' uses itself as input: that would be a cycle");
        }
        Integer i = index.get(input);
        if (i == null) {
            throw new IllegalArgumentException("node '" + node + "': unknown input '" + input + "' (define a node before"
                    + " using it, which also rules out cycles); known nodes: " + names());
        }
        return i;
    }

    private int addNode(Node n) {
        nodes.add(n);
        index.put(n.name, nodes.size() - 1);
        return nodes.size() - 1;
    }

    private List<String> names() {
        List<String> out = new ArrayList<>();
        for (Node n : nodes) {
            out.add(n.name);
        }
        return out;
    }

    /** The node names in insertion (topological) order. */
    public List<String> nodeNames() {
        return Collections.unmodifiableList(names());
    }

    /** The layer of a layer node. */
    public Layer layer(String name) {
        Node n = node(name);
        if (n.kind != Kind.LAYER) {
            throw new IllegalArgumentException("node '" + name + "' is a " + n.kind.name().toLowerCase() + " node, not a layer");
        }
        return n.layer;
    }

    /** The value a node produced in the last forward (null before one). */
    public Tensor value(String name) {
        return node(name).value;
    }

    private Node node(String name) {
        Integer i = index.get(name);
        if (i == null) {
            throw new IllegalArgumentException("unknown node '" + name + "'; known nodes: " + names());
        }
        return nodes.get(i);
    }

    // ---------------------------------------------------------------- forward and backward

    @Override
    public Tensor forward(Tensor x, boolean training) {
        if (inputNode < 0) {
            throw new IllegalStateException("graph has no input node: call input(name) first");
        }
        if (outputNode < 0) {
            throw new IllegalStateException("graph has no output node: call output(name)");
        }
        for (Node n : nodes) {
            switch (n.kind) {
                case INPUT -> n.value = x;
                case LAYER -> n.value = n.layer.forward(nodes.get(n.inputs[0]).value, training);
                case SUM -> forwardSum(n);
                case CONCAT -> forwardConcat(n);
            }
        }
        forwarded = true;
        return nodes.get(outputNode).value;
    }

    private void forwardSum(Node n) {
        Tensor first = nodes.get(n.inputs[0]).value;
        for (int k = 1; k < n.inputs.length; k++) {
            Tensor t = nodes.get(n.inputs[k]).value;
            if (!t.shape().equals(first.shape())) {
                throw new IllegalArgumentException("sum node '" + n.name + "': input '" + nodes.get(n.inputs[k]).name
                        + "' has shape " + t.shape() + " but '" + nodes.get(n.inputs[0]).name + "' has shape "
                        + first.shape());
            }
            if (!t.device().equals(first.device())) {
                throw new IllegalArgumentException("sum node '" + n.name + "': input '" + nodes.get(n.inputs[k]).name
                        + "' is on " + t.device() + " but '" + nodes.get(n.inputs[0]).name + "' is on " + first.device());
            }
        }
        Backend be = Backends.of(first);
        n.owned = buffers.ensureLike(n.owned, first);
        if (n.inputs.length == 1) {
            be.copy(first, n.owned);
        } else {
            be.add(first, nodes.get(n.inputs[1]).value, n.owned);
            for (int k = 2; k < n.inputs.length; k++) {
                be.add(n.owned, nodes.get(n.inputs[k]).value, n.owned);
            }
        }
        n.value = n.owned;
    }

    private int axis(Node n, int rank) {
        int d = n.dim < 0 ? n.dim + rank : n.dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException("concat node '" + n.name + "': dim " + n.dim + " is out of range for rank "
                    + rank + " inputs");
        }
        return d;
    }

    private void forwardConcat(Node n) {
        Tensor first = nodes.get(n.inputs[0]).value;
        int rank = first.rank();
        int d = axis(n, rank);
        int total = 0;
        for (int k = 0; k < n.inputs.length; k++) {
            Node src = nodes.get(n.inputs[k]);
            Tensor t = src.value;
            boolean ok = t.rank() == rank;
            for (int a = 0; ok && a < rank; a++) {
                ok = a == d || t.dim(a) == first.dim(a);
            }
            if (!ok) {
                throw new IllegalArgumentException("concat node '" + n.name + "' along dim " + n.dim + ": input '"
                        + src.name + "' has shape " + t.shape() + " but '" + nodes.get(n.inputs[0]).name
                        + "' has shape " + first.shape() + " (all dims but dim " + d + " must match)");
            }
            if (!t.device().equals(first.device())) {
                throw new IllegalArgumentException("concat node '" + n.name + "': input '" + src.name + "' is on "
                        + t.device() + " but '" + nodes.get(n.inputs[0]).name + "' is on " + first.device());
            }
            total += t.dim(d);
        }
        int[] od = first.dims();
        od[d] = total;
        Shape outShape = Shape.of(od);
        n.owned = buffers.ensure(n.owned, Backends.of(first), outShape);
        int outer = outShape.size(0, d);
        int inner = outShape.size(d + 1, rank);
        List<Tensor> views = new ArrayList<>(n.inputs.length);
        for (int k = 0; k < n.inputs.length; k++) {
            views.add(view3(nodes.get(n.inputs[k]).value, outer, d, inner));
        }
        n.viewsIn = views;
        n.outer = outer;
        n.total = total;
        n.inner = inner;
        Backends.of(first).concatDim1(views, view3(n.owned, outer, d, inner));
        n.value = n.owned;
    }

    private static Tensor view3(Tensor t, int outer, int d, int inner) {
        return t.reshape(outer, t.dim(d), inner);
    }

    @Override
    public Tensor backward(Tensor dy) {
        return backward(dy, null);
    }

    /**
     * Reports each layer node's parameters once no later step of the backward writes them: after the node's
     * backward, or for a parameter several nodes share, after the last of them (the earliest in the graph); then
     * those of nodes the backward skips. The gradients and dx are those of {@link #backward(Tensor)}.
     */
    @Override
    public Tensor backward(Tensor dy, boolean inputGradient, GradientReadyListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        if (overridesBackward == null) {
            overridesBackward = overridesBackward(this, Graph.class);
        }
        if (overridesBackward) {
            return super.backward(dy, inputGradient, listener);
        }
        List<Layer> visited = new ArrayList<>();
        boolean[] reached = reachedByBackward();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (reached[i] && nodes.get(i).kind == Kind.LAYER) {
                visited.add(nodes.get(i).layer);
            }
        }
        GradientLastUse lastUse = new GradientLastUse(visited, listener);
        Tensor dx = backward(dy, lastUse);
        lastUse.reportRemaining(this);
        return dx;
    }

    private Boolean overridesBackward;   // by a subclass; decided on the first hooked backward

    /** The nodes backward visits: the output and every node a visited node reads (what {@code grad != null} marks). */
    private boolean[] reachedByBackward() {
        boolean[] reached = new boolean[nodes.size()];
        if (outputNode >= 0) {
            reached[outputNode] = true;
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (reached[i]) {
                for (int in : nodes.get(i).inputs) {
                    reached[in] = true;
                }
            }
        }
        return reached;
    }

    /** The backward pass; {@code lastUse} null: no hook (the plain path, as fast as before the hook existed). */
    private Tensor backward(Tensor dy, GradientLastUse lastUse) {
        if (!forwarded) {
            throw new IllegalStateException("Graph.backward called before forward");
        }
        Node out = nodes.get(outputNode);
        if (!dy.shape().equals(out.value.shape())) {
            throw new IllegalArgumentException("Graph.backward: dy " + dy.shape() + " does not match the output '"
                    + out.name + "' of shape " + out.value.shape());
        }
        for (Node n : nodes) {
            n.grad = null;
            n.gradOwned = false;
        }
        out.grad = dy;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.grad == null) {
                continue;   // the output does not depend on this node
            }
            switch (n.kind) {
                case INPUT -> { }
                case LAYER -> accumulate(n.inputs[0], lastUse == null ? n.layer.backward(n.grad)
                        : n.layer.backward(n.grad, true, lastUse));
                case SUM -> {
                    for (int in : n.inputs) {
                        accumulate(in, n.grad);
                    }
                }
                case CONCAT -> backwardConcat(n);
            }
        }
        Node in = nodes.get(inputNode);
        Tensor dx = in.grad;
        if (dx == null) {   // the output does not depend on the input
            zeroDx = buffers.ensureLike(zeroDx, in.value);
            Backends.of(zeroDx).fill(zeroDx, 0f);
            dx = zeroDx;
        }
        for (Node n : nodes) {
            n.grad = null;   // drop references to other layers' buffers
        }
        return dx;
    }

    private void backwardConcat(Node n) {
        int k = n.inputs.length;
        if (n.splitBufs == null || n.splitBufs.length != k) {
            n.splitBufs = new Tensor[k];
        }
        List<Tensor> parts = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
            Tensor v = n.viewsIn.get(j);
            n.splitBufs[j] = buffers.ensureLike(n.splitBufs[j], v);
            parts.add(n.splitBufs[j]);
        }
        Tensor g3 = n.grad.reshape(n.outer, n.total, n.inner);
        Backends.of(n.grad).splitDim1(g3, parts);
        for (int j = 0; j < k; j++) {
            Tensor src = nodes.get(n.inputs[j]).value;
            accumulate(n.inputs[j], n.splitBufs[j].reshape(src.dims()));
        }
    }

    /** Adds gradient {@code g} into node {@code target}'s gradient (referenced if first, summed in a buffer after). */
    private void accumulate(int target, Tensor g) {
        Node t = nodes.get(target);
        if (!g.shape().equals(t.value.shape())) {
            if (g.numel() != t.value.numel()) {
                throw new IllegalStateException("gradient for node '" + t.name + "' has shape " + g.shape()
                        + " but its value has shape " + t.value.shape());
            }
            g = g.reshape(t.value.dims());
        }
        if (t.grad == null) {
            t.grad = g;
            return;
        }
        Backend be = Backends.of(g);
        if (!t.gradOwned) {
            t.accum = buffers.ensureLike(t.accum, t.value);
            be.copy(t.grad, t.accum);
            t.grad = t.accum;
            t.gradOwned = true;
        }
        be.add(t.accum, g, t.accum);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Graph(");
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            sb.append(i == 0 ? "" : ", ").append(n.name).append('=');
            switch (n.kind) {
                case INPUT -> sb.append("input");
                case LAYER -> sb.append(n.layer.getClass().getSimpleName());
                case SUM -> sb.append("sum");
                case CONCAT -> sb.append("concat[").append(n.dim).append(']');
            }
            if (n.inputs.length > 0) {
                String[] ins = new String[n.inputs.length];
                for (int j = 0; j < ins.length; j++) {
                    ins[j] = nodes.get(n.inputs[j]).name;
                }
                sb.append(Arrays.toString(ins));
            }
        }
        return sb.append(", output=").append(outputNode >= 0 ? nodes.get(outputNode).name : "none").append(')').toString();
    }
}
