package dev.jtrain.io;

import dev.jtrain.backend.gpu.TestDevices;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Identity;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code export --fold-bn}: the folded model (BatchNorm replaced by Identity) gives the original's eval-mode
 * outputs, within |diff| <= 1e-5 * (1 + |y|) (float32 arithmetic in another order: the BatchNorm scale is applied
 * to the weights before the product instead of after it); the folded Linear weights equal the closed form
 * W gamma / sqrt(var + eps) computed in double within 1e-6 relative. On cpu and on emu.
 */
class BatchNormFoldExportTest {
    @TempDir
    Path tmp;

    static final double TOL = 1e-5;

    /** Gives a BatchNorm non-trivial gamma, beta and running statistics. */
    static void randomize(BatchNorm bn, Random r) {
        int c = bn.channels();
        float[] g = new float[c];
        float[] b = new float[c];
        float[] m = new float[c];
        float[] v = new float[c];
        for (int i = 0; i < c; i++) {
            g[i] = 0.5f + r.nextFloat();
            b[i] = (float) r.nextGaussian();
            m[i] = (float) r.nextGaussian();
            v[i] = 0.2f + 2 * r.nextFloat();
        }
        bn.weight().set(Tensor.of(g, c));
        bn.bias().set(Tensor.of(b, c));
        bn.runningMean().set(Tensor.of(m, c));
        bn.runningVar().set(Tensor.of(v, c));
    }

    static Tensor randomInput(Random r, int... dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return Tensor.of(x, dims);
    }

    /** Folds {@code original} through its state dict, loads the result into {@code folded} and compares eval outputs. */
    static void assertFoldedMatches(Sequential original, Sequential folded, Tensor x, Device dev, List<String> bnNames) {
        BatchNormFoldExport.Result r = BatchNormFoldExport.fold(StateDict.of(original), 1e-5f, dev);
        assertEquals(bnNames, r.folded());
        assertTrue(r.kept().isEmpty());
        for (String bn : bnNames) {
            assertFalse(r.weights().keySet().stream().anyMatch(k -> k.startsWith(bn + ".")), "BatchNorm " + bn + " is gone");
        }
        try {
            StateDict.load(folded, r.weights(), Path.of("(folded)"), n -> false); // strict: names and shapes fit
        } catch (CheckpointException e) {
            throw new AssertionError(e.getMessage(), e);
        }
        float[] y0;
        float[] y1;
        try (Tensor xd = x.to(dev)) {
            y0 = original.forward(xd, false).to(Device.CPU).toFloatArray();
            y1 = folded.forward(xd, false).to(Device.CPU).toFloatArray();
        }
        assertEquals(y0.length, y1.length);
        for (int i = 0; i < y0.length; i++) {
            assertTrue(Math.abs(y0[i] - y1[i]) <= TOL * (1 + Math.abs(y0[i])),
                    "output " + i + ": " + y0[i] + " original, " + y1[i] + " folded on " + dev);
        }
    }

    void mlp(Device dev) {
        Random r = new Random(1);
        Generator gen = new Generator(4);
        try (Sequential net = new Sequential(new Linear(6, 5, true, gen, dev), new BatchNorm1d(5, dev), new ReLU(),
                new Linear(5, 4, false, gen, dev), new BatchNorm1d(4, dev), new ReLU(), new Linear(4, 3, true, gen, dev));
             Sequential folded = new Sequential(new Linear(6, 5, true, gen, dev), new Identity(), new ReLU(),
                     new Linear(5, 4, true, gen, dev), new Identity(), new ReLU(), new Linear(4, 3, true, gen, dev))) {
            randomize((BatchNorm) net.get(1), r);
            randomize((BatchNorm) net.get(4), r);
            assertFoldedMatches(net, folded, randomInput(r, 7, 6), dev, List.of("1", "4"));

            // closed form of the first fold, in double
            Map<String, Tensor> s = StateDict.of(net);
            float[] w = s.get("0.weight").toFloatArray();
            float[] b = s.get("0.bias").toFloatArray();
            float[] g = s.get("1.weight").toFloatArray();
            float[] beta = s.get("1.bias").toFloatArray();
            float[] m = s.get("1.running_mean").toFloatArray();
            float[] v = s.get("1.running_var").toFloatArray();
            float[] fw = folded.namedParameters().get("0.weight").value().to(Device.CPU).toFloatArray();
            float[] fb = folded.namedParameters().get("0.bias").value().to(Device.CPU).toFloatArray();
            for (int o = 0; o < 5; o++) {
                double sc = g[o] / Math.sqrt(v[o] + (double) 1e-5f);
                for (int i = 0; i < 6; i++) {
                    double want = w[o * 6 + i] * sc;
                    assertEquals(want, fw[o * 6 + i], 1e-6 * Math.abs(want) + 1e-7, "W'[" + o + "," + i + "]");
                }
                double wantB = (b[o] - m[o]) * sc + beta[o];
                assertEquals(wantB, fb[o], 1e-6 * Math.abs(wantB) + 1e-6, "b'[" + o + "]");
            }
        }
    }

