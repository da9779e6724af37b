package dev.jtrain.nn;

import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A chain of layers: forward in order, backward in reverse order. Children are named "0", "1", ...
 * as in PyTorch's nn.Sequential, so parameters are "0.weight", "1.running_mean", and so on.
 * A layer instance may appear only once (a layer remembers one forward for its backward).
 */
public class Sequential extends Layer {
    private final List<Layer> layers = new ArrayList<>();

    /** The layers in order, named "0", "1", ... (they become this container's children). */
    public Sequential(Layer... layers) {
        for (Layer l : layers) {
            add(l);
        }
    }

    /** Appends a layer as child "size()"; returns this. */
    public Sequential add(Layer layer) {
        Objects.requireNonNull(layer, "layer");
        if (layer == this) {
            throw new IllegalArgumentException("a Sequential cannot contain itself");
        }
        for (Layer l : layers) {
            if (l == layer) {
                throw new IllegalArgumentException("layer " + layer.getClass().getSimpleName()
                        + " is already in this Sequential (at index " + layers.indexOf(l)
                        + "); a layer remembers one forward, so use a new instance");
            }
        }
        child(String.valueOf(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    public Layer get(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("Sequential has " + layers.size() + " layers, no index " + index);
        }
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    public List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Tensor h = x;
        for (Layer l : layers) {
            h = l.forward(h, training);
        }
        return h;
    }

    @Override
    public Tensor backward(Tensor dy) {
        Tensor g = dy;
        for (int i = layers.size() - 1; i >= 0; i--) {
            g = layers.get(i).backward(g);
        }
        return g;
    }

    /**
     * Without {@code inputGradient}, the layers before the first one with trainable parameters need no
     * gradient at all (they are skipped) and that first one is asked for none (it skips its dx); returns null
     * then. Parameter gradients are the same as {@link #backward(Tensor)}'s.
     */
    @Override
    public Tensor backward(Tensor dy, boolean inputGradient) {
        if (inputGradient) {
            return backward(dy);
        }
        int first = 0;
        while (first < layers.size() && layers.get(first).parameters().isEmpty()) {
            first++;
        }
        Tensor g = dy;
        for (int i = layers.size() - 1; i > first; i--) {
            g = layers.get(i).backward(g);
        }
        if (first < layers.size()) {
            layers.get(first).backward(g, false);
        }
        return null;
    }

    /**
     * Reports each child's parameters as soon as that child's backward is done (in backward order, a parameter two
     * children share after the earlier child), then those of layers the backward skipped; the gradients and the
     * result are those of {@link #backward(Tensor, boolean)}.
     */
    @Override
    public Tensor backward(Tensor dy, boolean inputGradient, GradientReadyListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        if (overridesBackward == null) {
            overridesBackward = overridesBackward(this, Sequential.class);
        }
        if (overridesBackward) {
            return super.backward(dy, inputGradient, listener);
        }
        int first = 0;
        if (!inputGradient) {   // as backward(dy, false): leading layers without parameters are skipped
            while (first < layers.size() && layers.get(first).parameters().isEmpty()) {
                first++;
            }
        }
        GradientLastUse lastUse = new GradientLastUse(layers.subList(first, layers.size()), listener);
        Tensor g = dy;
        for (int i = layers.size() - 1; i > first; i--) {
            g = layers.get(i).backward(g, true, lastUse);
        }
        if (first < layers.size()) {
            g = layers.get(first).backward(g, inputGradient, lastUse);
        }
        lastUse.reportRemaining(this);
        return inputGradient ? g : null;
    }

    private Boolean overridesBackward;   // by a subclass; decided on the first hooked backward

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(");
        for (int i = 0; i < layers.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(i).append(": ").append(layers.get(i).getClass().getSimpleName());
        }
        return sb.append(')').toString();
    }
}
