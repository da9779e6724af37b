package dev.jtrain.backend;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;

/**
 * Argument validation shared by every backend (cpu now, CUDA/emu later), so that a bad call gives the
 * same message on every device. Every message names the op and the argument, and both shapes, dtypes
 * or devices involved, e.g. "gemm: a is on emu but this backend is cpu" or
 * "addBias: bias has shape [5] but y has 3 channels (shape [4, 3])". Failures throw
 * {@link IllegalArgumentException}.
 */
public final class Checks {
    private Checks() {
    }

    public static IllegalArgumentException fail(String op, String message) {
        return new IllegalArgumentException(op + ": " + message);
    }

    /** t is non-null. */
    public static Tensor present(String op, String arg, Tensor t) {
        if (t == null) {
            throw fail(op, arg + " is missing (null)");
        }
        return t;
    }

    /** t is non-null and lives on {@code device} (the backend's device). */
    public static Tensor onDevice(String op, String arg, Tensor t, Device device) {
        present(op, arg, t);
        Device d = t.device();
        if (!d.equals(device)) {
            throw fail(op, arg + " is on " + d + " but this backend is " + device);
        }
        return t;
    }

    /** t is non-null and has {@code dtype}. */
    public static Tensor dtype(String op, String arg, Tensor t, DType dtype) {
        present(op, arg, t);
        if (t.dtype() != dtype) {
            throw fail(op, arg + " has dtype " + t.dtype() + " but " + dtype + " is needed (shape " + t.shape() + ")");
        }
        return t;
    }

    /** A float32 tensor on {@code device}. */
    public static Tensor f32(String op, String arg, Tensor t, Device device) {
        onDevice(op, arg, t, device);
        return dtype(op, arg, t, DType.FLOAT32);
    }

    /** An int64 tensor on {@code device}. */
    public static Tensor i64(String op, String arg, Tensor t, Device device) {
        onDevice(op, arg, t, device);
        return dtype(op, arg, t, DType.INT64);
    }

    /** Like {@link #f32} but null is allowed (an optional argument). */
    public static Tensor optionalF32(String op, String arg, Tensor t, Device device) {
        return t == null ? null : f32(op, arg, t, device);
    }

    /** b has exactly the shape of a. */
    public static void sameShape(String op, String argA, Tensor a, String argB, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw fail(op, argB + " has shape " + b.shape() + " but " + argA + " has shape " + a.shape());
        }
    }

    /** t has exactly {@code shape}; {@code why} says where the expected shape comes from. */
    public static void shape(String op, String arg, Tensor t, Shape shape, String why) {
        if (!t.shape().equals(shape)) {
            throw fail(op, arg + " has shape " + t.shape() + " but " + shape + " is expected" + (why == null ? "" : " (" + why + ")"));
        }
    }

    /** t has exactly {@code rank} dimensions. */
    public static void rank(String op, String arg, Tensor t, int rank, String what) {
        if (t.rank() != rank) {
            throw fail(op, arg + " must have rank " + rank + (what == null ? "" : " (" + what + ")")
                    + " but has shape " + t.shape());
        }
    }

    /** t has at least {@code rank} dimensions. */
    public static void minRank(String op, String arg, Tensor t, int rank, String what) {
        if (t.rank() < rank) {
            throw fail(op, arg + " must have rank >= " + rank + (what == null ? "" : " (" + what + ")")
                    + " but has shape " + t.shape());
        }
    }

    /** A one-element tensor (the target of a reduction). */
    public static void scalarLike(String op, String arg, Tensor t) {
        if (t.numel() != 1) {
            throw fail(op, arg + " must have exactly one element but has shape " + t.shape());
        }
    }

    /**
     * A per-channel vector of {@code ref} (dim 1 of [N, C, ...]): rank 1 with C elements, e.g.
     * "addBias: bias has shape [5] but y has 3 channels (shape [4, 3])".
     */
    public static void channelVector(String op, String arg, Tensor v, String refArg, Tensor ref) {
        int c = ref.dim(1);
        if (v.rank() != 1 || v.dim(0) != c) {
            throw fail(op, arg + " has shape " + v.shape() + " but " + refArg + " has " + c + " channels (shape "
                    + ref.shape() + ")");
        }
    }

    /** A vector of {@code n} elements (rank 1). */
    public static void vector(String op, String arg, Tensor v, int n, String why) {
        if (v.rank() != 1 || v.dim(0) != n) {
            throw fail(op, arg + " has shape " + v.shape() + " but [" + n + "] is expected" + (why == null ? "" : " (" + why + ")"));
        }
    }

    /**
     * A vector of {@code n} elements (rank 1) that goes with {@code ref}; the message is built only on
     * failure, e.g. "softmaxCrossEntropy: lossPerSample has shape [3] but [4] is expected (one per row of
     * logits, shape [4, 10])".
     */
    public static void vectorFor(String op, String arg, Tensor v, int n, String what, String refArg, Tensor ref) {
        if (v.rank() != 1 || v.dim(0) != n) {
            throw fail(op, arg + " has shape " + v.shape() + " but [" + n + "] is expected (" + what + " " + refArg
                    + ", shape " + ref.shape() + ")");
        }
    }

    /** {@code 0 <= value <= 1} and not NaN. */
    public static void probability(String op, String arg, float p) {
        if (!(p >= 0f && p <= 1f)) {
            throw fail(op, arg + " must be in [0, 1] but is " + p);
        }
    }

    /** value is finite. */
    public static void finite(String op, String arg, float value) {
        if (!Float.isFinite(value)) {
            throw fail(op, arg + " must be finite but is " + value);
        }
    }

    /** value > 0. */
    public static void positive(String op, String arg, int value) {
        if (value <= 0) {
            throw fail(op, arg + " must be > 0 but is " + value);
        }
    }

    /** The output shape of a convolution or pooling window over x [N, C, H, W] (argument name "x"). */
    public static Shape windowOutput(String op, Tensor x, int channels, ConvSpec spec) {
        return windowOutput(op, "x", x, channels, spec);
    }

    /** The output shape of a convolution or pooling window over the argument {@code arg} [N, C, H, W]. */
    public static Shape windowOutput(String op, String arg, Tensor x, int channels, ConvSpec spec) {
        int oh;
        int ow;
        try {
            oh = spec.outH(x.dim(2));
            ow = spec.outW(x.dim(3));
        } catch (IllegalArgumentException e) {
            throw fail(op, arg + " of shape " + x.shape() + " does not fit the window " + spec + ": " + e.getMessage());
        }
        return Shape.of(x.dim(0), channels, oh, ow);
    }
}
