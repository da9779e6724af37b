package dev.jtrain.io;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Adam;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Resuming gives the bits of a run that never stopped (cpu, same threads): 2 epochs straight against 1 epoch,
 * save, a fresh model/optimizer/generator restored from the files, and 1 more epoch, with dropout (RNG offsets),
 * shuffling (RNG), BatchNorm (running statistics, counter) and optimizer state (Adam's moments and bias
 * correction step; SGD's first-step momentum buffer).
 */
class ResumeTest {
    @TempDir
    Path tmp;

    private static final Dataset TRAIN = CheckpointTest.toy(90, 21); // 90 = 5 full batches of 16 and a partial one
    private static final Dataset TEST = CheckpointTest.toy(30, 22);

    /** Everything a continued run depends on, as bits: tensors, optimizer states, counters, RNG offset. */
    private static Map<String, Object> fingerprint(Sequential net, Optimizer opt, Generator gen) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : StateDict.of(net).entrySet()) {
            out.put(e.getKey(), bits(e.getValue()));
        }
        for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
            if (e.getValue().isTrainable()) {
                opt.state(e.getValue()).forEach((k, t) -> {
                    Tensor host = t.to(Device.CPU);
                    out.put("opt " + e.getKey() + " " + k, bits(host));
                    if (host != t) {
                        host.close();
                    }
                });
            }
        }
        out.put("steps", opt.steps());
        out.put("lr", opt.lr());
        out.put("rng offset", gen.offset());
        return out;
    }

    private static String bits(Tensor t) {
        if (t.dtype() == dev.jtrain.tensor.DType.INT64) {
            return java.util.Arrays.toString(t.longs());
        }
        StringBuilder sb = new StringBuilder();
        for (float f : t.toFloatArray()) {
            sb.append(Integer.toHexString(Float.floatToRawIntBits(f))).append(' ');
        }
        return sb.toString();
    }

    private Device device = Device.CPU;

    /** bnNet on the device under test. */
    private Sequential net(Generator gen) {
        if (device.isHost()) {
            return CheckpointTest.bnNet(gen);
        }
        return new Sequential(new dev.jtrain.nn.layers.Linear(5, 8, true, gen, device),
                new dev.jtrain.nn.layers.BatchNorm1d(8, device), new dev.jtrain.nn.layers.ReLU(),
                new dev.jtrain.nn.layers.Dropout(0.25f, gen), new dev.jtrain.nn.layers.Linear(8, 3, true, gen, device));
    }

    private Map<String, Object> straight(Function<Sequential, Optimizer> makeOpt) {
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = makeOpt.apply(net);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device)) {
            t.fit(TRAIN, TEST, 2, 16, gen);
            return fingerprint(net, opt, gen);
        }
    }

    /** One epoch, save, then a new process's worth of objects restored from the files and the second epoch. */
    private Map<String, Object> resumed(Function<Sequential, Optimizer> makeOpt, boolean restoreRng) throws Exception {
        Path f = tmp.resolve("r.safetensors");
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = makeOpt.apply(net);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device)) {
            t.addListener(new CheckpointSaver(f, net, opt, gen, null, null, null, null));
            t.fit(TRAIN, TEST, 1, 16, gen);
        }
        Generator gen2 = new Generator(11);
        try (Sequential net2 = net(gen2); Optimizer opt2 = makeOpt.apply(net2);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net2, loss, opt2, device)) {
            Checkpoint c = Checkpoint.load(f);
            c.restoreModel(net2, n -> false);
            c.restoreOptimizer(net2, opt2);
            if (restoreRng) {
                c.restoreGenerator(gen2);
            }
            t.fit(TRAIN, TEST, c.epoch() + 1, 2, 16, gen2);
            return fingerprint(net2, opt2, gen2);
        }
    }

    @Test
    void adamResumeEqualsUninterrupted() throws Exception {
        Function<Sequential, Optimizer> adam = n -> new Adam(n.parameters(), 0.01, 0.9, 0.999, 1e-8, 1e-3, false);
        Map<String, Object> a = straight(adam);
        assertEquals(a, resumed(adam, true));
        assertEquals(12, a.get("steps"));
        assertEquals("[12]", a.get("1.num_batches_tracked"));
        // the test can tell: without the generator's offset, the shuffles and dropout masks differ
        assertNotEquals(a.get("0.weight"), resumed(adam, false).get("0.weight"));
    }

    @Test
    void sgdNesterovResumeEqualsUninterrupted() throws Exception {
        Function<Sequential, Optimizer> sgd = n -> new Sgd(n.parameters(), 0.05, 0.9, 0, 1e-4, true);
        assertEquals(straight(sgd), resumed(sgd, true));
    }

    @Test
    void emuResumeEqualsUninterrupted() throws Exception {
        device = dev.jtrain.backend.gpu.TestDevices.gpu();
        Function<Sequential, Optimizer> adam = n -> new Adam(n.parameters(), 0.01);
        Map<String, Object> a = straight(adam);
        assertEquals(a, resumed(adam, true));
        assertNotEquals(a.get("4.weight"), resumed(adam, false).get("4.weight"));
    }

    @Test
    void batchNormCounterFollowsTrainingForwards() {
        Generator gen = new Generator(0);
        Sequential net = CheckpointTest.bnNet(gen);
        BatchNorm bn = (BatchNorm) net.get(1);
        Tensor x = Tensor.of(new float[4 * 5], 4, 5);
        net.forward(x, true);
        net.forward(x, false);
        net.forward(x, true);
        assertEquals(2, bn.numBatchesTracked(), "PyTorch counts training forwards only");
    }
}
