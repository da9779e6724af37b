package dev.jtrain.regularize;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Tensor;

/**
 * L2 penalty {@code 0.5 lambda sum w^2}, gradient {@code lambda w}: the same as SGD's {@code weight_decay = lambda}.
 */
public final class L2Penalty implements Penalty {
    private final float lambda;

    public L2Penalty(double lambda) {
        this.lambda = checkLambda("lambda", lambda);
    }

    static float checkLambda(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be a finite value >= 0, got " + v);
        }
        return (float) v;
    }

    public float lambda() {
        return lambda;
    }

    @Override
    public Tensor penalty(Tensor w) {
        Backend be = Backends.of(w);
        Tensor out = be.zeros(1);
        be.sumSquares(w, out, false);
        be.scale(out, 0.5f * lambda);
        return out;
    }

    @Override
    public void addGradient(Tensor w, Tensor grad) {
        Backends.of(w).axpy(lambda, w, grad);
    }
}
