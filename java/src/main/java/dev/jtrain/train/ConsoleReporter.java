package dev.jtrain.train;

import dev.jtrain.tensor.TransferStats;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Locale;

/** Prints one line per epoch: train loss and accuracy, validation loss and accuracy (when there is a validation set), test accuracy, samples/s and time. */
public final class ConsoleReporter implements TrainingListener {
    private final PrintWriter out;
    private int epochs;

    public ConsoleReporter(PrintWriter out) {
        this.out = out;
    }

    public ConsoleReporter(PrintStream out) {
        this(new PrintWriter(out, true));
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        this.epochs = epochs;
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        out.println(format(m, epochs));
        out.flush();
    }

    public static String format(EpochMetrics m, int epochs) {
        int w = String.valueOf(Math.max(epochs, m.epoch())).length();
        String test = Double.isNaN(m.testAccuracy()) ? "     -  " : String.format(Locale.ROOT, "%6.2f%%", 100 * m.testAccuracy());
        String val = m.hasValidation() ? String.format(Locale.ROOT, "  val loss %.4f  val acc %6.2f%%", m.valLoss(),
                100 * m.valAccuracy()) : "";
        String line = String.format(Locale.ROOT, "epoch %" + w + "d/%d  train loss %.4f  train acc %6.2f%%%s  test acc %s  %9.0f samples/s  %7.2f s",
                m.epoch(), epochs, m.trainLoss(), 100 * m.trainAccuracy(), val, test, m.samplesPerSec(), m.seconds() + m.evalSeconds());
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
