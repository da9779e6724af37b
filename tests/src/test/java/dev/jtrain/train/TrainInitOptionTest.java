package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * {@code jtrain train --init}: the scheme is recorded in the metrics; {@code --init default} is bit-for-bit the run
 * without the flag; another scheme changes the run; a bad scheme is a one-line usage error naming it.
 */
class TrainInitOptionTest {
    @TempDir
    Path tmp;




    private JsonNode train(String name, String... extra) throws Exception {
        Path m = tmp.resolve(name + ".json");
        String[] base = {"--model", "mlp", "--optimizer", "sgd", "--dropout", "0", "--epochs", "1", "--train-limit", "256", "--test-limit", "64", "--hidden", "16", "--batch", "64",
            "--threads", "1", "--seed", "5", "-q", "--metrics-out", m.toString()};
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(extra))
                .toArray(String[]::new);
        TrainCommandTest.Result r = TrainCommandTest.run(args);
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(m.toFile());
    }

    @Test
    void initIsAppliedAndRecorded() throws Exception {
        JsonNode plain = train("plain");
        JsonNode dflt = train("default", "--init", "default");
        JsonNode he = train("he", "--init", "he");
        assertEquals("default", plain.get("init").asText());
        assertEquals("he-normal:fan_in:relu", he.get("init").asText());
        assertEquals(plain.get("final_train_loss").asDouble(), dflt.get("final_train_loss").asDouble(), 0.0,
                "--init default is the run without the flag");
        assertNotEquals(plain.get("final_train_loss").asDouble(), he.get("final_train_loss").asDouble(),
                "--init he re-draws the weights");
    }

    @Test
    void badSchemeIsAUsageError() {
        TrainCommandTest.assertOneLineError(new String[] {"--init", "he:fan_sideways"}, "--init", "'fan_sideways'");
        TrainCommandTest.assertOneLineError(new String[] {"--init", "normal"}, "--init", "one number");
    }
}
