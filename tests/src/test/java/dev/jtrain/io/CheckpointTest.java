package dev.jtrain.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Models;
import dev.jtrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints: PyTorch's state_dict names and shapes for jtrain's models, bit-exact round trips of weights,
 * buffers and optimizer state, atomic saves that leave the old checkpoint loadable when a write fails, and
 * clear errors for files that do not belong together or do not fit the model.
 */
class CheckpointTest {
    @TempDir
    Path tmp;

    /** A small learnable 3-class problem: 5 features, class = argmax of the first three plus noise. */
    static Dataset toy(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] x = new float[n * 5];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 0; j < 5; j++) {
                x[i * 5 + j] = (float) r.nextGaussian();
                if (j < 3 && x[i * 5 + j] > x[i * 5 + best]) {
                    best = j;
                }
            }
            y[i] = best;
        }
        return new Dataset("toy", x, new int[] {5}, y, 3);
    }

    /** Linear-BN-ReLU-Dropout-Linear: every kind of state (weights, running stats, counter, dropout RNG). */
    static Sequential bnNet(Generator gen) {
        return new Sequential(new Linear(5, 8, true, gen), new BatchNorm1d(8), new ReLU(), new Dropout(0.25f, gen),
                new Linear(8, 3, true, gen));
    }

    static Map<String, String> shapes(Layer model) {
        Map<String, String> out = new LinkedHashMap<>();
        StateDict.shapes(model).forEach((k, v) -> out.put(k, v.toString()));
        return out;
    }

    @Test
    void namesAndShapesArePyTorchs() {
        Generator gen = new Generator(0);
        // nn.Sequential(nn.Linear(784,16), nn.ReLU(), nn.Dropout(), nn.Linear(16,16), nn.ReLU(), nn.Dropout(), nn.Linear(16,10))
        // .state_dict(): keys and shapes as PyTorch 1.13 prints them
        Map<String, String> mlp = new LinkedHashMap<>();
        mlp.put("0.weight", "[16, 784]");
        mlp.put("0.bias", "[16]");
        mlp.put("3.weight", "[16, 16]");
        mlp.put("3.bias", "[16]");
        mlp.put("6.weight", "[10, 16]");
        mlp.put("6.bias", "[10]");
        assertEquals(mlp, shapes(Models.build("mlp", new int[] {784}, 10, new int[] {16, 16}, 0.5f, gen)));
        // the cnn: Conv2d(1,32,3,padding=1), ReLU, MaxPool2d(2), Conv2d(32,64,3,padding=1), ReLU, MaxPool2d(2),
        // Flatten, Linear(3136,128), ReLU, Linear(128,10)
        Map<String, String> cnn = new LinkedHashMap<>();
        cnn.put("0.weight", "[32, 1, 3, 3]");
        cnn.put("0.bias", "[32]");
        cnn.put("3.weight", "[64, 32, 3, 3]");
        cnn.put("3.bias", "[64]");
        cnn.put("7.weight", "[128, 3136]");
        cnn.put("7.bias", "[128]");
        cnn.put("9.weight", "[10, 128]");
        cnn.put("9.bias", "[10]");
        assertEquals(cnn, shapes(Models.build("cnn", new int[] {1, 28, 28}, 10, null, 0f, gen)));
        // BatchNorm: parameters, then buffers, then num_batches_tracked (int64, shape [])
        Map<String, String> bn = new LinkedHashMap<>();
        bn.put("0.weight", "[8, 5]");
        bn.put("0.bias", "[8]");
        bn.put("1.weight", "[8]");
        bn.put("1.bias", "[8]");
        bn.put("1.running_mean", "[8]");
        bn.put("1.running_var", "[8]");
        bn.put("1.num_batches_tracked", "[]");
        bn.put("4.weight", "[3, 8]");
        bn.put("4.bias", "[3]");
        assertEquals(bn, shapes(bnNet(gen)));
        assertEquals(List.of("4.weight", "4.bias"), StateDict.headNames(bnNet(gen)));
        assertEquals(List.of("9.weight", "9.bias"), StateDict.headNames(Models.build("cnn", new int[] {1, 28, 28}, 10, null, 0f, gen)));
    }

    /** Trains bnNet with {@code opt} for a few steps so every state tensor is non-trivial. */
    static void trainSteps(Sequential net, Optimizer opt, Generator gen, int epochs) {
        try (Trainer t = new Trainer(net, new SoftmaxCrossEntropy(0f), opt, Device.CPU)) {
            t.fit(toy(96, 5), null, epochs, 32, gen);
        }
    }

    static void assertSameBits(Tensor a, Tensor b, String what) {
        assertEquals(a.shape(), b.shape(), what);
        if (a.dtype() == dev.jtrain.tensor.DType.INT64) {
            assertArrayEquals(a.longs(), b.longs(), what);
            return;
        }
        float[] x = a.toFloatArray();
        float[] y = b.toFloatArray();
        for (int i = 0; i < x.length; i++) {
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + x[i] + " vs " + y[i]);
            }
        }
    }

    @Test
    void roundTripRestoresEverythingBitExactly() throws Exception {
        Generator gen = new Generator(7);
        Sequential net = bnNet(gen);
        Adam opt = new Adam(net.parameters(), 0.01);
        trainSteps(net, opt, gen, 2);
        ObjectNode prep = new ObjectMapper().createObjectNode().put("type", "zca").put("epsilon", 1e-5);
        prep.putArray("matrix").add(1.5).add(-0.25);
        Path f = tmp.resolve("run.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 2, null, new ObjectMapper().createObjectNode().put("k", "v"), prep, null).save(f);
        assertTrue(Files.exists(tmp.resolve("run.json")), "sidecar beside the weights");

        Generator gen2 = new Generator(7);
        Sequential net2 = bnNet(gen2);
        Adam opt2 = new Adam(net2.parameters(), 0.01);
        Checkpoint c = Checkpoint.load(f);
        c.restoreModel(net2, n -> false);
        c.restoreOptimizer(net2, opt2);
        c.restoreGenerator(gen2);
        assertEquals(2, c.epoch());
        assertEquals(6, c.step());
        assertEquals(prep, c.preprocessing(), "the preprocessing JSON comes back as it was given");
        assertEquals(TextNode.valueOf("v"), c.config().get("k"));
        assertEquals(gen.offset(), gen2.offset());
        assertEquals(opt.steps(), opt2.steps());
        assertEquals(opt.lr(), opt2.lr());
        for (Map.Entry<String, dev.jtrain.nn.StateTensor> e : net.namedState().entrySet()) {
            assertSameBits(e.getValue().value(), net2.namedState().get(e.getKey()).value(), e.getKey());
        }
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            Parameter p2 = net2.namedParameters().get(e.getKey());
            for (String s : List.of(Adam.EXP_AVG, Adam.EXP_AVG_SQ)) {
                assertSameBits(opt.state(e.getValue()).get(s), opt2.state(p2).get(s), e.getKey() + " " + s);
            }
        }
        assertEquals(6, ((BatchNorm) net.get(1)).numBatchesTracked());
        assertEquals(6, ((BatchNorm) net2.get(1)).numBatchesTracked());
        assertNotEquals(0f, opt2.state(net2.namedParameters().get("0.weight")).get(Adam.EXP_AVG).floats()[0]);
    }

    @Test
    void scheduleStepComesBack() throws Exception {
        Generator gen = new Generator(4);
        Sequential net = bnNet(gen);
        Sgd opt = new Sgd(net.parameters(), 0.1, 0.9);
        dev.jtrain.optim.schedule.StepLR sched = new dev.jtrain.optim.schedule.StepLR(opt, 2, 0.5);
        for (int i = 0; i < 5; i++) {
            sched.step();
        }
        Path f = tmp.resolve("s.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 1, sched, null, null, null).save(f);
        Sgd opt2 = new Sgd(net.parameters(), 0.1, 0.9);
        dev.jtrain.optim.schedule.StepLR sched2 = new dev.jtrain.optim.schedule.StepLR(opt2, 2, 0.5);
        Checkpoint.load(f).restoreSchedule(sched2);
        assertEquals(5, sched2.stepCount());
        assertEquals(0.1 * 0.25, opt2.lr(), 1e-15, "lr(5) = 0.1 * 0.5^floor(5/2)");
        Path g = tmp.resolve("no-schedule.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 1, null, null, null, null).save(g);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(g).restoreSchedule(sched2));
        assertTrue(e.getMessage().contains("no schedule"), e.getMessage());
    }

    /** A stream that fails after {@code limit} bytes, as a full disk would. */
    static final class FailingStream extends FilterOutputStream {
        private long left;

        FailingStream(OutputStream out, long limit) {
            super(out);
            this.left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            if (left-- <= 0) {
                throw new IOException("injected failure: disk full");
            }
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int i = 0; i < len; i++) {
                write(b[off + i]);
            }
        }
    }

    @Test
    void failedSaveKeepsThePreviousCheckpoint() throws Exception {
        Generator gen = new Generator(1);
        Sequential net = bnNet(gen);
        Sgd opt = new Sgd(net.parameters(), 0.1, 0.9);
        trainSteps(net, opt, gen, 1);
        Path f = tmp.resolve("c.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 1, null, null, null, null).save(f);
        byte[] weightsBefore = Files.readAllBytes(f);
        byte[] sidecarBefore = Files.readAllBytes(tmp.resolve("c.json"));

        trainSteps(net, opt, gen, 1); // the model moves on
        Checkpoint next = Checkpoint.ofTraining(net, opt, gen, 2, null, null, null, null);
        // fail the weights file in its header or data, or the sidecar (the second file) midway
        long[][] cases = {{0, 0}, {0, 100}, {0, 600}, {1, 10}, {1, 2000}};
        for (long[] c : cases) {
            int[] files = {0};
            IOException e = assertThrows(IOException.class, () -> next.save(f,
                    out -> files[0]++ == c[0] ? new FailingStream(out, c[1]) : out));
            assertTrue(e.getMessage().contains("injected"), e.getMessage());
            String where = (c[0] == 0 ? "weights" : "sidecar") + " failing at byte " + c[1];
            assertArrayEquals(weightsBefore, Files.readAllBytes(f), "weights untouched, " + where);
            assertArrayEquals(sidecarBefore, Files.readAllBytes(tmp.resolve("c.json")), "sidecar untouched, " + where);
            assertEquals(1, Checkpoint.load(f).epoch(), "the old checkpoint still loads");
            try (Stream<Path> listing = Files.list(tmp)) {
                assertEquals(List.of("c.json", "c.safetensors"), listing.map(p -> p.getFileName().toString()).sorted().toList(),
                        "no temporaries left behind");
            }
        }
        next.save(f);
        assertEquals(2, Checkpoint.load(f).epoch());
    }

    @Test
    void mismatchedAndCorruptFilesAreNamed() throws Exception {
        Generator gen = new Generator(2);
        Sequential net = bnNet(gen);
        Sgd opt = new Sgd(net.parameters(), 0.1, 0.9);
        trainSteps(net, opt, gen, 1);
        Path a = tmp.resolve("a.safetensors");
        Path b = tmp.resolve("b.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 1, null, null, null, null).save(a);
        trainSteps(net, opt, gen, 1);
        Checkpoint.ofTraining(net, opt, gen, 2, null, null, null, null).save(b);

        // weights of one save with the sidecar of another (what a crash between the two renames leaves)
        Files.copy(b, a, StandardCopyOption.REPLACE_EXISTING);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(a));
        assertTrue(e.getMessage().startsWith(a + ": ") && e.getMessage().contains("SHA-256")
                && e.getMessage().contains("a.json"), e.getMessage());

        // one flipped bit in the data
        byte[] bytes = Files.readAllBytes(b);
        bytes[bytes.length - 3] ^= 1;
        Files.write(b, bytes);
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(b));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());

        // a missing sidecar
        Path c = tmp.resolve("c.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 2, null, null, null, null).save(c);
        Files.delete(tmp.resolve("c.json"));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(c));
        assertTrue(e.getMessage().contains("c.json") && e.getMessage().contains("missing"), e.getMessage());
        assertEquals(9, Checkpoint.loadWeights(c).size(), "the weights alone still load");

        // a model of another shape: the tensor and both shapes are named
        Path d = tmp.resolve("d.safetensors");
        Checkpoint.ofTraining(net, opt, gen, 2, null, null, null, null).save(d);
        Generator g2 = new Generator(2);
        Sequential wider = new Sequential(new Linear(5, 9, true, g2), new BatchNorm1d(9), new ReLU(), new Dropout(0.25f, g2),
                new Linear(9, 3, true, g2));
        Map<String, float[]> before = new LinkedHashMap<>();
        wider.namedParameters().forEach((k, p) -> before.put(k, p.value().toFloatArray()));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(d).restoreModel(wider, n -> false));
        assertTrue(e.getMessage().contains("tensor 0.weight: shape [8, 5] in the file, the model has [9, 5]"), e.getMessage());
        wider.namedParameters().forEach((k, p) -> assertArrayEquals(before.get(k), p.value().toFloatArray(),
                "nothing copied when anything mismatches: " + k));
        // a model without BatchNorm: its tensors are unexpected
        Sequential plain = new Sequential(new Linear(5, 8, true, g2), new ReLU(), new Linear(8, 3, true, g2));
        e = assertThrows(CheckpointException.class, () -> Checkpoint.load(d).restoreModel(plain, n -> false));
        assertTrue(e.getMessage().contains("missing tensors 2.weight, 2.bias"), e.getMessage());

        // another optimizer
        Sequential same = bnNet(new Generator(2));
        e = assertThrows(CheckpointException.class,
                () -> Checkpoint.load(d).restoreOptimizer(same, new Adam(same.parameters(), 0.01)));
        assertTrue(e.getMessage().contains("optimizer Sgd in the checkpoint, the run uses Adam"), e.getMessage());

        // a corrupt optimizer state in the sidecar
        Path side = tmp.resolve("d.json");
        ObjectNode j = (ObjectNode) new ObjectMapper().readTree(side.toFile());
        ObjectNode st = (ObjectNode) j.get("optimizer").get("state").get("4.bias").get("momentum_buffer");
        byte[] raw = st.get("data").binaryValue();
        raw[0] ^= 1;
        st.put("data", raw);
        new ObjectMapper().writeValue(side.toFile(), j);
        e = assertThrows(CheckpointException.class,
                () -> Checkpoint.load(d).restoreOptimizer(same, new Sgd(same.parameters(), 0.1, 0.9)));
        assertTrue(e.getMessage().startsWith(side + ": ") && e.getMessage().contains("state_sha256"), e.getMessage());
    }

    @Test
    void stateOfAGpuModelComesBackOnTheCpu() throws Exception {
        Device emu = dev.jtrain.backend.gpu.TestDevices.gpu();
        Generator gen = new Generator(3);
        try (Sequential net = new Sequential(new Linear(5, 4, true, gen, emu), new BatchNorm1d(4, emu), new ReLU(),
                new Linear(4, 3, true, gen, emu))) {
            Map<String, float[]> expected = new LinkedHashMap<>();
            net.namedParameters().forEach((k, p) -> expected.put(k, p.value().to(Device.CPU).toFloatArray()));
            Path f = tmp.resolve("g.safetensors");
            try (Optimizer opt = new Adam(net.parameters(), 0.01)) {
                Checkpoint.ofTraining(net, opt, gen, 0, null, null, null, null).save(f);
            }
            Generator g2 = new Generator(99);
            Sequential cpu = new Sequential(new Linear(5, 4, true, g2), new BatchNorm1d(4), new ReLU(), new Linear(4, 3, true, g2));
            Checkpoint.load(f).restoreModel(cpu, n -> false);
            cpu.namedParameters().forEach((k, p) -> assertArrayEquals(expected.get(k), p.value().toFloatArray(), k));
            assertEquals(Shape.of(3, 4), cpu.namedParameters().get("3.weight").value().shape());
        }
    }
}
