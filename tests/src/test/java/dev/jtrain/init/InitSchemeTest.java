package dev.jtrain.init;

import dev.jtrain.backend.Backends;
import dev.jtrain.init.Init.Nonlinearity;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Schemes by name: the parsed form, the weights' sample mean/std/bounds of a 256x512 draw against the closed-form
 * std (fan_in 512, fan_out 256; 1 % of std, as InitTest: its sampling s.d. is ~0.2 %), PyTorch's calculate_gain
 * table (values printed by torch 1.13), and apply() on a model.
 */
class InitSchemeTest {
    private static final Shape SHAPE = Shape.of(256, 512);

    /** [mean, std (n - 1), max |w|] of a draw of {@code spec} into a 256x512 tensor. */
    private static double[] stats(String spec) {
        Tensor t = Backends.cpu().zeros(256, 512);
        InitScheme.parse(spec).initWeight(t, new Generator(99));
        float[] a = t.floats();
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
        return new double[] {mean, Math.sqrt(ss / (a.length - 1)), max};
    }

    private static void checkDraw(String spec, double std, double bound) {
        InitScheme s = InitScheme.parse(spec);
        assertEquals(std, s.std(SHAPE), 1e-15 * std, spec + ": the scheme's own std formula");
        double[] st = stats(spec);
        assertEquals(0, st[0], 5 * std / Math.sqrt(256 * 512), spec + ": mean");
        assertEquals(std, st[1], 0.01 * std, spec + ": std");
        if (!Double.isNaN(bound)) {
            assertEquals(bound, s.bound(SHAPE), 1e-15 * bound, spec + ": bound formula");
            assertTrue(st[2] <= bound && st[2] > 0.99 * bound, spec + ": max |w| " + st[2] + " vs bound " + bound);
        } else {
            assertTrue(Double.isNaN(s.bound(SHAPE)), spec + " is not a uniform draw");
        }
    }

    @Test
    void pyTorchGainTable() {
        String[] names = {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
            "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"};
        double[] torch = {1, 1, 1, 1, 1, 1, 1, 1, 1.6666666666666667, 1.4142135623730951, 0.75};
        for (int i = 0; i < names.length; i++) {
            assertEquals(torch[i], Init.gain(Nonlinearity.byName(names[i])), 1e-15, names[i]);
        }
        assertEquals(1.4141428569978354, Init.gain(Nonlinearity.byName("leaky_relu")), 1e-15, "leaky_relu default 0.01");
        assertEquals(1.3867504905630728, Init.gain(Nonlinearity.LEAKY_RELU, 0.2), 1e-15, "leaky_relu 0.2");
        assertEquals(1.4142135623730951, Init.gain(Nonlinearity.LEAKY_RELU, 0), 1e-15, "leaky_relu 0");
        assertNull(Nonlinearity.byName("swish"));
        // the gain a scheme carries is calculate_gain of the nonlinearity it names
        assertEquals(1.6666666666666667, InitScheme.parse("xavier:tanh").gain(), 1e-15);
        assertEquals(1.3867504905630728, InitScheme.parse("he:leaky_relu:0.2").gain(), 1e-15);
        assertEquals(1.4141428569978354, InitScheme.parse("kaiming-uniform:leaky_relu").gain(), 1e-15);
        assertEquals(0.75, InitScheme.parse("he:selu").gain(), 0);
        assertEquals(2.5, InitScheme.parse("xavier-uniform:2.5").gain(), 0);
    }

    @Test
    void parsedNamesAreCanonical() {
        assertEquals("default", InitScheme.parse("default").toString());
        assertEquals("default", InitScheme.parse(" PyTorch ").toString());
        assertEquals("normal:0.01", InitScheme.parse("normal:0.01").toString());
        assertEquals("normal:1", InitScheme.parse("normal:1").toString());
        assertEquals("constant:0", InitScheme.parse("zeros").toString());
        assertEquals("xavier-normal", InitScheme.parse("xavier").toString());
        assertEquals("xavier-uniform", InitScheme.parse("glorot_uniform").toString());
        assertEquals("xavier-normal:tanh", InitScheme.parse("xavier:tanh").toString());
        assertEquals("he-normal:fan_in:relu", InitScheme.parse("he").toString());
        assertEquals("he-uniform:fan_out:relu", InitScheme.parse("kaiming-uniform:fan_out").toString());
        assertEquals("he-normal:fan_out:leaky_relu:0.2", InitScheme.parse("he:leaky_relu:0.2:fan_out").toString());
        assertEquals(InitScheme.Kind.KAIMING_NORMAL, InitScheme.parse("he").kind());
    }

