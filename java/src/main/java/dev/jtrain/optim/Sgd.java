package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD} (tests/conformance/FORMAT.md items 27-29). Per
 * parameter p with gradient g, learning rate lr, momentum μ, dampening τ, weight decay λ:
 * <pre>
 *   g ← g + λ·p                                    (λ ≠ 0: L2-coupled weight decay)
 *   if μ ≠ 0:
 *       b ← g                                      (first step: the raw gradient)
 *       b ← μ·b + (1 − τ)·g                        (later steps)
 *       g ← g + μ·b   if nesterov,   else  g ← b
 *   p ← p − lr·g
 * </pre>
 * State: {@code momentum_buffer} (b; only when μ ≠ 0). Nesterov needs μ &gt; 0 and τ = 0.
 */
public final class Sgd extends AbstractOptimizer {
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    /**
     * @param params      the parameters to update
     * @param lr          learning rate, &ge; 0
     * @param momentum    μ, &ge; 0 (0: plain SGD, no state)
     * @param dampening   τ, applied from the second step
     * @param weightDecay λ, &ge; 0 (L2-coupled)
     * @param nesterov    Nesterov momentum (needs μ &gt; 0 and τ = 0)
     */
    public Sgd(List<Parameter> params, double lr, double momentum, double dampening, double weightDecay,
               boolean nesterov) {
        super(params, lr);
        requireNonNegative("momentum", momentum);
        requireNonNegative("dampening", dampening);
        requireNonNegative("weight_decay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening (got momentum "
                    + momentum + ", dampening " + dampening + ")");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
        if (momentum != 0) {
            createStates(MOMENTUM_BUFFER);
        }
    }

    /** Plain SGD (no momentum, no weight decay). */
    public Sgd(List<Parameter> params, double lr) {
        this(params, lr, 0, 0, 0, false);
    }

    /** SGD with (heavy-ball) momentum, PyTorch's other defaults. */
    public Sgd(List<Parameter> params, double lr, double momentum) {
        this(params, lr, momentum, 0, 0, false);
    }

    @Override
    protected void update(Group g, int t) {
        List<Tensor> bufs = momentum != 0 ? states(g, MOMENTUM_BUFFER) : null;
        g.backend().sgdSteps(g.values(), g.grads(), bufs, (float) g.lr(), (float) momentum, (float) dampening,
                (float) weightDecay, nesterov, t == 1);
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean nesterov() {
        return nesterov;
    }
}
