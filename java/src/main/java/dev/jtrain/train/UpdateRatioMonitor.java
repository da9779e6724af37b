package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-layer update/weight ratio {@code ||w_after - w_before|| / ||w_before||} of the weight matrices and
 * kernels (trainable parameters of rank >= 2), measured on one optimizer step out of every {@code every}
 * (the weights are copied on the device after the step before it). At each epoch's end the epoch's mean ratio
 * per layer is kept ({@link #epochRatios()}) and, with a log, printed; a ratio outside [1e-4, 1e-2] (a factor
 * 10 from the rule of thumb ~1e-3) gets a warning: too low, the LR is probably too small; too high, too large.
 */
public final class UpdateRatioMonitor implements TrainingListener, AutoCloseable {
    public static final double LOW = 1e-4;
    public static final double HIGH = 1e-2;

    private final List<String> names = new ArrayList<>();
    private final List<Parameter> params = new ArrayList<>();
    private final int every;
    private final PrintWriter log;   // may be null
    private final List<Tensor> before = new ArrayList<>();
    private final List<Tensor> diff = new ArrayList<>();
    private Tensor scalar;
    private boolean captured;
    private long step;
    private final double[] sums;
    private int samples;
    private final Map<String, Double> epochRatios = new LinkedHashMap<>();
    private final Map<String, Double> lastRatios = new LinkedHashMap<>();

    public UpdateRatioMonitor(Layer model, int every, PrintWriter log) {
        if (every < 1) {
            throw new IllegalArgumentException("update ratio: every must be >= 1, got " + every);
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            if (e.getValue().value().rank() >= 2) {
                names.add(e.getKey());
                params.add(e.getValue());
            }
        }
        this.every = every;
        this.log = log;
        this.sums = new double[params.size()];
    }

    @Override
    public void onEpochStart(int epoch, int steps) {
        java.util.Arrays.fill(sums, 0);
        samples = 0;
        captured = false; // another listener (EMA) may have swapped weights in between
    }

    @Override
    public void onStep(int epoch, int stepInEpoch, int batchSize, Tensor loss) {
        step++;
        if (captured) {
            measure();
            captured = false;
        }
        if ((step + 1) % every == 0) {
            capture();
        }
    }

    private void capture() {
        for (int i = 0; i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Backend b = Backends.of(w);
            if (before.size() <= i) {
                before.add(b.zeros(w.dtype(), w.shape()));
                diff.add(b.zeros(w.dtype(), w.shape()));
            }
            b.copy(w, before.get(i));
        }
        captured = true;
    }

    private void measure() {
        for (int i = 0; i < params.size(); i++) {
            Tensor w = params.get(i).value();
            Backend b = Backends.of(w);
            if (scalar == null || !scalar.device().equals(b.device())) {
                scalar = b.zeros(DType.FLOAT32, Shape.of(1));
            }
            b.copy(w, diff.get(i));
            b.axpy(-1f, before.get(i), diff.get(i));        // diff = w_after - w_before
            b.sumSquares(diff.get(i), scalar, false);
            double update = Math.sqrt(scalar.to(Device.CPU).item());
            b.sumSquares(before.get(i), scalar, false);
            double weight = Math.sqrt(scalar.to(Device.CPU).item());
            double ratio = update / weight;
            lastRatios.put(names.get(i), ratio);
            sums[i] += ratio;
        }
        samples++;
    }

    @Override
    public void onTrainPhaseEnd(int epoch) {
        captured = false;
        if (samples == 0) {
            return;
        }
        epochRatios.clear();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  update/weight ratio, epoch %d:", epoch));
        List<String> warnings = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            double r = sums[i] / samples;
            epochRatios.put(names.get(i), r);
            line.append(String.format(Locale.ROOT, " %s %.2e", names.get(i), r));
            if (!(r >= LOW && r <= HIGH)) { // NaN too
                warnings.add(String.format(Locale.ROOT, "  warning: update/weight ratio of %s is %.2e, far from ~1e-3 "
                        + "(the learning rate is probably too %s)", names.get(i), r, r < LOW ? "small" : "large"));
            }
        }
        if (log != null) {
            log.println(line);
            warnings.forEach(log::println);
            log.flush();
        }
    }

    /** The last epoch's mean ratio per weight tensor, by parameter name. */
    public Map<String, Double> epochRatios() {
        return Map.copyOf(epochRatios);
    }

    /** The ratio of the last measured step, by parameter name. */
    public Map<String, Double> lastRatios() {
        return Map.copyOf(lastRatios);
    }

    @Override
    public void close() {
        for (Tensor t : before) {
            t.close();
        }
        for (Tensor t : diff) {
            t.close();
        }
        before.clear();
        diff.clear();
        if (scalar != null) {
            scalar.close();
        }
    }
}
