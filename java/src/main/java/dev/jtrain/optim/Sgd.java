package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Stochastic gradient descent as {@code torch.optim.SGD} (FORMAT.md items 27-29): L2-coupled weight decay
 * {@code g += wd p} first; with momentum the first buffer is the raw gradient, then
 * {@code buf = mu buf + (1 - dampening) g} and {@code p -= lr buf}; Nesterov uses {@code p -= lr (g + mu buf)}
 * with the updated buffer. State: {@code momentum_buffer} (only when momentum != 0).
 */
public final class Sgd extends AbstractOptimizer {
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

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
