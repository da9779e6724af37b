package dev.jtrain.nn.layers;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/** BatchNorm over NCHW input, statistics per channel over (N, H, W), as nn.BatchNorm2d. */
public class BatchNorm2d extends BatchNorm {

    public BatchNorm2d(int channels) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    public BatchNorm2d(int channels, float eps, float momentum) {
        super(channels, eps, momentum);
    }

    /** Built directly on {@code device} (running statistics and parameters allocated there). */
    public BatchNorm2d(int channels, float eps, float momentum, Device device) {
        super(channels, eps, momentum, device);
    }

    /** PyTorch's eps and momentum, on {@code device}. */
    public BatchNorm2d(int channels, Device device) {
        this(channels, DEFAULT_EPS, DEFAULT_MOMENTUM, device);
    }

    @Override
    protected String name() {
        return "BatchNorm2d";
    }

    @Override
    protected void checkRank(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("BatchNorm2d: expected NCHW input, got " + x.shape());
        }
    }
}
