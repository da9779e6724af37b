package dev.jtrain.optim.schedule;

import dev.jtrain.optim.Optimizer;

/**
 * {@code torch.optim.lr_scheduler.CosineAnnealingWarmRestarts} (SGDR): cycles of length T_0, T_0 T_mult,
 * T_0 T_mult^2, ...; inside a cycle at position T_cur of length T_i,
 * {@code etaMin + (lr0 - etaMin)(1 + cos(pi T_cur / T_i)) / 2}. With (10, 2) restarts are at k = 10 and 30.
 * The cycle is found with integer arithmetic, so restarts land exactly.
 */
public final class CosineAnnealingWarmRestarts extends AbstractLrSchedule {
    private final int t0;
    private final int tMult;
    private final double etaMin;

    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult, double etaMin) {
        super(optimizer);
        this.t0 = checkT0(t0);
        this.tMult = checkMult(tMult);
        this.etaMin = etaMin;
        start();
    }

    public CosineAnnealingWarmRestarts(double baseLr, int t0, int tMult, double etaMin) {
        super(baseLr);
        this.t0 = checkT0(t0);
        this.tMult = checkMult(tMult);
        this.etaMin = etaMin;
        start();
    }

    private static int checkT0(int t0) {
        if (t0 < 1) {
            throw new IllegalArgumentException("T_0 must be >= 1, got " + t0);
        }
        return t0;
    }

    private static int checkMult(int m) {
        if (m < 1) {
            throw new IllegalArgumentException("T_mult must be >= 1, got " + m);
        }
        return m;
    }

    @Override
    public double lr(int k) {
        checkK(k);
        long tCur = k;
        long ti = t0;
        while (tCur >= ti) {
            tCur -= ti;
            ti *= tMult;
        }
        return etaMin + (baseLr() - etaMin) * (1 + Math.cos(Math.PI * tCur / ti)) / 2;
    }
}
