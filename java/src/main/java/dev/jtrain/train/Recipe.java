package dev.jtrain.train;

import java.util.Locale;

/**
 * A model's default training recipe for {@code jtrain train} (what a flag left out means): optimizer, its learning
 * rate, batch size, epochs, dropout, and whether the lr decays to 0 by a per-step cosine ({@link CosineDecayListener};
 * applied when the recipe's optimizer is, i.e. {@code --optimizer} is not given). Chosen and measured on the bundled MNIST subset (8,000 train / 2,000 test,
 * cpu, 2 cores; figures in the README): lenet, the default model, reaches 98 % in 10 epochs; the mlp recipe 96 %.
 * Adam with small batches converges in the few hundred steps a 8,000-image set gives per epoch; the cnn, vgg and
 * resnet recipes are the same choice with larger batches (their convolutions make an epoch 10-100x dearer).
 */
public record Recipe(String optimizer, double lr, int batch, int epochs, float dropout, boolean cosineDecay) {

    /** The recipe of {@code model} (one of {@link Models#NAMES}). */
    public static Recipe forModel(String model) {
        String m = model == null ? "" : model.trim().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "lenet" -> new Recipe("adam", 2e-3, 32, 10, 0f, true);
            case "mlp" -> new Recipe("adam", 5e-4, 32, 10, 0.2f, true);
            case "cnn" -> new Recipe("adam", 1e-3, 64, 5, 0f, true);
            case "vgg", "resnet" -> new Recipe("adam", 1e-3, 64, 5, 0f, true);
            default -> throw new IllegalArgumentException("unknown model '" + model + "' (expected one of "
                    + String.join(", ", Models.NAMES) + ")");
        };
    }
}
