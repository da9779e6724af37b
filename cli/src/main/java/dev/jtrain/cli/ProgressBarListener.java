package dev.jtrain.cli;

import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.TrainingListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.Locale;

/**
 * A console progress bar per epoch (on stderr, cleared when the epoch ends so the per-epoch line on
 * stdout stays readable). Shows the running mean train loss when the loss lives on the host (reading it
 * is free there); on a device it shows only progress, so the hot path never synchronises.
 * Use only when a terminal is attached ({@link #wanted()}).
 */
public final class ProgressBarListener implements TrainingListener {
    private final int updateMillis;
    private ProgressBar bar;
    private int epochs;
    private double lossSum;
    private int samples;

    public ProgressBarListener() {
        this(200);
    }

    public ProgressBarListener(int updateMillis) {
        this.updateMillis = updateMillis;
    }

    /** True when stdout/stderr are a terminal ({@code System.console() != null}). */
    public static boolean wanted() {
        return System.console() != null;
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        this.epochs = epochs;
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        lossSum = 0;
        samples = 0;
        bar = new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs))
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(updateMillis)
                .setUnit(" batches", 1)
                .clearDisplayOnFinish()
                .build();
    }

    @Override
    public void onStep(int epoch, int step, int batchSize, Tensor loss) {
        if (bar == null) {
            return;
        }
        if (loss.device().isHost()) {
            lossSum += (double) loss.floats()[0] * batchSize;
            samples += batchSize;
            if ((step & 15) == 0) {
                bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f", lossSum / samples));
            }
        }
        bar.step();
    }

    @Override
    public void onTrainPhaseEnd(int epoch) {
        close();
    }

    @Override
    public void onEpochEnd(EpochMetrics metrics) {
        close();
    }

    @Override
    public void onTrainAborted(Throwable error) {
        close();
    }

    private void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
