package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain diagnose init} end to end: the table, the JSON layers, the PNG, and one-line errors. */
class DiagnoseInitCommandTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new Main());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void jsonLayersAndPlot() throws Exception {
        Path json = tmp.resolve("stats.json");
        Path png = tmp.resolve("stats.png");
        Result r = run("diagnose", "init", "--init", "normal:0.01", "--activation", "tanh", "--layers", "6", "--width",
                "300", "--batch", "100", "--json", json.toString(), "--plot", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("normal:0.01, tanh, 6 layers of 300 units"), r.out());
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        JsonNode layers = root.get("layers");
        assertEquals(6, layers.size());
        double prev = Double.POSITIVE_INFINITY;
        for (int i = 0; i < 6; i++) {
            JsonNode l = layers.get(i);
            assertEquals(i + 1, l.get("layer").asInt());
            assertTrue(l.has("mean"));
            double std = l.get("std").asDouble();
            // 0.01 * sqrt(300) = 0.17 per layer: the collapse
            assertTrue(std < 0.25 * prev && std > 0.12 * prev || i == 0, "layer " + (i + 1) + " std " + std);
            prev = std;
        }
        assertTrue(prev < 1e-3, "std at layer 6: " + prev);
        assertEquals("normal:0.01", root.get("init").asText());
        assertEquals(800, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void badOptionsAreOneLine() {
        Result r = run("diagnose", "init", "--activation", "swish", "--layers", "2", "--width", "4");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("jtrain diagnose init: error: unknown activation 'swish'"), r.err());
        r = run("diagnose", "init", "--layers", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--layers must be >= 1, got 0"), r.err());
        r = run("diagnose", "init", "--init", "gaussian");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("unknown scheme 'gaussian'"), r.err());
        r = run("diagnose", "init", "--layers", "1", "--width", "4", "--batch", "2", "--json",
                tmp.resolve("no/such/dir/x.json").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("cannot write") && r.err().contains("x.json"), r.err());
    }
}
