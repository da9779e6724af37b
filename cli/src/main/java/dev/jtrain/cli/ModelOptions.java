package dev.jtrain.cli;

import dev.jtrain.train.Models;
import picocli.CommandLine.Option;

/**
 * {@code jtrain train}'s architecture switches beyond {@code --model}/{@code --hidden}/{@code --dropout}
 * (see {@link Models}); a switch that does not apply to the chosen model is a usage error naming it.
 */
public final class ModelOptions {

    @Option(names = "--activation", paramLabel = "NAME",
            description = "hidden nonlinearity: relu, tanh, sigmoid, leaky-relu, elu, selu, gelu, silu or softplus "
                    + "(default: ${DEFAULT-VALUE}; resnet: relu only)")
    String activation = "relu";

    @Option(names = "--batchnorm", description = "BatchNorm after each hidden Linear/conv (mlp, cnn)")
    boolean batchNorm;

    @Option(names = "--drop-connect", paramLabel = "P",
            description = "DropConnect on the hidden Linear layers of mlp: drop weights with probability P (default: 0)")
    float dropConnect;

    @Option(names = "--stochastic-depth", paramLabel = "P",
            description = "resnet: drop probability of the last residual block, linear decay before it (default: 0)")
    float stochasticDepth;

    public Models.Options options() {
        return new Models.Options(activation, batchNorm, dropConnect, stochasticDepth);
    }
}
