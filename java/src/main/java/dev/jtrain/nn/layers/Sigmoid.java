package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** 1/(1 + e^−x); backward from the output, y(1 − y). */
public class Sigmoid extends ElementwiseActivation {
    public Sigmoid() {
        super(Activation.sigmoid());
    }
}
