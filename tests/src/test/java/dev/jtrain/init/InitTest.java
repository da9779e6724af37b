package dev.jtrain.init;

import dev.jtrain.backend.Backends;
import dev.jtrain.init.Init.FanMode;
import dev.jtrain.init.Init.Nonlinearity;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Initializer statistics on a 256x512 draw (fan_in 512, fan_out 256), as FORMAT.md items 38-39: the
 * empirical std within 1 % of theory (its sampling s.d. is ~0.2 %) and the mean within 5 standard
 * errors of 0 (std/sqrt(131072)); uniform draws also stay inside their bound.
 */
class InitTest {
    private static final int OUT = 256;
    private static final int IN = 512;

    private static Tensor draw(BiConsumer<Tensor, Generator> init, long seed) {
        Tensor t = Backends.cpu().zeros(OUT, IN);
        init.accept(t, new Generator(seed));
        return t;
    }

    private static void checkStats(String what, BiConsumer<Tensor, Generator> init, double stdTheory, double bound) {
        float[] a = draw(init, 1234).floats();
        double sum = 0;
        double max = 0;
        for (float v : a) {
            sum += v;
            max = Math.max(max, Math.abs(v));
        }
        double mean = sum / a.length;
        double ss = 0;
        for (float v : a) {
            ss += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(ss / (a.length - 1));
        assertEquals(stdTheory, std, 0.01 * stdTheory, what + ": std");
        assertEquals(0.0, mean, 5 * stdTheory / Math.sqrt(a.length), what + ": mean");
        if (bound > 0) {
            assertTrue(max <= bound, what + ": max |w| " + max + " exceeds the bound " + bound);
            assertTrue(max > 0.99 * bound, what + ": max |w| " + max + " should approach the bound " + bound);
        }
    }

    @Test
    void fansFollowPyTorch() {
        assertEquals(512, Init.fanIn(Shape.of(256, 512)));
        assertEquals(256, Init.fanOut(Shape.of(256, 512)));
        assertEquals(4 * 9, Init.fanIn(Shape.of(8, 4, 3, 3)));     // conv: times kH·kW
        assertEquals(8 * 9, Init.fanOut(Shape.of(8, 4, 3, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Init.fanIn(Shape.of(5)));
        assertTrue(e.getMessage().contains("[5]"), e.getMessage());
    }

    @Test
    void gains() {
        assertEquals(1.0, Init.gain(Nonlinearity.LINEAR), 0);
        assertEquals(1.0, Init.gain(Nonlinearity.SIGMOID), 0);
        assertEquals(5.0 / 3, Init.gain(Nonlinearity.TANH), 1e-15);
        assertEquals(Math.sqrt(2), Init.gain(Nonlinearity.RELU), 1e-15);
        assertEquals(Math.sqrt(2 / (1 + 0.01 * 0.01)), Init.gain(Nonlinearity.LEAKY_RELU), 1e-15);
        assertEquals(Math.sqrt(2), Init.gain(Nonlinearity.LEAKY_RELU, 0), 1e-15);
        assertEquals(0.75, Init.gain(Nonlinearity.SELU), 0);
    }

    @Test
    void kaimingNormalReluFanIn() {
        checkStats("kaiming_normal relu fan_in", (t, g) -> Init.kaimingNormal(t, 0, FanMode.FAN_IN, Nonlinearity.RELU, g),
                0.0625, 0);
    }

    @Test
    void kaimingNormalReluFanOut() {
        checkStats("kaiming_normal relu fan_out", (t, g) -> Init.kaimingNormal(t, 0, FanMode.FAN_OUT, Nonlinearity.RELU, g),
                Math.sqrt(2.0 / 256), 0);
    }

    @Test
    void kaimingUniformReluFanIn() {
        checkStats("kaiming_uniform relu", (t, g) -> Init.kaimingUniform(t, 0, FanMode.FAN_IN, Nonlinearity.RELU, g),
                0.0625, Math.sqrt(6.0 / 512));
    }

    @Test
    void kaimingUniformDefaultArguments() {
        checkStats("kaiming_uniform defaults", Init::kaimingUniform, 0.0625, Math.sqrt(6.0 / 512));
    }

    @Test
    void linearDefault() {
        checkStats("nn.Linear default", (t, g) -> Init.linearDefault(t, null, g), 1 / Math.sqrt(3 * 512.0),
                1 / Math.sqrt(512));
    }

    @Test
    void xavierNormal() {
        checkStats("xavier_normal", Init::xavierNormal, Math.sqrt(2.0 / (512 + 256)), 0);
    }

    @Test
    void xavierUniform() {
        checkStats("xavier_uniform", Init::xavierUniform, Math.sqrt(2.0 / (512 + 256)), Math.sqrt(6.0 / (512 + 256)));
    }

    @Test
    void plainUniformAndNormal() {
        checkStats("uniform(-0.3, 0.3)", (t, g) -> Init.uniform(t, -0.3, 0.3, g), 0.3 / Math.sqrt(3), 0.3);
        checkStats("normal(0, 0.02)", (t, g) -> Init.normal(t, 0, 0.02, g), 0.02, 0);
    }

    @Test
    void sameSeedSameBitsAndOneOffsetPerCall() {
        float[] a = draw(Init::kaimingNormal, 77).floats();
        float[] b = draw(Init::kaimingNormal, 77).floats();
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, draw(Init::kaimingNormal, 78).floats()));

        Generator g = new Generator(5);
        Tensor w = Backends.cpu().zeros(4, 3);
        Tensor bias = Backends.cpu().zeros(4);
        Init.linearDefault(w, bias, g);
        assertEquals(2, g.offset(), "weight and bias take one offset each");
        Tensor w2 = Backends.cpu().zeros(4, 3);
        Init.linearDefault(w2, null, new Generator(5));
        assertArrayEquals(w.toFloatArray(), w2.toFloatArray(), "the weight draw does not depend on the bias");
        // the draw is the backend's Philox uniform at (seed, offset)
        Tensor direct = Backends.cpu().zeros(4, 3);
        double bound = 1 / Math.sqrt(3);
        Backends.cpu().randomUniform(direct, (float) -bound, (float) bound, 5, 0);
        assertArrayEquals(direct.toFloatArray(), w.toFloatArray());
    }

    @Test
    void badArguments() {
        Tensor t = Backends.cpu().zeros(2, 2);
        assertThrows(IllegalArgumentException.class, () -> Init.normal(t, 0, -1, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(t, 1, 0, new Generator(1)));
        assertThrows(IllegalArgumentException.class, () -> Init.xavierUniform(Backends.cpu().zeros(3), new Generator(1)));
    }
}
