package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.CpuThreads;
import dev.jtrain.backend.cpu.gemm.Sgemm;
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
 * MNIST-shaped input, hidden 128) at batch 1 and 64, one calling thread. {@code mlpGemvCompute} is the pure compute
 * under the batch-1 MLP: the three GEMMs its Linear layers issue (x W^T with m = 1), on raw arrays through
 * {@link Sgemm} exactly as the cpu backend calls it, without bias, activation or any layer code; so
 * {@code predict(mlp, 1) / mlpGemvCompute} is the overhead factor of the library around the arithmetic.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class InferenceBenchmark {
    private static final int[] MLP = {784, 512, 512, 10};

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
        CpuThreads.setThreads(threads);
        Supplier<Layer> arch = model.equals("mlp")
                ? () -> Models.mlp(784, new int[] {512, 512}, 10, 0f, new Generator(0))
                : () -> Models.cnn(new int[] {1, 28, 28}, new int[] {128}, 10, 0f, new Generator(0));
        trained = arch.get();
        predictor = Predictor.builder(trained, arch).maxReplicas(1)
                .inputDims(model.equals("mlp") ? new int[] {784} : new int[] {1, 28, 28}).build();
        x = Tensor.of(randomFloats(batch * 784, 1), batch, 784);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        predictor.close();
        trained.close();
    }

    @Benchmark
    public Tensor predict() {
        return predictor.predict(x);
    }

    /** Raw operands of the MLP's three batch-1 GEMMs (the weights [out, in], as Linear stores them). */
    @State(Scope.Benchmark)
    public static class Gemv {
        float[][] w = new float[3][];
        float[][] h = new float[4][];

        @Setup(Level.Trial)
        public void setUp() {
            for (int l = 0; l < 3; l++) {
                w[l] = randomFloats(MLP[l + 1] * MLP[l], 10 + l);
            }
            for (int l = 0; l < 4; l++) {
                h[l] = randomFloats(MLP[l], 20 + l);
            }
        }
    }

    /** y_l [1, out] = h_l [1, in] W_l^T: the calls Linear makes at batch 1, on arrays (run once per parameter set). */
    @Benchmark
    public float[] mlpGemvCompute(Gemv g) {
        if (!model.equals("mlp") || batch != 1) {
            return g.h[3]; // one figure is enough: reported under mlp/1
        }
        for (int l = 0; l < 3; l++) {
            int in = MLP[l];
            int out = MLP[l + 1];
            Sgemm.sgemm(false, true, 1, out, in, 1f, g.h[l], 0, in, g.w[l], 0, in, 0f, g.h[l + 1], 0, out);
        }
        return g.h[3];
    }

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
