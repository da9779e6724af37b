package dev.jtrain.nn.loss;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Binary cross-entropy on logits, mean over all elements (FORMAT.md item 23): per element
 * max(z, 0) − z·t + log(1 + e^−|z|) (stable); targets may be soft (in [0, 1]). dz = (σ(z) − t)/numel.
 */
public class BceWithLogits implements Loss {
    private final Buffers buffers = new Buffers();
    private Tensor logits;
    private Tensor targets;
    private Tensor perElement;
    private Tensor loss;
    private Tensor dlogits;

    @Override
    public Tensor forward(Tensor logits, Tensor targets) {
        Buffers.requireFloat(logits, "BceWithLogits");
        Buffers.requireFloat(targets, "BceWithLogits targets");
        if (!targets.shape().equals(logits.shape())) {
            throw new IllegalArgumentException("BceWithLogits: targets " + targets.shape() + " must have the shape of logits "
                    + logits.shape());
        }
        Buffers.requireDevice(targets, logits.device(), "BceWithLogits (targets vs logits)");
        Backend be = Backends.of(logits);
        perElement = buffers.ensureLike(perElement, logits);
        loss = buffers.ensure(loss, be, Shape.scalar());
        be.bceWithLogits(logits, targets, perElement);
        be.sum(perElement, loss);
        be.scale(loss, 1f / logits.numel());
        this.logits = logits;
        this.targets = targets;
        return loss;
    }

    @Override
    public Tensor backward() {
        if (logits == null) {
            throw new IllegalStateException("BceWithLogits.backward called before forward");
        }
        dlogits = buffers.ensureLike(dlogits, logits);
        Backends.of(logits).bceWithLogitsBackward(logits, targets, 1f / logits.numel(), dlogits);
        return dlogits;
    }

    /** The unreduced loss (shape of the logits) of the last forward. */
    public Tensor lossPerElement() {
        return perElement;
    }

    @Override
    public void close() {
        buffers.close();
    }
}
