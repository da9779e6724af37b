package dev.jtrain.backend.cpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The process-wide pool that runs the CPU backend's parallel loops.
 *
 * <p>{@link #parallelFor} runs tasks {@code 0 .. tasks-1} on the calling thread together with up to
 * {@code threads() - 1} daemon worker threads and returns when all are done. Tasks are claimed in
 * any order by whichever thread is free, so a body must make task {@code i}'s work a fixed function
 * of {@code i} (for example, a fixed slice of the output); then results do not depend on
 * scheduling or on the thread count.
 *
 * <p>Hand-off is spin-then-park: an idle worker busy-waits for a short while ({@link #SPIN_NANOS})
 * so that back-to-back loops (a GEMM, then an activation, then a GEMM) start without an OS wake-up,
 * then parks so it costs nothing under CPU contention or between steps. The caller waits for the
 * workers the same way.
 *
 * <p>A {@code parallelFor} called from inside a task, or while another thread's loop holds the
 * pool, runs all its tasks on the calling thread (same results, no deadlock).
 */
public final class CpuThreads {
    private CpuThreads() {}

    /** How long an idle worker (or a waiting caller) spins before parking. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("jtrain.threads.spinMicros", 50));

    private static final Object CONFIG_LOCK = new Object();
    private static volatile Pool pool;
    private static volatile int threads = defaultThreads();

    private static int defaultThreads() {
        Integer fromProperty = Integer.getInteger("jtrain.threads");
        if (fromProperty != null && fromProperty > 0) {
            return fromProperty;
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Sets the number of threads that run parallel loops (the caller counts as one), as the CLI's
     * {@code --threads} does at start-up. May be called again later (benchmarks compare thread
     * counts): the old workers finish any loop in flight and exit.
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1 (got " + n + ")");
        }
        synchronized (CONFIG_LOCK) {
            if (n == threads) {
                return;
            }
            Pool old = pool;
            pool = null;
            threads = n;
            if (old != null) {
                old.shutdown();
            }
        }
    }

    /** The number of threads parallel loops use, the caller included. */
    public static int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, tasks)}, spread over the calling
     * thread and the workers, and returns when all have finished. If a task throws, the remaining
     * unclaimed tasks are skipped and the first exception is rethrown here.
     */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (tasks < 0) {
            throw new IllegalArgumentException("tasks must be >= 0 (got " + tasks + ")");
        }
        if (tasks == 0) {
            return;
        }
        if (tasks == 1 || threads == 1 || Thread.currentThread() instanceof Worker) {
            runInline(tasks, body);
            return;
        }
        Pool p = pool();
        if (p == null || !p.busy.compareAndSet(false, true)) {
            runInline(tasks, body); // another thread's loop holds the pool, or it is being resized
            return;
        }
        try {
            p.run(tasks, body);
        } finally {
            p.busy.set(false);
        }
    }

    /**
     * The threads a {@link #parallelFor} started now could use: 1 inside a task, or while another thread's
     * loop holds the pool (such a call runs inline); else {@link #threads()}. A caller that splits its work
     * per thread (the GEMM) asks this, so a call nested in a task does not split work that would then run in
     * turn (each part re-packing the shared panel).
     */
    public static int availableThreads() {
        if (threads == 1 || Thread.currentThread() instanceof Worker) {
            return 1;
        }
        Pool p = pool;
        return p != null && p.busy.get() ? 1 : threads;
    }

    private static void runInline(int tasks, IntConsumer body) {
        for (int i = 0; i < tasks; i++) {
            body.accept(i);
        }
    }

    private static Pool pool() {
        Pool p = pool;
        if (p != null) {
            return p;
        }
        synchronized (CONFIG_LOCK) {
            if (pool == null && threads > 1) {
                pool = new Pool(threads - 1);
            }
            return pool;
        }
    }

    /** One parallel loop, published to the workers as a whole through {@link Pool#job}. */
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

    private static final class Pool {
        final Worker[] workers;
        final AtomicBoolean busy = new AtomicBoolean();
        volatile Job job;
        volatile boolean stopped;

        Pool(int nWorkers) {
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
        final Pool pool;
        final int index;
        volatile boolean parked;

        Worker(Pool pool, int index) {
            super("jtrain-cpu-" + (index + 1));
            this.pool = pool;
            this.index = index;
            setDaemon(true);
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
