package dev.jtrain.regularize;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * A weight penalty added to the loss (FORMAT.md item 25). Both methods run on the weight's device:
 * {@link #penalty} returns a one-element tensor there, {@link #addGradient} accumulates into a gradient.
 */
public interface Penalty {

    /** The penalty of {@code w} as a one-element float32 tensor on w's device. */
    Tensor penalty(Tensor w);

    /** grad += d penalty / d w. */
    void addGradient(Tensor w, Tensor grad);

    /** Adds the penalty's gradient to each parameter's accumulated gradient (call after backward). */
    default void addGradients(List<Parameter> params) {
        for (Parameter p : params) {
            addGradient(p.value(), p.grad());
        }
    }
}
