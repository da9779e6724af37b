package dev.jtrain.train;

import dev.jtrain.cli.ScheduleOptions;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.schedule.ScheduleSpec;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The LR each optimizer step of a real run used, against the schedule's formula times the warm-up. */
class LrSchedulerTest {
    private static final int EPOCHS = 3;
    private static final int STEPS = 4; // 40 samples in batches of 10

    private static List<Double> run(ScheduleSpec spec, int warmup, double base) {
        return run(spec, warmup, 0, base);
    }

    private static List<Double> run(ScheduleSpec spec, int warmup, int warmupEpochs, double base) {
        Dataset data = TinyRuns.blobs(40, 4, 3, 1);
        Layer net = TinyRuns.mlp(4, 8, 3, 2, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            TinyRuns.LrRecorder rec = new TinyRuns.LrRecorder(opt);
            t.addListener(rec).addListener(new LrScheduler(opt, spec, warmup, warmupEpochs, base));
            t.fit(data, null, EPOCHS, 10, new Generator(3));
            assertEquals(EPOCHS * STEPS, rec.lrs.size());
            return rec.lrs;
        }
    }

    @Test
    void perEpochScheduleTimesWarmup() {
        List<Double> lrs = run(ScheduleSpec.parse("step:1:0.5"), 6, 0.1);
        for (int s = 0; s < lrs.size(); s++) {
            int e = s / STEPS;
            double expected = 0.1 * Math.pow(0.5, e) * Math.min(1.0, (s + 1) / 6.0);
            assertEquals(expected, lrs.get(s), 1e-15, "step " + s);
        }
    }

    @Test
    void warmupInEpochsIsThatManyEpochsOfSteps() {
        List<Double> lrs = run(ScheduleSpec.parse("step:1:0.5"), 0, 2, 0.1);
        for (int s = 0; s < lrs.size(); s++) {
            double expected = 0.1 * Math.pow(0.5, s / STEPS) * Math.min(1.0, (s + 1) / (2.0 * STEPS));
            assertEquals(expected, lrs.get(s), 1e-15, "step " + s);
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new LrScheduler(TinyRuns.sgd(TinyRuns.mlp(4, 8, 3, 2, Device.CPU), 0.1), null, 3, 1, 0.1));
    }

    @Test
    void perStepScheduleCountsStepsAcrossEpochs() {
        List<Double> lrs = run(ScheduleSpec.parse("cosine-restarts:1"), 0, 0.2); // T_0 = 1 epoch = 4 steps
        for (int s = 0; s < lrs.size(); s++) {
            double expected = 0.2 * (1 + Math.cos(Math.PI * (s % STEPS) / STEPS)) / 2;
            assertEquals(expected, lrs.get(s), 1e-15, "step " + s);
        }
    }

    @Test
    void aResumedRunGetsTheUninterruptedLrs() {
        List<Double> full = run(ScheduleSpec.parse("cosine-restarts:1"), 6, 0.1);
        Dataset data = TinyRuns.blobs(40, 4, 3, 1);
        Layer net = TinyRuns.mlp(4, 8, 3, 2, Device.CPU);
        Optimizer opt = TinyRuns.sgd(net, 0.1);
        try (Trainer t = TinyRuns.trainer(net, opt, Device.CPU)) {
            TinyRuns.LrRecorder rec = new TinyRuns.LrRecorder(opt);
            t.addListener(rec).addListener(new LrScheduler(opt, ScheduleSpec.parse("cosine-restarts:1"), 6, 0.1));
            t.fit(data, null, 2, EPOCHS, 10, new Generator(3)); // epochs 2..3 of 3
            assertEquals(full.subList(STEPS, EPOCHS * STEPS), rec.lrs);
        }
    }

    @Test
    void warmupAloneRampsThenHolds() {
        List<Double> lrs = run(null, 4, 0.05);
        double[] expected = {0.0125, 0.025, 0.0375, 0.05, 0.05, 0.05};
        for (int s = 0; s < expected.length; s++) {
            assertEquals(expected[s], lrs.get(s), 1e-15, "step " + s);
        }
    }

    @Test
    void linearScalingUsesTheReferenceBatch() {
        ScheduleOptions o = new ScheduleOptions();
        assertEquals(0.1, o.baseLr(0.1, 512), 0.0, "no scaling by default");
        picocli.CommandLine cl = new picocli.CommandLine(new Object() {
            @picocli.CommandLine.Mixin
            ScheduleOptions opts = o;
        });
        cl.parseArgs("--lr-scale", "linear");
        assertEquals(0.1 * 512 / 256, o.baseLr(0.1, 512), 1e-15);
        assertEquals(0.1 * 64 / 256, o.baseLr(0.1, 64), 1e-15);
    }
}
