package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.FractionalWindows;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

import java.util.Objects;

/**
 * Fractional max pooling (Graham, 2014) as PyTorch's {@code nn.FractionalMaxPool2d(kernel_size, output_ratio)}:
 * on [N, C, H, W] input the output is [N, C, int(H·rh), int(W·rw)]; each (sample, channel) plane draws two
 * uniforms u = (u_w, u_h) in [0, 1) and pools k×k windows starting at the pseudo-random sequence
 * <pre>  start_i = int((i + u)·α) − int(u·α),  α = (in − k) / (out − 1)  (float32),  start_last = in − k</pre>
 * (torch's {@code generate_intervals}, {@link FractionalWindows}); the maximum is the first largest value in
 * row-major order (NaN wins), and backward adds dy to that position (overlapping windows accumulate). Like torch,
 * the regions are random in evaluation too. The uniforms come from the Philox stream of (gen.seed(),
 * gen.nextOffset()), laid out [N, C, 2] as torch's {@code _random_samples} and drawn on the input's device by
 * {@code Backend.randomUniform} (the same bits on every device); {@link #forward(Tensor, Tensor)} takes them
 * explicitly. Runs on every device: the window starts are computed by the pooling op itself
 * ({@code Backend.fractionalMaxPool2dForward/Backward}), on the device, from the samples.
 */
public class FractionalMaxPool2d extends Layer {
    private final int kh;
    private final int kw;
    private final double ratioH;
    private final double ratioW;
    private final Generator gen;

    private Shape inShape;
    private Tensor y;
    private Tensor indices;  // int64 argmax (h·W + w within each plane) of the last forward
    private Tensor dx;
    private Tensor drawn;    // the samples forward(x, training) draws (a work buffer)
    private Tensor lastSamples;

    public FractionalMaxPool2d(int kernel, double outputRatio, Generator gen) {
        this(kernel, kernel, outputRatio, outputRatio, gen);
    }

    public FractionalMaxPool2d(int kernelH, int kernelW, double ratioH, double ratioW, Generator gen) {
        if (kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("FractionalMaxPool2d kernel must be >= 1, got " + kernelH + "x" + kernelW);
        }
        if (!(ratioH > 0 && ratioH < 1 && ratioW > 0 && ratioW < 1)) {
            throw new IllegalArgumentException("FractionalMaxPool2d output_ratio must be in (0, 1), got ("
                    + ratioH + ", " + ratioW + ")");
        }
        this.kh = kernelH;
        this.kw = kernelW;
        this.ratioH = ratioH;
        this.ratioW = ratioW;
        this.gen = Objects.requireNonNull(gen, "generator");
    }

    /** torch's generate_intervals: the start of each of {@code out} windows of size {@code pool} over {@code in}. */
    public static int[] intervals(float sample, int in, int out, int pool) {
        return FractionalWindows.intervals(sample, in, out, pool);
    }

    /** The output height and width for an input of {@code h}×{@code w}. */
    public int[] outputSize(int h, int w) {
        return new int[] {(int) (h * ratioH), (int) (w * ratioW)};
    }

    /** The [N, C, 2] uniforms (u_w, u_h per plane) of the last forward, on its device. */
    public Tensor lastSamples() {
        return lastSamples;
    }

    /** The int64 argmax indices (h·W + w within each (n, c) plane) of the last forward; null before one. */
    public Tensor lastIndices() {
        return indices;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        requireInput(x);
        Backend be = Backends.of(x);
        drawn = buffers.ensure(drawn, be, Shape.of(x.dim(0), x.dim(1), 2));
        be.randomUniform(drawn, 0f, 1f, gen.seed(), gen.nextOffset());
        return forward(x, drawn);
    }

    /** Forward with the given [N, C, 2] uniforms (torch's {@code _random_samples}), on x's device. */
    public Tensor forward(Tensor x, Tensor samples) {
        requireInput(x);
        int n = x.dim(0);
        int c = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        if (samples.rank() != 3 || samples.dim(0) != n || samples.dim(1) != c || samples.dim(2) != 2) {
            throw new IllegalArgumentException("FractionalMaxPool2d: random samples must be [" + n + ", " + c
                    + ", 2] for input " + x.shape() + ", got " + samples.shape());
        }
        int[] o = outputSize(h, w);
        int oh = o[0];
        int ow = o[1];
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("FractionalMaxPool2d: output_ratio (" + ratioH + ", " + ratioW
                    + ") gives an empty output " + oh + "x" + ow + " for input " + x.shape());
        }
        if (oh + kh - 1 > h || ow + kw - 1 > w) {
            throw new IllegalArgumentException("FractionalMaxPool2d: pool " + kh + "x" + kw + " too large relative to input "
                    + h + "x" + w + " for output " + oh + "x" + ow + " (need out + pool - 1 <= in)");
        }
        Backend be = Backends.of(x);
        Shape ys = Shape.of(n, c, oh, ow);
        y = buffers.ensure(y, be, ys);
        indices = buffers.ensure(indices, be, DType.INT64, ys);
        be.fractionalMaxPool2dForward(x, samples, kh, kw, y, indices);
        inShape = x.shape();
        lastSamples = samples;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (inShape == null) {
            throw new IllegalStateException("FractionalMaxPool2d.backward called before forward");
        }
        Buffers.requireFloat(dy, "FractionalMaxPool2d");
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("FractionalMaxPool2d.backward: dy " + dy.shape()
                    + " does not match the output " + y.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensure(dx, be, inShape);
        be.fractionalMaxPool2dBackward(dy, indices, lastSamples, kh, kw, dx);
        return dx;
    }

    private static void requireInput(Tensor x) {
        Buffers.requireFloat(x, "FractionalMaxPool2d");
        if (x.rank() != 4) {
            throw new IllegalArgumentException("FractionalMaxPool2d expects [N, C, H, W] input, got " + x.shape());
        }
    }
}
