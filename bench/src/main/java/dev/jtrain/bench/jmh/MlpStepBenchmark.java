package dev.jtrain.bench.jmh;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.nn.Sequential;
import dev.jtrain.nn.layers.Linear;
import dev.jtrain.nn.layers.ReLU;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
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
 * One training step (forward, loss, backward, SGD-momentum update) of the MLP 784-512-512-10 at
 * batch 128 on the CPU backend: the unit behind `jtrain train`'s samples/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class MlpStepBenchmark {

    @Param({"1", "2"})
    int threads;

    Sequential model;
    SoftmaxCrossEntropy loss;
    Sgd optimizer;
    Tensor x;
    Tensor labels;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new CpuThreadPool(threads);
        Generator gen = new Generator(0);
        model = new Sequential(new Linear(784, 512, true, gen), new ReLU(),
                new Linear(512, 512, true, gen), new ReLU(), new Linear(512, 10, true, gen));
        loss = new SoftmaxCrossEntropy(0f);
        optimizer = new Sgd(model.parameters(), 0.01, 0.9, 0, 0, false);
        SplittableRandom rnd = new SplittableRandom(1);
        float[] xs = new float[128 * 784];
        long[] ys = new long[128];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < ys.length; i++) {
            ys[i] = rnd.nextInt(10);
        }
        x = Tensor.of(xs, 128, 784);
        labels = Tensor.ofLongs(ys, 128);
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
    public Tensor step() {
        model.zeroGrad();
        Tensor l = loss.forward(model.forward(x, true), labels);
        model.backward(loss.backward(), false);
        optimizer.step();
        return l;
    }
}
