package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.gemm.Sgemm;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The pure compute under {@link InferenceBenchmark}'s batch-1 MLP (784-512-512-10): the three GEMMs its Linear layers
 * issue (y = x W^T with m = 1, W [out, in] as Linear stores it), on raw arrays through {@link Sgemm} with the
 * arguments the cpu backend passes, without bias, activation, checks or any layer code. One thread, as there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class InferenceGemvBenchmark {
    private static final int[] MLP = {784, 512, 512, 10};

    final float[][] w = new float[3][];
    final float[][] h = new float[4][];

    @Setup(Level.Trial)
    public void setUp() {
        // one thread: a thread that binds no CpuThreadPool runs every op itself
        for (int l = 0; l < 3; l++) {
            w[l] = InferenceBenchmark.randomFloats(MLP[l + 1] * MLP[l], 10 + l);
        }
        for (int l = 0; l < 4; l++) {
            h[l] = InferenceBenchmark.randomFloats(MLP[l], 20 + l);
        }
    }

    @Benchmark
    public float[] mlpGemvCompute() {
        for (int l = 0; l < 3; l++) {
            int in = MLP[l];
            int out = MLP[l + 1];
            Sgemm.sgemm(false, true, 1, out, in, 1f, h[l], 0, in, w[l], 0, in, 0f, h[l + 1], 0, out);
        }
        return h[3];
    }
}
