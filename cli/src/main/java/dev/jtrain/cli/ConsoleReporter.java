package dev.jtrain.cli;

import dev.jtrain.tensor.TransferStats;
import dev.jtrain.train.EpochLog;
import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.TrainingListener;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * Prints one line per epoch: train loss and accuracy, validation loss and accuracy (when there is a validation set),
 * test accuracy, the learning rate (when given one: the LR of the epoch's first step, as {@link EpochLog}'s
 * {@code lr} column), samples/s and time.
 */
public final class ConsoleReporter implements TrainingListener {
    private final PrintWriter out;
    private final DoubleSupplier lr;   // null: no lr on the line
    private int epochs;
    private double epochLr = Double.NaN;

    public ConsoleReporter(PrintWriter out) {
        this(out, null);
    }

    /** {@code lr}: the optimizer's current LR; register this listener after the one that sets it (a schedule). */
    public ConsoleReporter(PrintWriter out, DoubleSupplier lr) {
        this.out = out;
        this.lr = lr;
    }

    public ConsoleReporter(PrintStream out) {
        this(new PrintWriter(out, true));
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        epochLr = lr == null ? Double.NaN : lr.getAsDouble();
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        this.epochs = epochs;
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        out.println(format(m, epochs, epochLr));
        out.flush();
    }

    public static String format(EpochMetrics m, int epochs) {
        return format(m, epochs, Double.NaN);
    }

    /** The line of epoch {@code m}; {@code lr} is left out when NaN. */
    public static String format(EpochMetrics m, int epochs, double lr) {
        int w = String.valueOf(Math.max(epochs, m.epoch())).length();
        String test = Double.isNaN(m.testAccuracy()) ? "     -  " : String.format(Locale.ROOT, "%6.2f%%", 100 * m.testAccuracy());
        String val = m.hasValidation() ? String.format(Locale.ROOT, "  val loss %.4f  val acc %6.2f%%", m.valLoss(),
                100 * m.valAccuracy()) : "";
        String lrText = Double.isNaN(lr) ? "" : String.format(Locale.ROOT, "  lr %-8.3g", lr);
        String line = String.format(Locale.ROOT, "epoch %" + w + "d/%d  train loss %.4f  train acc %6.2f%%%s  test acc %s%s  %9.0f samples/s  %7.2f s",
                m.epoch(), epochs, m.trainLoss(), 100 * m.trainAccuracy(), val, test, lrText, m.samplesPerSec(),
                m.seconds() + m.evalSeconds());
        if (m.transfers() != null) {
            TransferStats.Totals t = m.transfers();
            line += String.format(Locale.ROOT, "  | h2d %s in %.3f s, d2h %s", bytes(t.h2dBytes()), t.h2dSeconds(),
                    bytes(t.d2hBytes()));
        }
        if (m.deviceMemory() != null) {
            line += ", device memory peak " + bytes(m.deviceMemory().peakBytes());
        }
        return line;
    }

    private static String bytes(long b) {
        if (b < 10_000) {
            return b + " B";
        }
        return b < 1_000_000 ? String.format(Locale.ROOT, "%.1f KB", b / 1e3) : String.format(Locale.ROOT, "%.1f MB", b / 1e6);
    }
}
