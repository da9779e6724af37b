package dev.jtrain.plot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LinePlot writes a real PNG of the asked size under the exact name given, headless; bad input is named. */
class LinePlotTest {
    @TempDir
    Path tmp;

    @Test
    void writesAPngOfTheAskedSize() throws IOException {
        Path f = tmp.resolve("curves");  // no suffix: the name is kept as given
        new LinePlot("loss", "epoch", "loss").size(640, 400)
                .series("train", new double[] {1, 2, 3}, new double[] {2.3, 0.9, 0.5})
                .series("val", new double[] {1, 2, 3}, new double[] {2.2, 1.0, 0.7}).logY(true).savePng(f);
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(f), 8);
        assertEquals(0x89, head[0] & 0xff);
        assertEquals("PNG", new String(head, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        assertTrue(Files.list(tmp).count() == 1, "no second file (e.g. curves.png) was written");
    }

    @Test
    void badInputIsNamed() {
        LinePlot p = new LinePlot("t", "x", "y");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.series("s", new double[] {1, 2}, new double[] {1}));
        assertTrue(e.getMessage().contains("'s'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.series("n", new double[] {1}, new double[] {Double.NaN}));
        assertTrue(e.getMessage().contains("not finite"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> p.savePng(tmp.resolve("empty.png")));
        LinePlot log = new LinePlot("t", "x", "y").series("z", new double[] {1}, new double[] {0}).logY(true);
        e = assertThrows(IllegalArgumentException.class, () -> log.savePng(tmp.resolve("log.png")));
        assertTrue(e.getMessage().contains("logarithmic"), e.getMessage());
        LinePlot ok = new LinePlot("t", "x", "y").series("a", new double[] {1}, new double[] {1});
        IOException io = assertThrows(IOException.class, () -> ok.savePng(tmp.resolve("missing/dir/p.png")));
        assertTrue(io.getMessage().contains("does not exist"), io.getMessage());
    }

    @Test
    void scatterOnALogarithmicXAxis() throws IOException {
        Path f = tmp.resolve("scatter.png");
        new LinePlot("acc vs lr", "lr", "accuracy").series("trials", new double[] {1e-4, 3e-3, 0.05}, new double[] {0.9, 0.95, 0.6})
                .scatter(true).logX(true).legend(false).savePng(f);
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(800, img.getWidth());
        LinePlot bad = new LinePlot("t", "x", "y").series("s", new double[] {0, 1}, new double[] {1, 2}).logX(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bad.savePng(tmp.resolve("bad.png")));
        assertTrue(e.getMessage().contains("x = 0.0") && e.getMessage().contains("logarithmic"), e.getMessage());
    }
}
