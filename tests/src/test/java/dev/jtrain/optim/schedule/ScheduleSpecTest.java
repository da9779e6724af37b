package dev.jtrain.optim.schedule;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --schedule} specs: each parsed schedule's LR sequence against its formula, its unit, and bad specs. */
class ScheduleSpecTest {
    private static final double LR = 0.1;

    private static void assertSequence(String spec, int epochs, int stepsPerEpoch, double[] expected) {
        LrSchedule s = ScheduleSpec.parse(spec).build(LR, epochs, stepsPerEpoch);
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], s.lr(k), 1e-12 * Math.max(1, Math.abs(expected[k])), spec + " at k = " + k);
        }
    }

    @Test
    void epochSchedulesFollowTheirFormulas() {
        int e = 8;
        double[] step = new double[e];
        double[] multi = new double[e];
        double[] exp = new double[e];
        double[] cos = new double[e];
        double[] cosMin = new double[e];
        double[] lin = new double[e];
        double[] inv = new double[e];
        for (int k = 0; k < e; k++) {
            step[k] = LR * Math.pow(0.5, k / 3);                              // step:3:0.5
            multi[k] = LR * Math.pow(0.1, (k >= 2 ? 1 : 0) + (k >= 5 ? 1 : 0)); // multistep:2,5
            exp[k] = LR * Math.pow(0.9, k);
            cos[k] = LR * (1 + Math.cos(Math.PI * k / e)) / 2;
            cosMin[k] = 0.001 + (LR - 0.001) * (1 + Math.cos(Math.PI * k / e)) / 2;
            lin[k] = LR * (1 + (0.1 - 1) * k / e);                           // linear:0.1
            inv[k] = LR / (1 + 0.5 * k);                                     // 1/t:0.5
        }
        assertSequence("step:3:0.5", e, 7, step);
        assertSequence("multistep:2,5", e, 7, multi);
        assertSequence("exp:0.9", e, 7, exp);
        assertSequence("cosine", e, 7, cos);
        assertSequence("cosine:0.001", e, 7, cosMin);
        assertSequence("linear:0.1", e, 7, lin);
        assertSequence("1/t:0.5", e, 7, inv);
        assertEquals(LR * 0.1, ScheduleSpec.parse("step:10").build(LR, 20, 1).lr(10), 1e-15, "default gamma 0.1");
        assertEquals(LR / 4, ScheduleSpec.parse("1/t").build(LR, 20, 1).lr(3), 1e-15, "default K = 1");
        for (String s : new String[] {"step:3", "multistep:2,5", "exp:0.9", "cosine", "linear", "1/t", "constant"}) {
            assertEquals(ScheduleSpec.Unit.EPOCH, ScheduleSpec.parse(s).unit(), s);
        }
    }

    @Test
    void stepSchedulesCountOptimizerSteps() {
        int spe = 5; // steps per epoch: cosine-restarts:2:2 restarts after 10 and then 20 more steps
        double[] sgdr = new double[30];
        for (int k = 0; k < 30; k++) {
            int start = k < 10 ? 0 : 10;
            int len = k < 10 ? 10 : 20;
            sgdr[k] = LR * (1 + Math.cos(Math.PI * (k - start) / len)) / 2;
        }
        assertSequence("cosine-restarts:2:2", 10, spe, sgdr);
        assertEquals(LR, ScheduleSpec.parse("cosine-restarts:2:2").build(LR, 10, spe).lr(10), 1e-15, "restart at epoch 2");
        assertEquals(LR, ScheduleSpec.parse("cosine-restarts:2:2").build(LR, 10, spe).lr(30), 1e-15, "and at epoch 6");
        double[] invSqrt = new double[30];
        for (int k = 0; k < 30; k++) {
            invSqrt[k] = LR / Math.sqrt(k + 1);
        }
        assertSequence("inv-sqrt", 3, 10, invSqrt);
        assertEquals(ScheduleSpec.Unit.STEP, ScheduleSpec.parse("cosine-restarts:1").unit());
        assertEquals(ScheduleSpec.Unit.STEP, ScheduleSpec.parse("inv-sqrt").unit());
    }

    @Test
    void badSpecsAreErrorsNamingThem() {
        String[][] cases = {
                {"warp", "unknown schedule 'warp'"},
                {"step", "expected step:S[:GAMMA]"},
                {"step:0", "step size S must be >= 1"},
                {"step:x", "'x' is not an integer"},
                {"exp", "expected exp:GAMMA"},
                {"exp:-1", "gamma must be a finite value >= 0"},
                {"multistep:5,2", "non-decreasing"},
                {"cosine:1:2", "expected cosine[:ETA_MIN]"},
                {"inv-sqrt:3", "expected inv-sqrt"},
                {"", "empty schedule"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScheduleSpec.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
        }
    }
}
