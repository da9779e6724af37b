package dev.jtrain.plot;

import dev.jtrain.train.EpochMetrics;
import dev.jtrain.train.TrainingListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * {@code jtrain train --plot F.png}: when the run ends, one chart of the loss and accuracy curves against the
 * epoch (train loss and accuracy and, where measured, validation and test loss and accuracy), drawn by {@link LinePlot}.
 */
public final class CurvePlot implements TrainingListener {
    private final Path file;

    public CurvePlot(Path file) {
        this.file = file;
    }

    @Override
    public void onTrainEnd(List<EpochMetrics> history) {
        try {
            plot(history).savePng(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The chart of {@code history} (series without a measured value in every epoch are left out). */
    public static LinePlot plot(List<EpochMetrics> history) {
        LinePlot p = new LinePlot("Training curves", "epoch", "loss / accuracy");
        double[] x = history.stream().mapToDouble(EpochMetrics::epoch).toArray();
        add(p, "train loss", x, history, EpochMetrics::trainLoss);
        add(p, "validation loss", x, history, EpochMetrics::valLoss);
        add(p, "test loss", x, history, EpochMetrics::testLoss);
        add(p, "train accuracy", x, history, EpochMetrics::trainAccuracy);
        add(p, "validation accuracy", x, history, EpochMetrics::valAccuracy);
        add(p, "test accuracy", x, history, EpochMetrics::testAccuracy);
        return p;
    }

    private static void add(LinePlot p, String name, double[] x, List<EpochMetrics> h, ToDoubleFunction<EpochMetrics> f) {
        double[] y = h.stream().mapToDouble(f).toArray();
        for (double v : y) {
            if (!Double.isFinite(v)) {
                return;
            }
        }
        p.series(name, x, y);
    }
}
