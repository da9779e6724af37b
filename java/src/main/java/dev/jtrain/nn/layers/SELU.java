package dev.jtrain.nn.layers;

import dev.jtrain.backend.Activation;

/** scale·(x > 0 ? x : alpha·(e^x − 1)) with PyTorch's constants (FORMAT.md item 3). */
public class SELU extends ElementwiseActivation {
    public SELU() {
        super(Activation.selu());
    }
}
