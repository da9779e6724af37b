package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Adagrad as {@code torch.optim.Adagrad} (tests/conformance/FORMAT.md item 30). Per parameter p with
 * gradient g at step t = 1, 2, ..., with lr decay η, weight decay λ, eps ε; s starts at 0:
 * <pre>
 *   clr ← lr / (1 + (t − 1)·η)
 *   g ← g + λ·p                                    (λ ≠ 0: L2-coupled)
 *   s ← s + g²
 *   p ← p − clr · g / (√s + ε)                     (ε outside the square root)
 * </pre>
 * State: {@code sum} (s).
 */
public final class Adagrad extends AbstractOptimizer {
    public static final String SUM = "sum";
    /** PyTorch's defaults. */
    public static final double DEFAULT_LR = 0.01;
    public static final double DEFAULT_EPS = 1e-10;

    private final double lrDecay;
    private final double weightDecay;
    private final double eps;

    /**
     * @param params      the parameters to update
     * @param lr          learning rate, &ge; 0 (PyTorch's default 0.01)
     * @param lrDecay     η in clr = lr / (1 + (t − 1) η), &ge; 0
     * @param weightDecay λ, &ge; 0 (L2-coupled)
     * @param eps         ε added to √s, &ge; 0 (PyTorch's default 1e-10)
     */
    public Adagrad(List<Parameter> params, double lr, double lrDecay, double weightDecay, double eps) {
        super(params, lr);
        requireNonNegative("lr_decay", lrDecay);
        requireNonNegative("weight_decay", weightDecay);
        requireNonNegative("eps", eps);
        this.lrDecay = lrDecay;
        this.weightDecay = weightDecay;
        this.eps = eps;
        createStates(SUM);
    }

    /** PyTorch defaults: lr_decay 0, weight_decay 0, eps 1e-10. */
    public Adagrad(List<Parameter> params, double lr) {
        this(params, lr, 0, 0, DEFAULT_EPS);
    }

    /** PyTorch defaults with lr 0.01. */
    public Adagrad(List<Parameter> params) {
        this(params, DEFAULT_LR);
    }

    @Override
    protected void update(Group g, int t) {
        double clr = g.lr() / (1 + (t - 1) * lrDecay);
        g.backend().adagradSteps(g.values(), g.grads(), states(g, SUM), (float) clr, (float) weightDecay, (float) eps);
    }
}
