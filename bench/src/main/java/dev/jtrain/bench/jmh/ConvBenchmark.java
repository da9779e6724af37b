package dev.jtrain.bench.jmh;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.cpu.CpuBackend;
import dev.jtrain.backend.cpu.CpuThreadPool;
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
 * The convolutions of the {@code lenet} and {@code cnn} models (train/Models.java) at batch 128 on
 * the CPU backend: forward alone, and forward + backward as training runs it (dW and db always; dx
 * only for the second layer, since training asks the first layer for no input gradient).
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar ConvBenchmark -p layer=lenet2 -p threads=1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvBenchmark {

    /**
     * lenet1: 1->6 5x5 pad 2 on 28x28; lenet2: 6->16 5x5 on 14x14; cnn1: 1->32 3x3 pad 1 on 28x28;
     * cnn2: 32->64 3x3 pad 1 on 14x14.
     */
    @Param({"lenet1", "lenet2", "cnn1", "cnn2"})
    String layer;

    @Param({"1", "2"})
    int threads;

    static final int BATCH = 128;

    final Backend b = CpuBackend.get();
    ConvSpec spec;
    Tensor x, w, bias, y, dy, dx, dw, db;
    boolean firstLayer;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new CpuThreadPool(threads);
        int cin, hw, cout, k, pad;
        switch (layer) {
            case "lenet1" -> { cin = 1; hw = 28; cout = 6; k = 5; pad = 2; }
            case "lenet2" -> { cin = 6; hw = 14; cout = 16; k = 5; pad = 0; }
            case "cnn1" -> { cin = 1; hw = 28; cout = 32; k = 3; pad = 1; }
            case "cnn2" -> { cin = 32; hw = 14; cout = 64; k = 3; pad = 1; }
            default -> throw new IllegalArgumentException("layer must be lenet1, lenet2, cnn1 or cnn2, got " + layer);
        }
        firstLayer = cin == 1;
        spec = ConvSpec.square(k, 1, pad);
        int out = hw + 2 * pad - k + 1;
        SplittableRandom rnd = new SplittableRandom(7);
        x = random(rnd, BATCH, cin, hw, hw);
        w = random(rnd, cout, cin, k, k);
        bias = random(rnd, cout);
        y = Tensor.of(new float[BATCH * cout * out * out], BATCH, cout, out, out);
        dy = random(rnd, BATCH, cout, out, out);
        dx = firstLayer ? null : Tensor.of(new float[BATCH * cin * hw * hw], BATCH, cin, hw, hw);
        dw = Tensor.of(new float[cout * cin * k * k], cout, cin, k, k);
        db = Tensor.of(new float[cout], cout);
    }

    private static Tensor random(SplittableRandom rnd, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, shape);
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
        b.conv2dForward(x, w, bias, spec, y);
        return y;
    }

    @Benchmark
    public Tensor forwardBackward() {
        b.conv2dForward(x, w, bias, spec, y);
        b.conv2dBackward(x, w, dy, spec, dx, dw, db);
        return dw;
    }
}
