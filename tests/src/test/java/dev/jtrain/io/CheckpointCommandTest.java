package dev.jtrain.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jtrain.cli.Main;
import dev.jtrain.cli.TrainCommand;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.Mnist;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jtrain train --save/--resume/--load-weights/--reinit-head/--classes/--freeze/--lr-group} end to end on
 * 200 + 50 images of the bundled MNIST (written as IDX files), a 16-unit MLP, one thread.
 */
class CheckpointCommandTest {
    @TempDir
    static Path tmp;

    private static final String[] FAST = {"--model", "mlp", "--hidden", "16", "--batch", "64",
            "--dropout", "0.2", "--optimizer", "adam", "--threads", "1", "--seed", "5", "-q"};

    private static Path data;

    /** The first 200 training and 50 test images of the bundled MNIST as small IDX files (quick to load per run). */
    @BeforeAll
    static void save() throws Exception {
        Mnist.Split full = Mnist.load(Path.of(System.getProperty("jtrain.root", "."), "data", "mnist-10k"));
        data = tmp.resolve("mnist-small");
        Files.createDirectories(data);
        writeIdx(full.train().head(200), "train");
        writeIdx(full.test().head(50), "t10k");
    }

    private static void writeIdx(Dataset d, String prefix) throws Exception {
        int n = d.size();
        ByteBuffer img = ByteBuffer.allocate(16 + n * 784);
        img.putInt(0x803).putInt(n).putInt(28).putInt(28);
        for (float v : d.features()) {
            img.put((byte) Math.round(v * 255));
        }
        Files.write(data.resolve(prefix + "-images-idx3-ubyte"), img.array());
        ByteBuffer lab = ByteBuffer.allocate(8 + n);
        lab.putInt(0x801).putInt(n);
        for (long y : d.labels()) {
            lab.put((byte) y);
        }
        Files.write(data.resolve(prefix + "-labels-idx1-ubyte"), lab.array());
    }


    record Result(int code, String out, String err) {
    }

