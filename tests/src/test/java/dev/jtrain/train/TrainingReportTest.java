package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingReportTest {
    @TempDir
    Path tmp;

    static EpochMetrics epoch(int e, double sps, double seconds) {
        return new EpochMetrics(e, (int) Math.round(sps * seconds), 10, 0.5 / e, 0.8, 0.4, 0.9, seconds, 0.1, sps, 0, 0);
    }

    @Test
    void samplesPerSecSkipsTheFirstEpoch() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("device", "cpu");
        TrainingReport r = new TrainingReport(s, List.of(epoch(1, 100, 10), epoch(2, 1000, 1), epoch(3, 2000, 0.5)));
        assertEquals(2000.0 / 1.5, r.samplesPerSec(), 1e-9);
        TrainingReport one = new TrainingReport(s, List.of(epoch(1, 100, 10)));
        assertEquals(100, one.samplesPerSec(), 1e-9);
    }

    @Test
    void writesTheRequiredFields() throws Exception {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("device", "cpu");
        s.put("model", "mlp");
        s.put("epochs", 2);
        s.put("batch", 128);
        s.put("threads", 2);
        s.put("hidden", new int[] {512, 512});
        Path f = tmp.resolve("sub/metrics.json");
        new TrainingReport(s, List.of(epoch(1, 100, 10), new EpochMetrics(2, 50, 1, 0.3, 0.9, Double.NaN,
                Double.NaN, 1, 0, 50, 5, 6))).write(f);
        JsonNode j = new ObjectMapper().readTree(f.toFile());
        for (String k : List.of("device", "model", "epochs", "batch", "threads", "test_accuracy", "final_train_loss",
                "samples_per_sec", "history")) {
            assertTrue(j.has(k), k);
        }
        assertEquals(512, j.get("hidden").get(1).asInt());
        assertTrue(j.get("test_accuracy").isNull(), "NaN is written as null");
        assertEquals(0.3, j.get("final_train_loss").asDouble());
        assertEquals(2, j.get("history").size());
        JsonNode h = j.get("history").get(0);
        for (String k : List.of("epoch", "train_loss", "train_accuracy", "test_accuracy", "samples_per_sec", "seconds")) {
            assertTrue(h.has(k), k);
        }
    }
}
