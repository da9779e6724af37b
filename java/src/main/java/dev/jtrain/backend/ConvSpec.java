package dev.jtrain.backend;

/**
 * Geometry of a 2-D convolution or pooling window over NCHW input: kernel, stride, zero padding.
 * Output size is floor((H + 2p - k) / s) + 1 (PyTorch, ceil_mode = false).
 */
public record ConvSpec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

    public ConvSpec {
        if (kernelH < 1 || kernelW < 1) {
            throw new IllegalArgumentException("kernel size must be >= 1, got " + kernelH + "x" + kernelW);
        }
        if (strideH < 1 || strideW < 1) {
            throw new IllegalArgumentException("stride must be >= 1, got " + strideH + "x" + strideW);
        }
        if (padH < 0 || padW < 0) {
            throw new IllegalArgumentException("padding must be >= 0, got " + padH + "x" + padW);
        }
    }

    public static ConvSpec square(int kernel, int stride, int pad) {
        return new ConvSpec(kernel, kernel, stride, stride, pad, pad);
    }

    public int outH(int h) {
        return checkedOut(h, kernelH, strideH, padH, "height");
    }

    public int outW(int w) {
        return checkedOut(w, kernelW, strideW, padW, "width");
    }

    private static int checkedOut(int in, int k, int s, int p, String what) {
        int span = in + 2 * p - k;
        if (span < 0) {
            throw new IllegalArgumentException("input " + what + " " + in + " with padding " + p
                    + " is smaller than the kernel " + k);
        }
        return span / s + 1;
    }
}
