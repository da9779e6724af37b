package dev.jtrain.train;

import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Callbacks of a {@link Trainer} run (progress bars, console lines, monitors). All methods run on
 * the training thread; the defaults do nothing. {@code onStep} is on the hot path: a listener that
 * reads {@code loss} there forces a device-to-host transfer (free on the cpu).
 */
public interface TrainingListener {

    /** Once, before the first epoch: the run's length and the training set's size. */
    default void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
    }

    /** Before the first step of {@code epoch} (1-based), which has {@code steps} optimizer steps. */
    default void onEpochStart(int epoch, int steps) {
    }

    /** After the optimizer step of batch {@code step} (1-based) of {@code epoch}; loss is that batch's mean loss. */
    default void onStep(int epoch, int step, int batchSize, Tensor loss) {
    }

    /** After the training steps of an epoch, before evaluation. */
    default void onTrainPhaseEnd(int epoch) {
    }

    /** After an epoch's evaluation, with its metrics (train loss and accuracy, validation, test, time). */
    default void onEpochEnd(EpochMetrics metrics) {
    }

    /** Once, after the last epoch (or an early stop), with every epoch's metrics. */
    default void onTrainEnd(List<EpochMetrics> history) {
    }

    /** Asked after each epoch's {@code onEpochEnd}: true ends the run there (onTrainEnd still follows). */
    default boolean stopRequested() {
        return false;
    }

    /** The run stopped with {@code error} (thrown by a step, an op or another listener); it is rethrown after. */
    default void onTrainAborted(Throwable error) {
    }
}
