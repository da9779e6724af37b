package dev.jtrain.backend.cpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * A pool of threads that runs the cpu backend's parallel loops, owned by whoever created it: one per
 * model, per engine, per application, as the caller chooses. Two pools of different sizes can run
 * concurrently in one JVM (two models training side by side, each with its own thread count).
 *
 * <p>Ops find the pool through the calling thread: {@link #bind()} (or {@link #run}/{@link #call}) makes this
 * pool the one every cpu op issued by the current thread uses, until the binding is closed. A thread with no
 * binding uses {@link CpuThreads#defaultPool()}: one thread (the caller), unless {@code -Djtrain.threads=N}
 * asks for more. The {@code Trainer} binds the pool it was given for the whole of {@code fit}.
 *
 * <pre>{@code
 * try (CpuThreadPool pool = new CpuThreadPool(4)) {
 *     pool.run(() -> trainer.fit(train, test, epochs, batch, gen));   // or trainer.useThreads(pool)
 * }
 * }</pre>
 *
 * <p>{@link #parallelFor} runs tasks {@code 0 .. tasks-1} on the calling thread together with up to
 * {@code threads() - 1} daemon worker threads and returns when all are done. Tasks are claimed in any order
 * by whichever thread is free, so a body must make task {@code i}'s work a fixed function of {@code i} (for
 * example, a fixed slice of the output); then results do not depend on scheduling or on the thread count.
 *
 * <p>Workers start on the first loop that can use them, never for a pool of one thread, and stop at
 * {@link #close()}. Hand-off is spin-then-park: an idle worker busy-waits for a short while
 * ({@code -Djtrain.threads.spinMicros}, 50 µs) so that back-to-back loops (a GEMM, then an activation,
 * then a GEMM) start without an OS wake-up, then parks so it costs nothing under CPU contention or between
 * steps. The caller waits for the workers the same way.
 *
 * <p>A {@code parallelFor} called from inside a task, or while another thread's loop holds the pool, runs all
 * its tasks on the calling thread (same results, no deadlock): one pool may be bound on several threads.
 */
public final class CpuThreadPool implements AutoCloseable {
    /** How long an idle worker (or a waiting caller) spins before parking. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("jtrain.threads.spinMicros", 50));

    private final int threads;
    private final Object lock = new Object();
    private volatile Workers workers;   // started on the first loop that needs them
    private volatile boolean closed;

    /**
     * A pool of {@code threads} threads, the caller of each loop included (so {@code threads - 1} workers);
     * starts no thread until a loop needs one.
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public CpuThreadPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1 (got " + threads + ")");
        }
        this.threads = threads;
    }

    /**
     * The thread count an application that wants all the machine gives its pool (the CLI's default):
     * {@code -Djtrain.threads=N} when set, else every available processor.
     */
    public static int processorCount() {
        Integer fromProperty = Integer.getInteger("jtrain.threads");
        if (fromProperty != null && fromProperty > 0) {
            return fromProperty;
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** The number of threads this pool's loops use, the caller included. */
    public int threads() {
        return threads;
    }

    /** Worker threads running now (0 before the first parallel loop, for one thread, and after close). */
    public int liveWorkers() {
        Workers w = workers;
        if (w == null) {
            return 0;
        }
        int n = 0;
        for (Worker t : w.workers) {
            if (t.isAlive()) {
                n++;
            }
        }
        return n;
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Makes this pool the one the cpu ops of the current thread use, until the returned binding is closed
     * (which restores the previous one). Bindings nest; close them in reverse order (try-with-resources).
     *
     * @throws IllegalStateException if the pool was closed
     */
    public Binding bind() {
        requireOpen();
        return CpuThreads.bind(this);
    }

    /** Runs {@code body} on the current thread with this pool bound. */
    public void run(Runnable body) {
        try (Binding ignored = bind()) {
            body.run();
        }
    }

    /** Calls {@code body} on the current thread with this pool bound and returns its result. */
    public <T> T call(Supplier<T> body) {
        try (Binding ignored = bind()) {
            return body.get();
        }
    }

    /** A pool bound to a thread; closing it restores the thread's previous pool. */
    public interface Binding extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Stops the workers (after any loop in flight). Idempotent. A closed pool can no longer be bound; a loop
     * issued through a binding made before the close throws {@link IllegalStateException}.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            Workers w = workers;
            workers = null;
            if (w != null) {
                w.shutdown();
            }
        }
    }

    @Override
    public String toString() {
        return "CpuThreadPool(" + threads + (threads == 1 ? " thread" : " threads") + (closed ? ", closed)" : ")");
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException(this + " was closed; create a new pool");
        }
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)}, spread over the calling
     * thread and the workers, and returns when all have finished. If a task throws, the remaining
     * unclaimed tasks are skipped and the first exception is rethrown here.
     */
    public void parallelFor(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("tasks must be >= 0 (got " + tasks + ")");
        }
        requireOpen();
        if (tasks == 0) {
            return;
        }
        if (tasks == 1 || threads == 1 || Thread.currentThread() instanceof Worker) {
            runInline(tasks, body);
            return;
        }
        Workers w = workers();
        if (w == null || !w.busy.compareAndSet(false, true)) {
            runInline(tasks, body); // another thread's loop holds the pool, or it is being closed
            return;
        }
        try {
            w.run(tasks, body);
        } finally {
            w.busy.set(false);
        }
    }

    /**
     * The threads a {@link #parallelFor} started now could use: 1 inside a task, or while another thread's
     * loop holds the pool (such a call runs inline); else {@link #threads()}. A caller that splits its work
     * per thread (the GEMM) asks this, so a call nested in a task does not split work that would then run in
     * turn (each part re-packing the shared panel).
     */
    public int availableThreads() {
        if (threads == 1 || Thread.currentThread() instanceof Worker) {
            return 1;
        }
        Workers w = workers;
        return w != null && w.busy.get() ? 1 : threads;
    }

    private static void runInline(int tasks, IntConsumer body) {
        for (int i = 0; i < tasks; i++) {
            body.accept(i);
        }
    }

    private Workers workers() {
        Workers w = workers;
        if (w != null) {
            return w;
        }
        synchronized (lock) {
            if (workers == null && !closed) {
                workers = new Workers(threads - 1);
            }
            return workers;
        }
    }

    /** One parallel loop, published to the workers as a whole through {@link Workers#job}. */
    private static final class Job {
        /** Cleared once the loop has finished, so the last job (still published) keeps no arrays alive. */
        IntConsumer body;
        final int tasks;
        /** Workers 0 .. participants-1 take part; the others ignore this job. */
        final int participants;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        volatile boolean callerParked;

        Job(IntConsumer body, int tasks, int participants, Thread caller) {
            this.body = body;
            this.tasks = tasks;
            this.participants = participants;
            this.caller = caller;
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < tasks) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                    next.set(tasks); // skip the rest
                }
            }
        }
    }

    /** The started workers of one pool and the job they share. */
    private static final class Workers {
        final Worker[] workers;
        final AtomicBoolean busy = new AtomicBoolean();
        volatile Job job;
        volatile boolean stopped;

        Workers(int nWorkers) {
            workers = new Worker[nWorkers];
            for (int i = 0; i < nWorkers; i++) {
                workers[i] = new Worker(this, i);
            }
            for (Worker w : workers) {
                w.start();
            }
        }

        void run(int tasks, IntConsumer body) {
            int participants = Math.min(workers.length, tasks - 1);
            Job j = new Job(body, tasks, participants, Thread.currentThread());
            job = j; // publishes the job (volatile write)
            for (int i = 0; i < participants; i++) {
                Worker w = workers[i];
                if (w.parked) {
                    LockSupport.unpark(w);
                }
            }
            j.work();
            // wait for the workers: spin, then park until the last one unparks us
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int polls = 0;
            while (j.finished.get() < participants) {
                if ((++polls & 63) != 0 || System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    j.callerParked = true;
                    if (j.finished.get() < participants) {
                        LockSupport.park(this);
                    }
                    j.callerParked = false;
                }
            }
            j.body = null; // every participant is done with it
            Throwable t = j.error.get();
            if (t != null) {
                if (t instanceof RuntimeException) {
                    throw (RuntimeException) t;
                }
                if (t instanceof Error) {
                    throw (Error) t;
                }
                throw new RuntimeException(t);
            }
        }

        void shutdown() {
            // wait until no loop is in flight, then stop the workers
            while (!busy.compareAndSet(false, true)) {
                Thread.onSpinWait();
            }
            stopped = true;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        }
    }

    private static final class Worker extends Thread {
        final Workers pool;
        final int index;
        volatile boolean parked;

        Worker(Workers pool, int index) {
            super("jtrain-cpu-" + (index + 1));
            this.pool = pool;
            this.index = index;
            setDaemon(true); // a pool never closed must not keep the JVM alive
        }

        @Override
        public void run() {
            Job seen = null;
            while (true) {
                Job j = awaitJob(seen);
                if (j == null) {
                    return;
                }
                seen = j;
                if (index < j.participants) {
                    j.work();
                    if (j.finished.incrementAndGet() == j.participants && j.callerParked) {
                        LockSupport.unpark(j.caller);
                    }
                }
            }
        }

        /** Waits for a job other than {@code seen}; null when the pool is stopped. */
        private Job awaitJob(Job seen) {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            int polls = 0;
            while (true) {
                Job j = pool.job;
                if (j != seen) {
                    return j;
                }
                if (pool.stopped) {
                    return null;
                }
                if ((++polls & 63) != 0 || System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    parked = true;
                    if (pool.job == seen && !pool.stopped) {
                        LockSupport.park(pool);
                    }
                    parked = false;
                }
            }
        }
    }
}
