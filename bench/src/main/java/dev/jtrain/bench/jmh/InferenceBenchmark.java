package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.infer.Predictor;
import dev.jtrain.nn.Layer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.train.Models;
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
import java.util.function.Supplier;

/**
 * Inference latency on the cpu through {@link Predictor}: the MLP 784-512-512-10 and the {@code cnn} model (28 x 28
 * MNIST-shaped input, its default hidden layer) at batch 1 and 64, one calling thread and {@code threads} CPU-pool
 * threads. The pure compute under the batch-1 MLP is {@link InferenceGemvBenchmark}, which the same run
 * ({@code benchmarks.jar Inference}) measures: {@code predict(mlp, 1) / mlpGemvCompute} is the overhead factor of the
 * library around the arithmetic.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class InferenceBenchmark {
    @Param({"mlp", "cnn"})
    String model;

    @Param({"1", "64"})
    int batch;

    @Param({"1"})
    int threads;

    Layer trained;
    Predictor predictor;
    Tensor x;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new CpuThreadPool(threads);
        Supplier<Layer> arch = model.equals("mlp")
                ? () -> Models.mlp(784, new int[] {512, 512}, 10, 0f, new Generator(0))
                : () -> Models.cnn(new int[] {1, 28, 28}, Models.defaultHidden("cnn"), 10, 0f, new Generator(0));
        trained = arch.get();
        predictor = Predictor.builder(trained, arch).maxReplicas(1)
                .inputDims(model.equals("mlp") ? new int[] {784} : new int[] {1, 28, 28}).build();
        x = Tensor.of(randomFloats(batch * 784, 1), batch, 784);
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
    public void tearDown() {
        predictor.close();
        trained.close();
        pool.close();
    }

    @Benchmark
    public Tensor predict() {
        return predictor.predict(x);
    }

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
