package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** x·sigmoid(x) (swish). */
public class SiLU extends ElementwiseActivation {
    public SiLU() {
        super(Activation.silu());
    }
}
