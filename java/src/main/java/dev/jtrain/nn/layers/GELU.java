package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** GELU: exact 0.5·x·(1 + erf(x/√2)), or the tanh approximation (FORMAT.md item 4). */
public class GELU extends ElementwiseActivation {
    public GELU(boolean tanhApproximation) {
        super(Activation.gelu(tanhApproximation));
    }

    /** The exact (erf) form, PyTorch's default. */
    public GELU() {
        this(false);
    }
}
