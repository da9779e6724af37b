package dev.jtrain.train;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.AvgPool2d;
import dev.jtrain.nn.layers.BasicBlock;
import dev.jtrain.nn.layers.BatchNorm1d;
import dev.jtrain.nn.layers.BatchNorm2d;
import dev.jtrain.nn.layers.Conv2d;
import dev.jtrain.nn.layers.DropConnect;
import dev.jtrain.nn.layers.ELU;
import dev.jtrain.nn.layers.GELU;
import dev.jtrain.nn.layers.LeakyReLU;
import dev.jtrain.nn.layers.SELU;
import dev.jtrain.nn.layers.SiLU;
import dev.jtrain.nn.layers.Sigmoid;
import dev.jtrain.nn.layers.Softplus;
import dev.jtrain.nn.layers.Tanh;
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
 * own, drawn from the run's {@link Generator} in layer order). Image models take [C, H, W] samples (MNIST
 * 1x28x28, CIFAR 3x32x32; any size that survives their pooling):
 * <ul>
 *   <li>{@code mlp}: Linear(D, h1) [BatchNorm1d] act [Dropout] ... Linear(hk, classes) on flattened samples
 *       (default hidden 512,512: the 784-512-512-10 benchmark MLP); with DropConnect the hidden Linears are
 *       {@link DropConnect} layers;</li>
 *   <li>{@code cnn}: Conv2d(C, 32, 3, pad 1) [BN] act MaxPool2d(2) Conv2d(32, 64, 3, pad 1) [BN] act MaxPool2d(2)
 *       Flatten, then the hidden Linear+act layers (default 128) and Linear(-, classes);</li>
 *   <li>{@code lenet}: LeNet-5 as the course draws it: Conv2d(C, 6, 5, pad 2) act MaxPool2d(2) Conv2d(6, 16, 5)
 *       act MaxPool2d(2) Flatten Linear(16·h·w, 120) act Linear(120, 84) act Linear(84, classes)
 *       (61,706 parameters on MNIST, as PyTorch counts);</li>
 *   <li>{@code vgg}: a small VGG-BN: two stages of [Conv3x3(no bias) BN act] x2 MaxPool2d(2) with 32 and 64
 *       channels, Flatten, Linear(-, 128) act [Dropout], Linear(128, classes);</li>
 *   <li>{@code resnet}: a small ResNet (ResNet-8, CIFAR layout): Conv3x3(C, 16, no bias) BN ReLU, then one
 *       {@link BasicBlock} per stage at 16, 32 (stride 2, projection shortcut) and 64 (stride 2) channels,
 *       global average pooling, Linear(64, classes); stochastic depth drops the residual branches with the
 *       paper's linear decay (block l of L: p·l/L).</li>
 * </ul>
 */
public final class Models {
    public static final List<String> NAMES = List.of("mlp", "cnn", "lenet", "vgg", "resnet");

    /** The nonlinearities {@code --activation} accepts. */
    public static final List<String> ACTIVATIONS = List.of("relu", "tanh", "sigmoid", "leaky-relu", "elu", "selu",
            "gelu", "silu", "softplus");

    /**
     * Architecture switches beyond the hidden sizes: the hidden nonlinearity; BatchNorm after each hidden
     * Linear/conv (mlp, cnn; vgg and resnet always have it); DropConnect probability of the hidden Linears (mlp);
     * the stochastic-depth drop probability of the last residual block (resnet).
     */
    public record Options(String activation, boolean batchNorm, float dropConnect, float stochasticDepth) {
        public static final Options DEFAULT = new Options("relu", false, 0f, 0f);

        public Options {
            activation = activation == null ? "relu" : activation.trim().toLowerCase(Locale.ROOT);
        }
    }

    private Models() {
    }

    /** The hidden sizes used when none are given (models without a configurable hidden part: an empty array). */
    public static int[] defaultHidden(String model) {
        return switch (normalize(model)) {
            case "mlp" -> new int[] {512, 512};
            case "cnn" -> new int[] {128};
            case "lenet", "vgg", "resnet" -> new int[0];
            default -> throw unknown(model);
        };
    }

