package dev.jtrain.ensemble;

import dev.jtrain.data.Dataset;
import dev.jtrain.tensor.Device;

import java.util.ArrayList;
import java.util.List;

/**
 * Model ensembles: several trained models predict the same samples and their predictions are combined
 * ({@link Combine}: by default the mean of their softmax probabilities). {@link #evaluate} reports each member's
 * accuracy and loss and the ensemble's ({@link EnsembleReport}). The members' forward passes run on the device; the
 * combination runs on the host in double precision ({@link Predictions}).
 */
public final class Ensemble {
    private Ensemble() {
    }

    /** The ensemble's per-sample class scores (probabilities, or vote fractions) and its accuracy and loss. */
    public record Combined(Combine rule, int samples, int classes, double[] scores, double accuracy, double loss) {
        /** Score of class c for sample i. */
        public double score(int i, int c) {
            return scores[i * classes + c];
        }
    }

    /**
     * Evaluates {@code members} on {@code raw} (samples as loaded: each member applies its own preprocessing) on
     * {@code device}. Every member must have the same number of classes, at least the data's.
     */
    public static EnsembleReport evaluate(List<Member> members, Dataset raw, Combine rule, Device device, int batchSize) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one member");
        }
        Member first = members.get(0);
        for (Member m : members) {
            if (m.classes() != first.classes()) {
                throw new IllegalArgumentException(m.name() + " predicts " + m.classes() + " classes, " + first.name()
                        + " " + first.classes() + ": the members of an ensemble must share their classes");
            }
        }
        if (raw.numClasses() > first.classes()) {
            throw new IllegalArgumentException(first.name() + " predicts " + first.classes() + " classes, but "
                    + raw.name() + " has labels of " + raw.numClasses());
        }
        List<Predictions> preds = new ArrayList<>();
        List<EnsembleReport.Row> rows = new ArrayList<>();
        long[] labels = raw.labels();
        for (Member m : members) {
            Predictions p = Predictions.of(m.model(), m.prepare(raw), device, batchSize);
            preds.add(p);
            rows.add(new EnsembleReport.Row(m.name(), p.accuracy(labels), p.loss(labels)));
        }
        Combined c = combine(preds, labels, rule);
        return new EnsembleReport(rule, raw.size(), rows, new EnsembleReport.Row("ensemble of " + members.size(),
                c.accuracy(), c.loss()));
    }

    /** Combines the members' predictions of the same samples by {@code rule} and scores them against {@code labels}. */
    public static Combined combine(List<Predictions> members, long[] labels, Combine rule) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one member");
        }
        int n = members.get(0).samples();
        int k = members.get(0).classes();
        for (Predictions p : members) {
            if (p.samples() != n || p.classes() != k) {
                throw new IllegalArgumentException("members predict " + p.samples() + " x " + p.classes() + " and " + n
                        + " x " + k + " (samples x classes): they must predict the same samples and classes");
            }
        }
        if (labels.length != n) {
            throw new IllegalArgumentException(labels.length + " labels for " + n + " samples");
        }
        int m = members.size();
        double[] scores = new double[n * k];
        double lossSum = 0;
        for (int i = 0; i < n; i++) {
            int o = i * k;
            int y = (int) labels[i];
            switch (rule) {
                case PROBS -> {
                    double maxLog = Double.NEGATIVE_INFINITY;
                    for (Predictions p : members) {
                        double lse = p.logSumExp(i);
                        for (int c = 0; c < k; c++) {
                            scores[o + c] += Math.exp(p.logits()[o + c] - lse) / m;
                        }
                        maxLog = Math.max(maxLog, p.logProb(i, y));
                    }
                    double s = 0; // log mean_m p_m[y] = logsumexp_m(log p_m[y]) - log M
                    for (Predictions p : members) {
                        s += Math.exp(p.logProb(i, y) - maxLog);
                    }
                    lossSum -= maxLog + Math.log(s) - Math.log(m);
                }
                case LOGITS -> {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < k; c++) {
                        double z = 0;
                        for (Predictions p : members) {
                            z += p.logits()[o + c];
                        }
                        scores[o + c] = z / m;
                        max = Math.max(max, scores[o + c]);
                    }
                    double s = 0;
                    for (int c = 0; c < k; c++) {
                        s += Math.exp(scores[o + c] - max);
                    }
                    double lse = max + Math.log(s);
                    lossSum -= scores[o + y] - lse;
                    for (int c = 0; c < k; c++) {
                        scores[o + c] = Math.exp(scores[o + c] - lse);
                    }
                }
                case VOTE -> {
                    for (Predictions p : members) {
                        scores[o + p.top(i)] += 1.0 / m;
                    }
                }
                default -> throw new IllegalStateException(rule.toString());
            }
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) {
                if (scores[i * k + c] > scores[i * k + best]) {
                    best = c; // the first maximum: a tied vote goes to the lowest class index
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        double accuracy = n == 0 ? Double.NaN : (double) correct / n;
        double loss = rule == Combine.VOTE || n == 0 ? Double.NaN : lossSum / n;
        return new Combined(rule, n, k, scores, accuracy, loss);
    }
}
