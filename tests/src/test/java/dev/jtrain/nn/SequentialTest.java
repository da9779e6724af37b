package dev.jtrain.nn;

import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.random.Generator;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SequentialTest {

    @Test
    void childrenAreNamedByIndex() {
        Generator gen = new Generator(1);
        Sequential s = new Sequential(new Linear(4, 6, true, gen), new BatchNorm1d(6), new ReLU());
        s.add(new Linear(6, 3, false, gen));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "3.weight"),
                List.copyOf(s.namedState().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var"), List.copyOf(s.namedBuffers().keySet()));
        assertEquals(4, s.size());
        assertTrue(s.get(1) instanceof BatchNorm1d);
        assertEquals(5, s.parameters().size());   // buffers are not trainable
        assertEquals(4 * 6 + 6 + 6 + 6 + 6 * 3, s.parameterCount());
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(4));
    }

    @Test
    void nestedNames() {
        Generator gen = new Generator(2);
        Sequential inner = new Sequential(new Linear(2, 2, true, gen), new Tanh());
        Sequential outer = new Sequential(new Linear(3, 2, true, gen), inner);
        assertTrue(outer.namedParameters().containsKey("1.0.weight"));
        assertSame(inner.get(0), ((Sequential) outer.get(1)).get(0));
    }

    @Test
    void sameLayerTwiceIsRejected() {
        ReLU r = new ReLU();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sequential(r, r));
        assertTrue(e.getMessage().contains("already"), e.getMessage());
    }

    @Test
    void mlpGradients() {
        // Linear -> Tanh -> Linear is smooth; h = 1e-2 with 12 outputs: truncation ~1e-5, noise ~1e-5.
        Generator gen = new Generator(3);
        Sequential s = new Sequential(new Linear(4, 6, true, gen), new Tanh(), new Linear(6, 3, true, gen));
        GradCheck.checkLayer(s, GradCheck.uniform(4, -1, 1, 4, 4), true, 1e-2, 1e-3, 5e-5);
    }

    @Test
    void mlpWithBatchNormTrainGradients() {
        // BatchNorm in train mode between two Linear layers (see BatchNormTest for the step choice).
        Generator gen = new Generator(5);
        Sequential s = new Sequential(new Linear(3, 4, true, gen), new BatchNorm1d(4), new Tanh(),
                new Linear(4, 2, true, gen));
        GradCheck.checkLayer(s, GradCheck.uniform(6, -1, 1, 6, 3), true, 5e-3, 1e-3, 1e-4);
    }

    @Test
    void emptySequentialIsIdentity() {
        Sequential s = new Sequential();
        var x = GradCheck.uniform(1, -1, 1, 2, 2);
        assertSame(x, s.forward(x, true));
        assertSame(x, s.backward(x));
    }
}
