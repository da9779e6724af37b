package dev.jtrain.ensemble;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.data.Dataset;
import dev.jtrain.data.preprocess.ChannelNormalize;
import dev.jtrain.data.preprocess.Identity;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.io.StateDict;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ensembles of two hand-built linear models with fixed integer weights, so every logit is a small integer and the
 * references (softmaxes, their mean, the vote) are computed here from those integers in double precision; then the
 * ensemble of N copies of one checkpoint, cpu/emu parity, and the errors.
 */
class EnsembleTest {
    @TempDir
    Path tmp;

    // Model A: logits [x1, x2, 0]; model B: logits [0, x2, x1 + 1]
    private static final float[] W_A = {1, 0, 0, 1, 0, 0};
    private static final float[] B_A = {0, 0, 0};
    private static final float[] W_B = {0, 0, 0, 1, 1, 0};
    private static final float[] B_B = {0, 0, 1};
    // 4 samples (x1, x2) and their labels
    private static final float[] X = {2, 0, 0, 1, -1, 3, 1, 0};
    private static final long[] Y = {0, 1, 2, 0};
    /** The logits the two models give, by hand: A = [x1, x2, 0], B = [0, x2, x1 + 1]. */
    private static final double[][][] LOGITS = {
        {{2, 0, 0}, {0, 1, 0}, {-1, 3, 0}, {1, 0, 0}},
        {{0, 0, 3}, {0, 1, 1}, {0, 3, 0}, {0, 0, 2}}};

    private static Dataset data() {
        return new Dataset("toy", X.clone(), new int[] {2}, Y.clone(), 3);
    }

    private static Sequential linear(float[] w, float[] b, Device device) throws CheckpointException {
        Sequential net = new Sequential(new Linear(2, w.length / 2, true, new Generator(0), device));
        StateDict.load(net, Map.of("0.weight", Tensor.of(w.clone(), w.length / 2, 2), "0.bias", Tensor.of(b.clone(), b.length)),
                Path.of("(test)"), n -> false);
        return net;
    }

    private static double[] softmax(double[] z) {
        double s = 0;
        for (double v : z) {
            s += Math.exp(v);
        }
        double[] p = new double[z.length];
        for (int c = 0; c < z.length; c++) {
            p[c] = Math.exp(z[c]) / s;
        }
        return p;
    }

    private static List<Predictions> predictions(Device device) throws CheckpointException {
        List<Predictions> out = new ArrayList<>();
        try (Sequential a = linear(W_A, B_A, device); Sequential b = linear(W_B, B_B, device)) {
            out.add(Predictions.of(a, data(), device, 3)); // batches of 3 and 1
            out.add(Predictions.of(b, data(), device, 3));
        }
        return out;
    }

