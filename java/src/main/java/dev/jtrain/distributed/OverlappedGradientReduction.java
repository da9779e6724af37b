package dev.jtrain.distributed;

import dev.jtrain.nn.GradientReadyListener;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;

/**
 * The gradient all-reduce of one rank overlapped with its backward pass (PyTorch DDP's scheme). {@link #begin}
 * before the backward returns the {@link GradientReadyListener} the model calls as parameters' gradients become
 * final; each gradient is copied, times the rank's weight, into its bucket of the fixed {@link GradientBucketPlan},
 * and a bucket whose parameters are all in is handed to one communication thread ({@code jtrain-gradient-allreduce})
 * that all-reduces it while the backward goes on. Buckets are launched strictly in plan order, so every rank issues
 * the same collectives in the same order whatever order its hook reports them in; every collective of the step that
 * must run meanwhile (synchronized BatchNorm's) goes through the same thread ({@link #runCollective}), since MPI
 * is initialised MPI_THREAD_SERIALIZED and collectives must be issued in one order on all ranks.
 *
 * <p>{@link #finish} launches the buckets of parameters the backward never reported (unused ones: zero), waits for
 * every bucket under the watchdog, copies the sums back into the gradients, and rethrows the first failure with its
 * bucket and step. After a failure the later buckets of that step are skipped; the next step starts clean.
 *
 * <p>Gradients on a device (emu, or cuda without NCCL) go through host copies into the same buckets; cuda gradients
 * with NCCL take {@link DeviceGradientStream} instead (stream-ordered, no host copy).
 */
final class OverlappedGradientReduction implements AutoCloseable {
    private final Communicator comm;
    private final Supplier<CollectiveWatchdog> watchdog;
    private ExecutorService thread;          // started on the first step
    private GradientBucketPlan plan;
    private float[][] buffers;               // one per bucket, reused every step
    private float[][] staged;                // per parameter: host copy of a device gradient, else null
    // the current step
    private boolean active;
    private boolean[] ready;
    private int[] waitingFor;                // per bucket: parameters not yet copied in
    private int launched;                    // buckets handed to the thread (a prefix of the plan)
    private Future<?>[] futures;
    private volatile int failedBucket = -1;  // the first bucket whose all-reduce failed in this step
    private String where = "";
    private double weight;
    private long finishNanos;
    private long finishedSteps;

    OverlappedGradientReduction(Communicator comm, Supplier<CollectiveWatchdog> watchdog) {
        this.comm = comm;
        this.watchdog = watchdog;
    }

    /** Starts a step's reduction of {@code params} with this rank's weight; {@code where} names the step in errors. */
    GradientReadyListener begin(Parameter[] params, int bucketFloats, double weight, String where) {
        if (active) {
            throw new IllegalStateException("the overlapped gradient all-reduce of " + this.where + " was begun but never"
                    + " finished (averageGradients was not called after the backward)");
        }
        settlePreviousStep();
        if (plan == null || !plan.matches(params, bucketFloats)) {
            plan = new GradientBucketPlan(params, bucketFloats);
            buffers = new float[plan.buckets()][];
            for (int b = 0; b < buffers.length; b++) {
                buffers[b] = new float[plan.bucketLength[b]];
            }
            staged = new float[plan.params.length][];
            ready = new boolean[plan.params.length];
            waitingFor = new int[plan.buckets()];
            futures = new Future<?>[plan.buckets()];
        }
        Arrays.fill(ready, false);
        System.arraycopy(plan.paramsIn, 0, waitingFor, 0, waitingFor.length);
        Arrays.fill(futures, null);
        launched = 0;
        failedBucket = -1;
        this.weight = weight;
        this.where = where;
        active = true;
        return this::ready;
    }

    /** Whether a step's reduction is under way (between {@link #begin} and {@link #finish}). */
    boolean active() {
        return active;
    }

    /** Whether this is the step's plan (made for these parameters). */
    boolean planFor(Parameter[] params) {
        return plan != null && plan.matches(params, plan.bucketFloats);
    }