    void cnn(Device dev) {
        Random r = new Random(2);
        Generator gen = new Generator(5);
        try (Sequential net = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, gen, dev), new BatchNorm2d(4, dev), new ReLU(),
                new MaxPool2d(2, 2), new Flatten(), new Linear(4 * 3 * 3, 3, true, gen, dev));
             Sequential folded = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, gen, dev), new Identity(), new ReLU(),
                     new MaxPool2d(2, 2), new Flatten(), new Linear(4 * 3 * 3, 3, true, gen, dev))) {
            randomize((BatchNorm) net.get(1), r);
            assertFoldedMatches(net, folded, randomInput(r, 3, 2, 6, 6), dev, List.of("1"));
        }
    }

    @Test
    void foldedMlpMatchesOnCpu() {
        mlp(Device.CPU);
    }

    @Test
    void foldedCnnMatchesOnCpu() {
        cnn(Device.CPU);
    }

    @Test
    void foldedModelsMatchOnEmu() {
        Device emu = TestDevices.gpu();
        mlp(emu);
        cnn(emu);
    }

    @Test
    void batchNormWithoutALayerBeforeItIsKept() {
        Generator gen = new Generator(6);
        Sequential net = new Sequential(new Linear(3, 4, true, gen), new ReLU(), new BatchNorm1d(4), new Linear(4, 2, true, gen));
        BatchNormFoldExport.Result r = BatchNormFoldExport.fold(StateDict.of(net), 1e-5f, Device.CPU);
        assertEquals(List.of(), r.folded());
        assertEquals(List.of("2"), r.kept());
        assertEquals(StateDict.of(net).keySet(), r.weights().keySet());
    }

    @Test
    void exportCommandWritesTheFoldedFile() throws Exception {
        Random r = new Random(3);
        Generator gen = new Generator(7);
        Sequential net = new Sequential(new Linear(6, 5, true, gen), new BatchNorm1d(5), new ReLU(), new Linear(5, 3, true, gen));
        randomize((BatchNorm) net.get(1), r);
        Path in = tmp.resolve("bn.safetensors");
        Checkpoint.ofTraining(net, new dev.jtrain.optim.Sgd(net.parameters(), 0.1), gen, 1, null, null, null, null).save(in);
        Path out = tmp.resolve("bn-folded.safetensors");
        assertEquals(0, dev.jtrain.cli.Main.run("export", "--fold-bn", in.toString(), out.toString()));
        Checkpoint c = Checkpoint.load(out);
        assertEquals(List.of("0.weight", "0.bias", "3.weight", "3.bias"), List.copyOf(c.weights().keySet()));
        assertEquals("[\"1\"]", c.sidecar().get("folded_batchnorm").toString());
        Sequential folded = new Sequential(new Linear(6, 5, true, gen), new Identity(), new ReLU(), new Linear(5, 3, true, gen));
        c.restoreModel(folded, n -> false);
        Tensor x = randomInput(r, 4, 6);
        float[] y0 = net.forward(x, false).toFloatArray();
        float[] y1 = folded.forward(x, false).toFloatArray();
        for (int i = 0; i < y0.length; i++) {
            assertTrue(Math.abs(y0[i] - y1[i]) <= TOL * (1 + Math.abs(y0[i])), i + ": " + y0[i] + " vs " + y1[i]);
        }
    }
}
