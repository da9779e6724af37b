package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Adam as {@code torch.optim.Adam} (tests/conformance/FORMAT.md items 27, 32, 33). Per parameter p with
 * gradient g at step t = 1, 2, ..., with betas (β1, β2), eps ε, weight decay λ; m and v start at 0:
 * <pre>
 *   g ← g + λ·p                                    (λ ≠ 0: L2-coupled; {@link AdamW} decouples it)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   v_max ← max(v_max, v)                          (amsgrad; v_max then stands for v below)
 *   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
 * </pre>
 * The bias corrections 1 − β1^t and 1 − β2^t are applied as PyTorch applies them, with ε added after the
 * corrected square root. State: {@code exp_avg} (m), {@code exp_avg_sq} (v), and {@code max_exp_avg_sq}
 * (v_max) with AMSGrad. Defaults as PyTorch's: lr 1e-3, betas (0.9, 0.999), ε 1e-8, λ 0.
 */
public class Adam extends AbstractOptimizer {
    public static final String EXP_AVG = "exp_avg";
    public static final String EXP_AVG_SQ = "exp_avg_sq";
    public static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";
    /** PyTorch's defaults (also AdamW's). */
    public static final double DEFAULT_LR = 1e-3;
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPS = 1e-8;

    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean amsgrad;
    private final boolean decoupled;

    /**
     * @param params      the parameters to update
     * @param lr          learning rate, &ge; 0
     * @param beta1       β1 in [0, 1)
     * @param beta2       β2 in [0, 1)
     * @param eps         ε, &ge; 0
     * @param weightDecay λ, &ge; 0 (L2-coupled: g ← g + λ p)
     * @param amsgrad     keep the running maximum of v (AMSGrad)
     */
    public Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                boolean amsgrad) {
        this(params, lr, beta1, beta2, eps, weightDecay, amsgrad, false);
    }

    /** PyTorch defaults: betas (0.9, 0.999), eps 1e-8, no weight decay, no AMSGrad. */
    public Adam(List<Parameter> params, double lr) {
        this(params, lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, 0, false);
    }

    /** PyTorch defaults with lr 1e-3. */
    public Adam(List<Parameter> params) {
        this(params, DEFAULT_LR);
    }

    Adam(List<Parameter> params, double lr, double beta1, double beta2, double eps, double weightDecay,
         boolean amsgrad, boolean decoupled) {
        super(params, lr);
        requireRange("beta1", beta1, 0, 1);
        requireRange("beta2", beta2, 0, 1);
        requireNonNegative("eps", eps);
        requireNonNegative("weight_decay", weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.amsgrad = amsgrad;
        this.decoupled = decoupled;
        createStates(amsgrad ? new String[] {EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ} : new String[] {EXP_AVG, EXP_AVG_SQ});
    }

    @Override
    protected final void update(Group g, int t) {
        List<Tensor> m = states(g, EXP_AVG);
        List<Tensor> v = states(g, EXP_AVG_SQ);
        List<Tensor> vmax = amsgrad ? states(g, MAX_EXP_AVG_SQ) : null;
        g.backend().adamSteps(g.values(), g.grads(), m, v, vmax, (float) g.lr(), (float) beta1, (float) beta2,
                (float) eps, (float) weightDecay, decoupled, t);
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean amsgrad() {
        return amsgrad;
    }
}
