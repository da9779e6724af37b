package dev.jtrain.train;

import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.loss.Loss;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * The two checks to run before a long training run ({@code jtrain train --sanity}):
 *
 * <ol>
 *   <li><b>Initial loss</b>: with small random weights a softmax classifier of C classes predicts about 1/C for
 *   every class, so its mean cross-entropy is about ln C (2.303 for 10). The loss of the untrained model on the
 *   first training samples (eval mode) is compared with ln C: within 25 % is fine, beyond is a warning, beyond
 *   100 % (e.g. above 2 ln C) a failure (weights or inputs are off in scale).</li>
 *   <li><b>Overfitting a tiny subset</b>: trained on its first {@code n} (e.g. 20) training samples alone, in one
 *   batch, with a fresh optimizer of the run's settings, the model must reach 100 % training accuracy within a
 *   step budget; if it cannot, the model, loss or optimizer is broken. The model's weights (and buffers) are
 *   restored afterwards, bit-exactly; the dropout masks drawn come from the run's generator.</li>
 * </ol>
 */
public final class SanityCheck {
    public static final double WARN = 0.25;
    public static final double FAIL = 1.0;

    private SanityCheck() {
    }

    /** The outcome of one check: fine, suspicious, or wrong. */
    public enum Verdict { OK, WARN, FAIL }

    /** The initial-loss check's outcome; deviation is |loss - ln C| / ln C. */
    public record InitialLoss(double loss, double expected, double deviation, Verdict verdict) {
        public String describe() {
            return String.format(Locale.ROOT, "initial loss %.4f, expected about ln(C) = %.4f (%.0f%% off): %s", loss,
                    expected, 100 * deviation, switch (verdict) {
                        case OK -> "ok";
                        case WARN -> "warning: more than " + (int) (100 * WARN) + "% off; check the init scale and the inputs";
                        case FAIL -> "failed: more than " + (int) (100 * FAIL) + "% off; the weights or the inputs are badly scaled";
                    });
        }
    }

    /** The overfitting check's outcome: the steps run and the final training accuracy. */
    public record Overfit(int samples, int steps, double trainAccuracy, double trainLoss, boolean passed) {
        public String describe() {
            return String.format(Locale.ROOT, "overfitting %d samples: train accuracy %.1f%% (loss %.4f) after %d steps: %s",
                    samples, 100 * trainAccuracy, trainLoss, steps, passed ? "ok" : "failed: the model cannot even fit a "
                            + "tiny subset; check the model, the loss and the learning rate");
        }
    }

    /** The mean loss of {@code model} on (up to) the first {@code n} samples of {@code data}, in eval mode. */
    public static InitialLoss initialLoss(Trainer trainer, Dataset data, int n) {
        Dataset head = data.head(Math.min(n, data.size()));
        double loss = trainer.evaluate(head, head.size()).loss();
        double expected = Math.log(data.numClasses());
        double dev = Math.abs(loss - expected) / expected;
        Verdict v = !(dev <= FAIL) ? Verdict.FAIL : dev > WARN ? Verdict.WARN : Verdict.OK;
        return new InitialLoss(loss, expected, dev, v);
    }

    /**
     * Trains {@code model} on the first {@code n} samples of {@code data} in one batch for at most {@code maxSteps}
     * steps (stopping at 100 % training accuracy) with {@code newOptimizer} (given the model's parameters; closed
     * here), then restores the weights.
     */
    public static Overfit overfit(Layer model, Loss loss, Function<Layer, Optimizer> newOptimizer, Device device,
                                  Dataset data, int n, int maxSteps, Generator gen) {
        Dataset tiny = data.head(Math.min(n, data.size()));
        try (WeightSnapshot saved = new WeightSnapshot(model).capture();
             Optimizer opt = newOptimizer.apply(model);
             Trainer t = new Trainer(model, loss, opt, device)) {
            t.addListener(new TrainingListener() {
                private boolean done;

                @Override
                public void onEpochEnd(EpochMetrics m) {
                    done = m.trainAccuracy() >= 1.0;
                }

                @Override
                public boolean stopRequested() {
                    return done;
                }
            });
            List<EpochMetrics> h = t.fit(tiny, null, maxSteps, tiny.size(), gen);
            // the accuracy after the last step, measured in eval mode (the epoch's figure is over the steps' batches)
            double acc = t.evaluate(tiny, tiny.size()).accuracy();
            EpochMetrics last = h.get(h.size() - 1);
            saved.restore();
            return new Overfit(tiny.size(), h.size(), acc, last.trainLoss(), acc >= 1.0);
        }
    }

}
