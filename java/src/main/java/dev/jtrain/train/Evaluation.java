package dev.jtrain.train;

/** Loss (mean over samples) and accuracy (fraction in [0, 1]) of a model on a data set, in eval mode. */
public record Evaluation(int samples, double loss, double accuracy, double seconds) {
}