    /** Checks {@code options} against {@code model}: an error names the option that does not apply. */
    public static void validate(String model, int[] hidden, float dropout, Options options) {
        String m = normalize(model);
        defaultHidden(m);
        if (!ACTIVATIONS.contains(options.activation())) {
            throw new IllegalArgumentException("activation: unknown nonlinearity '" + options.activation()
                    + "' (expected one of " + String.join(", ", ACTIVATIONS) + ")");
        }
        if (hidden != null && hidden.length > 0 && !(m.equals("mlp") || m.equals("cnn"))) {
            throw new IllegalArgumentException("hidden applies to mlp and cnn; " + m + " has a fixed architecture");
        }
        if (options.batchNorm() && !(m.equals("mlp") || m.equals("cnn"))) {
            throw new IllegalArgumentException("batchNorm applies to mlp and cnn (vgg and resnet always use"
                    + " BatchNorm, lenet never)");
        }
        if (!(options.dropConnect() >= 0 && options.dropConnect() < 1)) {
            throw new IllegalArgumentException("dropConnect must be in [0, 1), got " + options.dropConnect());
        }
        if (options.dropConnect() > 0 && !m.equals("mlp")) {
            throw new IllegalArgumentException("dropConnect applies to mlp (its hidden Linear layers), not " + m);
        }
        if (!(options.stochasticDepth() >= 0 && options.stochasticDepth() <= 1)) {
            throw new IllegalArgumentException("stochasticDepth must be in [0, 1], got " + options.stochasticDepth());
        }
        if (options.stochasticDepth() > 0 && !m.equals("resnet")) {
            throw new IllegalArgumentException("stochasticDepth applies to resnet (its residual blocks), not " + m);
        }
        if (dropout > 0 && (m.equals("lenet") || m.equals("resnet"))) {
            throw new IllegalArgumentException("dropout applies to mlp, cnn and vgg, not " + m);
        }
    }

    /**
     * The per-sample shape the model wants, given the data's: mlp takes flat vectors, the image models take
     * [C, H, W] (a flat sample of a square number of values is seen as [1, s, s]).
     */
    public static int[] inputDims(String model, int[] sampleDims) {
        int size = 1;
        for (int d : sampleDims) {
            size *= d;
        }
        String m = normalize(model);
        if (m.equals("mlp")) {
            return new int[] {size};
        }
        defaultHidden(m);
        if (sampleDims.length == 3) {
            return sampleDims.clone();
        }
        int s = (int) Math.round(Math.sqrt(size));
        if (sampleDims.length == 1 && s * s == size) {
            return new int[] {1, s, s};
        }
        throw new IllegalArgumentException("model " + m + " needs image samples [C, H, W], the data has "
                + Arrays.toString(sampleDims));
    }

    /** Builds {@code model} for samples of shape {@code inputDims} (as returned by {@link #inputDims}) on the cpu. */
    public static Layer build(String model, int[] inputDims, int classes, int[] hidden, float dropout, Generator gen) {
        return build(model, inputDims, classes, hidden, dropout, gen, Device.CPU);
    }

    /** Builds {@code model} directly on {@code device} (the same initial bits on every device). */
    public static Layer build(String model, int[] inputDims, int classes, int[] hidden, float dropout, Generator gen,
                              Device device) {
        return build(model, inputDims, classes, hidden, dropout, Options.DEFAULT, gen, device);
    }

    /** Builds {@code model} with the architecture switches of {@code options}. */
    public static Layer build(String model, int[] inputDims, int classes, int[] hidden, float dropout, Options options,
                              Generator gen, Device device) {
        validate(model, hidden, dropout, options);
        int[] h = hidden == null || hidden.length == 0 ? defaultHidden(model) : hidden;
        for (int v : h) {
            if (v < 1) {
                throw new IllegalArgumentException("hidden layer sizes must be >= 1, got " + Arrays.toString(h));
            }
        }
        return switch (normalize(model)) {
            case "mlp" -> mlp(product(inputDims), h, classes, dropout, options, gen, device);
            case "cnn" -> cnn(inputDims, h, classes, dropout, options, gen, device);
            case "lenet" -> lenet(inputDims, classes, options, gen, device);
            case "vgg" -> vgg(inputDims, classes, dropout, options, gen, device);
            case "resnet" -> resnet(inputDims, classes, options, gen, device);
            default -> throw unknown(model);
        };
    }

