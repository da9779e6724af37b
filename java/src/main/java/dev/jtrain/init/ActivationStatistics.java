package dev.jtrain.init;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.layers.Tanh;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The course's activation-statistics experiment: a batch of unit-Gaussian inputs goes through {@code layers}
 * square fully-connected layers (no bias) of {@code width} units, each followed by the nonlinearity, with the
 * weights drawn by an {@link InitScheme}; per layer, the mean and the (population) standard deviation of all the
 * activations it outputs. With N(0, 0.01^2) weights and tanh the std collapses towards 0 layer by layer (each
 * layer multiplies it by about 0.01 sqrt(width)); with N(0, 1) tanh saturates at +-1; Xavier keeps it of order
 * 1; with ReLU, He keeps it steady where Xavier halves the variance per layer.
 *
 * <p>Runs on any device from Backend ops; the statistics are the Backend's sum and sum of squares (double
 * accumulation on the cpu), read back as two numbers per layer. Draws: the input, then each layer's weight, from
 * one {@link Generator} of the given seed (one offset each), so a seed gives the same bits on every device.
 */
public final class ActivationStatistics {

    /** The statistics of one layer's output (layer 1 is the first hidden layer). */
    public record LayerStats(int layer, double mean, double std) {
    }

    /** The nonlinearities the experiment offers. */
    public enum Nonlinearity {
        TANH, RELU;

        public static Nonlinearity parse(String name) {
            return switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "tanh" -> TANH;
                case "relu" -> RELU;
                default -> throw new IllegalArgumentException("unknown activation '" + name + "' (expected tanh or relu)");
            };
        }

        Layer layer() {
            return this == TANH ? new Tanh() : new ReLU();
        }
    }

    private ActivationStatistics() {
    }

    /** Runs the experiment on {@code device}; every tensor it makes there is released at the end. */
    public static List<LayerStats> run(InitScheme scheme, Nonlinearity nonlinearity, int layers, int width, int batch,
                                       long seed, Device device) {
        if (layers < 1 || width < 1 || batch < 1) {
            throw new IllegalArgumentException("layers, width and batch must be >= 1, got " + layers + ", " + width
                    + ", " + batch);
        }
        List<LayerStats> out = new ArrayList<>();
        Backend be = Backends.forDevice(device);
        Generator gen = new Generator(seed);
        try (TensorScope scope = TensorScope.open()) {  // releases every device tensor made here, layers' included
            Tensor h = be.zeros(batch, width);
            Init.normal(h, 0, 1, gen);
            Tensor sum = be.zeros(1);
            Tensor squares = be.zeros(1);
            double n = (double) batch * width;
            Generator unused = new Generator(0);  // Linear's own default draw, overwritten by the scheme's
            for (int l = 1; l <= layers; l++) {
                Linear fc = new Linear(width, width, false, unused, device);
                scheme.initWeight(fc.weight().value(), gen);
                h = nonlinearity.layer().forward(fc.forward(h, false), false);
                be.sum(h, sum);
                be.sumSquares(h, squares, false);
                double mean = sum.to(Device.CPU).item() / n;
                double meanSq = squares.to(Device.CPU).item() / n;
                out.add(new LayerStats(l, mean, Math.sqrt(Math.max(0, meanSq - mean * mean))));
            }
        }
        return out;
    }
}
