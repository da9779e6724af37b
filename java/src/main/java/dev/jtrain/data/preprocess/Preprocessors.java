package dev.jtrain.data.preprocess;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.jtrain.data.Dataset;

import java.util.List;
import java.util.Locale;

/**
 * The preprocessing choices of {@code jtrain train --preprocess}, fitted on the training set only:
 * <ul>
 *   <li>{@code none}: pixels as loaded, in [0, 1];</li>
 *   <li>{@code center}: subtract each channel's mean;</li>
 *   <li>{@code standardize}: per channel (x - mean) / std (the default);</li>
 *   <li>{@code mean-image}: subtract the mean image (one mean per feature);</li>
 *   <li>{@code pca:K}: project the centered data onto its first K principal axes (samples become [K]);</li>
 *   <li>{@code zca} or {@code zca:EPS}: ZCA whitening, eps default {@value Zca#DEFAULT_EPSILON}.</li>
 * </ul>
 */
public final class Preprocessors {
    public static final List<String> NAMES = List.of(Identity.TYPE, ChannelNormalize.CENTER, ChannelNormalize.STANDARDIZE,
            MeanImage.TYPE, "pca:K", "zca[:EPS]");

    private Preprocessors() {
    }

    /** A parsed {@code --preprocess} value, not yet fitted. */
    public record Spec(String type, int components, double epsilon) {
        /** Fits this preprocessing on {@code train} (statistics of the training set only). */
        public Preprocessor fit(Dataset train) {
            return switch (type) {
                case Identity.TYPE -> new Identity(train.sampleDims());
                case ChannelNormalize.CENTER -> ChannelNormalize.fit(train, false);
                case ChannelNormalize.STANDARDIZE -> ChannelNormalize.fit(train, true);
                case MeanImage.TYPE -> MeanImage.fit(train);
                case Pca.TYPE -> Pca.fit(train, components);
                case Zca.TYPE -> Zca.fit(train, epsilon);
                default -> throw new IllegalStateException(type);
            };
        }

        /** The sample shape this preprocessing will produce from samples of {@code inputDims} (known before fitting). */
        public int[] outputDims(int[] inputDims) {
            return type.equals(Pca.TYPE) ? new int[] {components} : inputDims.clone();
        }
    }

    /** Parses a {@code --preprocess} value; the error names the value and the choices. */
    public static Spec parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        String head = t.contains(":") ? t.substring(0, t.indexOf(':')) : t;
        String arg = t.contains(":") ? t.substring(t.indexOf(':') + 1).trim() : null;
        switch (head) {
            case Identity.TYPE, ChannelNormalize.CENTER, ChannelNormalize.STANDARDIZE, MeanImage.TYPE:
                if (arg != null) {
                    throw bad(text, head + " takes no parameter");
                }
                return new Spec(head, 0, 0);
            case Pca.TYPE:
                if (arg == null) {
                    throw bad(text, "pca needs the number of components, e.g. pca:50");
                }
                int k;
                try {
                    k = Integer.parseInt(arg);
                } catch (NumberFormatException e) {
                    throw bad(text, "'" + arg + "' is not a number of components (expected e.g. pca:50)");
                }
                if (k < 1) {
                    throw bad(text, "the number of components must be >= 1");
                }
                return new Spec(Pca.TYPE, k, 0);
            case Zca.TYPE:
                double eps = Zca.DEFAULT_EPSILON;
                if (arg != null) {
                    try {
                        eps = Double.parseDouble(arg);
                    } catch (NumberFormatException e) {
                        throw bad(text, "'" + arg + "' is not a number (expected e.g. zca:1e-5)");
                    }
                    if (!(eps >= 0) || Double.isInfinite(eps)) {
                        throw bad(text, "epsilon must be a finite number >= 0");
                    }
                }
                return new Spec(Zca.TYPE, 0, eps);
            default:
                throw bad(text, "unknown preprocessing");
        }
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("preprocessing '" + text + "': " + why + " (expected one of "
                + String.join(", ", NAMES) + ")");
    }

    /** Parses and fits in one go. */
    public static Preprocessor fit(String spec, Dataset train) {
        return parse(spec).fit(train);
    }

    /** Restores a fitted preprocessing from its {@link Preprocessor#toJson()}; errors name the bad field. */
    public static Preprocessor fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("preprocessing: expected a JSON object, got "
                    + (node == null ? "nothing" : node.getNodeType()));
        }
        ObjectNode o = (ObjectNode) node;
        String type = JsonArrays.field(o, "type").asText();
        return switch (type) {
            case Identity.TYPE -> Identity.fromJson(o);
            case ChannelNormalize.CENTER -> ChannelNormalize.fromJson(o, false);
            case ChannelNormalize.STANDARDIZE -> ChannelNormalize.fromJson(o, true);
            case MeanImage.TYPE -> MeanImage.fromJson(o);
            case Pca.TYPE -> Pca.fromJson(o);
            case Zca.TYPE -> Zca.fromJson(o);
            default -> throw new IllegalArgumentException("preprocessing: unknown type '" + type + "'");
        };
    }

    static int product(int[] dims) {
        long p = 1;
        for (int d : dims) {
            if (d < 1) {
                throw new IllegalArgumentException("sample dimensions must be >= 1, got " + java.util.Arrays.toString(dims));
            }
            p *= d;
        }
        if (p > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sample of " + java.util.Arrays.toString(dims) + " is too large");
        }
        return (int) p;
    }
}
