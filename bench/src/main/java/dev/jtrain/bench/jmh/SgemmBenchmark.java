package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.gemm.Sgemm;
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
 * SGEMM micro-benchmark: time per n x n x n product (GFLOP/s = 2n^3 / time). The report with the
 * numpy/OpenBLAS ratio is {@code jtrain bench gemm --numpy}; this is the JMH view of the same kernel.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SgemmBenchmark {

    @Param({"256", "512", "1024"})
    int n;

    @Param({"nn", "nt", "tn"})
    String transpose;

    @Param({"1", "2"})
    int threads;

    float[] a;
    float[] b;
    float[] c;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        pool = new CpuThreadPool(threads);
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
    public float[] sgemm() {
        Sgemm.sgemm(transpose.charAt(0) == 't', transpose.charAt(1) == 't', n, n, n,
                1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        return c;
    }
}
