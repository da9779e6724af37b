package dev.jtrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link JitWarmup}: what it trains, when it stops, its errors, and that `train` gives the same bits with and without it. */
class JitWarmupTest {
    @TempDir
    Path tmp;

    private static Layer mlp(long seed) {
        return Models.mlp(12, new int[] {16}, 3, 0f, new Generator(seed));
    }

    private static List<float[]> weights(Layer model) {
        List<float[]> w = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            w.add(p.value().floats().clone());
        }
        return w;
    }

    @Test
    void trainsTheThrowawayModelForAtLeastTheMinimumSteps() {
        Layer model = mlp(1);
        List<float[]> before = weights(model);
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f); Sgd opt = new Sgd(model.parameters(), 0.1, 0.9)) {
            JitWarmup.Report r = JitWarmup.run(model, loss, opt, new int[] {12}, 3, 16, Duration.ofSeconds(10));
            assertTrue(r.steps() >= JitWarmup.MIN_STEPS, "steps " + r.steps());
            assertEquals(r.steps(), opt.steps(), "one optimizer step per warm-up step");
            assertTrue(r.nanos() >= r.firstStepNanos() + r.lastStepNanos() || r.steps() == 1, r.toString());
        }
        List<float[]> after = weights(model);
        boolean changed = false;
        for (int i = 0; i < before.size(); i++) {
            changed |= !java.util.Arrays.equals(before.get(i), after.get(i));
        }
        assertTrue(changed, "the throwaway model was trained");
    }

    @Test
    void anElapsedBudgetStopsAfterOneStep() {
        Layer model = mlp(2);
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f); Sgd opt = new Sgd(model.parameters(), 0.1)) {
            JitWarmup.Report r = JitWarmup.run(model, loss, opt, new int[] {12}, 3, 4, Duration.ZERO);
            assertEquals(1, r.steps());
            assertEquals(r.firstStepNanos(), r.lastStepNanos());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        Layer model = mlp(3);
        try (SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f); Sgd opt = new Sgd(model.parameters(), 0.1)) {
            Duration d = Duration.ofSeconds(1);
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> JitWarmup.run(model, loss, opt, new int[] {12}, 3, 0, d)).getMessage().contains("batch"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> JitWarmup.run(model, loss, opt, new int[] {12}, 0, 4, d)).getMessage().contains("classes"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> JitWarmup.run(model, loss, opt, new int[] {12, 0}, 3, 4, d)).getMessage().contains("[12, 0]"));
            // the wrong sample shape for the model fails in the model, before anything is trained
            List<float[]> before = weights(model);
            assertThrows(IllegalArgumentException.class, () -> JitWarmup.run(model, loss, opt, new int[] {13}, 3, 4, d));
            List<float[]> after = weights(model);
            for (int i = 0; i < before.size(); i++) {
                assertArrayEquals(before.get(i), after.get(i));
            }
        }
    }

    /** The warm-up trains its own copy with its own generator: the run's losses, accuracies and weights are the same. */
    @Test
    void trainGivesTheSameBitsWithAndWithoutTheWarmUp() throws Exception {
        for (String[] model : List.of(new String[] {"--model", "mlp", "--hidden", "24", "--dropout", "0.3"},
                new String[] {"--model", "lenet"})) {
            JsonNode on = train(model, "--jit-warmup", "on");
            JsonNode off = train(model, "--no-jit-warmup", "off");
            for (String key : List.of("final_train_loss", "test_loss", "test_accuracy")) {
                assertEquals(off.get(key).asDouble(), on.get(key).asDouble(), model[1] + " " + key);
            }
            assertEquals(off.get("history").get(1).get("train_loss").asDouble(),
                    on.get("history").get(1).get("train_loss").asDouble(), model[1]);
        }
    }

    @Test
    void aRunShorterThanTheWarmUpSkipsIt() {
        // 2 epochs of 6 steps: below TrainCommand.JIT_WARMUP_MIN_STEPS
        TrainCommandTest.Result r = TrainCommandTest.run("--model", "mlp", "--hidden", "16", "--epochs", "2", "--batch", "64",
                "--train-limit", "384", "--test-limit", "64", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().lines().anyMatch(l -> l.startsWith("jit warm-up: ")), r.out());
    }

    private JsonNode train(String[] model, String flag, String name) throws Exception {
        Path metrics = tmp.resolve(model[1] + "-" + name + ".json");
        List<String> args = new ArrayList<>(List.of(model));
        // 2 epochs of 25 steps: long enough for the warm-up (TrainCommand.JIT_WARMUP_MIN_STEPS)
        args.addAll(List.of(flag, "--epochs", "2", "--batch", "64", "--train-limit", "1600", "--test-limit", "128",
                "--threads", "1", "--seed", "5", "--metrics-out", metrics.toString()));
        TrainCommandTest.Result r = TrainCommandTest.run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        boolean warmed = r.out().lines().anyMatch(l -> l.startsWith("jit warm-up: "));
        if (flag.equals("--jit-warmup")) {
            assertTrue(warmed, r.out());
        } else {
            assertFalse(warmed, r.out());
        }
        return new ObjectMapper().readTree(metrics.toFile());
    }
}