    /** Linear(in, h1) ReLU [Dropout] ... Linear(hk, out). */
    public static Sequential mlp(int in, int[] hidden, int out, float dropout, Generator gen) {
        return mlp(in, hidden, out, dropout, Options.DEFAULT, gen, Device.CPU);
    }

    public static Sequential mlp(int in, int[] hidden, int out, float dropout, Generator gen, Device device) {
        return mlp(in, hidden, out, dropout, Options.DEFAULT, gen, device);
    }

    /** Linear(in, h1) [BatchNorm1d] act [Dropout] ... Linear(hk, out); DropConnect hidden layers on request. */
    public static Sequential mlp(int in, int[] hidden, int out, float dropout, Options options, Generator gen,
                                 Device device) {
        Sequential s = new Sequential();
        int prev = in;
        for (int h : hidden) {
            s.add(options.dropConnect() > 0 ? new DropConnect(prev, h, options.dropConnect(), true, gen, device)
                    : new Linear(prev, h, true, gen, device));
            if (options.batchNorm()) {
                s.add(new BatchNorm1d(h, device));
            }
            s.add(activation(options.activation()));
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
        return cnn(chw, hidden, out, dropout, Options.DEFAULT, gen, Device.CPU);
    }

    public static Sequential cnn(int[] chw, int[] hidden, int out, float dropout, Generator gen, Device device) {
        return cnn(chw, hidden, out, dropout, Options.DEFAULT, gen, device);
    }

    public static Sequential cnn(int[] chw, int[] hidden, int out, float dropout, Options options, Generator gen,
                                 Device device) {
        requireImage("cnn", chw, 4);
        int c = chw[0];
        int hh = chw[1] / 2 / 2;
        int ww = chw[2] / 2 / 2;
        Sequential s = new Sequential();
        s.add(new Conv2d(c, 32, 3, 1, 1, true, gen, device));
        if (options.batchNorm()) {
            s.add(new BatchNorm2d(32, device));
        }
        s.add(activation(options.activation()));
        s.add(new MaxPool2d(2, 2));
        s.add(new Conv2d(32, 64, 3, 1, 1, true, gen, device));
        if (options.batchNorm()) {
            s.add(new BatchNorm2d(64, device));
        }
        s.add(activation(options.activation()));
        s.add(new MaxPool2d(2, 2));
        s.add(new Flatten());
        int prev = 64 * hh * ww;
        for (int h : hidden) {
            s.add(new Linear(prev, h, true, gen, device));
            s.add(activation(options.activation()));
            if (dropout > 0) {
                s.add(new Dropout(dropout, gen));
            }
            prev = h;
        }
        s.add(new Linear(prev, out, true, gen, device));
        return s;
    }

    /** LeNet-5: conv 5x5 pad 2 (6), pool, conv 5x5 (16), pool, FC 120-84-out. */
    public static Sequential lenet(int[] chw, int out, Options options, Generator gen, Device device) {
        requireImage("lenet", chw, 12);
        int h = ((chw[1] + 4 - 5 + 1) / 2 - 5 + 1) / 2;
        int w = ((chw[2] + 4 - 5 + 1) / 2 - 5 + 1) / 2;
        return new Sequential(
                new Conv2d(chw[0], 6, 5, 1, 2, true, gen, device), activation(options.activation()), new MaxPool2d(2, 2),
                new Conv2d(6, 16, 5, 1, 0, true, gen, device), activation(options.activation()), new MaxPool2d(2, 2),
                new Flatten(),
                new Linear(16 * h * w, 120, true, gen, device), activation(options.activation()),
                new Linear(120, 84, true, gen, device), activation(options.activation()),
                new Linear(84, out, true, gen, device));
    }

    /** Small VGG-BN: [conv-BN-act x2, pool] at 32 and 64 channels, FC 128, FC out. */
    public static Sequential vgg(int[] chw, int out, float dropout, Options options, Generator gen, Device device) {
        requireImage("vgg", chw, 4);
        Sequential s = new Sequential();
        int in = chw[0];
        for (int width : new int[] {32, 64}) {
            for (int k = 0; k < 2; k++) {
                s.add(new Conv2d(in, width, 3, 1, 1, false, gen, device));
                s.add(new BatchNorm2d(width, device));
                s.add(activation(options.activation()));
                in = width;
            }
            s.add(new MaxPool2d(2, 2));
        }
        s.add(new Flatten());
        s.add(new Linear(64 * (chw[1] / 4) * (chw[2] / 4), 128, true, gen, device));
        s.add(activation(options.activation()));
        if (dropout > 0) {
            s.add(new Dropout(dropout, gen));
        }
        s.add(new Linear(128, out, true, gen, device));
        return s;
    }

    /** ResNet-8: stem, one basic block per stage (16, 32/2, 64/2), global average pooling, FC. */
    public static Sequential resnet(int[] chw, int out, Options options, Generator gen, Device device) {
        requireImage("resnet", chw, 4);
        if (!options.activation().equals("relu")) {
            throw new IllegalArgumentException("activation: resnet uses ReLU (as its basic blocks do), got "
                    + options.activation());
        }
        Sequential s = new Sequential(
                new Conv2d(chw[0], 16, 3, 1, 1, false, gen, device), new BatchNorm2d(16, device), new ReLU());
        int[] widths = {16, 32, 64};
        int in = 16;
        int h = chw[1];
        int w = chw[2];
        for (int l = 0; l < widths.length; l++) {
            int stride = l == 0 ? 1 : 2;
            // the paper's linear decay: block l (1-based) of L drops with probability p * l / L
            float drop = options.stochasticDepth() * (l + 1) / widths.length;
            s.add(new BasicBlock(in, widths[l], stride, drop, gen, device));
            in = widths[l];
            h = (h + 2 - 3) / stride + 1;
            w = (w + 2 - 3) / stride + 1;
        }
        if (h != w) {
            throw new IllegalArgumentException("resnet needs square images, got " + chw[1] + "x" + chw[2]);
        }
        s.add(new AvgPool2d(h, h));
        s.add(new Flatten());
        s.add(new Linear(64, out, true, gen, device));
        return s;
    }

    /** A fresh nonlinearity layer by its {@code --activation} name. */
    public static Layer activation(String name) {
        return switch (normalize(name)) {
            case "relu" -> new ReLU();
            case "tanh" -> new Tanh();
            case "sigmoid" -> new Sigmoid();
            case "leaky-relu" -> new LeakyReLU();
            case "elu" -> new ELU();
            case "selu" -> new SELU();
            case "gelu" -> new GELU();
            case "silu" -> new SiLU();
            case "softplus" -> new Softplus();
            default -> throw new IllegalArgumentException("activation: unknown nonlinearity '" + name
                    + "' (expected one of " + String.join(", ", ACTIVATIONS) + ")");
        };
    }

    private static void requireImage(String model, int[] chw, int minSide) {
        if (chw.length != 3) {
            throw new IllegalArgumentException(model + " needs samples [C, H, W], got " + Arrays.toString(chw));
        }
        if (chw[1] < minSide || chw[2] < minSide) {
            throw new IllegalArgumentException(model + " needs images of at least " + minSide + "x" + minSide + ", got "
                    + chw[1] + "x" + chw[2]);
        }
    }

    /** "784-512-512-10" style description of an MLP, or the model name with its input and hidden sizes. */
    public static String describe(String model, int[] inputDims, int[] hidden, int classes) {
        String m = normalize(model);
        int[] h = hidden == null || hidden.length == 0 ? defaultHidden(model) : hidden;
        StringBuilder sb = new StringBuilder(m).append(' ');
        if (m.equals("mlp")) {
            sb.append(product(inputDims));
        } else {
            for (int i = 0; i < inputDims.length; i++) {
                sb.append(i == 0 ? "" : "x").append(inputDims[i]);
            }
            switch (m) {
                case "cnn" -> sb.append("-conv32-conv64");
                case "lenet" -> sb.append("-conv6-conv16-120-84");
                case "vgg" -> sb.append("-conv32x2-conv64x2-128");
                case "resnet" -> sb.append("-res16-res32-res64");
                default -> { }
            }
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
