package dev.jtrain.cli;

import dev.jtrain.init.InitScheme;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code jtrain train --init SCHEME}: re-initialises the model's weights after it is built (see {@link InitScheme}
 * for the schemes); without the flag, or with {@code default}, the layers keep PyTorch's defaults and the run
 * is bit-for-bit what it was without this option. A bad scheme is a usage error naming it.
 */
public final class InitOptions {

    /** picocli's converter: a parse error becomes a usage error with InitScheme's message. */
    static final class SchemeConverter implements CommandLine.ITypeConverter<InitScheme> {
        @Override
        public InitScheme convert(String value) {
            try {
                return InitScheme.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("--init: " + e.getMessage());
            }
        }
    }

    @Option(names = "--init", paramLabel = "SCHEME", converter = SchemeConverter.class,
            description = "weight init: default (PyTorch's), constant:V, uniform:A, normal:STD, "
                    + "xavier[-normal|-uniform][:GAIN], he[-normal|-uniform][:fan_in|fan_out][:NONLINEARITY]; "
                    + "biases are set to 0 (default: default)")
    InitScheme init = InitScheme.pytorchDefault();

    public InitScheme scheme() {
        return init;
    }

    /** Applies the scheme to {@code model} with the run's generator (no draws for default). */
    public void apply(Layer model, Generator gen) {
        init.apply(model, gen);
    }
}
