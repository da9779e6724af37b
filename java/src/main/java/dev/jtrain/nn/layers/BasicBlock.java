package dev.jtrain.nn.layers;

import dev.jtrain.nn.Graph;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;

/**
 * ResNet's basic block (He et al., 2016; torchvision's {@code BasicBlock}) as a {@link Graph}:
 * <pre>
 *   conv1 3x3/stride (no bias) - bn1 - relu1 - conv2 3x3 (no bias) - bn2 [- drop: StochasticDepth]
 *   shortcut: the input itself, or downsample = conv 1x1/stride (no bias) - downsample_bn when the stride
 *             is not 1 or the channels change (projection shortcut, option B)
 *   add = branch + shortcut, relu = ReLU(add)
 * </pre>
 * Parameter names follow the node names ("conv1.weight", "bn1.running_mean", "downsample.weight").
 * With {@code dropProbability} &gt; 0 the residual branch passes through {@link StochasticDepth} (torchvision's
 * "row" mode: dropped per sample in training, scaled by 1/(1 - p)).
 */
public class BasicBlock extends Graph {
    private final boolean projection;

    public BasicBlock(int inC, int outC, int stride, float dropProbability, Generator gen, Device device) {
        if (inC < 1 || outC < 1 || stride < 1) {
            throw new IllegalArgumentException("BasicBlock needs channels >= 1 and stride >= 1, got in=" + inC
                    + " out=" + outC + " stride=" + stride);
        }
        projection = stride != 1 || inC != outC;
        input("x");
        add("conv1", new Conv2d(inC, outC, 3, stride, 1, false, gen, device), "x");
        add("bn1", new BatchNorm2d(outC, device), "conv1");
        add("relu1", new ReLU(), "bn1");
        add("conv2", new Conv2d(outC, outC, 3, 1, 1, false, gen, device), "relu1");
        add("bn2", new BatchNorm2d(outC, device), "conv2");
        String branch = "bn2";
        if (dropProbability > 0f) {
            add("drop", new StochasticDepth(dropProbability, gen), "bn2");
            branch = "drop";
        }
        String shortcut = "x";
        if (projection) {
            add("downsample", new Conv2d(inC, outC, 1, stride, 0, false, gen, device), "x");
            add("downsample_bn", new BatchNorm2d(outC, device), "downsample");
            shortcut = "downsample_bn";
        }
        sum("add", branch, shortcut);
        add("relu", new ReLU(), "add");
        output("relu");
    }

    /** True when the shortcut is a 1x1 projection rather than the identity. */
    public boolean hasProjection() {
        return projection;
    }
}
