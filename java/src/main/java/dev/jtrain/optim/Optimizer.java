package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients with one of PyTorch's rules (FORMAT.md 27-35).
 * State tensors live on the parameters' device and are named as in PyTorch's optimizer.state
 * ("momentum_buffer", "exp_avg", ...); when the model moves to another device, the state follows it at
 * the next step (a counted transfer). The learning rate is read by schedules through lr()/setLr().
 * {@link #close()} releases the state tensors (device memory); the parameters belong to the model.
 */
public interface Optimizer extends AutoCloseable {

    /** One update of every parameter; the step counter starts at 1. */
    void step();

    List<Parameter> parameters();

    default void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    double lr();

    void setLr(double lr);

    /**
     * The learning rate the optimizer was built with (PyTorch's {@code initial_lr}): the base LR of a
     * schedule, however many schedules have already changed {@link #lr()}.
     */
    default double initialLr() {
        return lr();
    }

    /** Number of completed steps. */
    int steps();

    /** The state tensors of one parameter, keyed by PyTorch's names (empty before the first step). */
    Map<String, Tensor> state(Parameter p);

    /** Releases the state tensors; a later step starts them afresh from zeros. */
    @Override
    void close();
}
