package dev.jtrain.optim;

import dev.jtrain.nn.Parameter;
import dev.jtrain.optim.schedule.StepLR;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter groups (per-group learning rates, as PyTorch's param_groups) and restoring a saved optimizer state:
 * values against the update rules computed by hand.
 */
class ParameterGroupsTest {
    static Parameter param(String name, float... v) {
        return Parameter.trainable(name, Tensor.of(v.clone(), v.length));
    }

    static void grad(Parameter p, float... g) {
        p.grad().copyFrom(Tensor.of(g, g.length));
    }

    @Test
    void groupsUseTheirOwnLearningRateAndFollowTheSchedule() {
        Parameter a = param("a", 1f, -2f);
        Parameter b = param("b", 3f, 0.5f);
        Sgd opt = new Sgd(List.of(a, b), 0.1);
        opt.setGroupLr(List.of(b), 0.01);
        assertEquals(0.1, opt.lrOf(a));
        assertEquals(0.01, opt.lrOf(b), 1e-15);
        StepLR sched = new StepLR(opt, 1, 0.5);
        grad(a, 1f, 1f);
        grad(b, 1f, 1f);
        opt.step(); // p -= lr g
        assertEquals(1f - 0.1f, a.value().floats()[0], 1e-7);
        assertEquals(3f - 0.01f, b.value().floats()[0], 1e-7);
        sched.step(); // base 0.05; the group scales with it: 0.005
        assertEquals(0.005, opt.lrOf(b), 1e-15);
        opt.step();
        assertEquals(1f - 0.1f - 0.05f, a.value().floats()[0], 1e-6);
        assertEquals(3f - 0.01f - 0.005f, b.value().floats()[0], 1e-6);
        assertEquals(0.5f - 0.01f - 0.005f, b.value().floats()[1], 1e-6);
    }

    @Test
    void adamGroupAtLrZeroKeepsItsValuesButUpdatesItsMoments() {
        Parameter a = param("a", 1f);
        Parameter b = param("b", 2f);
        Adam opt = new Adam(List.of(a, b), 0.1);
        opt.setGroupLr(List.of(b), 0);
        grad(a, 0.5f);
        grad(b, 0.5f);
        opt.step();
        // Adam's first step moves by lr * sign(g) (m_hat = g, v_hat = g^2)
        assertEquals(1f - 0.1f, a.value().floats()[0], 1e-6);
        assertEquals(2f, b.value().floats()[0]);
        assertEquals(0.05f, opt.state(b).get(Adam.EXP_AVG).floats()[0], 1e-7);
    }

    @Test
    void badGroupsAreRefused() {
        Parameter a = param("a", 1f);
        Sgd opt = new Sgd(List.of(a), 0.1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> opt.setGroupLr(List.of(param("stranger", 1f)), 0.1));
        assertTrue(e.getMessage().contains("stranger"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> opt.setGroupLr(List.of(a), -1));
    }

    @Test
    void restoreSetsStepsAndStateSoTheNextStepContinues() {
        // two Adam steps straight, against one step, a restore into a fresh optimizer, and one more step
        Parameter p1 = param("p", 1f, 2f);
        Adam straight = new Adam(List.of(p1), 0.1);
        grad(p1, 0.3f, -0.7f);
        straight.step();
        Tensor m = Tensor.of(straight.state(p1).get(Adam.EXP_AVG).toFloatArray(), 2);
        Tensor v = Tensor.of(straight.state(p1).get(Adam.EXP_AVG_SQ).toFloatArray(), 2);
        float[] after1 = p1.value().toFloatArray();
        grad(p1, -0.2f, 0.4f);
        straight.step();

        Parameter p2 = param("p", after1);
        Adam resumed = new Adam(List.of(p2), 0.1);
        resumed.restore(1, Map.of(p2, Map.of(Adam.EXP_AVG, m, Adam.EXP_AVG_SQ, v)));
        assertEquals(1, resumed.steps());
        grad(p2, -0.2f, 0.4f);
        resumed.step();
        assertEquals(2, resumed.steps());
        for (int i = 0; i < 2; i++) {
            assertEquals(Float.floatToRawIntBits(p1.value().floats()[i]), Float.floatToRawIntBits(p2.value().floats()[i]),
                    "element " + i + " (bias correction uses t = 2)");
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> resumed.restore(1, Map.of(p2, Map.of("momentum_buffer", m))));
        assertTrue(e.getMessage().contains("keeps no state 'momentum_buffer'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> resumed.restore(1, Map.of(p2, Map.of(Adam.EXP_AVG, Tensor.of(new float[3], 3)))));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[2]"), e.getMessage());
    }
}