    private void ready(Parameter[] params) {
        for (Parameter p : params) {
            int i = plan.indexOf(p);
            if (i < 0) {
                continue;   // not trained by this optimizer (the trainer passes the parameters it steps)
            }
            if (ready[i]) {
                throw new IllegalStateException("parameter #" + (i + 1) + " (" + p.name() + ") was reported ready twice in "
                        + where + ": its gradient changed after it was handed to the all-reduce");
            }
            copyIn(i);
        }
        launchReadyBuckets();
    }

    /** Copies parameter i's gradient times the weight into its buckets (the same roundings as the plain path). */
    private void copyIn(int i) {
        ready[i] = true;
        Tensor g = plan.params[i].grad();     // allocates (zero) or resolves a pending zero: an unused parameter adds 0
        int n = g.numel();
        float[] a;
        boolean host = g.device().isHost();
        if (host) {
            a = g.floats();
        } else {
            if (staged[i] == null) {
                staged[i] = new float[n];
            }
            try (Tensor h = g.to(Device.CPU)) {
                System.arraycopy(h.floats(), 0, staged[i], 0, n);
            }
            a = staged[i];
        }
        float w = (float) weight;
        for (int b : plan.bucketsOf[i]) {
            int[] s = plan.segments[b];
            float[] buf = buffers[b];
            int at = 0;
            for (int k = 0; k < s.length; k += 3) {
                if (s[k] == i) {
                    int off = s[k + 1];
                    int len = s[k + 2];
                    if (host) {
                        scaleInto(a, off, buf, at, len, weight);   // as DataParallel's plain path
                    } else {
                        scaleInto(a, off, buf, at, len, w);        // as the device's scale(g, w) of the plain path
                    }
                }
                at += s[k + 2];
            }
            waitingFor[b]--;
        }
    }

    // Small static loops: the JIT compiles them fully (a loop inside copyIn ran several times slower).
    private static void scaleInto(float[] src, int from, float[] dst, int to, int n, double w) {
        for (int e = 0; e < n; e++) {
            dst[to + e] = (float) (src[from + e] * w);
        }
    }

    private static void scaleInto(float[] src, int from, float[] dst, int to, int n, float w) {
        for (int e = 0; e < n; e++) {
            dst[to + e] = src[from + e] * w;
        }
    }

    private void launchReadyBuckets() {
        launchReadyBuckets(false);
    }

    /**
     * Launches the ready prefix of the plan. During the backward the plan's last bucket waits for {@link #finish}:
     * it holds the first layer's parameters, the last the backward finishes, so there is nothing left to overlap it
     * with. {@code fromFinish}: a bucket whose predecessors have all completed runs on the calling thread, which
     * would only wait otherwise; that saves two thread handoffs per step (measurable on a busy 2-core machine) and
     * keeps the order, since the communication thread has nothing left that could run at the same time.
     */
    private void launchReadyBuckets(boolean fromFinish) {
        int limit = fromFinish ? plan.buckets() : plan.buckets() - 1;
        while (launched < limit && waitingFor[launched] == 0) {
            launch(launched++, fromFinish && previousDone(launched - 1));
        }
    }

    private boolean previousDone(int b) {
        for (int k = 0; k < b; k++) {
            if (!futures[k].isDone()) {
                return false;
            }
        }
        return true;
    }

    private void launch(int b, boolean inline) {
        float[] buf = buffers[b];
        int len = plan.bucketLength[b];
        String what = "gradient all-reduce of " + plan.describe(b) + " of " + where;
        Runnable reduce = () -> {
            if (failedBucket >= 0) {
                return;   // an earlier bucket of this step failed: its error is the one reported
            }
            try {
                watchdog.get().run(() -> what, () -> comm.allReduceSum(buf, 0, len));
            } catch (RuntimeException e) {
                failedBucket = b;
                throw e;
            }
        };
        if (inline) {
            FutureTask<Void> here = new FutureTask<>(reduce, null);
            here.run();      // its failure stays in the future, reported by awaitBucket like the others
            futures[b] = here;
        } else {
            futures[b] = thread().submit(reduce);
        }
    }

