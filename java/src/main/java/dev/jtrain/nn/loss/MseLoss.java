package dev.jtrain.nn.loss;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Mean squared error without a ½ (FORMAT.md item 24): Σ (pred − target)², divided by the total element
 * count for {@link Reduction#MEAN}. dpred = 2(pred − target)/den.
 */
public class MseLoss implements Loss {
    private final Buffers buffers = new Buffers();
    private final Reduction reduction;
    private Tensor pred;
    private Tensor target;
    private Tensor perElement;
    private Tensor loss;
    private Tensor dpred;

    public MseLoss(Reduction reduction) {
        this.reduction = java.util.Objects.requireNonNull(reduction, "reduction");
    }

    public MseLoss() {
        this(Reduction.MEAN);
    }

    public Reduction reduction() {
        return reduction;
    }

    private float scale(Tensor t) {
        return reduction == Reduction.MEAN ? 1f / t.numel() : 1f;
    }

    @Override
    public Tensor forward(Tensor pred, Tensor target) {
        Buffers.requireFloat(pred, "MseLoss");
        Buffers.requireFloat(target, "MseLoss target");
        if (!target.shape().equals(pred.shape())) {
            throw new IllegalArgumentException("MseLoss: target " + target.shape() + " must have the shape of the prediction "
                    + pred.shape());
        }
        Buffers.requireDevice(target, pred.device(), "MseLoss (target vs prediction)");
        Backend be = Backends.of(pred);
        perElement = buffers.ensureLike(perElement, pred);
        loss = buffers.ensure(loss, be, Shape.scalar());
        be.squaredError(pred, target, perElement);
        be.sum(perElement, loss);
        if (reduction == Reduction.MEAN) {
            be.scale(loss, scale(pred));
        }
        this.pred = pred;
        this.target = target;
        return loss;
    }

    @Override
    public Tensor backward() {
        if (pred == null) {
            throw new IllegalStateException("MseLoss.backward called before forward");
        }
        dpred = buffers.ensureLike(dpred, pred);
        Backends.of(pred).squaredErrorBackward(pred, target, scale(pred), dpred);
        return dpred;
    }

    /** The unreduced squared errors of the last forward. */
    public Tensor lossPerElement() {
        return perElement;
    }

    @Override
    public void close() {
        buffers.close();
    }
}
