package dev.jtrain.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.backend.gpu.TestDevices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jtrain search} end to end on a small subset of the bundled MNIST: the results ranked by validation accuracy in
 * the table, CSV and JSON, each trial's curves, a trial reproduced by a direct {@code jtrain train} run, failed and
 * diverged trials recorded, and one-line errors for bad input.
 */
class SearchCommandTest {
    /** A small, fast training run (about a second a trial on two cores). */
    static final List<String> BASE = List.of("--model", "mlp", "--optimizer", "sgd", "--hidden", "16", "--epochs", "2",
            "--batch", "64", "--train-limit", "400", "--test-limit", "100", "--threads", "2");

    @TempDir
    Path tmp;




    record Result(int code, String out, String err) {
    }

    static Result run(Object command, List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(command);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    static Result search(String... args) {
        return run(new Main(), concat(List.of("search"), List.of(args)));
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void randomSearchRanksTrialsAndATrialIsReproducedByTrain() throws Exception {
        Path dir = tmp.resolve("s");
        Result r = search(concat(List.of("--space", "lr=log:1e-3:1e-1,dropout=lin:0:0.3", "--trials", "3", "--out",
                dir.toString(), "--plot"), BASE).toArray(String[]::new));
        assertEquals(0, r.code(), r.err() + r.out());
        assertEquals("", r.err());
        for (int t = 1; t <= 3; t++) {
            assertTrue(r.out().contains("trial " + t + " (round 1, " + t + "/3) lr="), r.out());
        }
        assertTrue(r.out().contains("rank  trial  round  lr"), r.out());
        assertTrue(r.out().contains("test accuracy"), r.out());

        // results.csv: three trials, validation accuracy non-increasing
        List<String> rows = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals("rank,trial,round,lr,dropout,val_accuracy,val_loss,train_loss,epochs,seconds,status", rows.get(0));
        assertEquals(4, rows.size());
        double prev = 2;
        for (int i = 1; i <= 3; i++) {
            String[] f = rows.get(i).split(",");
            assertEquals(Integer.toString(i), f[0]);
            double acc = Double.parseDouble(f[5]);
            assertTrue(acc <= prev, "row " + i + " not sorted: " + rows);
            prev = acc;
            assertEquals("ok", f[10]);
        }
        // results.json: the same order; the best (first) has the only test result
        JsonNode j = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        JsonNode trials = j.get("trials");
        assertEquals(3, trials.size());
        for (int i = 0; i < 3; i++) {
            String[] f = rows.get(i + 1).split(",");
            assertEquals(Integer.parseInt(f[1]), trials.get(i).get("trial").asInt());
            assertEquals(Double.parseDouble(f[5]), trials.get(i).get("val_accuracy").asDouble(), 0.0);
        }
        JsonNode best = j.get("best");
        assertEquals(trials.get(0).get("trial").asInt(), best.get("trial").asInt());
        assertEquals(100, best.get("test").get("samples").asInt());
        assertEquals(0.1, j.get("search").get("val_split").asDouble(), 0.0);

        // each trial's folder: its epoch log (the curves), metrics trained with the trial's values, no test evaluation
        for (JsonNode t : trials) {
            Path td = dir.resolve(t.get("folder").asText());
            List<String> log = Files.readAllLines(td.resolve("epochs.csv"));
            assertEquals(3, log.size(), "header + 2 epochs");
            assertTrue(log.get(0).startsWith("epoch,train_loss,train_accuracy,val_loss,val_accuracy"), log.get(0));
            JsonNode m = new ObjectMapper().readTree(td.resolve("metrics.json").toFile());
            assertEquals(t.get("values").get("lr").asDouble(), m.get("lr").asDouble(), 0.0);
            assertEquals((float) t.get("values").get("dropout").asDouble(), (float) m.get("dropout").asDouble(), 0.0f);
            assertEquals(0.1, m.get("val_split").asDouble(), 0.0);
            assertEquals(360, m.get("train_samples").asInt());
            assertTrue(m.get("test_accuracy").isNull(), "a trial does not evaluate the test set");
            assertEquals(t.get("val_accuracy").asDouble(), m.get("val_accuracy").asDouble(), 0.0);
            assertEquals(2, t.get("val_accuracy_curve").size());
            assertEquals(m.get("history").get(1).get("val_accuracy").asDouble(), t.get("val_accuracy_curve").get(1).asDouble(), 0.0);
            assertTrue(Files.size(td.resolve("curves.png")) > 1000);
            assertTrue(Files.readString(td.resolve("command.txt")).startsWith("jtrain train --model mlp"));
        }
        for (String png : List.of("val-curves.png", "val-vs-lr.png", "val-vs-dropout.png")) {
            assertTrue(Files.size(dir.resolve(png)) > 1000, png);
        }

        // the best trial, rerun as a plain jtrain train with its values and the search's seed and split: same numbers
        Path direct = tmp.resolve("direct.json");
        Result d = run(new TrainCommand(), concat(BASE, List.of("--lr", best.get("values").get("lr").asText(), "--dropout",
                best.get("values").get("dropout").asText(), "--seed", "0", "--val-split", "0.1", "--metrics-out", direct.toString(),
                "-q")));
        assertEquals(0, d.code(), d.err());
        JsonNode dm = new ObjectMapper().readTree(direct.toFile());
        assertEquals(best.get("val_accuracy").asDouble(), dm.get("val_accuracy").asDouble(), 0.0);
        assertEquals(best.get("val_loss").asDouble(), dm.get("val_loss").asDouble(), 0.0);
        assertEquals(best.get("train_loss").asDouble(), dm.get("final_train_loss").asDouble(), 0.0);
        // and the search's one test evaluation is that of the run's final weights
        assertEquals(best.get("test").get("accuracy").asDouble(), dm.get("test_accuracy").asDouble(), 0.0);
        assertEquals(best.get("test").get("loss").asDouble(), dm.get("test_loss").asDouble(), 1e-12);
    }

    @Test
    void failedAndDivergedTrialsAreRecordedAndTheSearchGoesOn() throws Exception {
        Path dir = tmp.resolve("g");
        List<String> base1 = new ArrayList<>(BASE);
        base1.set(base1.indexOf("--epochs") + 1, "1");
        // lr 1e20 diverges; dropout 1.5 is refused by jtrain train; round 2 narrows to (0.02, 0), which ran already
        Result r = search(concat(List.of("--space", "lr=0.02|1e20,dropout=0|1.5,nesterov=true", "--mode", "grid", "--rounds", "2",
                "--keep", "1", "--out", dir.toString(), "-q"), base1).toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode j = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        JsonNode trials = j.get("trials");
        assertEquals(4, trials.size(), "round 2 (lr 0.02, dropout 0) ran in round 1 already");
        assertEquals(0, j.get("rounds").get(1).get("trials").asInt());
        assertEquals("lr=0.02,dropout=0,nesterov=true", j.get("rounds").get(1).get("space").asText());
        assertEquals(1, trials.get(0).get("trial").asInt());
        assertEquals("ok", trials.get(0).get("status").asText());
        assertTrue(j.get("best").has("test"));
        for (int i = 1; i < 4; i++) {
            JsonNode t = trials.get(i);
            assertTrue(t.get("val_accuracy").isNull(), t.toString());
            if (t.get("values").get("dropout").asDouble() == 1.5) {
                assertEquals("failed", t.get("status").asText());
                assertTrue(t.get("message").asText().contains("--dropout must be in [0, 1)"), t.toString());
            } else {
                assertEquals(3, t.get("trial").asInt());
                assertEquals("diverged", t.get("status").asText());
                assertTrue(t.get("message").asText().contains("diverged"), t.toString());
            }
        }
        // a switch searched as true is given as the bare flag
        JsonNode m = new ObjectMapper().readTree(dir.resolve("trial-001/metrics.json").toFile());
        assertTrue(m.get("nesterov").asBoolean());
        assertTrue(Files.readString(dir.resolve("trial-001/command.txt")).contains(" --nesterov "));
    }

    @Test
    void runsOnTheGpuDevice() throws Exception {
        String device = TestDevices.gpu().toString();
        Path dir = tmp.resolve("e");
        List<String> base = new ArrayList<>(BASE);
        base.set(base.indexOf("--train-limit") + 1, "200");
        base.set(base.indexOf("--epochs") + 1, "1");
        Result r = search(concat(List.of("--space", "lr=0.01|0.1", "--mode", "grid", "--out", dir.toString(), "-q", "--device",
                device), base).toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        JsonNode j = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        JsonNode best = j.get("best");
        // the trial's numbers on the device are those of a direct run there
        Path direct = tmp.resolve("direct-gpu.json");
        Result d = run(new TrainCommand(), concat(base, List.of("--device", device, "--lr", best.get("values").get("lr").asText(),
                "--seed", "0", "--val-split", "0.1", "--metrics-out", direct.toString(), "-q")));
        assertEquals(0, d.code(), d.err());
        JsonNode dm = new ObjectMapper().readTree(direct.toFile());
        assertEquals(best.get("val_accuracy").asDouble(), dm.get("val_accuracy").asDouble(), 0.0);
        assertEquals(best.get("test").get("accuracy").asDouble(), dm.get("test_accuracy").asDouble(), 0.0);
    }

    @Test
    void badInputIsAOneLineUsageError() throws Exception {
        Path dir = tmp.resolve("bad");
        assertError(List.of("--space", "lrr=log:1e-4:1e-1"), "--space: unknown key 'lrr'", "no option --lrr");
        assertError(List.of("--space", "lr=log:0:1e-1"), "--space", "'lr=log:0:1e-1'", "LO > 0");
        assertError(List.of("--space", "dropout=lin:0.5"), "--space", "dropout", "lin:LO:HI");
        assertError(List.of("--space", "epochs=lin:1:3"), "'epochs=lin:1:3'", "--epochs takes an integer", "int:LO:HI");
        assertError(List.of("--space", "nesterov=1|2"), "--nesterov is a switch", "nesterov=true|false");
        assertError(List.of("--space", "optimizer=log:1:2"), "--optimizer does not take a number");
        assertError(List.of("--space", "log=a.csv|b.csv"), "'log' cannot be searched");
        assertError(List.of("--space", "val-split=lin:0.1:0.2"), "'val-split' cannot be searched");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--lr", "0.1"), "--lr is given and searched");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--save", "m.safetensors"), "--save cannot be given to a search");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--bogus", "1"), "--bogus");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--mode", "grid", "--trials", "4"), "--trials applies to random search", "3");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--mode", "bayes"), "--mode must be random or grid");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--val-split", "0"), "--val-split must be in (0, 1)");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--rounds", "0"), "--rounds must be >= 1");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--keep", "0"), "--keep must be >= 1");
        assertError(List.of("--space", "lr=log:1e-4:1e-1", "--trials", "0"), "--trials must be >= 1");
        Files.createDirectories(dir.resolve("trial-001"));
        Result r = search("--space", "lr=log:1e-4:1e-1", "--out", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("already holds a search"), r.err());
        r = search("--out", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--space"), r.err());
    }

    private void assertError(List<String> args, String... words) {
        Result r = search(concat(args, List.of("--out", tmp.resolve("never").toString())).toArray(String[]::new));
        assertEquals(2, r.code(), args + ": " + r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jtrain search: error: "), r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), "'" + w + "' missing from: " + r.err());
        }
        assertTrue(!Files.exists(tmp.resolve("never")), "nothing is written before the options are checked");
    }
}
