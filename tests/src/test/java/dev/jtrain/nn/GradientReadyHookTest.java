package dev.jtrain.nn;

import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The gradient-ready hook ({@link GradientReadyListener}): which parameters are reported, in which order, that each
 * is reported once and only when its gradient is final (the gradient seen at report time equals the one after the
 * whole backward), and that the hooked backward computes the bits of the plain one.
 */
class GradientReadyHookTest {

    /** y = x * w (one scalar parameter that several layers may share: tied weights). */
    private static final class Scale extends Layer {
        private final Parameter w;
        private Tensor x;

        Scale(Parameter w) {
            this.w = register(w);
        }

        @Override
        public Tensor forward(Tensor x, boolean training) {
            this.x = x;
            float[] a = x.toFloatArray();
            float s = w.value().toFloatArray()[0];
            for (int i = 0; i < a.length; i++) {
                a[i] *= s;
            }
            return Tensor.of(a, x.dims());
        }

        @Override
        public Tensor backward(Tensor dy) {
            float[] g = dy.toFloatArray();
            float[] xs = x.toFloatArray();
            float s = w.value().toFloatArray()[0];
            double dw = 0;
            for (int i = 0; i < g.length; i++) {
                dw += g[i] * xs[i];
                g[i] *= s;
            }
            w.grad().floats()[0] += (float) dw;
            return Tensor.of(g, dy.dims());
        }
    }

    /** Each report: the parameters, and their gradients at that moment. */
    private static final class Recorder implements GradientReadyListener {
        final List<List<Parameter>> batches = new ArrayList<>();
        final Map<Parameter, float[]> atReport = new IdentityHashMap<>();

        @Override
        public void ready(Parameter[] params) {
            batches.add(List.of(params));
            for (Parameter p : params) {
                float[] before = atReport.put(p, p.grad().toFloatArray());
                assertNull(before, "parameter " + p.name() + " reported twice");
            }
        }

        /** Every parameter of {@code model} was reported once, with the gradient it has now. */
        void assertAllFinalAtReport(Layer model) {
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                float[] seen = atReport.get(e.getValue());
                assertArrayEquals(e.getValue().grad().toFloatArray(), seen, e.getKey() + ": reported before final, or never");
            }
        }
    }

    private static Tensor uniform(long seed, int... dims) {
        return GradCheck.uniform(seed, -1, 1, dims);
    }

    private static List<Parameter> named(Layer m, String... names) {
        List<Parameter> out = new ArrayList<>();
        for (String n : names) {
            out.add(m.namedParameters().get(n));
        }
        return out;
    }

    private static Sequential mlp(long seed) {
        Generator gen = new Generator(seed);
        return new Sequential(new Linear(4, 5, true, gen), new ReLU(), new Linear(5, 3, true, gen));
    }

    @Test
    void sequentialReportsEachChildInBackwardOrderAndSkipsLayersWithoutParameters() {
        Sequential m = mlp(3);
        Tensor x = uniform(1, 6, 4);
        Tensor dy = uniform(2, 6, 3);
        m.forward(x, true);
        Recorder r = new Recorder();
        assertNull(m.backward(dy, false, r));
        assertEquals(List.of(named(m, "2.weight", "2.bias"), named(m, "0.weight", "0.bias")), r.batches);
        r.assertAllFinalAtReport(m);
    }

    @Test
    void hookedBackwardHasThePlainBackwardsBits() {
        for (boolean inputGradient : new boolean[] {false, true}) {
            Sequential plain = mlp(5);
            Sequential hooked = mlp(5);
            Tensor x = uniform(1, 6, 4);
            Tensor dy = uniform(2, 6, 3);
            plain.forward(x, true);
            hooked.forward(x, true);
            Tensor dxPlain = plain.backward(dy, inputGradient);
            Tensor dxHooked = hooked.backward(dy, inputGradient, new Recorder());
            if (inputGradient) {
                assertArrayEquals(dxPlain.toFloatArray(), dxHooked.toFloatArray());
            } else {
                assertNull(dxHooked);
            }
            for (String name : plain.namedParameters().keySet()) {
                assertArrayEquals(plain.namedParameters().get(name).grad().toFloatArray(),
                        hooked.namedParameters().get(name).grad().toFloatArray(), name);
            }
        }
    }

    /**
     * x -> s1 = Scale(p) -> fc -> relu -> s2 = Scale(p) -> out, and a dead branch x -> dead; nested in a Sequential
     * with a head. p is written by s2 then s1 (backward order): it may be reported only after s1.
     */
    private static Sequential tiedGraph(long seed) {
        Generator gen = new Generator(seed);
        Parameter p = Parameter.trainable("w", Tensor.of(new float[] {0.75f}, 1));
        Graph g = new Graph();
        g.input("x");
        g.add("s1", new Scale(p), "x");
        g.add("fc", new Linear(4, 4, true, gen), "s1");
        g.add("r", new ReLU(), "fc");
        g.add("s2", new Scale(p), "r");
        g.add("dead", new Linear(4, 2, true, gen), "x");
        g.output("s2");
        return new Sequential(g, new Linear(4, 3, true, gen));
    }

    @Test
    void graphReportsASharedParameterAfterItsLastUseAndUnreachedNodesAtTheEnd() {
        Sequential m = tiedGraph(7);
        Tensor x = uniform(1, 6, 4);
        Tensor dy = uniform(2, 6, 3);
        m.forward(x, true);
        Recorder r = new Recorder();
        m.backward(dy, false, r);
        Parameter tied = m.namedParameters().get("0.s1.w");
        assertEquals(tied, m.namedParameters().get("0.s2.w"));
        assertEquals(List.of(named(m, "1.weight", "1.bias"), named(m, "0.fc.weight", "0.fc.bias"), List.of(tied),
                named(m, "0.dead.weight", "0.dead.bias")), r.batches);
        r.assertAllFinalAtReport(m);
        assertEquals(0f, m.namedParameters().get("0.dead.weight").grad().toFloatArray()[0], "the dead branch has no gradient");

        // the same bits as the plain backward
        Sequential plain = tiedGraph(7);
        plain.forward(x, true);
        plain.backward(dy, false);
        for (String name : plain.namedParameters().keySet()) {
            assertArrayEquals(plain.namedParameters().get(name).grad().toFloatArray(),
                    m.namedParameters().get(name).grad().toFloatArray(), name);
        }
    }

    @Test
    void aLeafLayerReportsItsParametersOnceAfterItsBackward() {
        Linear fc = new Linear(4, 2, true, new Generator(1));
        fc.forward(uniform(1, 3, 4), true);
        Recorder r = new Recorder();
        fc.backward(uniform(2, 3, 2), true, r);
        assertEquals(List.of(named(fc, "weight", "bias")), r.batches);
        r.assertAllFinalAtReport(fc);

        ReLU relu = new ReLU();
        relu.forward(uniform(1, 3, 4), true);
        Recorder none = new Recorder();
        relu.backward(uniform(2, 3, 4), true, none);
        assertEquals(List.of(), none.batches, "a layer without parameters is not reported");
    }
}
