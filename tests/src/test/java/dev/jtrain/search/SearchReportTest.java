package dev.jtrain.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The results table, CSV and JSON: best first, failed trials last, exact values, the test set for the best alone. */
class SearchReportTest {
    @TempDir
    Path tmp;

    static Trial trial(int id, int round, String lr, String hidden, Trial.Status status, double acc, double loss) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("lr", lr);
        v.put("hidden", hidden);
        return new Trial(id, round, v, status, acc, loss, 0.25, 3, 1.5, status == Trial.Status.DIVERGED ? "training diverged" : "",
                new double[] {acc / 2, acc});
    }

    static SearchReport report() {
        SearchSpace space = SearchSpace.parse("lr=log:1e-4:1e-1,hidden=64|128,128");
        List<Trial> trials = List.of(
                trial(1, 1, "0.001", "64", Trial.Status.OK, 0.90, 0.3),
                trial(2, 1, "0.05", "128,128", Trial.Status.DIVERGED, Double.NaN, Double.NaN),
                trial(3, 2, "0.002", "128,128", Trial.Status.EARLY_STOPPED, 0.95, 0.2),
                trial(4, 2, "0.0015", "64", Trial.Status.OK, 0.95, 0.1));
        return new SearchReport(space, new HyperparameterSearch.Result(trials, List.of(space, space)));
    }

    @Test
    void tableIsSortedByValidationAccuracy() {
        String[] lines = report().table().split("\n");
        assertEquals(5, lines.length);
        assertTrue(lines[0].matches("rank +trial +round +lr +hidden +val acc +val loss +train loss +epochs +seconds +status"), lines[0]);
        assertTrue(lines[1].matches(" +1 +4 +2 +0\\.0015 +64 +95\\.00% +0\\.1000 +0\\.2500 +3 +1\\.5 +ok"), lines[1]);
        assertTrue(lines[2].matches(" +2 +3 +2 +0\\.002 +128,128 +95\\.00% +0\\.2000 .* early-stopped"), lines[2]);
        assertTrue(lines[3].matches(" +3 +1 +1 +0\\.001 +64 +90\\.00% .* ok"), lines[3]);
        assertTrue(lines[4].matches(" +4 +2 +1 +0\\.05 +128,128 +- +- .* diverged"), lines[4]);
    }

    @Test
    void csvHasTheSameOrderAndQuotesCommas() throws IOException {
        Path f = tmp.resolve("results.csv");
        report().writeCsv(f);
        List<String> rows = Files.readAllLines(f);
        assertEquals("rank,trial,round,lr,hidden,val_accuracy,val_loss,train_loss,epochs,seconds,status", rows.get(0));
        assertEquals("1,4,2,0.0015,64,0.95,0.1,0.25,3,1.5,ok", rows.get(1));
        assertEquals("2,3,2,0.002,\"128,128\",0.95,0.2,0.25,3,1.5,early-stopped", rows.get(2));
        assertEquals("3,1,1,0.001,64,0.9,0.3,0.25,3,1.5,ok", rows.get(3));
        assertEquals("4,2,1,0.05,\"128,128\",,,0.25,3,1.5,diverged", rows.get(4));
    }

    @Test
    void jsonListsTrialsBestFirstAndTheTestOfTheBestOnly() throws IOException {
        Path f = tmp.resolve("results.json");
        ObjectMapper m = new ObjectMapper();
        report().writeJson(f, m.createObjectNode().put("mode", "random"), new SearchReport.TestResult(4, 0.93, 0.22, 500));
        JsonNode j = m.readTree(f.toFile());
        assertEquals("random", j.get("search").get("mode").asText());
        assertEquals(2, j.get("rounds").size());
        assertEquals(2, j.get("rounds").get(1).get("trials").asInt());
        JsonNode t = j.get("trials");
        assertEquals(List.of(4, 3, 1, 2), List.of(t.get(0).get("trial").asInt(), t.get(1).get("trial").asInt(),
                t.get(2).get("trial").asInt(), t.get(3).get("trial").asInt()));
        assertEquals(0.0015, t.get(0).get("values").get("lr").asDouble(), 0.0);
        assertTrue(t.get(0).get("values").get("lr").isNumber());
        assertEquals("128,128", t.get(1).get("values").get("hidden").asText());
        assertEquals("trial-004", t.get(0).get("folder").asText());
        assertEquals(2, t.get(0).get("val_accuracy_curve").size());
        assertTrue(t.get(3).get("val_accuracy").isNull());
        assertEquals("training diverged", t.get(3).get("message").asText());
        for (JsonNode trial : t) {
            assertFalse(trial.has("test"), "no trial row carries a test result");
        }
        JsonNode best = j.get("best");
        assertEquals(4, best.get("trial").asInt());
        assertEquals(0.93, best.get("test").get("accuracy").asDouble(), 0.0);
        assertEquals(500, best.get("test").get("samples").asInt());
        // a test result of another trial is not the best's: left out
        report().writeJson(f, m.createObjectNode(), new SearchReport.TestResult(3, 0.9, 0.3, 500));
        assertFalse(m.readTree(f.toFile()).get("best").has("test"));
    }
}