    /**
     * Waits for every bucket of the step and copies the sums into the gradients. Throws the first failure:
     * {@link CollectiveTimeoutException} (a rank died or hangs), or {@link GradientReductionException} naming the
     * bucket and step around the communicator's error.
     */
    void finish() {
        if (!active) {
            throw new IllegalStateException("no overlapped gradient all-reduce was begun for " + where);
        }
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < ready.length; i++) {
                if (!ready[i]) {
                    copyIn(i);     // the backward did not report it (unused in this step, or not reached)
                }
            }
            launchReadyBuckets(true);
            for (int b = 0; b < futures.length; b++) {
                awaitBucket(b);
            }
            copyBack();
        } finally {
            active = false;
            finishNanos += System.nanoTime() - t0;
            finishedSteps++;
        }
    }

    private void awaitBucket(int b) {
        Future<?> f = futures[b];
        // The same words as the collective's own deadline on the communication thread: whichever fires first (a
        // halting watchdog ends the process with the first), the message names the bucket and the step alike.
        String what = "gradient all-reduce of " + plan.describe(b) + " of " + where;
        try {
            watchdog.get().run(() -> what, () -> await(f));
        } catch (CollectiveTimeoutException e) {
            throw e;   // names the bucket and the step already
        } catch (RuntimeException e) {
            throw new GradientReductionException("gradient all-reduce of " + plan.describe(b) + " of " + where
                    + " failed: " + e, e);
        }
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a gradient all-reduce", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    private void copyBack() {
        for (int b = 0; b < buffers.length; b++) {
            int[] s = plan.segments[b];
            int at = 0;
            for (int k = 0; k < s.length; k += 3) {
                int i = s[k];
                float[] dst = staged[i] != null ? staged[i] : plan.params[i].grad().floats();
                System.arraycopy(buffers[b], at, dst, s[k + 1], s[k + 2]);
                at += s[k + 2];
            }
        }
        for (int i = 0; i < staged.length; i++) {
            if (staged[i] != null) {
                Tensor g = plan.params[i].grad();
                g.copyFrom(Tensor.of(staged[i], g.dims()));
            }
        }
    }

    /**
     * Runs another collective of this step (synchronized BatchNorm's) on the communication thread, after the buckets
     * already launched, and waits for it: the same order of collectives on every rank.
     */
    void runCollective(Supplier<String> what, Runnable collective) {
        Future<?> f = thread().submit(() -> watchdog.get().run(what, collective));
        watchdog.get().run(() -> "waiting for the " + what.get(), () -> await(f));
    }

    /** A step that failed may have left skipped buckets on the thread; they end at once. A stuck one is an error. */
    private void settlePreviousStep() {
        if (futures == null) {
            return;
        }
        for (int b = 0; b < futures.length; b++) {
            Future<?> f = futures[b];
            if (f != null && !f.isDone()) {
                String what = "the gradient all-reduce of " + plan.describe(b) + " of " + where + " (it failed before)";
                try {
                    watchdog.get().run(() -> what, () -> await(f));
                } catch (CollectiveTimeoutException e) {
                    throw new IllegalStateException("cannot start the next step: " + e.getMessage()
                            + "; the communicator is unusable", e);
                } catch (RuntimeException e) {
                    // its failure was reported with its own step
                }
            }
        }
    }

    /** Total time the training thread spent in {@link #finish} (waiting, copying back), in seconds. */
    double finishSeconds() {
        return finishNanos / 1e9;
    }

    /** How many steps {@link #finish} ended. */
    long finishedSteps() {
        return finishedSteps;
    }

    private synchronized ExecutorService thread() {
        if (thread == null) {
            thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "jtrain-gradient-allreduce");
                t.setDaemon(true);
                return t;
            });
        }
        return thread;
    }

    /** Stops the communication thread (a collective it is in keeps it until the collective ends). */
    @Override
    public synchronized void close() {
        if (thread != null) {
            thread.shutdownNow();
            thread = null;
        }
    }
}
