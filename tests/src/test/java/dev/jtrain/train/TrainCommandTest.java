package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.cli.TrainCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain train} end to end: a short run with --metrics-out, and one-line errors for bad input. */
class TrainCommandTest {
    @TempDir
    Path tmp;




    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\\R"));
        }
    }

    static Path dataDir() {
        return Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k");
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new TrainCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs with fast settings plus {@code args}; expects a one-line error containing every {@code words}. */
    static void assertOneLineError(String[] args, String... words) {
        List<String> all = new ArrayList<>(List.of(args));
        String[][] fast = {{"--model", "mlp"}, {"--epochs", "1"}, {"--train-limit", "256"}, {"--test-limit", "64"},
            {"--hidden", "16"}};
        for (String[] f : fast) {
            if (!all.contains(f[0])) {
                all.addAll(List.of(f));
            }
        }
        all.add("-q");
        Result r = run(all.toArray(new String[0]));
        String ctx = Arrays.toString(args) + " -> code " + r.code() + ", stderr: " + r.err();
        assertNotEquals(0, r.code(), ctx);
        assertEquals(1, r.errLines().size(), ctx);
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("jtrain train: error: "), ctx);
        for (String w : words) {
            assertTrue(line.contains(w), "'" + w + "' missing: " + ctx);
        }
    }

    @Test
    void shortRunWritesMetrics() throws Exception {
        Path metrics = tmp.resolve("m.json");
        Result r = run("--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--epochs", "2", "--batch", "64", "--hidden", "32", "--train-limit", "1000", "--test-limit", "500",
                "--threads", "1", "--seed", "3", "--metrics-out", metrics.toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().filter(l -> l.startsWith("epoch ")).toList();
        assertEquals(2, lines.size(), r.out());
        assertTrue(lines.get(1).matches("epoch 2/2  train loss \\d+\\.\\d{4}  train acc .*%  test acc .*%  .* samples/s .* s"),
                lines.get(1));
        JsonNode j = new ObjectMapper().readTree(metrics.toFile());
        assertEquals("cpu", j.get("device").asText());
        assertEquals("mlp", j.get("model").asText());
        assertEquals(2, j.get("epochs").asInt());
        assertEquals(64, j.get("batch").asInt());
        assertEquals(1, j.get("threads").asInt());
        double acc = j.get("test_accuracy").asDouble();
        assertTrue(acc > 0.5 && acc <= 1, "test accuracy " + acc);
        assertTrue(j.get("final_train_loss").asDouble() > 0);
        JsonNode h = j.get("history");
        assertEquals(2, h.size());
        assertEquals(j.get("samples_per_sec").asDouble(), h.get(1).get("samples_per_sec").asDouble(), 1e-6,
                "with 2 epochs, samples_per_sec is epoch 2's");
        for (JsonNode e : h) {
            for (String k : List.of("epoch", "train_loss", "train_accuracy", "test_accuracy", "samples_per_sec", "seconds")) {
                assertTrue(e.has(k) && e.get(k).isNumber(), k);
            }
        }
        assertEquals(j.get("final_train_loss").asDouble(), h.get(1).get("train_loss").asDouble());
    }

    @Test
    void cnnModelRuns() throws Exception {
        Path metrics = tmp.resolve("cnn.json");
        Result r = run("--model", "cnn", "--hidden", "16", "--epochs", "1", "--train-limit", "256", "--test-limit", "64",
                "--optimizer", "adam", "--metrics-out", metrics.toString(), "-q");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(metrics.toFile());
        assertEquals("cnn", j.get("model").asText());
        assertEquals("adam", j.get("optimizer").asText());
        assertTrue(j.get("final_train_loss").asDouble() > 0);
    }

    @Test
    void helpWorks() {
        Result r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--metrics-out"), r.out());
    }

    @Test
    void badFlagsAreOneLineErrors() {
        assertOneLineError(new String[] {"--epochs", "abc"}, "--epochs", "abc");
        assertOneLineError(new String[] {"--bogus"}, "--bogus");
        assertOneLineError(new String[] {"--epochs", "0"}, "--epochs", "0");
        assertOneLineError(new String[] {"--batch", "-5"}, "--batch");
        assertOneLineError(new String[] {"--threads", "0"}, "--threads");
        assertOneLineError(new String[] {"--optimizer", "lbfgs"}, "optimizer", "lbfgs");
        assertOneLineError(new String[] {"--model", "transformer"}, "model", "transformer");
        assertOneLineError(new String[] {"--hidden", "64,x"}, "--hidden", "x");
        assertOneLineError(new String[] {"--lr", "-1"}, "--lr");
        assertOneLineError(new String[] {"--momentum", "0", "--nesterov"}, "nesterov");
        assertOneLineError(new String[] {"--optimizer", "adam", "--momentum", "0.5"}, "--momentum", "adam");
        assertOneLineError(new String[] {"--epochs"}, "--epochs");
        assertOneLineError(new String[] {"extra-positional"}, "extra-positional");
    }

    @Test
    void unknownOrUnavailableDeviceIsAnError() {
        assertOneLineError(new String[] {"--device", "tpu"}, "unknown device", "tpu");
        assertOneLineError(new String[] {"--device", "cuda:x"}, "cuda:x");
        // No machine that runs the suite in CI has a GPU; where one is present these runs may work instead.
        if (!gpuPresent()) {
            assertOneLineError(new String[] {"--device", "cuda"}, "cuda:0");
            assertOneLineError(new String[] {"--device", "cuda:7"}, "cuda:7");
            Result r = run("--device", "cuda", "--epochs", "1", "--train-limit", "128", "--test-limit", "64", "-q");
            assertEquals(2, r.code(), "an unavailable device is a usage error (status 2): " + r.err());
        }
        assertOneLineError(new String[] {"--device", "emu", "--kernels", "vendor"}, "--kernels vendor", "emu");
        assertOneLineError(new String[] {"--kernels", "magic"}, "magic");
    }

    private static boolean gpuPresent() {
        try {
            dev.jtrain.backend.Backends.forDevice(dev.jtrain.tensor.Device.cuda(0));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Test
    void emuTrainsLikeCpuAndReportsTransfersAndMemory() throws Exception {
        String[] common = {"--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--epochs", "2", "--batch", "64", "--hidden", "32", "--train-limit", "640", "--test-limit",
                "200", "--threads", "1", "--seed", "5", "-q"};
        Path cpuMetrics = tmp.resolve("cpu.json");
        Path emuMetrics = tmp.resolve("emu.json");
        List<String> cpuArgs = new ArrayList<>(List.of(common));
        cpuArgs.addAll(List.of("--metrics-out", cpuMetrics.toString()));
        List<String> emuArgs = new ArrayList<>(List.of(common));
        emuArgs.addAll(List.of("--device", "emu", "--metrics-out", emuMetrics.toString()));
        Result c = run(cpuArgs.toArray(new String[0]));
        Result e = run(emuArgs.toArray(new String[0]));
        assertEquals(0, c.code(), c.err());
        assertEquals(0, e.code(), e.err());
        ObjectMapper m = new ObjectMapper();
        JsonNode cj = m.readTree(cpuMetrics.toFile());
        JsonNode ej = m.readTree(emuMetrics.toFile());
        assertEquals("emu", ej.get("device").asText());
        assertEquals("custom", ej.get("kernels").asText());
        for (int i = 0; i < 2; i++) {
            double cl = cj.get("history").get(i).get("train_loss").asDouble();
            double el = ej.get("history").get(i).get("train_loss").asDouble();
            assertEquals(cl, el, 1e-4 * Math.abs(cl), "epoch " + (i + 1) + " train loss, cpu vs emu");
        }
        assertEquals(cj.get("test_accuracy").asDouble(), ej.get("test_accuracy").asDouble(), 0.01);
        // Per epoch: every sample crosses once (train 640 + test 200 images of 784 floats, and their int64 labels);
        // four floats come back (train and eval loss and correct-count sums).
        JsonNode t = ej.get("history").get(1).get("transfers");
        assertEquals((640 + 200) * (784 * 4 + 8), t.get("h2d_bytes").asLong());
        assertEquals(16, t.get("d2h_bytes").asLong());
        assertTrue(cj.get("transfers") == null, "no transfers on the cpu");
        JsonNode mem = ej.get("device_memory");
        assertTrue(mem.get("peak_bytes").asLong() > 0, mem.toString());
        assertEquals(ej.get("history").get(0).get("device_memory").get("device_mallocs").asLong(),
                mem.get("device_mallocs").asLong(), "epoch 2 asked the device for no new memory");
    }

    @Test
    void missingDataIsAnError() {
        Path nowhere = tmp.resolve("no-such-dir");
        assertOneLineError(new String[] {"--data", nowhere.toString()}, nowhere.toString(), "not found");
    }

    @Test
    void missingOrCorruptDataFilesAreErrors() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("mnist"));
        for (String f : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz"}) {
            Files.copy(dataDir().resolve(f), dir.resolve(f));
        }
        assertOneLineError(new String[] {"--data", dir.toString()}, "t10k-labels-idx1-ubyte.gz", "not found");

        Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), "garbage!".getBytes());
        assertOneLineError(new String[] {"--data", dir.toString()}, "t10k-labels-idx1-ubyte.gz", "bad magic");

        byte[] gz = Files.readAllBytes(dataDir().resolve("t10k-images-idx3-ubyte.gz"));
        Files.copy(dataDir().resolve("t10k-labels-idx1-ubyte.gz"), dir.resolve("t10k-labels-idx1-ubyte.gz"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), Arrays.copyOf(gz, gz.length / 3));
        assertOneLineError(new String[] {"--data", dir.toString()}, "t10k-images-idx3-ubyte.gz", "truncated data at byte offset");
    }

    @Test
    void divergenceIsAnError() {
        assertOneLineError(new String[] {"--lr", "1e30"}, "diverged", "smaller learning rate");
    }

    @Test
    void unwritableMetricsFileIsAnError() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertOneLineError(new String[] {"--metrics-out", file.resolve("m.json").toString()}, "m.json");
    }
}
