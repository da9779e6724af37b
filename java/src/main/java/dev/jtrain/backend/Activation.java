package dev.jtrain.backend;

/**
 * An elementwise activation and its hyper-parameters, as the backends see it. Derivatives follow
 * PyTorch's conventions (FORMAT.md items 1-6): relu'(0) = 0, leaky'(0) = slope, selu'(0) = scale*alpha,
 * sigmoid/tanh backward computed from the output, softplus linear only when beta*x > threshold.
 */
public record Activation(Kind kind, float alpha, float beta) {

    /** The activation function; its ordinal is the {@code kind} the native kernels take. */
    public enum Kind { RELU, LEAKY_RELU, ELU, SELU, SIGMOID, TANH, GELU_ERF, GELU_TANH, SILU, SOFTPLUS, IDENTITY }

    /** SELU constants (FORMAT.md item 3), as float32 like PyTorch's kernel uses them. */
    public static final double SELU_ALPHA = 1.6732632423543772848;
    public static final double SELU_SCALE = 1.0507009873554804934;

    public static Activation relu() {
        return new Activation(Kind.RELU, 0f, 0f);
    }

    public static Activation leakyRelu(float negativeSlope) {
        return new Activation(Kind.LEAKY_RELU, negativeSlope, 0f);
    }

    public static Activation elu(float alpha) {
        return new Activation(Kind.ELU, alpha, 0f);
    }

    public static Activation selu() {
        return new Activation(Kind.SELU, (float) SELU_ALPHA, (float) SELU_SCALE);
    }

    public static Activation sigmoid() {
        return new Activation(Kind.SIGMOID, 0f, 0f);
    }

    public static Activation tanh() {
        return new Activation(Kind.TANH, 0f, 0f);
    }

    public static Activation gelu(boolean tanhApproximation) {
        return new Activation(tanhApproximation ? Kind.GELU_TANH : Kind.GELU_ERF, 0f, 0f);
    }

    public static Activation silu() {
        return new Activation(Kind.SILU, 0f, 0f);
    }

    /** Softplus: {@code alpha} holds beta, {@code beta} holds the threshold (PyTorch defaults 1 and 20). */
    public static Activation softplus(float beta, float threshold) {
        return new Activation(Kind.SOFTPLUS, beta, threshold);
    }

    public static Activation identity() {
        return new Activation(Kind.IDENTITY, 0f, 0f);
    }
}
