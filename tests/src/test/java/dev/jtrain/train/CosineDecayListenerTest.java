package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The recipes' per-step cosine decay: the LR of every step against the formula, and a resumed run's LRs. */
class CosineDecayListenerTest {
    private static final int EPOCHS = 3;
    private static final int STEPS = 4; // 40 samples in batches of 10

    private static List<Double> run(int firstEpoch) {
        Dataset data = TinyRuns.blobs(40, 4, 3, 1);
        Layer net = TinyRuns.mlp(4, 8, 3, 2, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            TinyRuns.LrRecorder rec = new TinyRuns.LrRecorder(opt);
            t.addListener(rec).addListener(new CosineDecayListener(opt));
            t.fit(data, null, firstEpoch, EPOCHS, 10, new Generator(3));
            return rec.lrs;
        }
    }

    @Test
    void everyStepFollowsTheFormulaDownToZero() {
        List<Double> lrs = run(1);
        assertEquals(EPOCHS * STEPS, lrs.size());
        int total = EPOCHS * STEPS;
        for (int s = 0; s < total; s++) {
            assertEquals(0.1 * (1 + Math.cos(Math.PI * s / total)) / 2, lrs.get(s), 1e-15, "step " + s);
        }
        assertEquals(0.0, CosineDecayListener.lrAt(0.1, total, total), 1e-18, "ends at 0");
    }

    @Test
    void aResumedRunContinuesTheCurve() {
        List<Double> full = run(1);
        assertEquals(full.subList(STEPS, EPOCHS * STEPS), run(2)); // epochs 2..3 of 3
    }
}
