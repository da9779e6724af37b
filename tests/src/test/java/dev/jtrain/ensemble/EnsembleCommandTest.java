package dev.jtrain.ensemble;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.cli.EnsembleCommand;
import dev.jtrain.cli.Main;
import dev.jtrain.cli.TrainCommand;
import dev.jtrain.train.Models;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jtrain ensemble} and {@code jtrain train --snapshots} end to end on 256 training and 100 test images of the
 * bundled MNIST, a 16-unit MLP, one thread: snapshots at the cycle ends of cosine restarts with the LR the formula
 * gives there, the run's snapshot-ensemble figures equal to {@code jtrain ensemble} on the files, members evaluated
 * with their own preprocessing, and the errors. Also the console's lr column and {@code bench train --help}.
 */
class EnsembleCommandTest {
    @TempDir
    Path tmp;

    private static final String[] FAST = {"--model", "mlp", "--hidden", "16", "--batch", "64", "--optimizer", "sgd",
        "--lr", "0.1", "--train-limit", "256", "--test-limit", "100", "--threads", "1", "--seed", "3"};



    record Result(int code, String out, String err) {
    }

    private static Result run(Callable<Integer> command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(command);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** FAST with {@code more} added; an option in both takes {@code more}'s value. */
    private static Result train(String... more) {
        List<String> a = new ArrayList<>(List.of(FAST));
        for (int i = 0; i + 1 < more.length; i++) {
            int at = a.indexOf(more[i]);
            if (more[i].startsWith("--") && at >= 0) {
                a.remove(at + 1);
                a.remove(at);
            }
        }
        a.addAll(List.of(more));
        return run(new TrainCommand(), a.toArray(new String[0]));
    }

    private static Result ensemble(String... args) {
        return run(new EnsembleCommand(), args);
    }

    private static JsonNode json(Path p) throws Exception {
        return new ObjectMapper().readTree(p.toFile());
    }

    private static void assertOneLineError(Result r, int code, String... words) {
        assertEquals(code, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), "'" + w + "' missing: " + r.err());
        }
    }

    /** SGDR's LR at step t of a cycle of T steps (eta_min 0), as PyTorch's CosineAnnealingWarmRestarts defines it. */
    private static double sgdr(double lr0, int t, int cycleSteps) {
        return lr0 * (1 + Math.cos(Math.PI * t / cycleSteps)) / 2;
    }

    @Test
    void snapshotsAtEveryCycleEndAndTheirEnsembleIsJtrainEnsemblesOnTheFiles() throws Exception {
        Path dir = tmp.resolve("snaps");
        Path metrics = tmp.resolve("m.json");
        // 256 samples in batches of 64: 4 steps an epoch; cycles of 1 and 2 epochs (T_mult 2) end after epochs 1 and 3
        Result r = train("--schedule", "cosine-restarts:1:2", "--epochs", "3", "--snapshots", dir.toString(),
                "--metrics-out", metrics.toString());
        assertEquals(0, r.code(), r.err());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("snapshot-1.json", "snapshot-1.safetensors", "snapshot-2.json", "snapshot-2.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "exactly one snapshot per cycle");
        }
        int[] endEpoch = {1, 3};
        int[] endStep = {4, 12};
        int[] cycleSteps = {4, 8};
        for (int k = 0; k < 2; k++) {
            JsonNode s = json(dir.resolve("snapshot-" + (k + 1) + ".json"));
            assertEquals("inference", s.get("kind").asText());
            assertEquals(k + 1, s.get("snapshot").get("cycle").asInt());
            assertEquals(endEpoch[k], s.get("snapshot").get("epoch").asInt());
            assertEquals(endStep[k], s.get("snapshot").get("step").asInt());
            double lr = s.get("snapshot").get("lr").asDouble();
            assertEquals(sgdr(0.1, cycleSteps[k] - 1, cycleSteps[k]), lr, 1e-15, "the LR of the cycle's last step");
            for (int t = 0; t < cycleSteps[k] - 1; t++) {
                assertTrue(sgdr(0.1, t, cycleSteps[k]) > lr, "the last step's LR is the cycle's lowest");
            }
        }
        JsonNode m = json(metrics);
        JsonNode se = m.get("snapshot_ensemble");
        assertEquals(2, se.get("ensemble").get("members").asInt());
        // the last snapshot holds the final weights: its accuracy is the run's test accuracy
        assertEquals(m.get("test_accuracy").asDouble(), se.get("last_snapshot").get("accuracy").asDouble(), 0.0);
        assertTrue(r.out().isEmpty() || !r.out().contains("error"), r.out());

        Path out = tmp.resolve("e.json");
        Result e = ensemble(dir.resolve("snapshot-1.safetensors").toString(), dir.resolve("snapshot-2.safetensors").toString(),
                "--test-limit", "100", "--json", out.toString());
        assertEquals(0, e.code(), e.err());
        JsonNode ej = json(out);
        assertEquals(se.get("ensemble"), ej.get("ensemble"), "the same figures, to the last bit");
        assertEquals(se.get("members"), ej.get("members"));
        assertTrue(e.out().contains("ensemble of 2: "), e.out());
        assertTrue(e.out().contains(String.format(java.util.Locale.ROOT, "(best single %.2f %%",
                100 * ej.get("best_single").get("accuracy").asDouble())), e.out());
    }

    @Test
    void membersAreEvaluatedWithTheirOwnPreprocessing() throws Exception {
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        Path ma = tmp.resolve("a-metrics.json");
        Path mb = tmp.resolve("b-metrics.json");
        assertEquals(0, train("--epochs", "1", "--preprocess", "standardize", "--save", a.toString(), "--metrics-out",
                ma.toString(), "-q").code());
        assertEquals(0, train("--epochs", "1", "--preprocess", "none", "--seed", "4", "--save", b.toString(),
                "--metrics-out", mb.toString(), "-q").code());
        Path out = tmp.resolve("ab.json");
        Result e = ensemble(a.toString(), b.toString(), "--test-limit", "100", "--combine", "logits", "--json", out.toString());
        assertEquals(0, e.code(), e.err());
        JsonNode members = json(out).get("members");
        assertEquals(json(ma).get("test_accuracy").asDouble(), members.get(0).get("accuracy").asDouble(), 0.0);
        assertEquals(json(mb).get("test_accuracy").asDouble(), members.get(1).get("accuracy").asDouble(), 0.0);
        assertEquals(json(ma).get("test_loss").asDouble(), members.get(0).get("loss").asDouble(), 1e-6);
        assertEquals("logits", json(out).get("combine").asText());

        // another class count; a missing file; a bad rule
        Path c = tmp.resolve("c.safetensors");
        assertEquals(0, train("--epochs", "1", "--classes", "12", "--save", c.toString(), "-q").code());
        assertOneLineError(ensemble(a.toString(), c.toString(), "--test-limit", "10"), 1,
                "jtrain ensemble: error: ", c + " predicts 12 classes, " + a + " 10");
        assertOneLineError(ensemble(a.toString(), tmp.resolve("gone.safetensors").toString()), 1,
                "gone.safetensors: no such file");
        assertOneLineError(ensemble(a.toString(), "--combine", "median"), 2, "--combine: unknown combination rule 'median'");
    }

    @Test
    void snapshotOptionErrors() {
        Result r = train("--epochs", "2", "--snapshots", tmp.resolve("s").toString(), "-q");
        assertOneLineError(r, 2, "--snapshots needs --schedule cosine-restarts");
        r = train("--epochs", "2", "--schedule", "cosine-restarts:3", "--snapshots", tmp.resolve("s").toString(), "-q");
        assertOneLineError(r, 2, "no restart cycle of --schedule cosine-restarts:3 ends within 2 epochs");
    }

    @Test
    void theEpochLineShowsTheLearningRate() {
        Result r = train("--epochs", "2", "--schedule", "step:1:0.5", "--train-limit", "64");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().filter(l -> l.startsWith("epoch ")).toList();
        assertTrue(lines.get(0).contains("  lr 0.100  "), lines.get(0));
        assertTrue(lines.get(1).contains("  lr 0.0500  "), lines.get(1));
    }

    @Test
    void benchTrainHelpListsEveryModel() {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(buf, true));
        try {
            assertEquals(0, Main.run("bench", "train", "--help"));
        } finally {
            System.setOut(old);
        }
        String help = buf.toString();
        for (String model : Models.NAMES) {
            assertTrue(help.contains(model), model + " missing from: " + help);
        }
    }
}
