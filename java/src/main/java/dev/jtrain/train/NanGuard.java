package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A NaN/Inf guard checked after every optimizer step: the batch loss and one sum of squares over every
 * trainable parameter (one device reduction and one host read per step). When either is not finite, the
 * parameters are scanned on the host in the model's order and the run stops with a
 * {@link DivergenceMonitor.TrainingDivergedException} naming the step, the first layer whose weights hold a
 * NaN/Inf (or, when every weight is still finite, that the loss itself overflowed, and the first layer whose
 * gradient is not finite). Steps are counted over the run, from 1. A sum of squares that overflows while
 * every value is finite is not an error.
 */
public final class NanGuard implements TrainingListener, AutoCloseable {
    private final List<Map.Entry<String, Parameter>> params = new ArrayList<>();
    private final List<Tensor> values = new ArrayList<>();
    private Tensor total;
    private long step;

    public NanGuard(Layer model) {
        params.addAll(model.namedParameters().entrySet());
    }

    @Override
    public void onStep(int epoch, int stepInEpoch, int batchSize, Tensor loss) {
        step++;
        double l = loss.to(Device.CPU).item();
        values.clear();
        for (Map.Entry<String, Parameter> e : params) {
            values.add(e.getValue().value());
        }
        if (values.isEmpty()) {
            return;
        }
        Backend b = Backends.of(values.get(0));
        if (total == null || !total.device().equals(b.device())) {
            total = b.zeros(DType.FLOAT32, Shape.of(1));
        }
        b.sumSquares(values, total);
        double sq = total.to(Device.CPU).item();
        if (Double.isFinite(l) && Double.isFinite(sq)) {
            return;
        }
        String badWeight = firstNonFinite(false);
        if (badWeight != null) {
            throw new DivergenceMonitor.TrainingDivergedException(String.format(Locale.ROOT,
                    "training diverged at step %d (epoch %d, batch %d): the weights of layer %s (%s) became NaN/Inf first"
                            + " (batch loss %s; try a smaller learning rate)", step, epoch, stepInEpoch, layerOf(badWeight), badWeight, l));
        }
        if (!Double.isFinite(l)) {
            String badGrad = firstNonFinite(true);
            throw new DivergenceMonitor.TrainingDivergedException(String.format(Locale.ROOT,
                    "training diverged at step %d (epoch %d, batch %d): the batch loss is %s while every weight is finite"
                            + " (the forward pass overflowed)%s; try a smaller learning rate", step, epoch, stepInEpoch, l,
                    badGrad == null ? "" : "; first non-finite gradient in layer " + layerOf(badGrad) + " (" + badGrad + ")"));
        }
    }

    /** The name of the first parameter (model order) whose value (or gradient) holds a NaN or an infinity. */
    private String firstNonFinite(boolean gradient) {
        for (Map.Entry<String, Parameter> e : params) {
            Tensor t = gradient ? e.getValue().grad() : e.getValue().value();
            for (float v : t.to(Device.CPU).toFloatArray()) { // host copy only once something is wrong
                if (!Float.isFinite(v)) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    /** "2.weight" -> "2", "block.conv.weight" -> "block.conv", "weight" -> "weight". */
    static String layerOf(String paramName) {
        int dot = paramName.lastIndexOf('.');
        return dot < 0 ? paramName : paramName.substring(0, dot);
    }

    public long steps() {
        return step;
    }

    @Override
    public void close() {
        if (total != null) {
            total.close();
            total = null;
        }
    }
}
