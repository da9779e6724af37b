package dev.jtrain.train;

import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.loss.Loss;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Brings the cpu kernels to compiled speed before a run starts, by training a throwaway copy of the network on
 * random data for a moment.
 *
 * <p><b>Why.</b> The cpu kernels are Vector API code. Until HotSpot's C2 has compiled a kernel, each vector
 * operation runs the API's Java fallback (an object and a loop per operation), 100-1000x slower than the compiled
 * kernel, and C2 compiles a method only after it has run some ten thousand loop iterations. In training each kernel
 * meets those thresholds one after the other (the first GEMM's first depth block, then its second, then the
 * backward's transposed layouts...), so the first epoch of a small network took seconds instead of a fraction of one
 * (mlp on MNIST: 4-5 s against 0.3 s for the next), and how long depended on how busy the machine was.
 *
 * <p><b>How.</b> {@link #run} does full training steps (forward, loss, backward, optimizer step) of a model the
 * caller built for the purpose, the same architecture, loss and optimizer as the real run, on one small batch of
 * random inputs: every kernel the real run uses is reached at once, on small tensors, until the step time stops
 * falling or the time budget ends. The real model, its optimizer and every random stream are untouched, so a run
 * with a warm-up gives the same bits as one without; only the JIT's state differs. Shapes that pick a code path by
 * size see the real sizes where it matters: layer widths and image sizes are the model's; only the batch is
 * smaller (kept above the small-batch GEMM path).
 */
public final class JitWarmup {
    /** What a warm-up did: steps, total time, and the first and last step times (the last shows the compiled speed). */
    public record Report(int steps, long nanos, long firstStepNanos, long lastStepNanos) {
        public double seconds() {
            return nanos / 1e9;
        }
    }

    /** Steps always done (the first ones start every kernel's compile). */
    static final int MIN_STEPS = 12;
    /**
     * Done when no step for this long was at least {@link #GAIN} faster than the fastest before it: each C2 compile
     * that lands makes the step faster, and between two landings the step time is flat (one C2 compile of a vector
     * kernel takes 50-250 ms).
     */
    static final long QUIET_NANOS = 500_000_000L;
    static final double GAIN = 0.9;

    private JitWarmup() {}

    /**
     * Trains {@code model} (a throwaway: its weights change) with {@code loss} and {@code optimizer} on one fixed
     * batch of {@code batch} random samples of shape {@code sampleDims} with labels in [0, classes), until the step
     * time has stopped falling (see {@link #QUIET_NANOS}) or {@code budget} has passed. The model must be on the cpu.
     *
     * @throws IllegalArgumentException for a model not on the cpu, a batch or class count below 1, or a sample
     *     shape with a dimension below 1
     */
    public static Report run(Layer model, Loss loss, Optimizer optimizer, int[] sampleDims, int classes, int batch,
                             Duration budget) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(loss, "loss");
        Objects.requireNonNull(optimizer, "optimizer");
        Objects.requireNonNull(budget, "budget");
        if (batch < 1) {
            throw new IllegalArgumentException("warm-up batch must be >= 1, got " + batch);
        }
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
        for (int d : sampleDims) {
            if (d < 1) {
                throw new IllegalArgumentException("sample shape " + Arrays.toString(sampleDims) + " has a dimension < 1");
            }
        }
        for (Parameter p : model.parameters()) {
            if (p.value().device() != Device.CPU) {
                throw new IllegalArgumentException("the warm-up runs on the cpu; parameter '" + p.name() + "' is on "
                        + p.value().device());
            }
        }
        int[] dims = new int[sampleDims.length + 1];
        dims[0] = batch;
        System.arraycopy(sampleDims, 0, dims, 1, sampleDims.length);
        int sampleSize = 1;
        for (int d : sampleDims) {
            sampleSize *= d;
        }
        SplittableRandom random = new SplittableRandom(0x5EEDL);
        float[] x = new float[batch * sampleSize];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        long[] y = new long[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = i % classes;
        }
        Tensor input = Tensor.of(x, dims);
        Tensor labels = Tensor.ofLongs(y, batch);
        List<Parameter> params = optimizer.parameters();

        long start = System.nanoTime();
        long deadline = start + budget.toNanos();
        long best = Long.MAX_VALUE;
        long lastGain = start;        // when a step was last GAIN x faster than every step before it
        long first = 0;
        long last = 0;
        int steps = 0;
        while (true) {
            long t0 = System.nanoTime();
            for (Parameter p : params) {
                p.zeroGrad();
            }
            Tensor logits = model.forward(input, true);
            loss.forward(logits, labels);
            model.backward(loss.backward(), false);
            optimizer.step();
            long t1 = System.nanoTime();
            last = t1 - t0;
            if (steps == 0) {
                first = last;
            }
            steps++;
            if (last < GAIN * best) {
                lastGain = t1;
            }
            best = Math.min(best, last);
            if (t1 >= deadline || (steps >= MIN_STEPS && t1 - lastGain >= QUIET_NANOS)) {
                return new Report(steps, t1 - start, first, last);
            }
        }
    }
}
