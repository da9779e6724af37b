package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** x > 0 ? x : alpha·(e^x − 1). */
public class ELU extends ElementwiseActivation {
    public ELU(float alpha) {
        super(Activation.elu(alpha));
    }

    /** alpha = 1. */
    public ELU() {
        this(1f);
    }
}
