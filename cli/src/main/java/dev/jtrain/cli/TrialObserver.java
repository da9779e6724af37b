package dev.jtrain.cli;

import dev.jtrain.data.Dataset;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.TrainingReport;

/**
 * What {@code jtrain search} sees of one trial, a {@link TrainCommand} run in the same process. With an observer set,
 * the run does not evaluate the test set: a search selects on the validation set and looks at the test set only for
 * its best trial, through {@link #finished}.
 */
interface TrialObserver {
    /** Before training: the observer may add listeners (they run before the divergence monitor, so see the bad epoch). */
    void starting(Trainer trainer);

    /**
     * After a run that ended normally (its metrics file written): {@code trainer}'s model holds the weights the run
     * ended with (EMA-averaged, or early stopping's best epoch), {@code test} is the prepared test set.
     */
    void finished(Trainer trainer, TrainingReport report, Dataset test, int batch);
}
