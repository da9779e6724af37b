package dev.jtrain.cli;

import dev.jtrain.io.AveragingState;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.io.CheckpointSaver;
import dev.jtrain.io.EarlyStoppingState;
import dev.jtrain.nn.Layer;
import dev.jtrain.train.EarlyStopping;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.WeightAveraging;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

import picocli.CommandLine.Option;

/**
 * {@code jtrain train --ema DECAY --early-stop PATIENCE}: which weights a run evaluates and ends with. EMA keeps
 * an exponential moving average of the weights ({@link WeightAveraging}) and evaluates with it; early stopping
 * ({@link EarlyStopping}) ends the run after PATIENCE epochs without a better evaluation accuracy and restores the
 * best epoch's weights. Together, the averaged weights are the ones evaluated and kept. Both are saved in checkpoints
 * ({@link AveragingState}, {@link EarlyStoppingState}) so that {@code --resume} continues them bit-exactly.
 * {@link #close()} releases their device copies.
 */
public final class WeightOptions implements AutoCloseable {

    @Option(names = "--ema", paramLabel = "DECAY",
            description = "evaluate with an exponential moving average of the weights, updated after every step "
                    + "(e.g. 0.999); training continues on the raw weights")
    Double ema;

    @Option(names = "--early-stop", paramLabel = "PATIENCE",
            description = "stop after PATIENCE epochs without a better evaluation accuracy, and restore the best epoch's weights")
    Integer earlyStop;

    private WeightAveraging averaging;
    private EarlyStopping stopping;

    public void validate() {
        if (ema != null && !(ema >= 0 && ema < 1)) {
            throw new IllegalArgumentException("--ema: decay must be in [0, 1), got " + ema);
        }
        if (earlyStop != null && earlyStop < 1) {
            throw new IllegalArgumentException("--early-stop: patience must be >= 1 epoch, got " + earlyStop);
        }
    }

    /**
     * Registers EMA and early stopping; with {@code resumed} (a checkpoint whose weights the model holds; null for a
     * fresh run), continues their saved state and puts back the weights training continues from (when the saved run
     * averaged). Install before the checkpoint saver, so that each save holds the state after its epoch.
     */
    public void install(Trainer trainer, Checkpoint resumed, PrintWriter out) throws CheckpointException {
        if (ema != null) {
            averaging = new WeightAveraging(trainer.model(), ema);
            trainer.addListener(averaging);
        }
        if (earlyStop != null) {
            stopping = EarlyStopping.onAccuracy(trainer.model(), earlyStop, out);
            trainer.addListener(stopping);
        }
        if (resumed != null) {
            AveragingState.restore(resumed, trainer.model(), averaging);
            if (stopping != null) {
                EarlyStoppingState.restore(resumed, stopping);
            }
        }
    }

    /** {@link #install(Trainer, Checkpoint, PrintWriter)} for a fresh run. */
    public void install(Trainer trainer, PrintWriter out) {
        try {
            install(trainer, null, out);
        } catch (CheckpointException e) {
            throw new IllegalStateException("no checkpoint was read", e); // unreachable without a checkpoint
        }
    }

    /** Adds this run's EMA and early-stopping state to what {@code saver} (may be null) saves. */
    public void saveWith(CheckpointSaver saver, Layer model) {
        if (saver == null) {
            return;
        }
        if (averaging != null) {
            saver.addSection(AveragingState.KEY, () -> AveragingState.toJson(model, averaging));
        }
        if (stopping != null) {
            saver.addSection(EarlyStoppingState.KEY, () -> EarlyStoppingState.toJson(stopping));
        }
    }

    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ema", ema);
        m.put("early_stop_patience", earlyStop);
        if (stopping != null) {
            m.put("early_stop_best_epoch", stopping.bestEpoch());
        }
        return m;
    }

    @Override
    public void close() {
        if (averaging != null) {
            averaging.close();
        }
        if (stopping != null) {
            stopping.close();
        }
    }
}
