package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * RMSprop as {@code torch.optim.RMSprop} with {@code centered = False} (tests/conformance/FORMAT.md item 31).
 * Per parameter p with gradient g, smoothing α, eps ε, momentum μ, weight decay λ; v and b start at 0:
 * <pre>
 *   g ← g + λ·p                                    (λ ≠ 0: L2-coupled)
 *   v ← α·v + (1 − α)·g²                           (no bias correction)
 *   if μ &gt; 0:  b ← μ·b + g / (√v + ε);   p ← p − lr·b
 *   else:      p ← p − lr · g / (√v + ε)
 * </pre>
 * State: {@code square_avg} (v), and {@code momentum_buffer} (b) when μ &gt; 0.
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

    /**
     * @param params      the parameters to update
     * @param lr          learning rate, &ge; 0 (PyTorch's default 0.01)
     * @param alpha       smoothing α of the squared-gradient average (PyTorch's default 0.99)
     * @param eps         ε added to √v, &ge; 0 (PyTorch's default 1e-8)
     * @param weightDecay λ, &ge; 0 (L2-coupled)
     * @param momentum    μ, &ge; 0 (0: no momentum buffer)
     */
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
