package dev.jtrain.nn;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checker itself must catch gradients that are off by 1 %, at the tolerances the layer tests use. */
class GradCheckTest {

    private static final class WrongDx extends Linear {
        WrongDx() {
            super(4, 3, true, new Generator(1));
        }

        @Override
        public Tensor backward(Tensor dy) {
            Tensor dx = super.backward(dy);
            Backends.of(dx).scale(dx, 1.01f);
            return dx;
        }
    }

    private static final class WrongBiasGrad extends Linear {
        WrongBiasGrad() {
            super(4, 3, true, new Generator(1));
        }

        @Override
        public Tensor backward(Tensor dy) {
            Tensor dx = super.backward(dy);
            Backends.of(bias().grad()).scale(bias().grad(), 1.01f);
            return dx;
        }
    }

    @Test
    void catchesAOnePercentErrorInDx() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GradCheck.checkLayer(new WrongDx(), GradCheck.uniform(1, -1, 1, 5, 4), true, 5e-2, 1e-3, 1e-4));
        assertTrue(e.getMessage().contains("dx:"), e.getMessage());
    }

    @Test
    void catchesAOnePercentErrorInAParameterGradient() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> GradCheck.checkLayer(new WrongBiasGrad(), GradCheck.uniform(1, -1, 1, 5, 4), true, 5e-2, 1e-3, 1e-4));
        assertTrue(e.getMessage().contains("dbias") && !e.getMessage().contains("dweight"), e.getMessage());
    }

    @Test
    void smoothTolerancesCatchAOnePercentError() {
        // the activation tolerances (h 1e-2, rtol 1e-3, atol 5e-5) reject a 1 % error in tanh's dx
        Layer wrongTanh = new Tanh() {
            @Override
            public Tensor backward(Tensor dy) {
                Tensor dx = super.backward(dy);
                Backends.of(dx).scale(dx, 1.01f);
                return dx;
            }
        };
        assertThrows(AssertionFailedError.class,
                () -> GradCheck.checkLayer(wrongTanh, GradCheck.uniform(13, -3, 3, 5, 8), true, 1e-2, 1e-3, 5e-5));
    }
}
