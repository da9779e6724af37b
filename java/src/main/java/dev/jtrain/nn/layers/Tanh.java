package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** tanh(x); backward from the output, 1 − y². */
public class Tanh extends ElementwiseActivation {
    public Tanh() {
        super(Activation.tanh());
    }
}
