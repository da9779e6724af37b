package dev.jtrain.optim;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_} (tests/conformance/FORMAT.md
 * item 35), over the gradients of the {@link dev.jtrain.nn.Parameter}s given (never buffers):
 * <pre>
 *   total ← √(Σ over all gradients g of Σ g²)          (returned; taken before clipping)
 *   g ← g · min(1, maxNorm / (total + 1e-6))            (every gradient)
 * </pre> Everything stays on the gradients'
 * device (no host synchronisation): the returned norm is a one-element tensor there.
 */
public final class GradClipping {

    private GradClipping() {
    }

    /** Clips the gradients of {@code params} in place; returns the total L2 norm before clipping ([1] tensor, the caller's to close). */
    public static Tensor clipGradNorm(List<Parameter> params, float maxNorm) {
        List<Tensor> grads = new ArrayList<>();
        for (Parameter p : params) {
            if (p.grad() != null) {
                grads.add(p.grad());
            }
        }
        return clipGradients(grads, maxNorm);
    }

    /** The same over raw gradient tensors (all on one device). */
    public static Tensor clipGradients(List<Tensor> grads, float maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max_norm must be > 0, got " + maxNorm);
        }
        if (grads.isEmpty()) {
            throw new IllegalArgumentException("clipGradNorm: no gradients to clip");
        }
        Backend be = Backends.of(grads.get(0));
        for (Tensor g : grads) {
            if (!g.device().equals(be.device())) {
                throw new IllegalArgumentException("clipGradNorm: gradients on different devices ("
                        + be.device() + " and " + g.device() + ")");
            }
        }
        Tensor norm = be.zeros(1);
        try (Tensor squares = be.zeros(1)) {
            be.sumSquares(grads, squares);              // one launch for all gradients on a GPU
            be.sqrt(squares, norm);
            be.clipByGlobalNorm(grads, squares, maxNorm);
        }
        return norm;
    }
}
