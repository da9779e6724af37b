package dev.jtrain.nn.layers;

import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/** BatchNorm over [N, C] (statistics over dim 0) or [N, C, L] (over dims 0 and 2), as nn.BatchNorm1d. */
public class BatchNorm1d extends BatchNorm {

    public BatchNorm1d(int features) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM);
    }

    public BatchNorm1d(int features, float eps, float momentum) {
        super(features, eps, momentum);
    }

    /** Built directly on {@code device} (running statistics and parameters allocated there). */
    public BatchNorm1d(int features, float eps, float momentum, Device device) {
        super(features, eps, momentum, device);
    }

    /** PyTorch's eps and momentum, on {@code device}. */
    public BatchNorm1d(int features, Device device) {
        this(features, DEFAULT_EPS, DEFAULT_MOMENTUM, device);
    }

    @Override
    protected String name() {
        return "BatchNorm1d";
    }

    @Override
    protected void checkRank(Tensor x) {
        if (x.rank() != 2 && x.rank() != 3) {
            throw new IllegalArgumentException("BatchNorm1d: expected input [N, C] or [N, C, L], got " + x.shape());
        }
    }
}
