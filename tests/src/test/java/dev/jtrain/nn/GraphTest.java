package dev.jtrain.nn;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphTest {

    // The graphs below are smooth compositions of Linear/Conv and Tanh: h = 1e-2 gives truncation
    // ~1e-5 and float32 noise ~1e-5 on the slopes (<= 60 outputs of size ~1; measured worst 1e-5).
    private static final double H = 1e-2;
    private static final double RTOL = 1e-3;
    private static final double ATOL = 5e-5;

    /** Counts backward calls; identity. */
    private static final class Probe extends Layer {
        int backwards;

        @Override
        public Tensor forward(Tensor x, boolean training) {
            return x;
        }

        @Override
        public Tensor backward(Tensor dy) {
            backwards++;
            return dy;
        }
    }

    @Test
    void residualSkipConnectionGradientsSum() {
        Generator gen = new Generator(1);
        Graph g = new Graph();
        g.input("x");
        g.add("fc1", new Linear(5, 5, true, gen), "x");
        g.add("a", new Tanh(), "fc1");
        g.sum("res", "a", "x");
        g.output("res");
        assertEquals(List.of("fc1.weight", "fc1.bias"), List.copyOf(g.namedParameters().keySet()));
        GradCheck.checkLayer(g, GradCheck.uniform(2, -1, 1, 4, 5), true, H, RTOL, ATOL);

        // dx = (path through fc1 and tanh) + dy (the identity path)
        Tensor x = GradCheck.uniform(3, -1, 1, 4, 5);
        Tensor dy = GradCheck.uniform(4, -1, 1, 4, 5);
        g.forward(x, true);
        float[] dx = g.backward(dy).toFloatArray();
        Linear fc = (Linear) g.layer("fc1");
        Tanh t = (Tanh) g.layer("a");
        fc.forward(x, true);
        t.forward(fc.forward(x, true), true);
        float[] branch = fc.backward(t.backward(dy)).toFloatArray();
        for (int i = 0; i < dx.length; i++) {
            assertEquals(branch[i] + dy.floats()[i], dx[i], 1e-6);
        }
    }

    @Test
    void nodeFeedingThreeConsumers() {
        Generator gen = new Generator(5);
        Graph g = new Graph();
        g.input("x");
        g.add("p", new Linear(4, 3, true, gen), "x");
        g.add("q", new Linear(4, 3, false, gen), "x");
        g.add("tp", new Tanh(), "p");
        g.add("h", new Linear(4, 3, true, gen), "x");
        g.sum("s", "tp", "q", "h");
        g.add("out", new Tanh(), "s");
        g.output("out");
        GradCheck.checkLayer(g, GradCheck.uniform(6, -1, 1, 3, 4), true, H, RTOL, ATOL);
    }

    @Test
    void sameNodeTwiceInASumDoublesItsGradient() {
        Graph g = new Graph();
        g.input("x");
        g.sum("twice", "x", "x");
        g.output("twice");
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 3);
        assertArrayEquals(new float[] {2, 4, 6}, g.forward(x, true).toFloatArray());
        assertArrayEquals(new float[] {2, 2, 2}, g.backward(Tensor.of(new float[] {1, 1, 1}, 1, 3)).toFloatArray());
        GradCheck.checkLayer(g, GradCheck.uniform(7, -1, 1, 2, 3), true, 5e-2, 1e-4, 1e-5);
    }

    @Test
    void concatOfParallelBranchesAlongFeatures() {
        Generator gen = new Generator(8);
        Graph g = new Graph();
        g.input("x");
        g.add("a", new Linear(5, 3, true, gen), "x");
        g.add("b", new Linear(5, 2, true, gen), "x");
        g.add("ta", new Tanh(), "a");
        g.concat("cat", 1, "ta", "b", "x");
        g.add("out", new Linear(10, 4, true, gen), "cat");
        g.output("out");
        Tensor x = GradCheck.uniform(9, -1, 1, 3, 5);
        g.forward(x, true);
        Tensor cat = g.value("cat");
        assertArrayEquals(new int[] {3, 10}, cat.dims());
        // row 1 = [ta row 1 | b row 1 | x row 1]
        assertEquals(g.value("ta").floats()[3 + 2], cat.floats()[10 + 2]);
        assertEquals(g.value("b").floats()[2 + 1], cat.floats()[10 + 4]);
        assertEquals(x.floats()[5 + 4], cat.floats()[10 + 9]);
        GradCheck.checkLayer(g, x, true, H, RTOL, ATOL);
    }

    @Test
    void concatOfConvBranchesAlongChannels() {
        // An inception-like block: 1x1 and 3x3 branches concatenated along NCHW channels.
        Generator gen = new Generator(10);
        Graph g = new Graph();
        g.input("x");
        g.add("b1", new Conv2d(2, 2, 1, 1, 0, true, gen), "x");
        g.add("b3", new Conv2d(2, 3, 3, 1, 1, true, gen), "x");
        g.concat("cat", 1, "b1", "b3");
        g.add("act", new Tanh(), "cat");
        g.output("act");
        Tensor x = GradCheck.uniform(11, -1, 1, 2, 2, 4, 3);
        assertArrayEquals(new int[] {2, 5, 4, 3}, g.forward(x, true).dims());
        GradCheck.checkLayer(g, x, true, H, RTOL, ATOL);
    }

    @Test
    void concatAlongOtherDims() {
        Graph g = new Graph();
        g.input("x");
        g.add("t", new Tanh(), "x");
        g.concat("rows", 0, "x", "t");
        g.concat("last", -1, "rows", "rows");
        g.output("last");
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor y = g.forward(x, true);
        assertArrayEquals(new int[] {4, 6}, y.dims());
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, java.util.Arrays.copyOfRange(y.floats(), 0, 6));
        assertEquals((float) Math.tanh(4), y.floats()[3 * 6]);
        GradCheck.checkLayer(g, GradCheck.uniform(12, -1, 1, 2, 3), true, H, RTOL, ATOL);
    }

    @Test
    void deadBranchesAreSkippedInBackward() {
        Probe dead = new Probe();
        Probe live = new Probe();
        Graph g = new Graph();
        g.input("x");
        g.add("dead", dead, "x");
        g.add("live", live, "x");
        g.output("live");
        g.forward(GradCheck.uniform(1, -1, 1, 2, 2), true);
        g.backward(GradCheck.uniform(2, -1, 1, 2, 2));
        assertEquals(0, dead.backwards);
        assertEquals(1, live.backwards);
    }

    @Test
    void outputMayBeTheInputItself() {
        Graph g = new Graph();
        g.input("x");
        g.output("x");
        Tensor x = GradCheck.uniform(1, -1, 1, 2, 2);
        assertSame(x, g.forward(x, true));
        Tensor dy = GradCheck.uniform(2, -1, 1, 2, 2);
        assertSame(dy, g.backward(dy));
    }

    @Test
    void buildErrorsAreClear() {
        Graph g = new Graph();
        g.input("x");
        g.add("fc", new Linear(2, 2, true, new Generator(1)), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.add("r", new ReLU(), "nope"));
        assertTrue(e.getMessage().contains("unknown input 'nope'") && e.getMessage().contains("[x, fc]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.add("fc", new ReLU(), "x"));
        assertTrue(e.getMessage().contains("duplicate"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.add("loop", new ReLU(), "loop"));
        assertTrue(e.getMessage().contains("cycle"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.sum("s", "x", "later"));
        assertTrue(e.getMessage().contains("unknown input 'later'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.output("missing"));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.add("again", g.layer("fc"), "x"));
        assertTrue(e.getMessage().contains("already node 'fc'"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> g.input("y"));
        assertThrows(IllegalArgumentException.class, () -> g.add("a.b", new ReLU(), "x"));
        // a failed add leaves no trace
        assertEquals(List.of("x", "fc"), g.nodeNames());
        assertThrows(IllegalStateException.class, () -> g.forward(GradCheck.uniform(1, -1, 1, 1, 2), true));
        Graph empty = new Graph();
        assertThrows(IllegalStateException.class, () -> empty.forward(GradCheck.uniform(1, -1, 1, 1, 2), true));
    }

    @Test
    void shapeMismatchesNameTheNodes() {
        Generator gen = new Generator(2);
        Graph g = new Graph();
        g.input("x");
        g.add("wide", new Linear(3, 4, true, gen), "x");
        g.sum("bad", "wide", "x");
        g.output("bad");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.forward(GradCheck.uniform(1, -1, 1, 2, 3), true));
        assertTrue(e.getMessage().contains("sum node 'bad'") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[2, 4]"), e.getMessage());

        Graph c = new Graph();
        c.input("x");
        c.add("wide", new Linear(3, 4, true, gen), "x");
        c.concat("cat", 0, "wide", "x");
        c.output("cat");
        e = assertThrows(IllegalArgumentException.class, () -> c.forward(GradCheck.uniform(1, -1, 1, 2, 3), true));
        assertTrue(e.getMessage().contains("concat node 'cat'"), e.getMessage());

        Graph d = new Graph();
        d.input("x");
        d.concat("cat", 2, "x", "x");
        d.output("cat");
        e = assertThrows(IllegalArgumentException.class, () -> d.forward(GradCheck.uniform(1, -1, 1, 2, 3), true));
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void graphInsideSequentialNames() {
        Generator gen = new Generator(3);
        Graph g = new Graph();
        g.input("x");
        g.add("fc1", new Linear(2, 2, true, gen), "x");
        g.output("fc1");
        Sequential s = new Sequential(g, new ReLU());
        assertTrue(s.namedParameters().containsKey("0.fc1.weight"));
    }

    @Test
    void backendConcatAndSplitDim1() {
        var be = Backends.cpu();
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 1, 2);       // [N=2, C=1, inner=2]
        Tensor b = Tensor.of(new float[] {5, 6, 7, 8, 9, 10, 11, 12}, 2, 2, 2);
        Tensor out = be.zeros(2, 3, 2);
        be.concatDim1(List.of(a, b), out);
        assertArrayEquals(new float[] {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, out.toFloatArray());
        Tensor a2 = be.zeros(2, 1, 2);
        Tensor b2 = be.zeros(2, 2, 2);
        be.splitDim1(out, List.of(a2, b2));
        assertArrayEquals(a.toFloatArray(), a2.toFloatArray());
        assertArrayEquals(b.toFloatArray(), b2.toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> be.concatDim1(List.of(a, b), be.zeros(2, 4, 2)));
        assertTrue(e.getMessage().contains("concatDim1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> be.concatDim1(List.of(a, be.zeros(3, 1, 2)), out));
    }
}
