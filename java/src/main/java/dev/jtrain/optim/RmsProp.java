package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * RMSprop as {@code torch.optim.RMSprop} with {@code centered = False} (FORMAT.md item 31): {@code square_avg}
 * starts at 0, no bias correction, {@code v = alpha v + (1 - alpha) g^2}, {@code p -= lr g / (sqrt(v) + eps)};
 * with momentum {@code buf = mu buf + g / (sqrt(v) + eps)}, {@code p -= lr buf}. Weight decay is L2-coupled.
 * State: {@code square_avg}, and {@code momentum_buffer} when momentum > 0.
 */
public final class RmsProp extends AbstractOptimizer {
    public static final String SQUARE_AVG = "square_avg";
    public static final String MOMENTUM_BUFFER = "momentum_buffer";
    /** PyTorch's defaults. */
    public static final double DEFAULT_LR = 0.01;
    public static final double DEFAULT_ALPHA = 0.99;
    public static final double DEFAULT_EPS = 1e-8;

    private final double alpha;
    private final double eps;
    private final double weightDecay;
    private final double momentum;

    public RmsProp(List<Parameter> params, double lr, double alpha, double eps, double weightDecay, double momentum) {
        super(params, lr);
        requireRange("alpha", alpha, 0, 1);
        requireNonNegative("eps", eps);
        requireNonNegative("weight_decay", weightDecay);
        requireNonNegative("momentum", momentum);
        this.alpha = alpha;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        createStates(momentum > 0 ? new String[] {SQUARE_AVG, MOMENTUM_BUFFER} : new String[] {SQUARE_AVG});
    }

    /** PyTorch defaults: alpha 0.99, eps 1e-8, no weight decay, no momentum. */
    public RmsProp(List<Parameter> params, double lr) {
        this(params, lr, DEFAULT_ALPHA, DEFAULT_EPS, 0, 0);
    }

    /** PyTorch defaults with lr 0.01. */
    public RmsProp(List<Parameter> params) {
        this(params, DEFAULT_LR);
    }

    @Override
    protected void update(Group g, int t) {
        List<Tensor> squareAvg = states(g, SQUARE_AVG);
        List<Tensor> bufs = momentum > 0 ? states(g, MOMENTUM_BUFFER) : null;
        g.backend().rmspropSteps(g.values(), g.grads(), squareAvg, bufs, (float) g.lr(), (float) alpha, (float) eps,
                (float) weightDecay, (float) momentum);
    }
}
