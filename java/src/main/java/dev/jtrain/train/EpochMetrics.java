package dev.jtrain.train;

/**
 * What one epoch measured. Losses are means over samples; accuracies are fractions in [0, 1];
 * test values are NaN when no test set was given. {@code seconds} is the wall time of the training
 * steps of the epoch (data, forward, loss, backward, update; evaluation excluded, reported in
 * {@code evalSeconds}), and {@code samplesPerSec = trainSamples / seconds}. {@code allocBytesPerStep}
 * is the heap allocated per training step, by the training thread alone and by all live threads
 * (the backend's workers included), or -1 where the JVM cannot measure it.
 */
public record EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                           double testLoss, double testAccuracy, double seconds, double evalSeconds,
                           double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads) {
}
