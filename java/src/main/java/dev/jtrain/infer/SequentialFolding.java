package dev.jtrain.infer;

import dev.jtrain.backend.ConvSpec;
import dev.jtrain.nn.BatchNormFolding;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Identity;
import dev.jtrain.nn.layers.Linear;

import java.util.List;

/**
 * BatchNorm folding of a whole model for inference: in every {@link Sequential} (nested ones included), a
 * {@code Linear} or {@code Conv2d} directly followed by a BatchNorm is replaced by the layer
 * {@link BatchNormFolding} computes (with a bias), and the BatchNorm by an {@link Identity}. Indices are kept, so
 * parameter names are those of {@code jtrain export --fold-bn} (and of PyTorch's model with each folded
 * BatchNorm replaced by {@code nn.Identity()}). Other layers (a BatchNorm after anything else, the BatchNorms
 * inside a residual block, a DropConnect, a Conv2d with a non-square geometry) are kept as they are. The result
 * computes, in eval mode, what the model computes in eval mode, up to float rounding.
 */
final class SequentialFolding {
    private SequentialFolding() {
    }

    /**
     * The folded model. Consumes {@code model}: the layers that were folded are closed, the others move into the
     * result (which is {@code model} itself when nothing could be folded); use only the result afterwards.
     */
    static Layer fold(Layer model) {
        if (!(model instanceof Sequential seq)) {
            return model;
        }
        List<Layer> layers = seq.layers();
        Layer[] out = layers.toArray(new Layer[0]);
        boolean changed = false;
        for (int i = 0; i < out.length; i++) {
            Layer folded = fold(out[i]);
            if (folded != out[i]) {
                out[i] = folded;
                changed = true;
            }
            if (i > 0 && out[i] instanceof BatchNorm bn) {
                Layer fused = fuse(out[i - 1], bn);
                if (fused != null) {
                    out[i - 1].close();
                    bn.close();
                    out[i - 1] = fused;
                    out[i] = new Identity();
                    changed = true;
                }
            }
        }
        return changed ? new Sequential(out) : model;
    }

    /** The layer computing {@code bn(layer(x))} in eval mode, or null when {@code layer} cannot take it. */
    private static Layer fuse(Layer layer, BatchNorm bn) {
        if (layer.getClass() == Linear.class) { // exactly Linear: a subclass (DropConnect) transforms its weight
            Linear lin = (Linear) layer;
            return lin.outFeatures() == bn.channels() ? BatchNormFolding.foldIntoLinear(lin, bn) : null;
        }
        if (layer.getClass() == Conv2d.class) {
            Conv2d conv = (Conv2d) layer;
            ConvSpec s = conv.spec();
            boolean square = s.kernelH() == s.kernelW() && s.strideH() == s.strideW() && s.padH() == s.padW();
            return square && conv.weight().value().dim(0) == bn.channels() ? BatchNormFolding.foldIntoConv(conv, bn)
                    : null;
        }
        return null;
    }
}
