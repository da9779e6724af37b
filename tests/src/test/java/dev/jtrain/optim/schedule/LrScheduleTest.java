package dev.jtrain.optim.schedule;

import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The values FORMAT.md item 37 lists (lr0 = 0.1), and PyTorch's loop with an optimizer (item 36). */
class LrScheduleTest {
    private static final double LR0 = 0.1;

    private static void near(double expected, double actual) {
        assertEquals(expected, actual, 1e-12 * Math.abs(expected) + 1e-15);
    }

    private static Optimizer sgd() {
        return new Sgd(List.of(Parameter.trainable("p", Tensor.of(new float[1], 1))), LR0);
    }

    @Test
    void stepLR() {
        StepLR s = new StepLR(LR0, 10, 0.1);
        near(0.1, s.lr(9));
        near(0.01, s.lr(10));
        near(0.001, s.lr(20));
    }

    @Test
    void multiStepLR() {
        MultiStepLR s = new MultiStepLR(LR0, new int[] {15, 30}, 0.1);
        near(0.1, s.lr(14));
        near(0.01, s.lr(15));
        near(0.01, s.lr(29));
        near(0.001, s.lr(30));
    }

    @Test
    void exponentialLR() {
        ExponentialLR s = new ExponentialLR(LR0, 0.9);
        for (int k = 0; k < 40; k++) {
            near(LR0 * Math.pow(0.9, k), s.lr(k));
        }
    }

    @Test
    void cosineAnnealing() {
        CosineAnnealingLR s = new CosineAnnealingLR(LR0, 40, 0);
        near(0.1, s.lr(0));
        near(0.05, s.lr(20));
        near(0.1 * (1 + Math.cos(Math.PI * 7 / 40)) / 2, s.lr(7));
    }

    @Test
    void warmRestartsRestartAt10And30() {
        CosineAnnealingWarmRestarts s = new CosineAnnealingWarmRestarts(LR0, 10, 2, 0);
        near(0.1, s.lr(0));
        near(0.05, s.lr(5));
        near(0.1, s.lr(10));
        near(0.05, s.lr(20));
        near(0.1, s.lr(30));
        near(0.1 * (1 + Math.cos(Math.PI * 9 / 10)) / 2, s.lr(9));
        near(0.1 * (1 + Math.cos(Math.PI * 9 / 40)) / 2, s.lr(39));
    }

    @Test
    void linearWarmupAndDecay() {
        LinearLR warm = new LinearLR(LR0, 0.1, 1.0, 5);
        double[] expected = {0.01, 0.028, 0.046, 0.064, 0.082, 0.1, 0.1, 0.1};
        for (int k = 0; k < expected.length; k++) {
            near(expected[k], warm.lr(k));
        }
        LinearLR decay = new LinearLR(LR0, 1.0, 0.0, 40);
        near(0.0025, decay.lr(39));
        near(0.05, decay.lr(20));
    }

    @Test
    void inverseDecays() {
        near(0.1, new InverseSqrt(LR0).lr(0));
        near(0.05, new InverseSqrt(LR0).lr(3));
        near(0.02, new InverseTime(LR0).lr(4));
        near(0.05, new InverseTimeDecay(LR0, 0.1).lr(10));
        near(0.1 / 4.9, new InverseTimeDecay(LR0, 0.1).lr(39));
    }

    @Test
    void warmupThenCosineWithSequentialLR() {
        SequentialLR s = new SequentialLR(LR0, List.of(new LinearLR(LR0, 0.1, 1.0, 5), new CosineAnnealingLR(LR0, 35, 0)), 5);
        near(0.01, s.lr(0));
        near(0.082, s.lr(4));
        near(0.1, s.lr(5));
        for (int k = 5; k < 40; k++) {
            near(LR0 * (1 + Math.cos(Math.PI * (k - 5) / 35)) / 2, s.lr(k));
        }
        assertThrows(IllegalArgumentException.class,
                () -> new SequentialLR(LR0, List.of(new InverseTime(LR0), new InverseTime(LR0))));
    }

    @Test
    void drivesTheOptimizerLikePyTorch() {
        Optimizer opt = sgd();
        LinearLR s = new LinearLR(opt, 0.1, 1.0, 5);
        near(0.01, opt.lr());
        double[] seen = new double[7];
        for (int k = 0; k < seen.length; k++) {
            seen[k] = opt.lr();
            opt.step();
            s.step();
        }
        double[] expected = {0.01, 0.028, 0.046, 0.064, 0.082, 0.1, 0.1};
        for (int k = 0; k < expected.length; k++) {
            near(expected[k], seen[k]);
        }
        assertEquals(7, s.stepCount());
    }

    @Test
    void schedulesOverOneOptimizerShareItsInitialLr() {
        Optimizer opt = sgd();
        LinearLR warm = new LinearLR(opt, 0.1, 1.0, 5);
        CosineAnnealingLR cos = new CosineAnnealingLR(opt, 35, 0);
        near(0.1, cos.baseLr());
        SequentialLR s = new SequentialLR(opt, List.of(warm, cos), 5);
        near(0.01, opt.lr());
        for (int k = 0; k < 6; k++) {
            s.step();
        }
        near(0.1 * (1 + Math.cos(Math.PI / 35)) / 2, opt.lr());
    }
}
