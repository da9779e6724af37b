package dev.jtrain.check;

import dev.jtrain.backend.Backends;
import dev.jtrain.regularize.ElasticNet;
import dev.jtrain.regularize.L1Penalty;
import dev.jtrain.regularize.L2Penalty;
import dev.jtrain.regularize.MaxNorm;
import dev.jtrain.regularize.Penalty;
import dev.jtrain.tensor.Tensor;

import java.util.Set;

/**
 * {@code l2_penalty}, {@code l1_penalty}, {@code elastic_net}: the library's {@link Penalty} on {@code W}
 * (penalty and dW from a zero gradient). {@code max_norm}: {@link MaxNorm} on the rows of {@code W}. Its exact
 * rule is also compared with {@code W_clipped_torch_renorm} (torch.renorm's 1e-7 difference is within tol).
 */
public final class RegularizerCases implements OpCase {

    @Override
    public Set<String> ops() {
        return Set.of("l2_penalty", "l1_penalty", "elastic_net", "max_norm");
    }

    @Override
    public void run(CaseContext ctx) {
        Tensor w = ctx.input("W");
        if ("max_norm".equals(ctx.op())) {
            maxNorm(ctx, w);
            return;
        }
        Penalty pen = switch (ctx.op()) {
            case "l2_penalty" -> new L2Penalty(ctx.paramDouble("lambda"));
            case "l1_penalty" -> new L1Penalty(ctx.paramDouble("lambda"));
            default -> new ElasticNet(ctx.paramDouble("lambda1"), ctx.paramDouble("lambda2"));
        };
        ctx.put("penalty", pen.penalty(w));
        Tensor grad = Backends.of(w).zeros(w.dtype(), w.shape());
        pen.addGradient(w, grad);
        ctx.put("dW", grad);
    }

    private static void maxNorm(CaseContext ctx, Tensor w) {
        if (ctx.paramDouble("p", 2) != 2) {
            throw new UnsupportedCaseException("max_norm with p = " + ctx.param("p") + " (only the L2 norm is supported)");
        }
        if (ctx.paramInt("dim", 0) != 0) {
            throw new UnsupportedCaseException("max_norm over dim " + ctx.param("dim") + " (rows, dim 0, only)");
        }
        if (w.rank() < 2) {
            throw new CaseException("wrong shape: input 'W' has shape " + w.shape() + ", expected [Dout, Din]");
        }
        MaxNorm mn = new MaxNorm(ctx.paramDouble("c"));
        ctx.put("row_norms_before", MaxNorm.rowNorms(w));
        mn.apply(w);
        ctx.put("W_clipped", w);
        ctx.put("W_clipped_torch_renorm", w);
        ctx.put("row_norms_after", MaxNorm.rowNorms(w));
    }
}
