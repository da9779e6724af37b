package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.plot.CurvePlot;
import dev.jtrain.optim.schedule.ScheduleSpec;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --log: the CSV holds exactly the run's per-epoch metrics and LR; --plot: a PNG of the curves is written. */
class EpochLogTest {
    @TempDir
    Path tmp;

    @Test
    void csvRowsAreTheEpochMetricsAndThePngIsDrawn() throws Exception {
        Dataset train = TinyRuns.blobs(40, 4, 3, 41);
        Dataset test = TinyRuns.blobs(20, 4, 3, 42);
        Layer net = TinyRuns.mlp(4, 6, 3, 43, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        Path csv = tmp.resolve("run.csv");
        Path png = tmp.resolve("run.png");
        List<EpochMetrics> h;
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            t.addListener(new LrScheduler(opt, ScheduleSpec.parse("exp:0.5"), 0, 0.1));
            t.addListener(new EpochLog(csv, opt::lr));
            t.addListener(new CurvePlot(png));
            h = t.fit(train, test, 3, 10, new Generator(44));
        }
        List<String> lines = Files.readAllLines(csv);
        assertEquals(String.join(",", EpochLog.COLUMNS), lines.get(0));
        assertEquals("epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,seconds,eval_seconds,samples_per_s,lr", lines.get(0));
        assertEquals(4, lines.size());
        for (int e = 0; e < 3; e++) {
            String[] f = lines.get(e + 1).split(",", -1);
            EpochMetrics m = h.get(e);
            assertEquals(e + 1, Integer.parseInt(f[0]));
            assertEquals(m.trainLoss(), Double.parseDouble(f[1]), 0.0);
            assertEquals(m.trainAccuracy(), Double.parseDouble(f[2]), 0.0);
            assertEquals("", f[3], "no validation set");
            assertEquals("", f[4]);
            assertEquals(m.testLoss(), Double.parseDouble(f[5]), 0.0);
            assertEquals(m.testAccuracy(), Double.parseDouble(f[6]), 0.0);
            assertEquals(m.seconds(), Double.parseDouble(f[7]), 0.0);
            assertEquals(m.samplesPerSec(), Double.parseDouble(f[9]), 0.0);
            assertEquals(0.1 * Math.pow(0.5, e), Double.parseDouble(f[10]), 1e-15, "lr of epoch " + (e + 1));
        }
        BufferedImage img = javax.imageio.ImageIO.read(png.toFile());
        assertEquals(800, img.getWidth());
        assertEquals(500, img.getHeight());
    }

    @Test
    void validationColumnsHoldTheValidationMetrics() throws Exception {
        Dataset train = TinyRuns.blobs(40, 4, 3, 41);
        Dataset val = TinyRuns.blobs(15, 4, 3, 45);
        Layer net = TinyRuns.mlp(4, 6, 3, 43, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        Path csv = tmp.resolve("val.csv");
        List<EpochMetrics> h;
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            t.addListener(new EpochLog(csv, opt::lr));
            h = t.fit(train, val, null, 2, 10, new Generator(44));
        }
        for (int e = 0; e < 2; e++) {
            String[] f = Files.readAllLines(csv).get(e + 1).split(",", -1);
            assertEquals(h.get(e).valLoss(), Double.parseDouble(f[3]), 0.0);
            assertEquals(h.get(e).valAccuracy(), Double.parseDouble(f[4]), 0.0);
            assertEquals("", f[5], "no test set");
        }
        assertTrue(CurvePlot.plot(h) != null);
    }

    @Test
    void unmeasuredValuesAreEmptyCells() throws Exception {
        Dataset train = TinyRuns.blobs(20, 4, 3, 41);
        Layer net = TinyRuns.mlp(4, 6, 3, 43, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        Path csv = tmp.resolve("notest.csv");
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            t.addListener(new EpochLog(csv, opt::lr));
            t.fit(train, null, 1, 10, new Generator(44));
        }
        String[] f = Files.readAllLines(csv).get(1).split(",", -1);
        assertEquals("", f[5]);
        assertEquals("", f[6]);
        assertTrue(Double.parseDouble(f[1]) > 0);
    }
}
