package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code jtrain train} with the schedule, EMA, early-stopping and watching flags, end to end. */
class TrainOptionsCommandTest {
    @TempDir
    Path tmp;

    @Test
    void scheduleWarmupScalingLogPlotEmaSanityAndMonitors() throws Exception {
        Path csv = tmp.resolve("log.csv");
        Path png = tmp.resolve("curves.png");
        Path json = tmp.resolve("m.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "3", "--train-limit", "512", "--test-limit", "128",
                "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "32", "--batch", "64", "--lr", "0.08", "--lr-scale", "linear", "--schedule", "step:1:0.5",
                "--warmup", "4", "--ema", "0.9", "--sanity", "--monitor", "--log", csv.toString(), "--plot", png.toString(),
                "--metrics-out", json.toString(), "--threads", "2", "-q");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("sanity: initial loss"), r.out());
        assertTrue(r.out().contains("sanity: overfitting 20 samples: train accuracy 100.0%"), r.out());
        assertTrue(r.out().contains("update/weight ratio, epoch 3:"), r.out());
        assertTrue(r.out().contains("dead "), r.out());
        List<String> rows = Files.readAllLines(csv);
        assertEquals(4, rows.size());
        // base lr 0.08 * 64 / 256 = 0.02, halved per epoch; each epoch's first step (global 0, 8, 16): warm-up 1/4 at step 0
        double[] lr = {0.02 * 0.25, 0.01, 0.005};
        for (int e = 0; e < 3; e++) {
            String[] f = rows.get(e + 1).split(",");
            assertEquals(lr[e], Double.parseDouble(f[f.length - 1]), 1e-12, "epoch " + (e + 1));
        }
        assertTrue(Files.size(png) > 1000);
        JsonNode s = new ObjectMapper().readTree(json.toFile());
        assertEquals("step:1:0.5", s.get("schedule").asText());
        assertEquals(4, s.get("warmup_steps").asInt());
        assertEquals(0.02, s.get("base_lr").asDouble(), 1e-15);
        assertEquals(0.9, s.get("ema").asDouble(), 0.0);
    }

    @Test
    void earlyStoppingReportsTheRestoredEpoch() throws Exception {
        Path json = tmp.resolve("m.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "3", "--train-limit", "256", "--test-limit", "64",
                "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "16", "--early-stop", "1", "--metrics-out", json.toString(), "--threads", "2", "-q");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("early stopping:") && r.out().contains("restored the weights of epoch"), r.out());
        JsonNode s = new ObjectMapper().readTree(json.toFile());
        int best = s.get("early_stop_best_epoch").asInt();
        assertTrue(best >= 1 && best <= 3, "best epoch " + best);
    }

    @Test
    void earlyStoppingWatchesTheValidationSetWhenThereIsOne() throws Exception {
        Path json = tmp.resolve("v.json");
        TrainCommandTest.Result r = TrainCommandTest.run("--epochs", "4", "--train-limit", "600", "--test-limit", "64",
                "--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--hidden", "16", "--val-split", "0.2", "--early-stop", "2", "--metrics-out", json.toString(),
                "--threads", "2", "-q");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        JsonNode h = j.get("history");
        int best = 0;
        double bestVal = -1;
        for (JsonNode e : h) {
            if (e.get("val_accuracy").asDouble() > bestVal) { // the first epoch of the highest validation accuracy
                bestVal = e.get("val_accuracy").asDouble();
                best = e.get("epoch").asInt();
            }
        }
        assertEquals(best, j.get("early_stop_best_epoch").asInt(), h.toString());
    }

    @Test
    void badValuesAreOneLineUsageErrors() {
        TrainCommandTest.assertOneLineError(new String[] {"--schedule", "warp"}, "--schedule", "unknown schedule 'warp'");
        TrainCommandTest.assertOneLineError(new String[] {"--schedule", "step:0"}, "--schedule", "step size S must be >= 1");
        TrainCommandTest.assertOneLineError(new String[] {"--warmup", "-1"}, "--warmup must be >= 0");
        TrainCommandTest.assertOneLineError(new String[] {"--lr-scale", "quadratic"}, "--lr-scale", "quadratic");
        TrainCommandTest.assertOneLineError(new String[] {"--ema", "1.5"}, "--ema", "[0, 1)");
        TrainCommandTest.assertOneLineError(new String[] {"--early-stop", "0"}, "--early-stop", ">= 1");
        TrainCommandTest.assertOneLineError(new String[] {"--log", tmp.resolve("no/such/dir/x.csv").toString()}, "--log", "does not exist");
        TrainCommandTest.assertOneLineError(new String[] {"--plot", tmp.resolve("nope/x.png").toString()}, "--plot", "does not exist");
    }
}
