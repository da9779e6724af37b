package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

import java.util.Arrays;

/**
 * {@code torch.optim.lr_scheduler.MultiStepLR}: {@code lr0 gamma^(number of milestones <= k)}; with
 * ([15, 30], 0.1), lr(15) = 0.01 lr0 and lr(30) = 0.001 lr0. A milestone listed twice counts twice (as in PyTorch).
 */
public final class MultiStepLR extends AbstractLrSchedule {
    private final int[] milestones;
    private final double gamma;

    public MultiStepLR(Optimizer optimizer, int[] milestones, double gamma) {
        super(optimizer);
        this.milestones = check(milestones);
        requirePositive("gamma", gamma);
        this.gamma = gamma;
        start();
    }

    public MultiStepLR(double baseLr, int[] milestones, double gamma) {
        super(baseLr);
        this.milestones = check(milestones);
        requirePositive("gamma", gamma);
        this.gamma = gamma;
        start();
    }

    private static int[] check(int[] milestones) {
        int[] m = milestones.clone();
        Arrays.sort(m);
        for (int v : m) {
            if (v < 0) {
                throw new IllegalArgumentException("milestones must be >= 0, got " + Arrays.toString(milestones));
            }
        }
        return m;
    }

    @Override
    public double lr(int k) {
        checkK(k);
        int passed = 0;
        for (int m : milestones) {
            if (m <= k) {
                passed++;
            }
        }
        return baseLr() * Math.pow(gamma, passed);
    }
}
