package dev.jtrain.regularize;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Tensor;

/** L1 penalty {@code lambda sum |w|}, subgradient {@code lambda sign(w)} with sign(0) = 0. */
public final class L1Penalty implements Penalty {
    private final float lambda;

    public L1Penalty(double lambda) {
        this.lambda = L2Penalty.checkLambda("lambda", lambda);
    }

    public float lambda() {
        return lambda;
    }

    @Override
    public Tensor penalty(Tensor w) {
        Backend be = Backends.of(w);
        Tensor out = be.zeros(1);
        be.sumAbs(w, out);
        be.scale(out, lambda);
        return out;
    }

    @Override
    public void addGradient(Tensor w, Tensor grad) {
        Backends.of(w).addSign(lambda, w, grad);
    }
}
