package dev.jtrain.train;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.Dropout;
import dev.jtrain.nn.layers.Flatten;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.MaxPool2d;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The named models of {@code jtrain train}, built with PyTorch's default initialisation (each layer's
 * own, drawn from the run's {@link Generator} in layer order):
 * <ul>
 *   <li>{@code mlp}: Linear(D, h1) ReLU ... Linear(hk, classes) on flattened samples
 *       (default hidden 512,512: the 784-512-512-10 benchmark MLP);</li>
 *   <li>{@code cnn}: Conv2d(C, 32, 3, pad 1) ReLU MaxPool2d(2) Conv2d(32, 64, 3, pad 1) ReLU MaxPool2d(2)
 *       Flatten, then the hidden Linear+ReLU layers (default 128) and Linear(-, classes), on [C, H, W]
 *       samples.</li>
 * </ul>
 */
public final class Models {
    public static final List<String> NAMES = List.of("mlp", "cnn");

    private Models() {
    }

    /** The hidden sizes used when none are given. */
    public static int[] defaultHidden(String model) {
        return switch (normalize(model)) {
            case "mlp" -> new int[] {512, 512};
            case "cnn" -> new int[] {128};
            default -> throw unknown(model);
        };
    }

    /**
     * The per-sample shape the model wants, given the data's: mlp takes flat vectors, cnn takes [C, H, W]
     * (a flat sample of a square number of values is seen as [1, s, s]).
     */
    public static int[] inputDims(String model, int[] sampleDims) {
        int size = 1;
        for (int d : sampleDims) {
            size *= d;
        }
        switch (normalize(model)) {
            case "mlp":
                return new int[] {size};
            case "cnn":
                if (sampleDims.length == 3) {
                    return sampleDims.clone();
                }
                int s = (int) Math.round(Math.sqrt(size));
                if (sampleDims.length == 1 && s * s == size) {
                    return new int[] {1, s, s};
                }
                throw new IllegalArgumentException("model cnn needs image samples [C, H, W], the data has "
                        + Arrays.toString(sampleDims));
            default:
                throw unknown(model);
        }
    }

    /** Builds {@code model} for samples of shape {@code inputDims} (as returned by {@link #inputDims}) on the cpu. */
    public static Layer build(String model, int[] inputDims, int classes, int[] hidden, float dropout, Generator gen) {
        return build(model, inputDims, classes, hidden, dropout, gen, Device.CPU);
    }

    /** Builds {@code model} directly on {@code device} (the same initial bits on every device). */
    public static Layer build(String model, int[] inputDims, int classes, int[] hidden, float dropout, Generator gen,
                              Device device) {
        int[] h = hidden == null || hidden.length == 0 ? defaultHidden(model) : hidden;
        for (int v : h) {
            if (v < 1) {
                throw new IllegalArgumentException("hidden layer sizes must be >= 1, got " + Arrays.toString(h));
            }
        }
        return switch (normalize(model)) {
            case "mlp" -> mlp(product(inputDims), h, classes, dropout, gen, device);
            case "cnn" -> cnn(inputDims, h, classes, dropout, gen, device);
            default -> throw unknown(model);
        };
    }

    /** Linear(in, h1) ReLU [Dropout] ... Linear(hk, out). */
    public static Sequential mlp(int in, int[] hidden, int out, float dropout, Generator gen) {
        return mlp(in, hidden, out, dropout, gen, Device.CPU);
    }

    public static Sequential mlp(int in, int[] hidden, int out, float dropout, Generator gen, Device device) {
        Sequential s = new Sequential();
        int prev = in;
        for (int h : hidden) {
            s.add(new Linear(prev, h, true, gen, device));
            s.add(new ReLU());
            if (dropout > 0) {
                s.add(new Dropout(dropout, gen));
            }
            prev = h;
        }
        s.add(new Linear(prev, out, true, gen, device));
        return s;
    }

    /** Two conv/ReLU/max-pool blocks, then an MLP head. */
    public static Sequential cnn(int[] chw, int[] hidden, int out, float dropout, Generator gen) {
        return cnn(chw, hidden, out, dropout, gen, Device.CPU);
    }

    public static Sequential cnn(int[] chw, int[] hidden, int out, float dropout, Generator gen, Device device) {
        if (chw.length != 3) {
            throw new IllegalArgumentException("cnn needs samples [C, H, W], got " + Arrays.toString(chw));
        }
        int c = chw[0];
        int hh = chw[1] / 2 / 2;
        int ww = chw[2] / 2 / 2;
        if (hh < 1 || ww < 1) {
            throw new IllegalArgumentException("cnn needs images of at least 4x4, got " + chw[1] + "x" + chw[2]);
        }
        Sequential s = new Sequential(
                new Conv2d(c, 32, 3, 1, 1, true, gen, device), new ReLU(), new MaxPool2d(2, 2),
                new Conv2d(32, 64, 3, 1, 1, true, gen, device), new ReLU(), new MaxPool2d(2, 2),
                new Flatten());
        int prev = 64 * hh * ww;
        for (int h : hidden) {
            s.add(new Linear(prev, h, true, gen, device));
            s.add(new ReLU());
            if (dropout > 0) {
                s.add(new Dropout(dropout, gen));
            }
            prev = h;
        }
        s.add(new Linear(prev, out, true, gen, device));
        return s;
    }

    /** "784-512-512-10" style description of an MLP, or the model name with its hidden sizes. */
    public static String describe(String model, int[] inputDims, int[] hidden, int classes) {
        int[] h = hidden == null || hidden.length == 0 ? defaultHidden(model) : hidden;
        StringBuilder sb = new StringBuilder(normalize(model)).append(' ');
        if (normalize(model).equals("mlp")) {
            sb.append(product(inputDims));
        } else {
            for (int i = 0; i < inputDims.length; i++) {
                sb.append(i == 0 ? "" : "x").append(inputDims[i]);
            }
            sb.append("-conv32-conv64");
        }
        for (int v : h) {
            sb.append('-').append(v);
        }
        return sb.append('-').append(classes).toString();
    }

    private static int product(int[] dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }

    private static String normalize(String model) {
        return model == null ? "" : model.trim().toLowerCase(Locale.ROOT);
    }

    private static IllegalArgumentException unknown(String model) {
        return new IllegalArgumentException("unknown model '" + model + "' (expected one of " + String.join(", ", NAMES) + ")");
    }
}
