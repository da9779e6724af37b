package dev.jtrain.regularize;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Tensor;

import java.util.List;

/**
 * Max-norm constraint on the rows of a weight {@code [Dout, Din]} (or {@code [Cout, ...]}), i.e. the incoming
 * weights of each unit: {@code w <- w c / ||w||} when {@code ||w|| > c} (exactly, unlike torch.renorm's
 * {@code c / (||w|| + 1e-7)}). Apply after each optimizer step.
 */
public final class MaxNorm {
    private final float c;

    public MaxNorm(double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("max-norm c must be a finite value > 0, got " + c);
        }
        this.c = (float) c;
    }

    public float c() {
        return c;
    }

    /** Rescales, in place, the rows of {@code w} whose L2 norm exceeds c. */
    public void apply(Tensor w) {
        Backends.of(w).maxNormRows(w, c);
    }

    /** Applies to each parameter's value. */
    public void apply(List<Parameter> params) {
        for (Parameter p : params) {
            apply(p.value());
        }
    }

    /** The L2 norm of each row of {@code w} ([rows] tensor on w's device). */
    public static Tensor rowNorms(Tensor w) {
        if (w.rank() < 1) {
            throw new IllegalArgumentException("rowNorms needs a tensor of rank >= 1, got shape " + w.shape());
        }
        Tensor out = Backends.of(w).zeros(w.dim(0));
        Backends.of(w).rowNorms(w, out);
        return out;
    }
}
