package dev.jtrain.bench.jmh;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
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
 * The element-wise ops of a training step on the cpu backend, at an MLP activation (128x512) and a conv
 * activation (128x32x28x28, the cnn's first layer), through the checked Backend front as layers call them.
 * bench/scripts/torch_elementwise.py times the same ops in PyTorch (same shapes, same thread count), so the
 * two tables give the ratio; run both in one session (the machine's load moves both).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBenchmark {

    @Param({"128x512", "128x32x28x28"})
    String shape;

    @Param({"1"})
    int threads;

    Backend be;
    Tensor x;
    Tensor y;
    Tensor dy;
    Tensor dx;
    Tensor mask;
    Tensor bias;
    Tensor param;
    Tensor grad;
    Tensor m1;
    Tensor m2;
    long offset;
    int step;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new CpuThreadPool(threads);
        be = Backends.forDevice(Device.CPU);
        String[] parts = shape.split("x");
        int[] dims = new int[parts.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = Integer.parseInt(parts[i]);
        }
        Shape s = Shape.of(dims);
        SplittableRandom r = new SplittableRandom(1);
        x = random(s, r);
        dy = random(s, r);
        y = be.zeros(DType.FLOAT32, s);
        dx = be.zeros(DType.FLOAT32, s);
        mask = be.zeros(DType.FLOAT32, s);
        bias = random(Shape.of(dims[1]), r);
        param = random(s, r);
        grad = random(s, r);
        m1 = be.zeros(DType.FLOAT32, s);
        m2 = be.zeros(DType.FLOAT32, s);
    }

    private Tensor random(Shape s, SplittableRandom r) {
        Tensor t = be.zeros(DType.FLOAT32, s);
        float[] f = t.floats();
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
        }
        return t;
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
    public Tensor reluForward() {
        be.activationForward(Activation.relu(), x, y);
        return y;
    }

    @Benchmark
    public Tensor reluBackward() {
        be.activationBackward(Activation.relu(), x, y, dy, dx);
        return dx;
    }

    @Benchmark
    public Tensor addBias() {
        be.addBias(y, bias);
        return y;
    }

    @Benchmark
    public Tensor dropoutForward() {
        be.dropoutForward(x, 0.5f, 7, offset++, y, mask);
        return y;
    }

    @Benchmark
    public Tensor sgdMomentumStep() {
        be.sgdStep(param, grad, m1, 1e-6f, 0.9f, 0f, 0f, false, false);
        return param;
    }

    @Benchmark
    public Tensor adamStep() {
        be.adamStep(param, grad, m1, m2, null, 1e-6f, 0.9f, 0.999f, 1e-8f, 0f, false, ++step);
        return param;
    }
}
