package dev.jtrain.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.FaultGuard;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.backend.gpu.KernelChoice;
import dev.jtrain.data.BatchIterator;
import dev.jtrain.data.Dataset;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.loss.SoftmaxCrossEntropy;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.optim.Sgd;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;
import dev.jtrain.train.Models;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Whole training steps per device ({@code jtrain bench train}): the same model, seed, data and recipe (SGD
 * momentum 0.9, lr 0.01, softmax cross-entropy) on each device, measured in one run, so the ratio to the
 * cpu is meaningful. A step is: upload the batch into persistent device buffers, zero grads, forward, loss,
 * backward, update; the timed window ends with the loss read back (a host synchronisation), so queued
 * GPU work is included.
 *
 * <p>On a GPU backend the native calls are counted and timed: {@code hostUsPerCall} is the wall time spent
 * <i>outside</i> native calls per call (the Java layer graph, the op front's checks, JNI argument passing:
 * the host overhead on top of the kernels) and {@code nativeUsPerCall} the time inside them (on emu that
 * includes the kernels themselves, which run on the host; on a GPU only the launch cost).
 */
public final class TrainBenchmark {

    public record Options(List<String> models, List<Device> devices, List<KernelChoice> kernels, int batch,
                          int warmupSteps, int steps, long seed) {
    }

    public record Row(String model, Device device, String kernels, double samplesPerSec, double ratioToCpu,
                      double stepMs, double callsPerStep, double hostUsPerCall, double nativeUsPerCall,
                      double h2dBytesPerStep, double d2hBytesPerStep, double lastLoss) {
    }

    private TrainBenchmark() {
    }

    /** Runs every (model, device, kernels) cell; {@code onRow} sees each row as it is measured. */
    public static List<Row> run(Options o, Dataset train, Consumer<Row> onRow) {
        List<Row> rows = new ArrayList<>();
        for (String model : o.models()) {
            int[] inDims = Models.inputDims(model, train.sampleDims());
            Dataset data = train.withSampleDims(inDims);
            double cpuSpeed = Double.NaN;
            for (Device d : o.devices()) {
                List<KernelChoice> choices = d.isHost() ? List.of(KernelChoice.CUSTOM) : o.kernels();
                for (KernelChoice k : choices) {
                    Row r = measure(model, inDims, data, d, k, o, cpuSpeed);
                    if (d.isHost()) {
                        cpuSpeed = r.samplesPerSec();
                    }
                    rows.add(r);
                    onRow.accept(r);
                }
            }
        }
        return rows;
    }

    private static Row measure(String model, int[] inDims, Dataset data, Device d, KernelChoice k, Options o,
                               double cpuSpeed) {
        GpuBackend gpu = d.isHost() ? null : Backends.gpu(d);
        if (gpu != null) {
            gpu.useKernels(k);
        }
        Generator gen = new Generator(o.seed());
        Layer net = Models.build(model, inDims, data.numClasses(), Models.defaultHidden(model), 0f, gen, d);
        SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy(0f);
        Optimizer opt = new Sgd(net.parameters(), 0.01, 0.9);
        try (BatchIterator it = new BatchIterator(data, o.batch(), true, d, !d.isHost()); net; loss; opt) {
            Tensor l = null;
            it.startEpoch(gen);
            for (int i = 0; i < o.warmupSteps(); i++) {
                l = step(it, gen, net, loss, opt);
            }
            if (l != null) {
                l.to(Device.CPU);
            }
            FaultGuard guard = gpu == null ? null : gpu.guard();
            if (guard != null) {
                guard.profile(true);
            }
            TransferStats.Totals t0 = Backends.forDevice(d).transferStats().snapshot();
            long start = System.nanoTime();
            int samples = 0;
            for (int i = 0; i < o.steps(); i++) {
                samples += Math.min(o.batch(), data.size());
                l = step(it, gen, net, loss, opt);
            }
            float last = l.to(Device.CPU).item();        // waits for the device
            double seconds = (System.nanoTime() - start) / 1e9;
            TransferStats.Totals t = Backends.forDevice(d).transferStats().snapshot().minus(t0);
            double calls = guard == null ? Double.NaN : guard.calls();
            double nativeSec = guard == null ? Double.NaN : guard.nativeNanos() / 1e9;
            if (guard != null) {
                guard.profile(false);
            }
            double speed = samples / seconds;
            return new Row(model, d, d.isHost() ? "java" : k.toString(), speed, speed / cpuSpeed,
                    1e3 * seconds / o.steps(), calls / o.steps(), 1e6 * (seconds - nativeSec) / calls,
                    1e6 * nativeSec / calls, (double) t.h2dBytes() / o.steps(), (double) t.d2hBytes() / o.steps(), last);
        } finally {
            if (gpu != null) {
                gpu.useKernels(KernelChoice.CUSTOM);
            }
        }
    }

    private static Tensor step(BatchIterator it, Generator gen, Layer net, SoftmaxCrossEntropy loss, Optimizer opt) {
        if (!it.hasNext()) {
            it.startEpoch(gen);
        }
        BatchIterator.Batch b = it.next();
        net.zeroGrad();
        Tensor l = loss.forward(net.forward(b.x(), true), b.y());
        net.backward(loss.backward(), false);
        opt.step();
        return l;
    }

    public static String header() {
        return String.format(Locale.ROOT, "%-5s %-7s %-7s %12s %9s %9s %11s %10s %10s %12s", "model", "device", "kernels",
                "samples/s", "vs cpu", "ms/step", "calls/step", "host us", "native us", "h2d KB/step");
    }

    public static String line(Row r) {
        return String.format(Locale.ROOT, "%-5s %-7s %-7s %12.0f %9s %9.2f %11s %10s %10s %12.1f", r.model(), r.device(),
                r.kernels(), r.samplesPerSec(), Double.isNaN(r.ratioToCpu()) ? "-" : String.format(Locale.ROOT, "%.2fx",
                        r.ratioToCpu()), r.stepMs(), num(r.callsPerStep(), "%.0f"), num(r.hostUsPerCall(), "%.2f"),
                num(r.nativeUsPerCall(), "%.2f"), r.h2dBytesPerStep() / 1e3);
    }

    private static String num(double v, String fmt) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, fmt, v);
    }

    public static String toJson(Options o, List<Row> rows) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("batch", o.batch());
        root.put("warmup_steps", o.warmupSteps());
        root.put("steps", o.steps());
        root.put("seed", o.seed());
        root.put("java", Runtime.version().toString());
        ArrayNode a = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode n = a.addObject();
            n.put("model", r.model());
            n.put("device", r.device().toString());
            n.put("kernels", r.kernels());
            n.put("samples_per_sec", r.samplesPerSec());
            put(n, "ratio_to_cpu", r.ratioToCpu());
            n.put("step_ms", r.stepMs());
            put(n, "native_calls_per_step", r.callsPerStep());
            put(n, "host_us_per_call", r.hostUsPerCall());
            put(n, "native_us_per_call", r.nativeUsPerCall());
            n.put("h2d_bytes_per_step", r.h2dBytesPerStep());
            n.put("d2h_bytes_per_step", r.d2hBytesPerStep());
            n.put("last_loss", r.lastLoss());
        }
        try {
            return m.enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise the benchmark report", e);
        }
    }

    private static void put(ObjectNode n, String k, double v) {
        if (Double.isFinite(v)) {
            n.put(k, v);
        } else {
            n.putNull(k);
        }
    }
}
