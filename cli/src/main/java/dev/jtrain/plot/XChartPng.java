package dev.jtrain.plot;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The XChart calls behind {@link LinePlot}, in a class of their own so that a runtime without AWT (the jlink'd GPU
 * bundle) fails with a LinkageError only when a plot is actually drawn, which LinePlot reports as one line.
 */
final class XChartPng {
    private XChartPng() {
    }

    /** Axes, points-only drawing and the legend. */
    record Style(boolean logX, boolean logY, boolean scatter, boolean legend) {
    }

    static void write(String title, String xLabel, String yLabel, int width, int height, Style style,
                      List<String> names, List<double[]> xs, List<double[]> ys, Path file) throws IOException {
        XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        // many series: the legend goes beside the chart instead of over the curves
        chart.getStyler().setLegendPosition(names.size() > 6 ? Styler.LegendPosition.OutsideE : Styler.LegendPosition.InsideNE);
        chart.getStyler().setYAxisLogarithmic(style.logY());
        chart.getStyler().setXAxisLogarithmic(style.logX());
        chart.getStyler().setLegendVisible(style.legend());
        if (style.scatter()) {
            chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (int i = 0; i < names.size(); i++) {
            chart.addSeries(names.get(i), xs.get(i), ys.get(i));
        }
        try (OutputStream out = Files.newOutputStream(file)) {  // XChart's file-name overload would append ".png"
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
