package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

import java.util.Arrays;
import java.util.List;

/**
 * {@code torch.optim.lr_scheduler.SequentialLR}: schedule i runs from milestone i - 1 (0 for the first)
 * and restarts its own count at its milestone: {@code lr(k) = schedules[i].lr(k - milestones[i - 1])}.
 * Warm-up(5) + cosine(T_max 35) with milestone 5 gives the linear warm-up for k &lt; 5 and
 * {@code lr0 (1 + cos(pi (k - 5) / 35)) / 2} from k = 5. The inner schedules are only read (never stepped).
 */
public final class SequentialLR extends AbstractLrSchedule {
    private final List<LrSchedule> schedules;
    private final int[] milestones;

    public SequentialLR(Optimizer optimizer, List<LrSchedule> schedules, int... milestones) {
        super(optimizer);
        this.schedules = List.copyOf(schedules);
        this.milestones = check(this.schedules, milestones);
        start();
    }

    public SequentialLR(double baseLr, List<LrSchedule> schedules, int... milestones) {
        super(baseLr);
        this.schedules = List.copyOf(schedules);
        this.milestones = check(this.schedules, milestones);
        start();
    }

    private static int[] check(List<LrSchedule> schedules, int[] milestones) {
        if (schedules.isEmpty()) {
            throw new IllegalArgumentException("SequentialLR needs at least one schedule");
        }
        if (milestones.length != schedules.size() - 1) {
            throw new IllegalArgumentException("SequentialLR with " + schedules.size() + " schedules needs "
                    + (schedules.size() - 1) + " milestones, got " + Arrays.toString(milestones));
        }
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] < 1 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                throw new IllegalArgumentException("milestones must be increasing and >= 1, got "
                        + Arrays.toString(milestones));
            }
        }
        return milestones.clone();
    }

    @Override
    public double lr(int k) {
        checkK(k);
        int i = 0;
        while (i < milestones.length && k >= milestones[i]) {
            i++;
        }
        int start = i == 0 ? 0 : milestones[i - 1];
        return schedules.get(i).lr(k - start);
    }
}
