package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;

import java.util.List;

/**
 * AdamW as {@code torch.optim.AdamW} (tests/conformance/FORMAT.md item 34): Adam with decoupled weight
 * decay λ. Per parameter p with gradient g at step t:
 * <pre>
 *   p ← p·(1 − lr·λ)                               (decoupled: g is not changed)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   v_max ← max(v_max, v)                          (amsgrad)
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 * Same state names as {@link Adam}; PyTorch's default λ is 0.01.
 */
public final class AdamW extends Adam {
    /** PyTorch's default decoupled weight decay (the other defaults are Adam's). */
    public static final double DEFAULT_WEIGHT_DECAY = 1e-2;

    /**
     * @param params      the parameters to update
     * @param lr          learning rate, &ge; 0
     * @param beta1       β1 in [0, 1)
     * @param beta2       β2 in [0, 1)
     * @param eps         ε, &ge; 0
     * @param weightDecay λ, &ge; 0 (decoupled: p ← p (1 − lr λ))
     * @param amsgrad     keep the running maximum of v (AMSGrad)
     */
    public AdamW(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                 boolean amsgrad) {
        super(params, lr, beta1, beta2, eps, weightDecay, amsgrad, true);
    }

    /** PyTorch defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2, no AMSGrad. */
    public AdamW(List<Parameter> params, double lr) {
        this(params, lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, DEFAULT_WEIGHT_DECAY, false);
    }

    /** PyTorch defaults with lr 1e-3. */
    public AdamW(List<Parameter> params) {
        this(params, DEFAULT_LR);
    }
}
