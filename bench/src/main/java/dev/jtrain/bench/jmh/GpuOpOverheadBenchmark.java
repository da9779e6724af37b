package dev.jtrain.bench.jmh;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.jni.CudaNative;
import dev.jtrain.backend.jni.EmuNative;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.backend.gpu.DeviceStorage;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.tensor.Device;
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

import java.util.concurrent.TimeUnit;

/**
 * The host overhead of one GPU op: the same one-element axpy launched through the checked op front
 * ({@code Backends.forDevice}: checks, fault guard, tensor addresses, JNI) and through the bare JNI entry
 * point. Both launch the same kernel, so the difference is what jtrain's Java layers add per op (target:
 * at most 5 µs). {@code -p device=cuda:0} on a GPU machine; on emu the launch itself is the emulation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GpuOpOverheadBenchmark {

    @Param({"emu"})
    String device;

    Backend checked;
    NativeApi raw;
    Tensor x;
    Tensor y;
    long px;
    long py;
    long stream;

    @Setup(Level.Trial)
    public void setUp() {
        Device d = Device.parse(device);
        checked = Backends.forDevice(d);
        GpuBackend gpu = Backends.gpu(d);
        // the library's own entry points, without jtrain's fault guard (a proxy) in front
        raw = d.kind() == Device.Kind.EMU ? EmuNative.api() : CudaNative.api();
        stream = gpu.stream();
        x = checked.zeros(1);
        y = checked.zeros(1);
        px = ((DeviceStorage) x.storage()).address();
        py = ((DeviceStorage) y.storage()).address();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        checked.synchronize();
        x.close();
        y.close();
    }

    @Benchmark
    public void throughTheOpFront() {
        checked.axpy(1f, x, y);
    }

    @Benchmark
    public void bareJni() {
        raw.elementwiseAxpy(1f, px, py, 1, stream);
    }
}
