package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;

import java.util.List;

/**
 * AdamW as {@code torch.optim.AdamW} (FORMAT.md item 34): decoupled weight decay {@code p *= 1 - lr wd}
 * comes first, then the plain Adam update (no L2 term in the gradient). Same state names as {@link Adam}.
 */
public final class AdamW extends Adam {
    /** PyTorch's default decoupled weight decay (the other defaults are Adam's). */
    public static final double DEFAULT_WEIGHT_DECAY = 1e-2;

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
