package dev.jtrain.distributed;

import dev.jtrain.backend.Backends;
import dev.jtrain.nn.CrossReplicaSums;
import dev.jtrain.nn.GradientReadyListener;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Buffer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.nn.layers.BatchNorm;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one rank of a data-parallel run does besides training its model: average gradients over the ranks before
 * each optimizer step, sum the metrics, keep buffers and parameters equal on all ranks, and guard every collective
 * with a deadline ({@link CollectiveWatchdog}). {@link dev.jtrain.train.Trainer#setDataParallel} wires it into the
 * training loop, which also shards the batches.
 *
 * <p><b>Loss weighting.</b> Each rank's loss is the mean over its n_r samples of a global batch of n. Its gradient
 * is multiplied by w_r = n_r / n and the products are summed over the ranks, which gives the gradient of the mean
 * over the global batch: N ranks with B/N samples each make the step of one process with B. With equal shares
 * (n divisible by N) w_r = 1/N.
 *
 * <p><b>Overlap (the default).</b> {@link #startGradientReduction} before the backward returns a
 * {@link GradientReadyListener} for {@link Layer#backward(Tensor, boolean, GradientReadyListener)}: as the backward
 * finishes parameters (in reverse registration order), their gradients are copied (times w_r) into buckets of
 * {@link #DEFAULT_BUCKET_BYTES} of a fixed plan, the same on every rank, and each full bucket is all-reduced on one
 * communication thread while the backward goes on ({@link OverlappedGradientReduction}); {@link #averageGradients}
 * then waits for the buckets and copies the sums back. Cuda gradients with NCCL are reduced on a second CUDA stream
 * ordered by events instead ({@link DeviceGradientStream}). The sums are element-wise, so the result has the bits of
 * the plain path below.
 *
 * <p><b>Without overlap</b> ({@link #setOverlap setOverlap(false)}, {@code train --no-overlap}): after the whole
 * backward, host gradients are copied (times w_r) into one float buffer of {@link #DEFAULT_BUCKET_BYTES}, in
 * parameter order, a tensor split across buckets where needed, and each full bucket is all-reduced and copied back:
 * one collective per bucket, not per tensor. Device gradients are scaled on the device and reduced one tensor at a
 * time through {@link Communicator#allReduceSum(Tensor)} (NCCL where the communicator has it), else staged through
 * the host.
 */
public final class DataParallel implements AutoCloseable {
    public static final int DEFAULT_BUCKET_BYTES = 4 << 20;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private final Communicator comm;
    private CollectiveWatchdog watchdog;
    private float[] bucket;
    private int[] segments = new int[3 * 16];   // (parameter index, offset in its gradient, length) per piece
    private int segmentCount;
    private int bucketFill;
    private Parameter[] bucketParams = new Parameter[0];
    private boolean deviceReduceUnsupported;
    // the current step, for weighting and for messages
    private int epoch;
    private int step;
    private double localWeight = 1;
    private boolean overlap = true;
    private final OverlappedGradientReduction overlapped;
    private DeviceGradientStream deviceStream;   // cuda + NCCL only; made on the first such step
    private long plainNanos;                     // time in the plain path's averageGradients
    private long plainSteps;

    public DataParallel(Communicator comm) {
        this.comm = Objects.requireNonNull(comm, "comm");
        this.bucket = new float[DEFAULT_BUCKET_BYTES / Float.BYTES];
        this.watchdog = CollectiveWatchdog.interrupting(DEFAULT_TIMEOUT);
        this.overlapped = new OverlappedGradientReduction(comm, () -> watchdog);
    }

    /**
     * Whether the gradient all-reduce overlaps the backward pass (default true; see the class comment). False: it runs
     * after the whole backward, in {@link #averageGradients}. Either way every rank gets the same bits; set the same
     * on all ranks.
     */
    public DataParallel setOverlap(boolean overlap) {
        if (overlapped.active()) {
            throw new IllegalStateException("setOverlap during a step (between startGradientReduction and averageGradients)");
        }
        this.overlap = overlap;
        return this;
    }

    /** Whether the gradient all-reduce overlaps the backward pass. */
    public boolean overlap() {
        return overlap;
    }

    /** The size of one gradient bucket (at least one float). */
    public DataParallel setBucketBytes(int bytes) {
        if (bytes < Float.BYTES) {
            throw new IllegalArgumentException("bucket size must be >= " + Float.BYTES + " bytes, got " + bytes);
        }
        bucket = new float[bytes / Float.BYTES];
        return this;
    }

    /** The deadline of every collective (replaces the default {@link CollectiveWatchdog#interrupting} of 120 s). */
    public DataParallel setWatchdog(CollectiveWatchdog watchdog) {
        this.watchdog.close();
        this.watchdog = Objects.requireNonNull(watchdog, "watchdog");
        return this;
    }

    public Communicator communicator() {
        return comm;
    }

    public int rank() {
        return comm.rank();
    }

    public int size() {
        return comm.size();
    }

    /** Whether this is rank 0, the one that writes files and prints. */
    public boolean isRoot() {
        return comm.rank() == 0;
    }

    /** The step about to run (1-based), this rank's samples in it and the global batch's: sets the weight n_r / n. */
    public void beginStep(int epoch, int step, int localSamples, int globalSamples) {
        if (localSamples < 1 || globalSamples < localSamples) {
            throw new IllegalArgumentException("step " + step + ": " + localSamples + " local samples of a global batch of "
                    + globalSamples);
        }
        this.epoch = epoch;
        this.step = step;
        this.localWeight = (double) localSamples / globalSamples;
    }

    /** This rank's weight n_r / n in the current step's global mean. */
    public double localWeight() {
        return localWeight;
    }

    private String where() {
        return "epoch " + epoch + " step " + step;
    }

    /**
     * Starts the current step's overlapped gradient all-reduce of {@code params} (the parameters the optimizer steps)
     * and returns the listener to pass to the model's backward, or null when there is nothing to overlap (one rank, or
     * {@link #setOverlap overlap off}): then call the backward without a listener. Either way
     * {@link #averageGradients} with the same parameters ends the step's reduction.
     */
    public GradientReadyListener startGradientReduction(Parameter[] params) {
        if (comm.size() == 1 || !overlap || params.length == 0) {
            return null;
        }
        if (DeviceGradientStream.applies(comm, params)) {
            if (deviceStream == null) {
                deviceStream = new DeviceGradientStream((MpiCommunicator) comm, params[0].value().device());
            }
            return deviceStream.begin(params, (float) localWeight, where(), watchdog);
        }
        return overlapped.begin(params, bucket.length, localWeight, where());
    }

    /**
     * Replaces each trainable parameter's gradient by the weighted sum over the ranks (see the class comment): after
     * this every rank holds the gradient of the global batch's mean loss, the same bits on every rank. After
     * {@link #startGradientReduction} this waits for the overlapped all-reduce (and rethrows its failure, naming the
     * bucket and the step); else it reduces now.
     */
    public void averageGradients(Parameter[] params) {
        if (comm.size() == 1) {
            return;
        }
        if (overlapped.active()) {
            if (!overlapped.planFor(params)) {
                throw new IllegalArgumentException("averageGradients: other parameters than startGradientReduction's");
            }
            overlapped.finish();
            return;
        }
        if (deviceStream != null && deviceStream.active()) {
            deviceStream.finish();
            return;
        }
        long t0 = System.nanoTime();
        try {
            averageGradientsNow(params);
        } finally {
            plainNanos += System.nanoTime() - t0;
            plainSteps++;
        }
    }

    /**
     * Seconds the training thread spent in {@link #averageGradients} so far (overlapped: waiting for the buckets still
     * running when the backward ended, and copying back; plain: the whole reduction), and the steps that took.
     */
    public GradientSyncTime gradientSyncTime() {
        double seconds = overlapped.finishSeconds() + plainNanos / 1e9
                + (deviceStream == null ? 0 : deviceStream.finishSeconds());
        long steps = overlapped.finishedSteps() + plainSteps + (deviceStream == null ? 0 : deviceStream.finishedSteps());
        return new GradientSyncTime(seconds, steps);
    }

    private void averageGradientsNow(Parameter[] params) {
        float w = (float) localWeight;      // for device gradients (scaled by a float on the device)
        if (bucketParams.length < params.length) {
            bucketParams = new Parameter[params.length];
        }
        for (int p = 0; p < params.length; p++) {
            Parameter param = params[p];
            Tensor g = param.grad();      // allocates (zero) or resolves a pending zero: an unused parameter adds 0
            if (!g.device().isHost()) {
                reduceOnDevice(g, w);
                continue;
            }
            bucketParams[p] = param;
            float[] a = g.floats();
            int n = g.numel();
            for (int off = 0; off < n; ) {
                int take = Math.min(n - off, bucket.length - bucketFill);
                for (int i = 0; i < take; i++) {
                    bucket[bucketFill + i] = (float) (a[off + i] * localWeight); // one rounding; exact for w = 1/2^k
                }
                addSegment(p, off, take);
                bucketFill += take;
                off += take;
                if (bucketFill == bucket.length) {
                    flushBucket();
                }
            }
        }
        if (bucketFill > 0) {
            flushBucket();
        }
    }

    private void addSegment(int param, int offset, int length) {
        if (3 * (segmentCount + 1) > segments.length) {
            segments = java.util.Arrays.copyOf(segments, segments.length * 2);
        }
        segments[3 * segmentCount] = param;
        segments[3 * segmentCount + 1] = offset;
        segments[3 * segmentCount + 2] = length;
        segmentCount++;
    }

    private void flushBucket() {
        int n = bucketFill;
        watchdog.run(() -> "gradient all-reduce (" + n + " floats) of " + where(), () -> comm.allReduceSum(bucket, 0, n));
        int at = 0;
        for (int s = 0; s < segmentCount; s++) {
            float[] a = bucketParams[segments[3 * s]].grad().floats();
            int len = segments[3 * s + 2];
            System.arraycopy(bucket, at, a, segments[3 * s + 1], len);
            at += len;
        }
        segmentCount = 0;
        bucketFill = 0;
    }

    /** A device gradient: scaled on its device, then reduced by the communicator (NCCL) or through the host. */
    private void reduceOnDevice(Tensor g, float w) {
        Backends.of(g).scale(g, w);
        if (!deviceReduceUnsupported) {
            try {
                watchdog.run(() -> "gradient all-reduce on " + g.device() + " of " + where(), () -> comm.allReduceSum(g));
                return;
            } catch (UnsupportedOperationException e) {
                deviceReduceUnsupported = true;  // decided the same way on every rank: same communicator class
            }
        }
        Tensor host = g.to(Device.CPU);
        float[] a = host.floats();
        watchdog.run(() -> "gradient all-reduce (host-staged from " + g.device() + ") of " + where(),
                () -> comm.allReduceSum(a, 0, a.length));
        g.copyFrom(host);
    }

    /** Sums {@code sums} (e.g. loss sum, correct count, samples) over the ranks; {@code what} names them in errors. */
    public void sumMetrics(double[] sums, String what) {
        if (comm.size() == 1) {
            return;
        }
        watchdog.run(() -> "all-reduce of the " + what + " after " + where(), () -> comm.allReduceSum(sums, 0, sums.length));
    }

    /**
     * Replaces each float buffer (BatchNorm's running statistics) by its mean over the ranks, computed in double: with
     * per-worker BatchNorm each rank tracked its own shard's statistics; afterwards all ranks evaluate and save the same
     * model. Buffers that are already equal on all ranks (synchronized BatchNorm) stay exactly as they are.
     */
    public void averageBuffers(Buffer[] buffersOfModel) {
        if (comm.size() == 1) {
            return;
        }
        List<Buffer> buffers = new ArrayList<>();
        int total = 0;
        for (Buffer b : buffersOfModel) {
            if (b.value().dtype() == DType.FLOAT32) {
                buffers.add(b);
                total += b.value().numel();
            }
        }
        if (total == 0) {
            return;
        }
        double[] sums = new double[total];
        int at = 0;
        for (Buffer p : buffers) {
            float[] a = hostValues(p.value());
            for (int i = 0; i < a.length; i++) {
                sums[at + i] = a[i];
            }
            at += a.length;
        }
        watchdog.run(() -> "all-reduce of the BatchNorm statistics after " + where(),
                () -> comm.allReduceSum(sums, 0, sums.length));
        at = 0;
        int n = comm.size();
        for (Buffer p : buffers) {
            float[] a = new float[p.value().numel()];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (sums[at + i] / n);
            }
            at += a.length;
            p.value().copyFrom(Tensor.of(a, p.value().shape().dims()));
        }
    }

    /**
     * Copies rank 0's parameter values and buffers to every rank (a run starts from one model even if the ranks
     * initialised theirs differently).
     */
    public void broadcastParameters(StateTensor[] params) {
        if (comm.size() == 1) {
            return;
        }
        long total = 0;
        for (StateTensor p : params) {
            if (p.value().dtype() == DType.FLOAT32) {
                total += p.value().numel();
            }
        }
        if (total * Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("broadcastParameters: " + total + " floats do not fit one byte array");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) total * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        if (isRoot()) {
            for (StateTensor p : params) {
                if (p.value().dtype() == DType.FLOAT32) {
                    for (float v : hostValues(p.value())) {
                        buf.putFloat(v);
                    }
                }
            }
        }
        byte[] bytes = buf.array();
        watchdog.run(() -> "broadcast of rank 0's parameters", () -> comm.broadcast(bytes, 0));
        if (!isRoot()) {
            buf.position(0);
            for (StateTensor p : params) {
                if (p.value().dtype() == DType.FLOAT32) {
                    float[] a = new float[p.value().numel()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = buf.getFloat();
                    }
                    p.value().copyFrom(Tensor.of(a, p.value().shape().dims()));
                }
            }
        }
    }

    private static float[] hostValues(Tensor t) {
        return t.device().isHost() ? t.floats() : t.to(Device.CPU).floats();
    }

    /** The sums synchronized BatchNorm uses: guarded all-reduces, and this step's weight. */
    public CrossReplicaSums crossReplicaSums() {
        return new CrossReplicaSums() {
            @Override
            public void allReduceSum(double[] data) {
                Runnable collective = () -> comm.allReduceSum(data, 0, data.length);
                if (overlapped.active()) {   // in the backward: after the buckets already launched, on their thread
                    overlapped.runCollective(() -> "synchronized BatchNorm all-reduce of " + where(), collective);
                } else {
                    watchdog.run(() -> "synchronized BatchNorm all-reduce of " + where(), collective);
                }
            }

            @Override
            public double localWeight() {
                return localWeight;
            }
        };
    }

    /**
     * Makes every BatchNorm of {@code model} normalise with the statistics of the global batch (all ranks' samples)
     * instead of its own shard's; returns how many layers it changed. Runs on the cpu only (see
     * {@link BatchNorm#synchronize}).
     */
    public int synchronizeBatchNorm(Layer model) {
        List<BatchNorm> found = new ArrayList<>();
        collect(model, found);
        CrossReplicaSums sums = crossReplicaSums();
        for (BatchNorm bn : found) {
            bn.synchronize(sums);
        }
        return found.size();
    }

    private static void collect(Layer layer, List<BatchNorm> out) {
        if (layer instanceof BatchNorm bn) {
            out.add(bn);
        }
        for (Layer child : layer.children().values()) {
            collect(child, out);
        }
    }

    /** Stops the watchdog's and the communication thread; the communicator stays open (its owner closes it). */
    @Override
    public void close() {
        try {
            overlapped.close();
            if (deviceStream != null) {
                deviceStream.close();
            }
        } finally {
            watchdog.close();
        }
    }
}
