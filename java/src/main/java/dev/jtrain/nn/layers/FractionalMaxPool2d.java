package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Fractional max pooling (Graham, 2014) as PyTorch's {@code nn.FractionalMaxPool2d(kernel_size, output_ratio)}:
 * on [N, C, H, W] input the output is [N, C, int(H·rh), int(W·rw)]; each (sample, channel) plane draws two
 * uniforms u = (u_w, u_h) in [0, 1) and pools k×k windows starting at the pseudo-random sequence
 * <pre>  start_i = int((i + u)·α) − int(u·α),  α = (in − k) / (out − 1)  (float32),  start_last = in − k</pre>
 * (torch's {@code generate_intervals}); the maximum is the first largest value in row-major order (NaN wins),
 * and backward adds dy to that position (overlapping windows accumulate). Like torch, the regions are random in
 * evaluation too. The uniforms come from the Philox stream of (gen.seed(), gen.nextOffset()), laid out [N, C, 2]
 * as torch's {@code _random_samples}; {@link #forward(Tensor, Tensor)} takes them explicitly.
 *
 * <p><b>cpu only</b>: the windows start at data-dependent positions that no Backend op gathers, and kernels/ is
 * being reworked, so on another device forward fails with an error saying so.
 */
public class FractionalMaxPool2d extends Layer {
    private final int kh;
    private final int kw;
    private final double ratioH;
    private final double ratioW;
    private final Generator gen;

    private int[] inDims;
    private int[] argmax;    // flat input index (within the plane) of each output element
    private Tensor y;
    private Tensor dx;
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
        int[] seq = new int[out];
        if (out > 1) {
            float alpha = (float) (in - pool) / (float) (out - 1);
            for (int i = 0; i < out - 1; i++) {
                seq[i] = (int) (((float) i + sample) * alpha) - (int) (sample * alpha);
            }
        }
        if (out > 0) {
            seq[out - 1] = in - pool;
        }
        return seq;
    }

    /** The output height and width for an input of {@code h}×{@code w}. */
    public int[] outputSize(int h, int w) {
        return new int[] {(int) (h * ratioH), (int) (w * ratioW)};
    }

    /** The [N, C, 2] uniforms (u_w, u_h per plane) of the last forward. */
    public Tensor lastSamples() {
        return lastSamples;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        requireCpu(x);
        requireShape(x);
        Tensor samples = Tensor.zeros(Device.CPU, x.dim(0), x.dim(1), 2);
        Backends.forDevice(Device.CPU).randomUniform(samples, 0f, 1f, gen.seed(), gen.nextOffset());
        return forward(x, samples);
    }

    /** Forward with the given [N, C, 2] uniforms (torch's {@code _random_samples}). */
    public Tensor forward(Tensor x, Tensor samples) {
        requireCpu(x);
        requireShape(x);
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
        inDims = x.dims();
        lastSamples = samples;
        y = buffers.ensure(y, Backends.of(x), dev.jtrain.tensor.Shape.of(n, c, oh, ow));
        argmax = argmax == null || argmax.length != y.numel() ? new int[y.numel()] : argmax;
        float[] xs = x.floats();
        float[] ys = y.floats();
        float[] us = samples.toFloatArray();
        for (int plane = 0; plane < n * c; plane++) {
            int[] seqW = intervals(us[2 * plane], w, ow, kw);
            int[] seqH = intervals(us[2 * plane + 1], h, oh, kh);
            int inBase = plane * h * w;
            int outBase = plane * oh * ow;
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    int best = seqH[i] * w + seqW[j];
                    float bestVal = Float.NEGATIVE_INFINITY;
                    for (int r = seqH[i]; r < seqH[i] + kh; r++) {
                        for (int s = seqW[j]; s < seqW[j] + kw; s++) {
                            float v = xs[inBase + r * w + s];
                            if (v > bestVal || Float.isNaN(v)) {
                                bestVal = v;
                                best = r * w + s;
                            }
                        }
                    }
                    ys[outBase + i * ow + j] = bestVal;
                    argmax[outBase + i * ow + j] = best;
                }
            }
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (inDims == null) {
            throw new IllegalStateException("FractionalMaxPool2d.backward called before forward");
        }
        requireCpu(dy);
        if (!dy.shape().equals(y.shape())) {
            throw new IllegalArgumentException("FractionalMaxPool2d.backward: dy " + dy.shape()
                    + " does not match the output " + y.shape());
        }
        dx = buffers.ensure(dx, Backends.of(dy), dev.jtrain.tensor.Shape.of(inDims));
        float[] dxs = dx.floats();
        Arrays.fill(dxs, 0f);
        float[] dys = dy.floats();
        int planeIn = inDims[2] * inDims[3];
        int planeOut = y.dim(2) * y.dim(3);
        for (int k = 0; k < dys.length; k++) {
            dxs[(k / planeOut) * planeIn + argmax[k]] += dys[k];
        }
        return dx;
    }

    private static void requireCpu(Tensor t) {
        if (!t.device().isHost()) {
            throw new UnsupportedOperationException("FractionalMaxPool2d runs on the cpu only (its windows start at "
                    + "data-dependent positions no Backend op gathers); got a tensor on " + t.device());
        }
        Buffers.requireFloat(t, "FractionalMaxPool2d");
    }

    private static void requireShape(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("FractionalMaxPool2d expects [N, C, H, W] input, got " + x.shape());
        }
    }
}
