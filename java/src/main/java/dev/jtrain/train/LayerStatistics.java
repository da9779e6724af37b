package dev.jtrain.train;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Activation and gradient statistics once per epoch. Activations: after the training steps, a fixed probe batch
 * goes through the layers of a {@link Sequential} model one by one in eval mode, and each layer's output gets its
 * mean and standard deviation (population, over every element); after a ReLU, the dead fraction is the share of
 * units (output features or channel positions) that are 0 for every sample of the probe batch. Gradients: the
 * mean and std of each trainable parameter's gradient of the epoch's last step. Values are read on the host
 * (one copy per layer per epoch). Models that are not a Sequential get the gradient statistics only.
 */
public final class LayerStatistics implements TrainingListener {

    /** One layer's output statistics on the probe batch; deadFraction is NaN for layers other than ReLU. */
    public record Activation(String layer, String type, double mean, double std, double deadFraction) {
    }

    /** One parameter's gradient statistics at the epoch's last step. */
    public record Gradient(String parameter, double mean, double std) {
    }

    private final Layer model;
    private final Tensor probe;
    private final PrintWriter log;   // may be null
    private List<Activation> activations = List.of();
    private List<Gradient> gradients = List.of();

    /** {@code probe}: a batch of inputs on the model's device (the caller keeps it alive). */
    public LayerStatistics(Layer model, Tensor probe, PrintWriter log) {
        this.model = model;
        this.probe = probe;
        this.log = log;
    }

    @Override
    public void onTrainPhaseEnd(int epoch) {
        gradients = gradientStats(model);
        activations = model instanceof Sequential s ? activationStats(s, probe) : List.of();
        if (log != null) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  activations, epoch %d:", epoch));
            for (Activation a : activations) {
                sb.append(String.format(Locale.ROOT, " %s %s mean %.3g std %.3g%s;", a.layer, a.type, a.mean, a.std,
                        Double.isNaN(a.deadFraction) ? "" : String.format(Locale.ROOT, " dead %.1f%%", 100 * a.deadFraction)));
            }
            sb.append(String.format("%n  gradients, epoch %d:", epoch));
            for (Gradient g : gradients) {
                sb.append(String.format(Locale.ROOT, " %s mean %.2e std %.2e;", g.parameter, g.mean, g.std));
            }
            log.println(sb);
            log.flush();
        }
    }

    /** Per layer of {@code model}, the output statistics of {@code x} (eval mode). */
    public static List<Activation> activationStats(Sequential model, Tensor x) {
        List<Activation> out = new ArrayList<>();
        Tensor h = x;
        List<Layer> layers = model.layers();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            h = l.forward(h, false);
            float[] v = h.to(Device.CPU).toFloatArray();
            double[] ms = meanStd(v);
            double dead = l instanceof ReLU ? deadFraction(v, h.dim(0)) : Double.NaN;
            out.add(new Activation(String.valueOf(i), l.getClass().getSimpleName(), ms[0], ms[1], dead));
        }
        return out;
    }

    /** Share of units (positions of one sample) that are 0 in every one of the {@code n} samples. */
    static double deadFraction(float[] v, int n) {
        int units = v.length / n;
        int dead = 0;
        for (int u = 0; u < units; u++) {
            boolean allZero = true;
            for (int s = 0; s < n && allZero; s++) {
                allZero = v[s * units + u] == 0f;
            }
            if (allZero) {
                dead++;
            }
        }
        return units == 0 ? 0 : (double) dead / units;
    }

    public static List<Gradient> gradientStats(Layer model) {
        List<Gradient> out = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            double[] ms = meanStd(e.getValue().grad().to(Device.CPU).toFloatArray());
            out.add(new Gradient(e.getKey(), ms[0], ms[1]));
        }
        return out;
    }

    /** Mean and population standard deviation in double. */
    static double[] meanStd(float[] v) {
        double sum = 0;
        for (float f : v) {
            sum += f;
        }
        double mean = sum / v.length;
        double sq = 0;
        for (float f : v) {
            sq += (f - mean) * (f - mean);
        }
        return new double[] {mean, Math.sqrt(sq / v.length)};
    }

    public List<Activation> activations() {
        return activations;
    }

    public List<Gradient> gradients() {
        return gradients;
    }
}
