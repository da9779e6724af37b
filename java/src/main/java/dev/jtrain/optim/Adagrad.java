package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Adagrad as {@code torch.optim.Adagrad} (FORMAT.md item 30): {@code sum} starts at 0, {@code sum += g^2},
 * {@code p -= clr g / (sqrt(sum) + eps)} with eps outside the square root and
 * {@code clr = lr / (1 + (t - 1) lr_decay)}. Weight decay is L2-coupled. State: {@code sum}.
 */
public final class Adagrad extends AbstractOptimizer {
    public static final String SUM = "sum";
    /** PyTorch's defaults. */
    public static final double DEFAULT_LR = 0.01;
    public static final double DEFAULT_EPS = 1e-10;

    private final double lrDecay;
    private final double weightDecay;
    private final double eps;

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
