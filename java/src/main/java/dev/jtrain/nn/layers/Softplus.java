package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** log(1 + e^(βx))/β, linear where βx > threshold (FORMAT.md item 5); PyTorch's defaults are β = 1, threshold = 20. */
public class Softplus extends ElementwiseActivation {
    public Softplus(float beta, float threshold) {
        super(Activation.softplus(beta, threshold));
    }

    /** beta = 1, threshold = 20 (PyTorch's defaults). */
    public Softplus() {
        this(1f, 20f);
    }
}
