package dev.jtrain.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Identity;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Models;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch loads jtrain's checkpoints: tests/interop/torch_checkpoint.py builds the same {@code nn.Sequential},
 * loads the file with {@code load_state_dict(strict=True)}, compares its eval outputs with jtrain's, and writes
 * its own state_dict back, which jtrain loads and runs. Needs a Python with torch ({@code JTRAIN_PYTHON}, else
 * /usr/bin/python3, else python3 on the PATH; Debian: {@code apt-get install python3-torch}); skipped with that
 * reason where there is none. The names and shapes are also checked without PyTorch in
 * {@link CheckpointTest#namesAndShapesArePyTorchs}.
 */
class CheckpointTorchTest {
    @TempDir
    Path tmp;

    /** The nn.Sequential description torch_checkpoint.py builds. */
    static ArrayNode describe(Sequential s) {
        ArrayNode a = new ObjectMapper().createArrayNode();
        for (Layer l : s.layers()) {
            ObjectNode o = a.addObject();
            if (l instanceof Linear lin) {
                o.put("type", "Linear").put("in", lin.inFeatures()).put("out", lin.outFeatures()).put("bias", lin.bias() != null);
            } else if (l instanceof Conv2d c) {
                Tensor w = c.weight().value();
                o.put("type", "Conv2d").put("in", w.dim(1)).put("out", w.dim(0)).put("kernel", c.spec().kernelH())
                        .put("stride", c.spec().strideH()).put("padding", c.spec().padH()).put("bias", c.bias() != null);
            } else if (l instanceof BatchNorm bn) {
                o.put("type", l instanceof BatchNorm2d ? "BatchNorm2d" : "BatchNorm1d").put("features", bn.channels());
            } else if (l instanceof MaxPool2d mp) {
                o.put("type", "MaxPool2d").put("kernel", mp.spec().kernelH()).put("stride", mp.spec().strideH());
            } else if (l instanceof Dropout d) {
                o.put("type", "Dropout").put("p", d.p());
            } else if (l instanceof ReLU || l instanceof Flatten || l instanceof Identity) {
                o.put("type", l.getClass().getSimpleName());
            } else {
                throw new IllegalArgumentException("no PyTorch twin for " + l.getClass().getSimpleName());
            }
        }
        return a;
    }

    static Tensor input(Random r, int... dims) {
        return BatchNormFoldExportTest.randomInput(r, dims);
    }

    /** One model for the script: its checkpoint, input/output file and case file, and jtrain's twin for the way back. */
    record Case(String name, Path caseFile, Path torchOut, Sequential twin) {
    }

    /** Writes {@code model} as a checkpoint with an input batch and its eval output, and the case file describing it. */
    Case prepare(String name, Sequential model, Sequential twin, Tensor x) throws Exception {
        Path weights = tmp.resolve(name + ".safetensors");
        Checkpoint.ofTraining(model, new Sgd(model.parameters(), 0.1, 0.9), new Generator(0), 0, null, null, null, null)
                .save(weights);
        Path io = tmp.resolve(name + "-io.safetensors");
        Map<String, Tensor> xy = new LinkedHashMap<>();
        xy.put("x", x);
        Tensor y = model.forward(x, false);
        xy.put("y", Tensor.of(y.toFloatArray(), y.dims()));
        try (OutputStream out = Files.newOutputStream(io)) {
            SafeTensors.write(out, xy, Map.of());
        }
        Path torchOut = tmp.resolve(name + "-torch.safetensors");
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("weights", weights.toString()).put("io", io.toString()).put("torch_out", torchOut.toString());
        c.set("layers", describe(model));
        Path caseFile = tmp.resolve(name + ".json");
        new ObjectMapper().writeValue(caseFile.toFile(), c);
        return new Case(name, caseFile, torchOut, twin);
    }

    /**
     * Runs the script once over every case with the first Python that has torch (exit status 3: no torch, try
     * the next), skipping the test when none has; then loads PyTorch's state_dicts back into the twins.
     */
    void runAll(List<Case> cases) throws Exception {
        Path script = Path.of(System.getProperty("jtrain.root", "."), "tests", "interop", "torch_checkpoint.py");
        List<String> tried = new ArrayList<>();
        for (String py : new String[] {System.getenv("JTRAIN_PYTHON"), "/usr/bin/python3", "python3"}) {
            if (py == null || py.isBlank()) {
                continue;
            }
            tried.add(py);
            List<String> cmd = new ArrayList<>(List.of(py, script.toString()));
            cases.forEach(c -> cmd.add(c.caseFile().toString()));
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            } catch (IOException e) {
                continue; // no such interpreter
            }
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            p.getInputStream().transferTo(log);
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the script timed out");
            String text = log.toString(StandardCharsets.UTF_8);
            if (p.exitValue() == 3) {
                continue;
            }
            assertEquals(0, p.exitValue(), text);
            assertEquals(cases.size(), text.split("load_state_dict\\(strict=True\\): ok", -1).length - 1, text);
            for (Case c : cases) {
                checkWayBack(c);
            }
            return;
        }
        Assumptions.abort("skipped: no Python with PyTorch (tried " + tried + "; set JTRAIN_PYTHON or install python3-torch)");
    }

    /** PyTorch's own state_dict (its num_batches_tracked, its layout) loads into jtrain and gives its outputs. */
    static void checkWayBack(Case c) throws Exception {
        Map<String, Tensor> back = SafeTensors.read(c.torchOut()).tensors();
        StateDict.load(c.twin(), back, c.torchOut(), n -> n.equals("x") || n.equals("y"));
        float[] yTorch = back.get("y").toFloatArray();
        float[] yJ = c.twin().forward(back.get("x"), false).toFloatArray();
        assertEquals(yTorch.length, yJ.length);
        for (int i = 0; i < yJ.length; i++) {
            assertTrue(Math.abs(yJ[i] - yTorch[i]) <= 1e-4 * (1 + Math.abs(yTorch[i])), c.name() + " output " + i + ": jtrain "
                    + yJ[i] + ", torch " + yTorch[i]);
        }
    }

    @Test
    void torchLoadsJtrainCheckpointsAndJtrainLoadsTorchs() throws Exception {
        List<Case> cases = new ArrayList<>();
        int[] h = {16, 12};
        cases.add(prepare("mlp", Models.mlp(784, h, 10, 0.2f, new Generator(1)), Models.mlp(784, h, 10, 0.2f, new Generator(2)),
                input(new Random(1), 3, 784)));
        cases.add(prepare("cnn", Models.cnn(new int[] {1, 12, 12}, new int[] {8}, 10, 0f, new Generator(1)),
                Models.cnn(new int[] {1, 12, 12}, new int[] {8}, 10, 0f, new Generator(2)), input(new Random(2), 2, 1, 12, 12)));

        Random r = new Random(3);
        Generator g = new Generator(3);
        Sequential bn1 = new Sequential(new Linear(6, 5, true, g), new BatchNorm1d(5), new ReLU(), new Linear(5, 3, false, g));
        BatchNormFoldExportTest.randomize((BatchNorm) bn1.get(1), r);
        ((BatchNorm) bn1.get(1)).setNumBatchesTracked(42);
        Sequential twin1 = new Sequential(new Linear(6, 5, true, g), new BatchNorm1d(5), new ReLU(), new Linear(5, 3, false, g));
        cases.add(prepare("bn1d", bn1, twin1, input(r, 4, 6)));

        Sequential bn2 = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, g), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(36, 3, true, g));
        BatchNormFoldExportTest.randomize((BatchNorm) bn2.get(1), r);
        Sequential twin2 = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, g), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(36, 3, true, g));
        cases.add(prepare("bn2d", bn2, twin2, input(r, 2, 2, 6, 6)));

        // the folded export, as PyTorch sees it: BatchNorm replaced by nn.Identity
        Map<String, Tensor> folded = BatchNormFoldExport.fold(StateDict.of(bn2), 1e-5f, dev.jtrain.tensor.Device.CPU).weights();
        Sequential f = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, g), new Identity(), new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(36, 3, true, g));
        StateDict.load(f, folded, Path.of("(folded)"), n -> false);
        Sequential twinF = new Sequential(new Conv2d(2, 4, 3, 1, 1, true, g), new Identity(), new ReLU(), new MaxPool2d(2, 2),
                new Flatten(), new Linear(36, 3, true, g));
        cases.add(prepare("folded", f, twinF, input(r, 2, 2, 6, 6)));

        runAll(cases);
        assertEquals(42, ((BatchNorm) twin1.get(1)).numBatchesTracked(), "PyTorch kept num_batches_tracked");
    }
}