    static Result train(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new TrainCommand());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data", data.toString()));
        int code = cmd.execute(all.toArray(new String[0]));
        return new Result(code, out.toString(), err.toString());
    }

    /** FAST with {@code more} added; an option in both takes {@code more}'s value. */
    static String[] fast(String... more) {
        List<String> a = new ArrayList<>(List.of(FAST));
        for (int i = 0; i + 1 < more.length; i++) {
            int at = a.indexOf(more[i]);
            if (more[i].startsWith("--") && at >= 0 && !more[i + 1].startsWith("-")) {
                a.remove(at + 1);
                a.remove(at);
            }
        }
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    static void assertError(Result r, String... words) {
        assertNotEquals(0, r.code(), r.out());
        assertTrue(r.err().startsWith("jtrain train: error: ") && r.err().strip().lines().count() == 1, r.err());
        for (String w : words) {
            assertTrue(r.err().contains(w), "'" + w + "' missing: " + r.err());
        }
    }

    private static JsonNode json(Path p) throws Exception {
        return new ObjectMapper().readTree(p.toFile());
    }

    @Test
    void resumedRunHasTheBitsOfAnUninterruptedOne() throws Exception {
        Path a = tmp.resolve("straight.safetensors");
        Path b = tmp.resolve("split.safetensors");
        // --init and --val-split (other mixins' options) are recorded and restored like the others
        Result r = train(fast("--epochs", "2", "--init", "xavier", "--val-split", "0.25", "--save", a.toString()));
        assertEquals(0, r.code(), r.err());
        r = train(fast("--epochs", "1", "--init", "xavier", "--val-split", "0.25", "--save", b.toString()));
        assertEquals(0, r.code(), r.err());
        assertEquals(1, json(tmp.resolve("split.json")).get("epoch").asInt());
        // only --resume and --epochs: the model, data, optimizer, seed and --save come from the checkpoint
        r = train("--resume", b.toString(), "--epochs", "2", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resuming " + b + ": 1 epoch (3 steps) done"), r.out());
        assertTrue(r.out().contains("epoch 2/2"), r.out());
        assertFalse(r.out().contains("epoch 1/2"), r.out());

        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the weights files are identical bytes");
        JsonNode sa = json(tmp.resolve("straight.json"));
        JsonNode sb = json(tmp.resolve("split.json"));
        for (String k : List.of("optimizer", "rng", "epoch", "step", "preprocessing", "weights_sha256", "history")) {
            assertEquals(sa.get(k), sb.get(k), k);
        }
        assertEquals(6, sb.get("step").asInt());
        assertEquals("16", sb.get("config").get("options").get("--hidden").asText());
        assertEquals("xavier", sb.get("config").get("options").get("--init").asText().split("[-:]")[0]);

        // the same checkpoint again: it already holds 2 epochs
        assertError(train("--resume", b.toString(), "--epochs", "2"), "already holds 2 epochs", "--epochs 3");
        // options that fix the model cannot change
        assertError(train("--resume", b.toString(), "--epochs", "3", "--hidden", "32"),
                "--hidden 32 differs from the resumed run's 16");
        assertError(train("--resume", b.toString(), "--load-weights", b.toString()), "exclude each other");
        assertError(train("--resume", tmp.resolve("nope.safetensors").toString()), "nope.safetensors: no such file");
    }

    @Test
    void resumeWithEmaAndEarlyStoppingHasTheBitsOfAnUninterruptedRun() throws Exception {
        Path a = tmp.resolve("ema-straight.safetensors");
        Path b = tmp.resolve("ema-split.safetensors");
        String[] watched = {"--ema", "0.9", "--early-stop", "4", "--val-split", "0.25"};
        Result r = train(fast(concat(watched, "--epochs", "3", "--save", a.toString())));
        assertEquals(0, r.code(), r.err());
        r = train(fast(concat(watched, "--epochs", "1", "--save", b.toString())));
        assertEquals(0, r.code(), r.err());
        r = train("--resume", b.toString(), "--epochs", "2", "--threads", "1", "-q");
        assertEquals(0, r.code(), r.err());
        r = train("--resume", b.toString(), "--epochs", "3", "--threads", "1", "-q");
        assertEquals(0, r.code(), r.err());

        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "the weights files (the averages) are identical bytes");
        JsonNode sa = json(tmp.resolve("ema-straight.json"));
        JsonNode sb = json(tmp.resolve("ema-split.json"));
        for (String k : List.of("optimizer", "rng", "step", "history", "ema", "early_stopping")) {
            assertEquals(sa.get(k), sb.get(k), k);
        }
        assertEquals(9, sb.get("ema").get("updates").asInt());
        assertTrue(sb.get("early_stopping").get("best_epoch").asInt() >= 1, sb.get("early_stopping").toString());
    }

    private static String[] concat(String[] a, String... b) {
        List<String> out = new ArrayList<>(List.of(a));
        out.addAll(List.of(b));
        return out.toArray(new String[0]);
    }

    @Test
    void transferWithFrozenLayersANewHeadAndGroupLearningRates() throws Exception {
        Path base = tmp.resolve("base.safetensors");
        assertEquals(0, train(fast("--epochs", "1", "--save", base.toString())).code());
        Map<String, Tensor> w0 = Checkpoint.loadWeights(base);
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(w0.keySet()));

        // a new 12-class head, layer 0 frozen (with weight decay, which must not touch it either)
        Path ft = tmp.resolve("ft.safetensors");
        Result r = train(fast("--epochs", "1", "--load-weights", base.toString(), "--reinit-head", "--classes", "12",
                "--freeze", "0", "--weight-decay", "0.1", "--save", ft.toString()));
        assertEquals(0, r.code(), r.err());
        Map<String, Tensor> w1 = Checkpoint.loadWeights(ft);
        assertArrayEquals(w0.get("0.weight").floats(), w1.get("0.weight").floats(), "frozen: not updated");
        assertArrayEquals(w0.get("0.bias").floats(), w1.get("0.bias").floats(), "frozen: not updated");
        assertArrayEquals(new int[] {12, 16}, w1.get("3.weight").dims(), "the new head");
        JsonNode state = json(tmp.resolve("ft.json")).get("optimizer").get("state");
        assertEquals(List.of("3.weight", "3.bias"), fieldNames(state), "no optimizer state for frozen parameters");

        // a head of another shape without --reinit-head: the error says what to do
        assertError(train(fast("--epochs", "1", "--load-weights", base.toString(), "--classes", "12")),
                "tensor 3.weight: shape [10, 16] in the file, the model has [12, 16]", "--reinit-head");
        assertError(train(fast("--epochs", "1", "--freeze", "7")), "--freeze: '7' matches no trainable parameter");
        assertError(train(fast("--epochs", "1", "--freeze", "0,3")), "freezes every parameter");
        assertError(train(fast("--epochs", "1", "--lr-group", "0")), "--lr-group: expected PREFIX=LR");
        assertError(train(fast("--epochs", "1", "--reinit-head")), "--reinit-head needs --load-weights");
        assertError(train(fast("--epochs", "1", "--save", tmp.resolve("no/such/dir/x.safetensors").toString())),
                "--save", "does not exist");

        // per-group learning rates: layer 0 at lr 0 stays exactly as loaded, the rest trains (plain SGD)
        Path lg = tmp.resolve("lg.safetensors");
        r = train(fast("--epochs", "1", "--load-weights", base.toString(), "--optimizer", "sgd", "--momentum", "0",
                "--lr-group", "0.=0", "--save", lg.toString()));
        assertEquals(0, r.code(), r.err());
        Map<String, Tensor> w2 = Checkpoint.loadWeights(lg);
        assertArrayEquals(w0.get("0.weight").floats(), w2.get("0.weight").floats(), "group lr 0: no change");
        assertFalse(Arrays.equals(w0.get("3.weight").floats(), w2.get("3.weight").floats()), "the head trains");
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"),
                fieldNames(json(tmp.resolve("lg.json")).get("optimizer").get("state")));
    }

    private static List<String> fieldNames(JsonNode o) {
        List<String> out = new ArrayList<>();
        o.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void exportCommandFoldsAndNamesBadInput() throws Exception {
        Path base = tmp.resolve("plain.safetensors");
        assertEquals(0, train(fast("--epochs", "1", "--save", base.toString())).code());
        Path out = tmp.resolve("plain-folded.safetensors");
        assertEquals(0, Main.run("export", "--fold-bn", base.toString(), out.toString()));
        Checkpoint c = Checkpoint.load(out);
        assertEquals(Checkpoint.KIND_INFERENCE, c.kind());
        assertEquals(0, c.sidecar().get("folded_batchnorm").size(), "no BatchNorm in this MLP");
        assertEquals(Checkpoint.loadWeights(base).keySet(), c.weights().keySet());
        assertEquals(2, Main.run("export", "--fold-bn", base.toString(), base.toString()));
        assertEquals(1, Main.run("export", "--fold-bn", tmp.resolve("missing.safetensors").toString(), out.toString()));
        assertError(train(fast("--epochs", "2", "--resume", out.toString())), "inference checkpoint");
    }
}
