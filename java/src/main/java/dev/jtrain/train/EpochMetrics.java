package dev.jtrain.train;

import dev.jtrain.backend.gpu.MemoryStats;
import dev.jtrain.tensor.TransferStats;

/**
 * What one epoch measured. Losses are means over samples; accuracies are fractions in [0, 1];
 * test values are NaN when no test set was given. {@code seconds} is the wall time of the training
 * steps of the epoch (data, forward, loss, backward, update; evaluation excluded, reported in
 * {@code evalSeconds}), and {@code samplesPerSec = trainSamples / seconds}. {@code allocBytesPerStep}
 * is the heap allocated per training step, by the training thread alone and by all live threads
 * (the backend's workers included), or -1 where the JVM cannot measure it. On a device,
 * {@code transfers} is the host-device traffic of the epoch (training and evaluation) and
 * {@code deviceMemory} the allocator's state at its end; both are null on the cpu.
 */
public record EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                           double testLoss, double testAccuracy, double seconds, double evalSeconds,
                           double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads,
                           TransferStats.Totals transfers, MemoryStats deviceMemory) {

    /** An epoch on the cpu (no device traffic or memory to report). */
    public EpochMetrics(int epoch, int trainSamples, int steps, double trainLoss, double trainAccuracy,
                        double testLoss, double testAccuracy, double seconds, double evalSeconds,
                        double samplesPerSec, long allocBytesPerStep, long allocBytesPerStepAllThreads) {
        this(epoch, trainSamples, steps, trainLoss, trainAccuracy, testLoss, testAccuracy, seconds, evalSeconds,
                samplesPerSec, allocBytesPerStep, allocBytesPerStepAllThreads, null, null);
    }
}
