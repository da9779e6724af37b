package dev.jtrain.nn;

import dev.jtrain.optim.Sgd;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A parameter that two layers share (tied weights) is one parameter: listed once by parameters() and counted once,
 * so an optimizer built on the list updates it once per step with its summed gradient (PyTorch's Module.parameters()
 * de-duplicates the same way).
 */
class SharedParameterTest {

    /** y = x * w for a scalar parameter w that may be shared. */
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
            for (int i = 0; i < a.length; i++) {
                a[i] *= w.value().toFloatArray()[0];
            }
            return Tensor.of(a, x.dims());
        }

        @Override
        public Tensor backward(Tensor dy) {
            float[] g = dy.toFloatArray();
            float[] xs = x.toFloatArray();
            float s = w.value().toFloatArray()[0];
            float dw = 0;
            for (int i = 0; i < g.length; i++) {
                dw += g[i] * xs[i];
                g[i] *= s;
            }
            w.grad().floats()[0] += dw;
            return Tensor.of(g, dy.dims());
        }
    }

    @Test
    void aTiedParameterIsListedCountedAndSteppedOnce() {
        Parameter w = Parameter.trainable("w", Tensor.of(new float[] {2f}, 1));
        Sequential m = new Sequential(new Scale(w), new Scale(w));
        assertEquals(List.of("0.w", "1.w"), List.copyOf(m.namedParameters().keySet()), "both names stay");
        assertEquals(1, m.parameters().size());
        assertSame(w, m.parameters().get(0));
        assertEquals(1, m.parameterCount());

        // y = x w^2 with x = 3: dy/dw = 2 x w = 12 (6 from each use); one SGD step with lr 0.1: 2 - 1.2 = 0.8
        Sgd opt = new Sgd(m.parameters(), 0.1);
        m.zeroGrad();
        m.forward(Tensor.of(new float[] {3f}, 1, 1), true);
        m.backward(Tensor.of(new float[] {1f}, 1, 1));
        assertEquals(12f, w.grad().toFloatArray()[0]);
        opt.step();
        assertEquals(0.8f, w.value().toFloatArray()[0], 1e-6f);
    }
}