    @Test
    void theModelsGiveTheLogitsWorkedOutByHand() throws Exception {
        List<Predictions> p = predictions(Device.CPU);
        for (int m = 0; m < 2; m++) {
            for (int i = 0; i < 4; i++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(LOGITS[m][i][c], p.get(m).logits()[i * 3 + c], 0.0, "model " + m + " sample " + i);
                }
            }
        }
        // member A is right on samples 0, 1, 3; B only on 1 (its tie [0, 1, 1] goes to the first maximum, class 1)
        assertEquals(0.75, p.get(0).accuracy(Y), 0.0);
        assertEquals(0.25, p.get(1).accuracy(Y), 0.0);
        double lossA = 0;
        for (int i = 0; i < 4; i++) {
            lossA -= Math.log(softmax(LOGITS[0][i])[(int) Y[i]]);
        }
        assertEquals(lossA / 4, p.get(0).loss(Y), 1e-12);
    }

    @Test
    void probsAveragesTheSoftmaxes() throws Exception {
        Ensemble.Combined e = Ensemble.combine(predictions(Device.CPU), Y, Combine.PROBS);
        double loss = 0;
        for (int i = 0; i < 4; i++) {
            double[] pa = softmax(LOGITS[0][i]);
            double[] pb = softmax(LOGITS[1][i]);
            for (int c = 0; c < 3; c++) {
                assertEquals((pa[c] + pb[c]) / 2, e.score(i, c), 1e-15, "sample " + i + " class " + c);
            }
            loss -= Math.log((pa[(int) Y[i]] + pb[(int) Y[i]]) / 2);
        }
        assertEquals(loss / 4, e.loss(), 1e-12);
        // mean probabilities: sample 0 -> [.416 .076 .508] (wrong), 1 -> class 1 (right), 2 -> 1 (wrong), 3 -> 2 (wrong)
        assertEquals(0.25, e.accuracy(), 0.0);
    }

    @Test
    void logitsTakesTheSoftmaxOfTheMeanLogits() throws Exception {
        Ensemble.Combined e = Ensemble.combine(predictions(Device.CPU), Y, Combine.LOGITS);
        double loss = 0;
        for (int i = 0; i < 4; i++) {
            double[] mean = new double[3];
            for (int c = 0; c < 3; c++) {
                mean[c] = (LOGITS[0][i][c] + LOGITS[1][i][c]) / 2;
            }
            double[] p = softmax(mean);
            for (int c = 0; c < 3; c++) {
                assertEquals(p[c], e.score(i, c), 1e-15);
            }
            loss -= Math.log(p[(int) Y[i]]);
        }
        assertEquals(loss / 4, e.loss(), 1e-12);
        assertEquals(0.25, e.accuracy(), 0.0); // mean logits [1 0 1.5], [0 1 .5], [-.5 3 0], [.5 0 1]
    }

    @Test
    void voteCountsTopClassesAndBreaksTiesToTheLowestClass() throws Exception {
        Ensemble.Combined e = Ensemble.combine(predictions(Device.CPU), Y, Combine.VOTE);
        // tops: A 0, 1, 1, 0; B 2, 1, 1, 2 -> samples 0 and 3 are 1:1 ties between classes 0 and 2 -> class 0
        double[][] votes = {{.5, 0, .5}, {0, 1, 0}, {0, 1, 0}, {.5, 0, .5}};
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(votes[i][c], e.score(i, c), 0.0);
            }
        }
        assertEquals(0.75, e.accuracy(), 0.0); // right on 0 (tie to 0), 1, 3 (tie to 0)
        assertTrue(Double.isNaN(e.loss()), "a vote has no loss");
    }

    @Test
    void emuPredictsWhatTheCpuDoes() throws Exception {
        Device emu = TestDevices.gpu();
        List<Predictions> cpu = predictions(Device.CPU);
        List<Predictions> dev = predictions(emu);
        for (int m = 0; m < 2; m++) {
            assertArrayEquals(cpu.get(m).logits(), dev.get(m).logits(), 1e-6f);
        }
        for (Combine rule : Combine.values()) {
            assertEquals(Ensemble.combine(cpu, Y, rule).accuracy(), Ensemble.combine(dev, Y, rule).accuracy(), 0.0, rule.toString());
        }
    }

    // ---- members from checkpoint files

    /** A Linear d -> classes with random weights saved as an inference checkpoint with {@code preprocessing}. */
    private Path save(String name, int d, int classes, long seed, ObjectNode preprocessing) throws Exception {
        Path f = tmp.resolve(name + ".safetensors");
        try (Sequential net = new Sequential(new Linear(d, classes, true, new Generator(seed), Device.CPU))) {
            ObjectNode info = JsonNodeFactory.instance.objectNode();
            info.set("preprocessing", preprocessing);
            Checkpoint.ofInference(StateDict.of(net), info).save(f);
        }
        return f;
    }

    /** Rebuilds a one-Linear model with the class count of the checkpoint's head. */
    private static final ModelFactory LINEAR = (c, dims, device) -> {
        Tensor w = c.weights().get("0.weight");
        return new ModelFactory.Built(new Sequential(new Linear(dims[0], w.dim(0), true, new Generator(0), device)), dims);
    };

    private static Dataset blobs(int n, int d, int classes, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[] x = new float[n * d];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (r.nextGaussian() + (j == y[i] ? 1.5 : 0) + 3); // off-centre: preprocessing matters
            }
        }
        return new Dataset("blobs", x, new int[] {d}, y, classes);
    }

    @Test
    void nCopiesOfOneCheckpointAreThatModel() throws Exception {
        Dataset raw = blobs(60, 4, 3, 1);
        ChannelNormalize pre = ChannelNormalize.fit(raw.head(60), true);
        Path f = save("one", 4, 3, 7, pre.toJson());
        List<Member> members = MemberLoader.loadAll(List.of(f, f, f), LINEAR, new int[] {4}, Device.CPU);
        EnsembleReport r;
        try {
            r = Ensemble.evaluate(members, raw, Combine.PROBS, Device.CPU, 16);
        } finally {
            members.forEach(Member::close);
        }
        EnsembleReport.Row single = r.members().get(0);
        assertTrue(single.accuracy() > 0 && single.accuracy() < 1, "a model that is neither always right nor wrong: "
                + single.accuracy());
        assertEquals(single.accuracy(), r.ensemble().accuracy(), 0.0);
        assertEquals(single.loss(), r.ensemble().loss(), 1e-12);
        assertEquals(3, r.members().size());
        // the member saw the data through its own preprocessing (standardize), and the raw set is unchanged
        try (Sequential net = (Sequential) LINEAR.build(Checkpoint.load(f), new int[] {4}, Device.CPU).model()) {
            Checkpoint.load(f).restoreModel(net, n -> false);
            Dataset standardized = pre.apply(raw.head(60));
            Predictions p = Predictions.of(net, standardized, Device.CPU, 16);
            assertEquals(p.accuracy(raw.labels()), single.accuracy(), 0.0);
            assertEquals(p.loss(raw.labels()), single.loss(), 0.0);
        }
        assertArrayEquals(blobs(60, 4, 3, 1).features(), raw.features(), 0f, "the raw data set is left as it was");
    }

    @Test
    void membersMustShareTheirClassesAndExist() throws Exception {
        ObjectNode none = new Identity(new int[] {4}).toJson();
        Path three = save("three", 4, 3, 1, none);
        Path four = save("four", 4, 4, 2, none);
        List<Member> members = MemberLoader.loadAll(List.of(three, four), LINEAR, new int[] {4}, Device.CPU);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ensemble.evaluate(members, blobs(10, 4, 3, 1), Combine.PROBS, Device.CPU, 16));
            assertTrue(e.getMessage().contains(four + " predicts 4 classes, " + three + " 3"), e.getMessage());
        } finally {
            members.forEach(Member::close);
        }
        CheckpointException missing = assertThrows(CheckpointException.class,
                () -> MemberLoader.loadAll(List.of(three, tmp.resolve("nope.safetensors")), LINEAR, new int[] {4}, Device.CPU));
        assertTrue(missing.getMessage().contains("nope.safetensors: no such file"), missing.getMessage());
        CheckpointException shape = assertThrows(CheckpointException.class,
                () -> MemberLoader.load(three, LINEAR, new int[] {5}, Device.CPU));
        assertTrue(shape.getMessage().startsWith(three + ": was trained on samples of [4]"), shape.getMessage());
        // a member with fewer classes than the data's labels
        List<Member> small = MemberLoader.loadAll(List.of(three), LINEAR, new int[] {4}, Device.CPU);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ensemble.evaluate(small, blobs(10, 4, 5, 1), Combine.PROBS, Device.CPU, 16));
            assertTrue(e.getMessage().contains(three + " predicts 3 classes, but blobs has labels of 5"), e.getMessage());
        } finally {
            small.forEach(Member::close);
        }
        assertThrows(IllegalArgumentException.class, () -> Combine.parse("median"));
    }
}
