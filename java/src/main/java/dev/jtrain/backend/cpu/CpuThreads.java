package dev.jtrain.backend.cpu;

import java.util.function.IntConsumer;

/**
 * How the cpu kernels reach their thread pool: the {@link CpuThreadPool} bound to the calling thread
 * ({@link CpuThreadPool#bind()}), else the default pool. Kernels call these static methods; which pool
 * (and so how many threads) runs an op is the choice of whoever bound it, per thread, not a process-wide
 * setting, so two models on two threads can use pools of different sizes at the same time.
 *
 * <p>The default pool has one thread (the caller: no worker is ever started), or {@code -Djtrain.threads=N}
 * threads when that property is set at start-up; it is never closed. An application that wants more threads
 * creates a pool and binds it (the CLI does, with {@code --threads}, default: all processors).
 */
public final class CpuThreads {
    private CpuThreads() {}

    private static final CpuThreadPool DEFAULT = new CpuThreadPool(defaultThreads());

    /** The pool bound to each thread; null: the default. */
    private static final ThreadLocal<CpuThreadPool> BOUND = new ThreadLocal<>();

    private static int defaultThreads() {
        Integer fromProperty = Integer.getInteger("jtrain.threads");
        return fromProperty != null && fromProperty > 0 ? fromProperty : 1;
    }

    /** The pool of a thread that bound none: one thread unless {@code -Djtrain.threads} says otherwise. */
    public static CpuThreadPool defaultPool() {
        return DEFAULT;
    }

    /** The pool the calling thread's cpu ops use now. */
    public static CpuThreadPool current() {
        CpuThreadPool p = BOUND.get();
        return p != null ? p : DEFAULT;
    }

    /** Binds {@code pool} to the calling thread; the binding restores the previous pool when closed. */
    static CpuThreadPool.Binding bind(CpuThreadPool pool) {
        CpuThreadPool previous = BOUND.get();
        Thread owner = Thread.currentThread();
        BOUND.set(pool);
        return new CpuThreadPool.Binding() {
            private boolean closed;

            @Override
            public void close() {
                if (closed) {
                    return;
                }
                if (Thread.currentThread() != owner) {
                    throw new IllegalStateException("a CpuThreadPool binding must be closed on the thread that made it ("
                            + owner.getName() + "), not on " + Thread.currentThread().getName());
                }
                closed = true;
                if (previous == null) {
                    BOUND.remove();
                } else {
                    BOUND.set(previous);
                }
            }
        };
    }

    /** The number of threads the current pool's loops use, the caller included. */
    public static int threads() {
        return current().threads();
    }

    /** {@link CpuThreadPool#parallelFor} on the current pool. */
    public static void parallelFor(int tasks, IntConsumer body) {
        current().parallelFor(tasks, body);
    }

    /** {@link CpuThreadPool#availableThreads()} of the current pool. */
    public static int availableThreads() {
        return current().availableThreads();
    }
}
