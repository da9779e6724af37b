package dev.jtrain.cli;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The library's messages name its API parameters ({@code "lr must be a positive number"}); a command shows
 * them with its option names ({@code "--lr must be a positive number"}). Whole words only, so
 * {@code lr} does not touch {@code lr_decay}.
 */
final class OptionNames {
    /** {@code Optimizers.Settings} components and their {@code train} options. */
    static final Map<String, String> OPTIMIZER = Map.of(
            "lr", "--lr", "momentum", "--momentum", "weightDecay", "--weight-decay", "nesterov", "--nesterov");

    /** {@code HyperparameterSearch.Settings} components and the search space's name, and their {@code search} options. */
    static final Map<String, String> SEARCH = Map.of("mode", "--mode", "trials", "--trials", "gridPoints", "--grid-points",
            "rounds", "--rounds", "keep", "--keep", "margin", "--margin", "search space", "--space");

    /** {@code Models.validate}'s parameters and {@code Models.Options} components, and their {@code train} options. */
    static final Map<String, String> MODEL = Map.of("activation", "--activation", "hidden", "--hidden",
            "batchNorm", "--batchnorm", "dropConnect", "--drop-connect", "stochasticDepth", "--stochastic-depth",
            "dropout", "--dropout");

    /** {@code GpuBackend.useKernels}'s choice and its {@code --kernels} value. */
    static final Map<String, String> KERNELS = Map.of("KernelChoice.VENDOR", "--kernels vendor");

    /** The data pipeline's spec names and their {@code train} options. */
    static final Map<String, String> DATA = Map.of("preprocessing", "--preprocess", "augmentation", "--augment");

    private OptionNames() {
    }

    /** {@code message} with every whole-word API name in {@code options} replaced by its option name. */
    static String reword(String message, Map<String, String> options) {
        if (message == null || options.isEmpty()) {
            return message;
        }
        Pattern names = Pattern.compile("(?<![\\w-])(" + options.keySet().stream().map(Pattern::quote)
                .collect(Collectors.joining("|")) + ")(?![\\w-])");
        Matcher m = names.matcher(message);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(options.get(m.group(1))));
        }
        return m.appendTail(out).toString();
    }
}
