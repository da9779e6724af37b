package dev.jtrain.check;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/** Small plumbing shared by the handlers: loading case values into parameters, constants on the device. */
final class CaseUtil {
    private CaseUtil() {
    }

    /** The generator that initialises layers before the case's values replace their parameters. */
    static Generator throwawayGenerator() {
        return new Generator(0);
    }

    /** Moves {@code layer} to the case's device and returns it. */
    static <L extends Layer> L onDevice(L layer, Device device) {
        layer.to(device);
        return layer;
    }

    /** Loads input {@code inputName} into {@code p}, checking the shape first. */
    static void load(CaseContext ctx, StateTensor p, String inputName) {
        CaseContext.requireShape("input '" + inputName + "'", ctx.inputShape(inputName), p.value().dims());
        p.set(ctx.input(inputName));
    }

    /** A float32 tensor of ones shaped like {@code like}, on its device. */
    static Tensor onesLike(Tensor like) {
        Tensor t = Backends.of(like).zeros(like.dtype(), like.shape());
        Backends.of(like).fill(t, 1f);
        return t;
    }

    /** A copy of {@code t} on its device (layers reuse their buffers, so keep what is needed later). */
    static Tensor copyOf(Tensor t) {
        Tensor c = Backends.of(t).zeros(t.dtype(), t.shape());
        Backends.of(t).copy(t, c);
        return c;
    }

    /** The expected dy shape check: {@code dy} must match {@code y}. */
    static void requireLike(String dyName, Tensor dy, Tensor y) {
        CaseContext.requireShape("input '" + dyName + "'", dy.dims(), y.dims());
    }
}
