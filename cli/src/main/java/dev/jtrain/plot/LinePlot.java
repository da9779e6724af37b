package dev.jtrain.plot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A line chart of one or more named series against a shared kind of x (layers, epochs, steps), written as a PNG
 * by XChart without a display (headless AWT). The one place jtrain draws plots: the activation statistics of
 * {@code jtrain diagnose init} now, loss and accuracy curves later.
 *
 * <pre>
 *   new LinePlot("Activations", "layer", "value").series("std", xs, stds).series("mean", xs, means).savePng(path);
 * </pre>
 */
public final class LinePlot {
    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private int width = 800;
    private int height = 500;
    private boolean logY;
    private boolean logX;
    private boolean scatter;
    private boolean legend = true;

    private record Series(String name, double[] x, double[] y) {
    }

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** Adds a series (x and y of equal, non-zero length; finite values). */
    public LinePlot series(String name, double[] x, double[] y) {
        if (x.length != y.length || x.length == 0) {
            throw new IllegalArgumentException("plot series '" + name + "': " + x.length + " x values and " + y.length
                    + " y values (need the same non-zero count)");
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
                throw new IllegalArgumentException("plot series '" + name + "': point " + i + " is not finite (" + x[i]
                        + ", " + y[i] + ")");
            }
        }
        series.add(new Series(name, x.clone(), y.clone()));
        return this;
    }

    /** Pixel size of the PNG (default 800 x 500). */
    public LinePlot size(int width, int height) {
        if (width < 100 || height < 100) {
            throw new IllegalArgumentException("plot size must be at least 100 x 100, got " + width + " x " + height);
        }
        this.width = width;
        this.height = height;
        return this;
    }

    /** A logarithmic y axis (every y must then be > 0). */
    public LinePlot logY(boolean on) {
        this.logY = on;
        return this;
    }

    /** A logarithmic x axis (every x must then be > 0). */
    public LinePlot logX(boolean on) {
        this.logX = on;
        return this;
    }

    /** Points only, no lines between them (a scatter plot). */
    public LinePlot scatter(boolean on) {
        this.scatter = on;
        return this;
    }

    /** Whether the legend is drawn (default: yes; many series make a legend that hides the chart). */
    public LinePlot legend(boolean on) {
        this.legend = on;
        return this;
    }

    /** Writes the chart to {@code file} (exactly that name) as a PNG. */
    public void savePng(Path file) throws IOException {
        if (series.isEmpty()) {
            throw new IllegalStateException("plot '" + title + "' has no series");
        }
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if ((logY && !(s.y[i] > 0)) || (logX && !(s.x[i] > 0))) {
                    throw new IllegalArgumentException("plot '" + title + "': series '" + s.name + "' has " + (logY && !(s.y[i] > 0)
                            ? "y = " + s.y[i] : "x = " + s.x[i]) + ", which a logarithmic axis cannot show");
                }
            }
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IOException("cannot write the plot " + file + ": folder " + parent + " does not exist");
        }
        System.setProperty("java.awt.headless", "true");  // before the first AWT class loads: no display needed
        try {
            XChartPng.write(title, xLabel, yLabel, width, height, new XChartPng.Style(logX, logY, scatter, legend), names(), xs(),
                    ys(), file);
        } catch (LinkageError e) {
            throw new IOException("cannot draw the plot " + file + ": this Java runtime has no java.desktop module (AWT) "
                    + "(" + e + ")", e);
        }
    }

    private List<String> names() {
        return series.stream().map(Series::name).toList();
    }

    private List<double[]> xs() {
        return series.stream().map(Series::x).toList();
    }

    private List<double[]> ys() {
        return series.stream().map(Series::y).toList();
    }
}
