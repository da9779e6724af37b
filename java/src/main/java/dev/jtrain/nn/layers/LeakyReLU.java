package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** x > 0 ? x : slope·x; derivative at 0 is slope (PyTorch's default slope is 0.01). */
public class LeakyReLU extends ElementwiseActivation {
    public LeakyReLU(float slope) {
        super(Activation.leakyRelu(slope));
    }

    /** PyTorch's default slope 0.01. */
    public LeakyReLU() {
        this(0.01f);
    }
}
