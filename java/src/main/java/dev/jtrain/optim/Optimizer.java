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

    /** The parameters this optimizer updates (never buffers), in the order given at construction. */
    List<Parameter> parameters();

    /** Clears the gradients of {@link #parameters()} (lazily: see {@link Parameter#zeroGrad()}). */
    default void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** The learning rate the next {@link #step()} uses. */
    double lr();

    /** Sets the learning rate of the next steps (schedules call this); must be &ge; 0. */
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

    /**
     * Gives {@code params} their own learning rate (PyTorch's parameter groups): they are updated with
     * {@code lr() * groupLr / initialLr()}, i.e. {@code groupLr} while no schedule has changed {@link #lr()}, and
     * scaled with it by a schedule (a schedule with an additive term, like cosine's eta_min, scales the group's
     * LR by the same factor as the base LR rather than recomputing it from the group's own base). A later call
     * for the same parameter replaces its group.
     */
    default void setGroupLr(List<Parameter> params, double groupLr) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no parameter groups");
    }

    /** The learning rate {@code p} is updated with now (its group's, else {@link #lr()}). */
    default double lrOf(Parameter p) {
        return lr();
    }

    /**
     * Restores a saved state (a checkpoint): the number of completed steps and, per parameter, its state
     * tensors by PyTorch's names, copied into this optimizer's own (any device). Each given parameter's names
     * must be those this optimizer keeps.
     */
    default void restore(int steps, Map<Parameter, Map<String, Tensor>> state) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot restore a saved state");
    }

    /** Releases the state tensors; a later step starts them afresh from zeros. */
    @Override
    void close();
}
