package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** max(x, 0); relu'(0) = 0. */
public class ReLU extends ElementwiseActivation {
    public ReLU() {
        super(Activation.relu());
    }
}
