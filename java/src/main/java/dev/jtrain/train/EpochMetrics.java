package dev.jtrain.train;

import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.tensor.TransferStats;

/**
 * What one epoch measured. Losses are means over samples; accuracies are fractions in [0, 1];
 * validation values (the held-out part of the training set, {@code --val-split}) are NaN when there is
 * no validation set, test values when no test set was given. With mixup the train loss is the mixed
 * loss and the train accuracy counts lambda for a prediction of y_a and 1 - lambda for one of y_b.
 * {@code seconds} is the wall time of the training steps of the epoch (data, forward, loss, backward,
 * update; evaluation excluded, reported in {@code evalSeconds}: validation and test), and {@code samplesPerSec = trainSamples / seconds}. {@code allocBytesPerStep}
 * is the heap allocated per training step, by the training thread alone and by all live threads
 * (the backend's workers included), or -1 where the JVM cannot measure it. On a device,
 * {@code transfers} is the host-device traffic of the epoch (training and evaluation) and
 * {@code deviceMemory} the allocator's state at its end; both are null on the cpu.
 */
public record EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                           double valLoss, double valAccuracy,
                           double testLoss, double testAccuracy, double seconds, double evalSeconds,
                           double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads,
                           TransferStats.Totals transfers, MemoryStats deviceMemory) {

    /** An epoch without a validation set. */
    public EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                        double testLoss, double testAccuracy, double seconds, double evalSeconds,
                        double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads,
                        TransferStats.Totals transfers, MemoryStats deviceMemory) {
        this(epoch, trainSamples, steps, trainLoss, trainAccuracy, Double.NaN, Double.NaN, testLoss, testAccuracy,
                seconds, evalSeconds, samplesPerSec, allocBytesPerStep, allocBytesPerStepAllThreads, transfers, deviceMemory);
    }

    /** Whether the epoch was evaluated on a validation set. */
    public boolean hasValidation() {
        return !Double.isNaN(valAccuracy);
    }

    /** An epoch on the cpu (no device traffic or memory to report). */
    public EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                        double testLoss, double testAccuracy, double seconds, double evalSeconds,
                        double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads) {
        this(epoch, trainSamples, steps, trainLoss, trainAccuracy, testLoss, testAccuracy, seconds, evalSeconds,
                samplesPerSec, allocBytesPerStep, allocBytesPerStepAllThreads, null, null);
    }
}
