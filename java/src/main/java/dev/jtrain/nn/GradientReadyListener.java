package dev.jtrain.nn;

/**
 * Told during a backward pass that some parameters' gradients are final for that pass: nothing later in the same
 * backward writes them again, so they can be read (e.g. handed to an all-reduce) while the rest of the backward runs.
 * {@link Layer#backward(dev.jtrain.tensor.Tensor, boolean, GradientReadyListener)} reports every distinct parameter of the layer exactly once per
 * call, in the order backward finishes them: a leaf layer all of its parameters after its backward, a
 * {@link Sequential} each child's in backward order, a {@link Graph} each node's once no later node in the backward
 * writes them (a parameter several nodes share is reported after its last use). A layer without parameters is not
 * reported. Called on the thread that runs the backward.
 */
@FunctionalInterface
public interface GradientReadyListener {
    /** {@code params} (distinct, at least one) have their final gradients for this backward; the array is the caller's. */
    void ready(Parameter[] params);
}
