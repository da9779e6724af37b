package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code jtrain train}'s model switches and per-model recipes: without flags the run is lenet with its recipe
 * (Adam, lr 0.002 with cosine decay, batch 32, 10 epochs); {@code --model mlp} takes the mlp recipe (lr 0.0005, dropout 0.2); a flag
 * given wins, and a different optimizer keeps its own default lr; switches that do not fit the model are one-line
 * errors.
 */
class TrainModelOptionsTest {
    @TempDir
    Path tmp;

    private JsonNode train(String name, String... extra) throws Exception {
        Path m = tmp.resolve(name + ".json");
        String[] base = {"--train-limit", "64", "--test-limit", "16", "--threads", "1", "-q", "--metrics-out", m.toString()};
        TrainCommandTest.Result r = TrainCommandTest.run(Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return new ObjectMapper().readTree(m.toFile());
    }

    @Test
    void theDefaultIsLenetWithItsRecipe() throws Exception {
        JsonNode j = train("default", "--epochs", "1");
        assertEquals("lenet", j.get("model").asText());
        assertEquals(61706, j.get("parameters").asLong());
        assertEquals("adam", j.get("optimizer").asText());
        assertEquals(0.002, j.get("lr").asDouble(), 1e-12);
        assertEquals(32, j.get("batch").asInt());
        assertEquals(0.0, j.get("dropout").asDouble());
    }

    @Test
    void eachModelTakesItsRecipeAndGivenFlagsWin() throws Exception {
        JsonNode mlp = train("mlp", "--model", "mlp", "--hidden", "16", "--epochs", "1");
        assertEquals(5e-4, mlp.get("lr").asDouble(), 1e-12);
        assertEquals(0.2, mlp.get("dropout").asDouble(), 1e-6);
        JsonNode sgd = train("sgd", "--model", "mlp", "--hidden", "16", "--epochs", "1", "--optimizer", "sgd", "--batch", "16");
        assertEquals(0.01, sgd.get("lr").asDouble(), 1e-12, "another optimizer keeps its own default lr");
        assertEquals(16, sgd.get("batch").asInt());
        assertEquals(10, Recipe.forModel("lenet").epochs());
    }

    @Test
    void mlpWithDropConnectBatchNormAndTanhTrains() throws Exception {
        // (the resnet with stochastic depth is trained one step on cpu and emu in ModelsTest; a CLI run costs ~10 s)
        JsonNode mlp = train("dc", "--model", "mlp", "--hidden", "32", "--drop-connect", "0.3", "--batchnorm",
                "--activation", "tanh", "--epochs", "1");
        assertEquals(784 * 32 + 32 + 2 * 32 + 32 * 10 + 10, mlp.get("parameters").asLong());
    }

    @Test
    void switchesThatDoNotFitTheModelAreOneLineErrors() {
        TrainCommandTest.assertOneLineError(new String[] {"--model", "lenet", "--batchnorm", "--hidden", "16"}, "--hidden");
        TrainCommandTest.assertOneLineError(new String[] {"--model", "cnn", "--stochastic-depth", "0.5"}, "--stochastic-depth", "resnet");
        TrainCommandTest.assertOneLineError(new String[] {"--drop-connect", "1.5"}, "--drop-connect", "1.5");
        TrainCommandTest.assertOneLineError(new String[] {"--activation", "swish"}, "--activation", "swish");
    }
}
