package dev.jtrain.train;

import dev.jtrain.nn.Layer;
import dev.jtrain.tensor.Tensor;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Early stopping: after each epoch, reads the evaluation metric ({@link #evaluationAccuracy}: validation accuracy
 * when the run has a validation set, else the test set's), keeps a copy of the weights of the best epoch so far,
 * and asks the trainer to stop once {@code patience} epochs in a row have not improved on it. At the end of the
 * run (stopped or not) the best epoch's weights are put back, bit-exactly (parameters and buffers).
 *
 * <p>"Improved" means strictly greater (for accuracy; strictly smaller for a loss, see {@link #minimizing}); a tie
 * keeps the earlier, and a NaN metric never improves. With EMA on, the snapshot is of the weights that were
 * evaluated (the averaged ones).
 */
public final class EarlyStopping implements TrainingListener, AutoCloseable {
    private final int patience;
    private final ToDoubleFunction<EpochMetrics> metric;
    private final boolean maximize;
    private final WeightSnapshot best;
    private final PrintWriter log;   // may be null
    private double bestValue = Double.NaN;
    private int bestEpoch;
    private int sinceBest;
    private boolean stop;

    private EarlyStopping(Layer model, int patience, ToDoubleFunction<EpochMetrics> metric, boolean maximize, PrintWriter log) {
        if (patience < 1) {
            throw new IllegalArgumentException("early stopping: patience must be >= 1 epoch, got " + patience);
        }
        this.patience = patience;
        this.metric = metric;
        this.maximize = maximize;
        this.best = new WeightSnapshot(model);
        this.log = log;
    }

    /** Stops on the evaluation accuracy (higher is better). */
    public static EarlyStopping onAccuracy(Layer model, int patience, PrintWriter log) {
        return new EarlyStopping(model, patience, EarlyStopping::evaluationAccuracy, true, log);
    }

    /** Stops on any per-epoch metric where lower is better (e.g. a loss). */
    public static EarlyStopping minimizing(Layer model, int patience, ToDoubleFunction<EpochMetrics> metric, PrintWriter log) {
        return new EarlyStopping(model, patience, metric, false, log);
    }

    /** Stops on any per-epoch metric where higher is better. */
    public static EarlyStopping maximizing(Layer model, int patience, ToDoubleFunction<EpochMetrics> metric, PrintWriter log) {
        return new EarlyStopping(model, patience, metric, true, log);
    }

    /**
     * The metric a run is judged by: the validation accuracy when the run has a validation set ({@code --val-split}),
     * else the test set's (then the test set is also the one model selection sees).
     */
    public static double evaluationAccuracy(EpochMetrics m) {
        return m.hasValidation() ? m.valAccuracy() : m.testAccuracy();
    }

    /** The validation loss, else the test loss (see {@link #evaluationAccuracy}). */
    public static double evaluationLoss(EpochMetrics m) {
        return m.hasValidation() ? m.valLoss() : m.testLoss();
    }

    @Override
    public void onEpochEnd(EpochMetrics m) {
        double v = metric.applyAsDouble(m);
        boolean better = !Double.isNaN(v) && (Double.isNaN(bestValue) || (maximize ? v > bestValue : v < bestValue));
        if (better) {
            bestValue = v;
            bestEpoch = m.epoch();
            sinceBest = 0;
            best.capture();
        } else {
            sinceBest++;
            stop = sinceBest >= patience;
        }
    }

    @Override
    public boolean stopRequested() {
        return stop;
    }

    @Override
    public void onTrainEnd(List<EpochMetrics> history) {
        if (best.isEmpty()) {
            return; // no epoch ever had a metric: leave the model as trained
        }
        best.restore();
        if (log != null) {
            log.printf(Locale.ROOT, "early stopping: %s after epoch %d; restored the weights of epoch %d (metric %.6g)%n",
                    stop ? "stopped" : "ran all epochs", history.size(), bestEpoch, bestValue);
            log.flush();
        }
    }

    /**
     * Continues a saved early stopping (a resumed run): the best value and epoch so far, the epochs since it, and the
     * best epoch's weights by the model's names (ignored when {@code bestEpoch} is 0: no epoch had a metric yet).
     */
    public void restore(double bestValue, int bestEpoch, int epochsSinceBest, Map<String, Tensor> bestWeights) {
        if (bestEpoch < 0 || epochsSinceBest < 0) {
            throw new IllegalArgumentException("early stopping state: best epoch " + bestEpoch + " and epochs since "
                    + epochsSinceBest + " must be >= 0");
        }
        if (bestEpoch > 0) {
            best.set(bestWeights);
        }
        this.bestValue = bestEpoch > 0 ? bestValue : Double.NaN;
        this.bestEpoch = bestEpoch;
        this.sinceBest = epochsSinceBest;
        this.stop = sinceBest >= patience;
    }

    public int patience() {
        return patience;
    }

    /** Whether a higher metric is better. */
    public boolean maximizing() {
        return maximize;
    }

    /** Epochs in a row since the best one (0 right after an improvement). */
    public int epochsSinceBest() {
        return sinceBest;
    }

    /** The best epoch's weights by name (the snapshot's own tensors: read, do not close); empty before one. */
    public Map<String, Tensor> bestWeights() {
        return best.values();
    }

    public int bestEpoch() {
        return bestEpoch;
    }

    public double bestValue() {
        return bestValue;
    }

    public boolean stopped() {
        return stop;
    }

    @Override
    public void close() {
        best.close();
    }
}
