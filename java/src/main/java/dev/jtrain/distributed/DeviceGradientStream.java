package dev.jtrain.distributed;

import dev.jtrain.backend.Backends;
import dev.jtrain.backend.gpu.GpuBackend;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.nn.GradientReadyListener;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The overlapped gradient all-reduce of cuda gradients through NCCL: on a second CUDA stream, ordered against the
 * backend's (compute) stream by events, so the host never waits. When the backward reports parameters ready, their
 * gradients are scaled by w_r on the compute stream (as the plain path does), an event is recorded there, the
 * communication stream waits for it, and NCCL all-reduces each gradient on the communication stream while the
 * compute stream runs the rest of the backward. {@link #finish} reduces what was not reported (unused: zero), records
 * an event on the communication stream and makes the compute stream wait for it: the optimizer step queued next
 * sees the sums. The gradients are reduced one tensor at a time, as in the plain path (same bits).
 *
 * <p>Not measured: no GPU. This path needs cuda and NCCL; the machines the tests run on have neither, so only the
 * event API it uses is tested (on emu, {@code StreamEventTest}); the host-staged overlap covers emu.
 */
final class DeviceGradientStream implements AutoCloseable {
    private final MpiCommunicator comm;
    private final GpuBackend backend;
    private final NativeApi api;
    private long commStream;
    private long gradientsReady;     // recorded on the compute stream before each batch of all-reduces
    private long reduced;            // recorded on the communication stream after the step's last all-reduce
    private final Map<Parameter, Boolean> done = new IdentityHashMap<>();   // reduced in this step
    private final Map<Parameter, Boolean> planned = new IdentityHashMap<>(); // the parameters of begin's list
    private Parameter[] params;
    private float weight;
    private String where = "";
    private CollectiveWatchdog watchdog;
    private boolean active;
    private long finishNanos;
    private long finishedSteps;

    /** Whether this path applies: MPI ranks whose parameters are on a cuda device. */
    static boolean applies(Communicator comm, Parameter[] params) {
        return comm instanceof MpiCommunicator && params.length > 0
                && params[0].value().device().kind() == Device.Kind.CUDA;
    }

    DeviceGradientStream(MpiCommunicator comm, Device device) {
        this.comm = comm;
        this.backend = Backends.gpu(device);
        this.api = backend.api();
        this.commStream = api.streamCreate();
        this.gradientsReady = api.eventCreate();
        this.reduced = api.eventCreate();
    }

    GradientReadyListener begin(Parameter[] params, float weight, String where, CollectiveWatchdog watchdog) {
        if (active) {
            throw new IllegalStateException("the overlapped gradient all-reduce of " + this.where + " was begun but never"
                    + " finished (averageGradients was not called after the backward)");
        }
        this.params = params;
        planned.clear();
        for (Parameter p : params) {
            planned.put(p, Boolean.TRUE);
        }
        this.weight = weight;
        this.where = where;
        this.watchdog = watchdog;
        done.clear();
        active = true;
        return this::reduce;
    }

    boolean active() {
        return active;
    }

    private void reduce(Parameter[] reported) {
        // only the parameters the optimizer steps (as the host path), each once
        java.util.List<Parameter> mine = new java.util.ArrayList<>(reported.length);
        for (Parameter p : reported) {
            if (planned.containsKey(p) && done.put(p, Boolean.TRUE) == null) {
                mine.add(p);
            }
        }
        if (mine.isEmpty()) {
            return;
        }
        Parameter[] ready = mine.toArray(new Parameter[0]);
        for (Parameter p : ready) {
            Tensor g = p.grad();
            Backends.of(g).scale(g, weight);     // on the compute stream, as the plain path
        }
        api.eventRecord(gradientsReady, backend.stream());
        api.streamWaitEvent(commStream, gradientsReady);   // the all-reduces start after the scaling
        for (Parameter p : ready) {
            Tensor g = p.grad();
            try {
                watchdog.run(() -> "gradient all-reduce (NCCL, communication stream) of " + p.name() + " of " + where,
                        () -> comm.allReduceSumOnStream(g, commStream));
            } catch (CollectiveTimeoutException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new GradientReductionException("gradient all-reduce (NCCL) of parameter " + p.name() + " of " + where
                        + " failed: " + e, e);
            }
        }
    }

    /** Reduces the parameters not reported, then orders the compute stream after the communication stream. */
    void finish() {
        long t0 = System.nanoTime();
        try {
            reduce(params);   // those the backward did not report (reduce skips the others and duplicates)
            api.eventRecord(reduced, commStream);
            api.streamWaitEvent(backend.stream(), reduced);    // the optimizer step waits on the device, not the host
        } finally {
            active = false;
            finishNanos += System.nanoTime() - t0;
            finishedSteps++;
        }
    }

    double finishSeconds() {
        return finishNanos / 1e9;
    }

    long finishedSteps() {
        return finishedSteps;
    }

    @Override
    public void close() {
        if (commStream != 0) {
            api.streamSynchronize(commStream);
            api.eventDestroy(gradientsReady);
            api.eventDestroy(reduced);
            api.streamDestroy(commStream);
            commStream = 0;
        }
    }
}
