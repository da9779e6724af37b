package dev.jtrain.distributed;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A deadline around each collective, so a dead rank stops the others with an error naming the step instead of
 * leaving them waiting forever. One daemon thread ({@code jtrain-collective-watchdog}) fires {@link OnTimeout}
 * when a collective has run longer than the timeout.
 *
 * <p>Two reactions: {@link #interrupting} (the library's default) interrupts the waiting thread and, once the
 * collective returns or fails, throws {@link CollectiveTimeoutException}: enough for collectives that react to
 * interruption (LocalGroup). A native MPI call cannot be interrupted, so a process that runs MPI collectives
 * uses {@link #haltingProcess}: the error is printed and the JVM halts with a status, which makes mpirun end
 * the job (the command line does that).
 */
public final class CollectiveWatchdog implements AutoCloseable {
    /** What happens when a collective overruns; {@code message} names it and the step. */
    @FunctionalInterface
    public interface OnTimeout {
        void fire(String message, Thread waiting);
    }

    private final Duration timeout;
    private final OnTimeout onTimeout;
    private final boolean interrupts;
    private ScheduledThreadPoolExecutor timer;   // started on the first guarded collective

    private CollectiveWatchdog(Duration timeout, OnTimeout onTimeout, boolean interrupts) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("collective timeout must be > 0, got " + timeout);
        }
        this.timeout = timeout;
        this.onTimeout = onTimeout;
        this.interrupts = interrupts;
    }

    /** Interrupts the waiting thread; the guarded call then throws {@link CollectiveTimeoutException}. */
    public static CollectiveWatchdog interrupting(Duration timeout) {
        return new CollectiveWatchdog(timeout, (message, waiting) -> waiting.interrupt(), true);
    }

    /**
     * Prints {@code prefix + message} on {@code err} and halts the JVM with {@code status} (no shutdown hooks: the
     * thread that would run them is stuck in the collective).
     */
    public static CollectiveWatchdog haltingProcess(Duration timeout, java.io.PrintStream err, String prefix, int status) {
        Objects.requireNonNull(err, "err");
        return new CollectiveWatchdog(timeout, (message, waiting) -> {
            err.println(prefix + message);
            err.flush();
            Runtime.getRuntime().halt(status);
        }, false);
    }

    public Duration timeout() {
        return timeout;
    }

    /** Runs {@code collective}, described by {@code what} (e.g. "gradient all-reduce, epoch 1 step 17"). */
    public void run(Supplier<String> what, Runnable collective) {
        String[] fired = new String[1];
        Thread waiting = Thread.currentThread();
        ScheduledFuture<?> alarm = timer().schedule(() -> {
            String message = what.get() + " did not complete within " + timeout.toSeconds()
                    + " s: another rank died or hangs";
            synchronized (fired) {
                fired[0] = message;
            }
            onTimeout.fire(message, waiting);
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        RuntimeException failure = null;
        try {
            collective.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            alarm.cancel(false);
        }
        String message;
        synchronized (fired) {
            message = fired[0];
        }
        if (message != null && interrupts) {
            Thread.interrupted(); // the interrupt was ours; do not leak it into the caller's next wait
            throw new CollectiveTimeoutException(message, failure);
        }
        if (failure != null) {
            throw failure;
        }
    }

    private synchronized ScheduledThreadPoolExecutor timer() {
        if (timer == null) {
            timer = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "jtrain-collective-watchdog");
                t.setDaemon(true);
                return t;
            });
            timer.setRemoveOnCancelPolicy(true);
        }
        return timer;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
