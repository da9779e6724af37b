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
import dev.jtrain.train.EarlyStopping;
import dev.jtrain.train.Trainer;
import dev.jtrain.train.WeightAveraging;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
            opt.state(e.getValue()).forEach((k, t) -> {
                Tensor host = t.to(Device.CPU);
                out.put("opt " + e.getKey() + " " + k, bits(host));
                if (host != t) {
                    host.close();
                }
            });
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

    // ---- EMA and early stopping: their state is in the checkpoint (sidecar sections), so resuming continues them

    /** The listeners of a run with EMA and early stopping, and what of them a continued run depends on. */
    private static final class Watched implements AutoCloseable {
        final WeightAveraging ema;
        final EarlyStopping stop;

        Watched(Sequential net, int patience) {
            ema = new WeightAveraging(net, 0.9);
            stop = EarlyStopping.onAccuracy(net, patience, null);
        }

        void install(Trainer t) {
            t.addListener(ema).addListener(stop);
        }

        Map<String, Object> fingerprint(Sequential net) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < net.parameters().size(); i++) {
                out.put("ema " + i, bits(ema.averaged(i).to(Device.CPU)));
            }
            out.put("ema updates", ema.updates());
            stop.bestWeights().forEach((k, v) -> out.put("best " + k, bits(v.to(Device.CPU))));
            out.put("best epoch", stop.bestEpoch());
            out.put("best value", stop.bestValue());
            out.put("since best", stop.epochsSinceBest());
            return out;
        }

        @Override
        public void close() {
            ema.close();
            stop.close();
        }
    }

    /** {@code epochs} epochs straight with EMA (decay 0.9) and early stopping; the model ends on the best weights. */
    private Map<String, Object> straightWatched(Function<Sequential, Optimizer> makeOpt, int epochs, int patience) {
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = makeOpt.apply(net);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device); Watched w = new Watched(net, patience)) {
            w.install(t);
            int ran = t.fit(TRAIN, TEST, epochs, 16, gen).size();
            Map<String, Object> out = fingerprint(net, opt, gen);
            out.putAll(w.fingerprint(net));
            out.put("epochs run", ran);
            return out;
        }
    }

    /** The same run saved after {@code stopAt} epochs, then resumed in fresh objects from the files. */
    private Map<String, Object> resumedWatched(Function<Sequential, Optimizer> makeOpt, int stopAt, int epochs, int patience,
                                               boolean restoreSections) throws Exception {
        Path f = tmp.resolve("w.safetensors");
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = makeOpt.apply(net);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device); Watched w = new Watched(net, patience)) {
            w.install(t);
            CheckpointSaver saver = new CheckpointSaver(f, net, opt, gen, null, null, null, null);
            saver.addSection(AveragingState.KEY, () -> AveragingState.toJson(net, w.ema))
                    .addSection(EarlyStoppingState.KEY, () -> EarlyStoppingState.toJson(w.stop));
            t.addListener(saver); // after the listeners whose state it saves
            t.fit(TRAIN, TEST, stopAt, 16, gen);
        }
        Generator gen2 = new Generator(11);
        try (Sequential net2 = net(gen2); Optimizer opt2 = makeOpt.apply(net2);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net2, loss, opt2, device); Watched w = new Watched(net2, patience)) {
            w.install(t);
            Checkpoint c = Checkpoint.load(f);
            c.restoreModel(net2, n -> false);
            c.restoreOptimizer(net2, opt2);
            c.restoreGenerator(gen2);
            if (restoreSections) {
                AveragingState.restore(c, net2, w.ema);
                EarlyStoppingState.restore(c, w.stop);
            }
            int ran = t.fit(TRAIN, TEST, c.epoch() + 1, epochs, 16, gen2).size();
            Map<String, Object> out = fingerprint(net2, opt2, gen2);
            out.putAll(w.fingerprint(net2));
            out.put("epochs run", c.epoch() + ran);
            return out;
        }
    }

    @Test
    void emaAndEarlyStoppingResumeEqualsUninterrupted() throws Exception {
        Function<Sequential, Optimizer> adam = n -> new Adam(n.parameters(), 0.01);
        Map<String, Object> a = straightWatched(adam, 3, 5);
        assertEquals(a, resumedWatched(adam, 1, 3, 5, true));
        assertEquals(a, resumedWatched(adam, 2, 3, 5, true));
        assertEquals(18L, a.get("ema updates"));
        // the test can tell: without the sections, training goes on from the averaged weights and a fresh average
        Map<String, Object> b = resumedWatched(adam, 1, 3, 5, false);
        assertNotEquals(a.get("0.weight"), b.get("0.weight"));
        assertNotEquals(a.get("ema updates"), b.get("ema updates"));
    }

    @Test
    void emuEmaAndEarlyStoppingResumeEqualsUninterrupted() throws Exception {
        device = dev.jtrain.backend.gpu.TestDevices.gpu();
        Function<Sequential, Optimizer> adam = n -> new Adam(n.parameters(), 0.01);
        assertEquals(straightWatched(adam, 2, 5), resumedWatched(adam, 1, 2, 5, true));
    }

    @Test
    void theWeightsFileHoldsTheAverageAndTheSectionTheTrainingWeights() throws Exception {
        Path f = tmp.resolve("avg.safetensors");
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = new Adam(net.parameters(), 0.01);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device); Watched w = new Watched(net, 5)) {
            Map<String, String> raw = new LinkedHashMap<>();
            t.addListener(new dev.jtrain.train.TrainingListener() {
                @Override
                public void onTrainPhaseEnd(int epoch) { // registered before the EMA: sees the raw weights
                    net.namedParameters().forEach((k, p) -> raw.put(k, bits(p.value().to(Device.CPU))));
                }
            });
            w.install(t);
            CheckpointSaver saver = new CheckpointSaver(f, net, opt, gen, null, null, null, null);
            saver.addSection(AveragingState.KEY, () -> AveragingState.toJson(net, w.ema));
            t.addListener(saver);
            t.fit(TRAIN, TEST, 1, 16, gen);

            Checkpoint c = Checkpoint.load(f);
            assertTrue(c.section(AveragingState.KEY).path("averaged_in_weights_file").booleanValue());
            java.util.List<String> trainable = new java.util.ArrayList<>();
            trainable.addAll(net.namedParameters().keySet());
            for (int i = 0; i < trainable.size(); i++) {
                String name = trainable.get(i);
                assertEquals(bits(w.ema.averaged(i).to(Device.CPU)), bits(c.weights().get(name)),
                        name + ": the weights file holds the average (what was evaluated)");
                assertNotEquals(raw.get(name), bits(c.weights().get(name)), name + ": average and raw weights differ");
            }
            // a fresh model restored from the checkpoint holds the raw weights, from which training goes on
            try (Sequential net2 = net(new Generator(11))) {
                c.restoreModel(net2, n -> false);
                AveragingState.restore(c, net2, null);
                net2.namedParameters().forEach((k, p) -> assertEquals(raw.get(k), bits(p.value().to(Device.CPU)), k));
            }
        }
    }

    @Test
    void aRunThatEarlyStoppingEndedIsNotContinued() throws Exception {
        Path f = tmp.resolve("stopped.safetensors");
        Generator gen = new Generator(11);
        try (Sequential net = net(gen); Optimizer opt = new Adam(net.parameters(), 0.01);
             SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
             Trainer t = new Trainer(net, loss, opt, device); Watched w = new Watched(net, 1)) {
            w.install(t);
            CheckpointSaver saver = new CheckpointSaver(f, net, opt, gen, null, null, null, null);
            saver.addSection(EarlyStoppingState.KEY, () -> EarlyStoppingState.toJson(w.stop));
            t.addListener(saver);
            t.fit(TRAIN, TEST, 12, 16, gen);
            assertTrue(w.stop.stopped(), "patience 1 stops this run before 12 epochs");
            Checkpoint c = Checkpoint.load(f);
            EarlyStopping same = EarlyStopping.onAccuracy(net, 1, null);
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> EarlyStoppingState.restore(c, same));
            assertTrue(e.getMessage().contains("early stopping with patience 1 stopped it after epoch " + c.epoch()), e.getMessage());
            same.close();
            try (EarlyStopping patient = EarlyStopping.onAccuracy(net, 5, null)) {
                EarlyStoppingState.restore(c, patient); // a larger patience goes on
                assertEquals(w.stop.bestEpoch(), patient.bestEpoch());
                assertEquals(1, patient.epochsSinceBest());
            }
        }
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
