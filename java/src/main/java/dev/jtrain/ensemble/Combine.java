package dev.jtrain.ensemble;

import java.util.Locale;

/**
 * How an ensemble combines its members' predictions ({@code jtrain ensemble --combine}).
 * <ul>
 *   <li>{@link #PROBS} (the default, the standard): the mean of the members' softmax probabilities; the ensemble's
 *       loss is the negative log of the mean probability of the true class (computed as
 *       {@code -(logsumexp_m(log p_m[y]) - log M)}, stable for tiny probabilities);</li>
 *   <li>{@link #LOGITS}: the softmax of the mean of the members' logits; the loss is that softmax's cross-entropy;</li>
 *   <li>{@link #VOTE}: each member votes for its top class (its first maximum); the class with most votes wins, a tie
 *       going to the lowest class index (scikit-learn's hard voting); the scores are the vote fractions and there is
 *       no loss (NaN).</li>
 * </ul>
 */
public enum Combine {
    PROBS, LOGITS, VOTE;

    /** {@code probs}, {@code logits} or {@code vote} (any case); the error names the choices. */
    public static Combine parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "probs" -> PROBS;
            case "logits" -> LOGITS;
            case "vote" -> VOTE;
            default -> throw new IllegalArgumentException("unknown combination rule '" + text
                    + "' (expected probs, logits or vote)");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
