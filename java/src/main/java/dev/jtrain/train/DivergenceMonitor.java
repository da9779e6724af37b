package dev.jtrain.train;

import java.util.Locale;

/**
 * Stops a run whose training loss is no longer finite (NaN or infinite) at the end of an epoch, with
 * a {@link TrainingDivergedException} that says when and suggests a smaller learning rate.
 */
public final class DivergenceMonitor implements TrainingListener {

    /** Thrown when the training loss stops being finite. */
    public static final class TrainingDivergedException extends RuntimeException {
        public TrainingDivergedException(String message) {
            super(message);
        }
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        if (!Double.isFinite(m.trainLoss())) {
            throw new TrainingDivergedException(String.format(Locale.ROOT,
                    "training diverged: the train loss of epoch %d is %s (try a smaller learning rate)", m.epoch(), m.trainLoss()));
        }
    }
}
