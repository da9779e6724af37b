package dev.jtrain.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The per-epoch table of a run ({@code jtrain train --log F.csv}): one row per epoch with the columns of
 * {@link #COLUMNS}, written and flushed as each epoch ends, so a run that stops early leaves its rows. Losses
 * are means over samples, accuracies fractions in [0, 1], {@code lr} the learning rate of the epoch's first step,
 * times in seconds; a value that was not measured (no validation or test set) is empty. The file is plain CSV of numbers
 * (no quoting needed), so it is written directly.
 */
public final class EpochLog implements TrainingListener, AutoCloseable {

    /** One column: its header and how it is read from an epoch's metrics (lr is read separately). */
    private record Column(String name, ToDoubleFunction<EpochMetrics> value) {
    }

    private static final List<Column> METRIC_COLUMNS = List.of(
            new Column("train_loss", EpochMetrics::trainLoss),
            new Column("train_accuracy", EpochMetrics::trainAccuracy),
            new Column("val_loss", EpochMetrics::valLoss),
            new Column("val_accuracy", EpochMetrics::valAccuracy),
            new Column("test_loss", EpochMetrics::testLoss),
            new Column("test_accuracy", EpochMetrics::testAccuracy),
            new Column("seconds", EpochMetrics::seconds),
            new Column("eval_seconds", EpochMetrics::evalSeconds),
            new Column("samples_per_s", EpochMetrics::samplesPerSec));

    public static final List<String> COLUMNS;

    static {
        List<String> c = new ArrayList<>();
        c.add("epoch");
        METRIC_COLUMNS.forEach(col -> c.add(col.name));
        c.add("lr");
        COLUMNS = List.copyOf(c);
    }

    private final Path file;
    private final DoubleSupplier lr;
    private Writer out;
    private double epochLr;

    /** {@code lr}: the optimizer's current LR; register this listener after the one that sets it. */
    public EpochLog(Path file, DoubleSupplier lr) {
        this.file = file;
        this.lr = lr;
    }

    @Override
    public void onTrainStart(int epochs, int stepsPerEpoch, int trainSamples) {
        try {
            out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            out.write(String.join(",", COLUMNS) + "\n");
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the log " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        epochLr = lr.getAsDouble();
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        StringBuilder row = new StringBuilder().append(m.epoch());
        for (Column c : METRIC_COLUMNS) {
            row.append(',').append(format(c.value.applyAsDouble(m)));
        }
        row.append(',').append(format(epochLr)).append('\n');
        try {
            out.write(row.toString());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Shortest round-trip text of the double; empty for NaN (not measured). */
    private static String format(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%s", v);
    }

    @Override
    public void onTrainEnd(List<EpochMetrics> history) {
        close();
    }

    @Override
    public void onTrainAborted(Throwable error) {
        close();
    }

    @Override
    public void close() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the log " + file + ": " + e.getMessage(), e);
            } finally {
                out = null;
            }
        }
    }
}
