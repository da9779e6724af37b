package dev.jtrain.regularize;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.tensor.Tensor;

/**
 * Elastic net {@code lambda1 sum |w| + 0.5 lambda2 sum w^2} with explicit lambdas (not sklearn's
 * alpha / l1_ratio form); gradient {@code lambda1 sign(w) + lambda2 w}, sign(0) = 0.
 */
public final class ElasticNet implements Penalty {
    private final float lambda1;
    private final float lambda2;

    public ElasticNet(double lambda1, double lambda2) {
        this.lambda1 = L2Penalty.checkLambda("lambda1", lambda1);
        this.lambda2 = L2Penalty.checkLambda("lambda2", lambda2);
    }

    public float lambda1() {
        return lambda1;
    }

    public float lambda2() {
        return lambda2;
    }

    @Override
    public Tensor penalty(Tensor w) {
        Backend be = Backends.of(w);
        Tensor l1 = be.zeros(1);
        be.sumAbs(w, l1);
        be.scale(l1, lambda1);
        try (Tensor l2 = be.zeros(1)) {
            be.sumSquares(w, l2, false);
            be.scale(l2, 0.5f * lambda2);
            be.add(l1, l2, l1);
        }
        return l1;
    }

    @Override
    public void addGradient(Tensor w, Tensor grad) {
        Backend be = Backends.of(w);
        be.addSign(lambda1, w, grad);
        be.axpy(lambda2, w, grad);
    }
}