    @Test
    void drawsMatchTheirFormulas() {
        checkDraw("normal:0.01", 0.01, Double.NaN);
        checkDraw("normal:1", 1, Double.NaN);
        checkDraw("uniform:0.05", 0.05 / Math.sqrt(3), 0.05);
        checkDraw("xavier", Math.sqrt(2.0 / (512 + 256)), Double.NaN);
        checkDraw("xavier-uniform", Math.sqrt(2.0 / (512 + 256)), Math.sqrt(6.0 / (512 + 256)));
        checkDraw("xavier:tanh", 5.0 / 3 * Math.sqrt(2.0 / 768), Double.NaN);
        checkDraw("he", Math.sqrt(2.0 / 512), Double.NaN);
        checkDraw("he:fan_out", Math.sqrt(2.0 / 256), Double.NaN);
        checkDraw("he-uniform", Math.sqrt(2.0 / 512), Math.sqrt(6.0 / 512));
        checkDraw("he-uniform:fan_out:leaky_relu:0.2", Math.sqrt(2 / 1.04) / Math.sqrt(256),
                Math.sqrt(3) * Math.sqrt(2 / 1.04) / Math.sqrt(256));
        checkDraw("he:tanh", 5.0 / 3 / Math.sqrt(512), Double.NaN);
        checkDraw("default", 1 / Math.sqrt(3 * 512.0), 1 / Math.sqrt(512));
    }

    @Test
    void constantFillsExactly() {
        Tensor t = Backends.cpu().zeros(3, 4);
        Generator g = new Generator(1);
        InitScheme.parse("constant:0.5").initWeight(t, g);
        float[] expected = new float[12];
        java.util.Arrays.fill(expected, 0.5f);
        assertArrayEquals(expected, t.toFloatArray(), 0f);
        assertEquals(0, g.offset(), "a constant takes no random draw");
    }

    @Test
    void badSpecsAreNamed() {
        for (String[] c : new String[][] {{"", "empty"}, {"glorious", "unknown scheme 'glorious'"},
            {"normal", "one number"}, {"normal:abc", "'abc' is not a finite number"}, {"normal:-1", ">= 0"},
            {"uniform:1:2", "one number"}, {"he:fan_sideways", "'fan_sideways'"}, {"xavier:0", "> 0"},
            {"xavier:tanh:0.2", "only leaky_relu"}, {"default:3", "no arguments"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InitScheme.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("expected default, constant:V"),
                    c[0] + " -> " + e.getMessage());
        }
    }

    private static Sequential model(Generator g) {
        return new Sequential(new Conv2d(1, 4, 3, 1, 1, true, g), new ReLU(), new Flatten(),
                new Linear(4 * 6 * 6, 300, true, g), new ReLU(), new Linear(300, 10, true, g));
    }

    @Test
    void applySetsEveryWeightAndZeroesBiases() {
        Sequential m = model(new Generator(3));
        Generator g = new Generator(4);
        InitScheme he = InitScheme.parse("he");
        assertEquals(3, he.apply(m, g));
        assertEquals(3, g.offset(), "one draw per weight tensor, none for the biases");
        for (Map.Entry<String, Parameter> e : m.namedParameters().entrySet()) {
            float[] v = e.getValue().value().floats();
            if (e.getKey().endsWith("bias")) {
                assertArrayEquals(new float[v.length], v, 0f, e.getKey());
            }
        }
        // the large Linear(144, 300): std sqrt(2/144) within 3 % (43,200 draws: sampling s.d. ~0.3 %)
        float[] w = m.namedParameters().get("3.weight").value().floats();
        double ss = 0;
        for (float v : w) {
            ss += (double) v * v;
        }
        assertEquals(Math.sqrt(2.0 / 144), Math.sqrt(ss / w.length), 0.03 * Math.sqrt(2.0 / 144));
        // conv fans count the kernel: fan_in = 1 * 3 * 3
        assertEquals(Math.sqrt(2.0 / 9), he.std(m.namedParameters().get("0.weight").value().shape()), 1e-15);
    }

    @Test
    void defaultLeavesTheModelAsBuilt() {
        Sequential a = model(new Generator(3));
        Sequential b = model(new Generator(3));
        Generator g = new Generator(4);
        assertEquals(0, InitScheme.pytorchDefault().apply(b, g));
        assertEquals(0, g.offset());
        List<float[]> va = new ArrayList<>();
        a.namedParameters().values().forEach(p -> va.add(p.value().toFloatArray()));
        int i = 0;
        for (Parameter p : b.namedParameters().values()) {
            assertArrayEquals(va.get(i++), p.value().toFloatArray(), 0f, p.name());
        }
    }

    @Test
    void nestedLayersAreFound() {
        Layer inner = new Sequential(new Linear(4, 4, false, new Generator(1)));
        Sequential outer = new Sequential(inner, new Linear(4, 2, true, new Generator(2)));
        assertEquals(2, InitScheme.parse("constant:0.25").apply(outer, new Generator(3)));
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f},
                java.util.Arrays.copyOf(outer.namedParameters().get("0.0.weight").value().floats(), 4), 0f);
    }
}
