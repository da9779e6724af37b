package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One Linear layer at small batches on the cpu (the small-m GEMM case: inference and small-batch training),
 * through the layer as a model calls it: forward alone, and forward + backward (weight and bias gradients and
 * the input gradient, gradients zeroed first as a training step does). bench/scripts/torch_linear.py times
 * nn.Linear the same way; run both in one session and read the ratio.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LinearBenchmark {

    /** in x out: the MLP's first layer and a tiny one (per-op overhead). */
    @Param({"784x512", "16x16"})
    String layer;

    @Param({"1", "8"})
    int batch;

    @Param({"1"})
    int threads;

    Linear linear;
    Tensor x;
    Tensor dy;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new CpuThreadPool(threads);
        String[] io = layer.split("x");
        int in = Integer.parseInt(io[0]);
        int out = Integer.parseInt(io[1]);
        linear = new Linear(in, out, true, new Generator(0));
        x = random(Shape.of(batch, in), new SplittableRandom(1));
        dy = random(Shape.of(batch, out), new SplittableRandom(2));
    }

    private static Tensor random(Shape s, SplittableRandom r) {
        float[] v = new float[s.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Tensor.of(v, s.dims());
    }

    /** The benchmark's own pool, bound to the measuring thread around each iteration. */
    private CpuThreadPool pool;
    private CpuThreadPool.Binding bound;

    @Setup(Level.Iteration)
    public void bindPool() {
        bound = pool.bind();
    }

    @TearDown(Level.Iteration)
    public void unbindPool() {
        bound.close();
    }

    @TearDown(Level.Trial)
    public void closePool() {
        pool.close();
    }

    @Benchmark
    public Tensor forward() {
        return linear.forward(x, false);
    }

    @Benchmark
    public Tensor forwardBackward() {
        linear.zeroGrad();
        linear.forward(x, true);
        return linear.backward(dy, true);
    }
}
