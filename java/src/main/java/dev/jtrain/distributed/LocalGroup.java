package dev.jtrain.distributed;

import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Tensor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * N ranks as N threads of one JVM: a real all-reduce over the ranks' own arrays, for fast tests of
 * data-parallel code without MPI. Each collective is two barriers: every rank publishes its array, every
 * rank sums all ranks' arrays <b>in rank order</b> into a private result (so all ranks get the same bits),
 * then copies the result into its own array once nobody reads it any more.
 *
 * <p>A rank that never arrives makes the others fail after the group's timeout; a rank that closes its
 * communicator breaks the group, so the others fail with "rank r left the group" (at once, or when they next
 * arrive) instead of waiting: what a dead process looks like to its peers. The barrier is a lock and a
 * condition, not a {@code CyclicBarrier}, so that a rank leaving before the others arrive is not missed.
 */
public final class LocalGroup {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final int size;
    private final Duration timeout;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition tripped = lock.newCondition();
    private int arrived;          // ranks waiting at the barrier of this generation
    private long generation;      // barriers passed
    private String broken;        // why the group cannot complete a collective any more; null while intact
    private final Object[] published;   // per rank: the array of the current collective
    private final int[] offsets;
    private final int[] lengths;
    private final String[] ops;

    private LocalGroup(int size, Duration timeout) {
        if (size < 1) {
            throw new IllegalArgumentException("a local group needs at least 1 rank, got " + size);
        }
        this.size = size;
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.published = new Object[size];
        this.offsets = new int[size];
        this.lengths = new int[size];
        this.ops = new String[size];
    }

    /** {@code size} communicators of one group (rank i at index i), each to be used by its own thread. */
    public static List<Communicator> create(int size) {
        return create(size, DEFAULT_TIMEOUT);
    }

    /** As {@link #create(int)}; a collective waits at most {@code timeout} for the other ranks. */
    public static List<Communicator> create(int size, Duration timeout) {
        LocalGroup g = new LocalGroup(size, timeout);
        List<Communicator> ranks = new ArrayList<>(size);
        for (int r = 0; r < size; r++) {
            ranks.add(g.new Rank(r));
        }
        return ranks;
    }

    /** The work of one rank. */
    @FunctionalInterface
    public interface RankTask<T> {
        T run(Communicator comm) throws Exception;
    }

    /**
     * Runs {@code task} on {@code size} ranks, one thread each, and returns their results in rank order. A rank
     * that fails closes its communicator (the others then fail too, instead of waiting) and the first failure is
     * thrown, the others' attached as suppressed.
     */
    public static <T> List<T> run(int size, RankTask<T> task) {
        return run(size, DEFAULT_TIMEOUT, task);
    }

    /** As {@link #run(int, RankTask)} with the collectives' timeout. */
    public static <T> List<T> run(int size, Duration timeout, RankTask<T> task) {
        List<Communicator> comms = create(size, timeout);
        List<T> results = new ArrayList<>(size);
        Throwable[] failures = new Throwable[size];
        Thread[] threads = new Thread[size];
        for (int r = 0; r < size; r++) {
            results.add(null);
            int rank = r;
            threads[r] = new Thread(() -> {
                try (Communicator c = comms.get(rank)) {
                    results.set(rank, task.run(c));
                } catch (Throwable t) {
                    failures[rank] = t;
                }
            }, "jtrain-local-rank-" + r);
            threads[r].start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the local ranks", e);
            }
        }
        Throwable first = null;
        for (Throwable f : failures) {
            if (f != null) {
                if (first == null) {
                    first = f;
                } else {
                    first.addSuppressed(f);
                }
            }
        }
        if (first instanceof RuntimeException re) {
            throw re;
        }
        if (first instanceof Error err) {
            throw err;
        }
        if (first != null) {
            throw new IllegalStateException(first.getMessage(), first);
        }
        return results;
    }

    private final class Rank implements Communicator {
        private final int rank;
        private boolean closed;

        Rank(int rank) {
            this.rank = rank;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void allReduceSum(float[] data, int offset, int length) {
            Objects.checkFromIndexSize(offset, length, data.length);
            publish("all-reduce float", data, offset, length);
            float[] sum = new float[length];
            for (int r = 0; r < size; r++) {    // rank order: every rank adds the same values in the same order
                float[] src = (float[]) published[r];
                int o = offsets[r];
                for (int i = 0; i < length; i++) {
                    sum[i] = r == 0 ? src[o + i] : sum[i] + src[o + i];
                }
            }
            await("all-reduce float");         // nobody reads the published arrays any more
            System.arraycopy(sum, 0, data, offset, length);
        }

        @Override
        public void allReduceSum(double[] data, int offset, int length) {
            Objects.checkFromIndexSize(offset, length, data.length);
            publish("all-reduce double", data, offset, length);
            double[] sum = new double[length];
            for (int r = 0; r < size; r++) {
                double[] src = (double[]) published[r];
                int o = offsets[r];
                for (int i = 0; i < length; i++) {
                    sum[i] = r == 0 ? src[o + i] : sum[i] + src[o + i];
                }
            }
            await("all-reduce double");
            System.arraycopy(sum, 0, data, offset, length);
        }

        @Override
        public void allReduceSum(Tensor t) {
            Objects.requireNonNull(t, "t");
            if (!t.device().isHost()) {
                throw new UnsupportedOperationException("LocalGroup reduces host tensors only; the tensor is on "
                        + t.device() + " (copy it to the cpu, or use MPI/NCCL)");
            }
            if (t.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("allReduceSum: the tensor is " + t.dtype() + ", expected FLOAT32");
            }
            float[] a = t.floats();
            allReduceSum(a, 0, t.numel());
        }

        @Override
        public void broadcast(byte[] data, int root) {
            Objects.requireNonNull(data, "data");
            if (root < 0 || root >= size) {
                throw new IllegalArgumentException("broadcast: root " + root + " is not a rank of a group of " + size);
            }
            publish("broadcast", data, 0, data.length);
            if (rank != root) {
                System.arraycopy((byte[]) published[root], 0, data, 0, data.length);
            }
            await("broadcast");
        }

        @Override
        public void barrier() {
            checkOpen("barrier");
            await("barrier");
        }

        /** Shows this rank's array to the others and waits for theirs; all ranks check the same lengths. */
        private void publish(String op, Object data, int offset, int length) {
            checkOpen(op);
            published[rank] = data;
            offsets[rank] = offset;
            lengths[rank] = length;
            ops[rank] = op;
            await(op);
            for (int r = 0; r < size; r++) {
                if (!op.equals(ops[r]) || lengths[r] != length) {
                    throw new IllegalArgumentException(op + ": rank " + rank + " has " + length + " elements but rank " + r
                            + " called " + ops[r] + " with " + lengths[r]);
                }
            }
        }

        /** Waits until all ranks have arrived; fails when the group is broken or the timeout passes. */
        private void await(String op) {
            lock.lock();
            try {
                long gen = generation;
                if (broken == null && ++arrived == size) {
                    arrived = 0;
                    generation++;
                    tripped.signalAll();
                    return;
                }
                long nanos = timeout.toNanos();
                while (gen == generation) {
                    if (broken != null) {
                        throw new IllegalStateException(op + ": rank " + rank + "/" + size + " cannot complete: " + broken);
                    }
                    if (nanos <= 0) {
                        broken = "rank " + rank + " timed out in " + op;
                        tripped.signalAll();
                        throw new IllegalStateException(op + ": rank " + rank + "/" + size + " waited more than "
                                + timeout.toMillis() + " ms for the other ranks");
                    }
                    try {
                        nanos = tripped.awaitNanos(nanos);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        broken = "rank " + rank + " was interrupted in " + op;
                        tripped.signalAll();
                        throw new IllegalStateException(op + ": rank " + rank + "/" + size + " was interrupted", e);
                    }
                }
            } finally {
                lock.unlock();
            }
        }

        private void checkOpen(String op) {
            if (closed) {
                throw new IllegalStateException(op + ": rank " + rank + " of the local group is closed");
            }
        }

        /** Leaves the group: ranks waiting in a collective fail at once (as when a process dies). */
        @Override
        public void close() {
            if (!closed) {
                closed = true;
                lock.lock();
                try {
                    if (broken == null) {
                        broken = "rank " + rank + " left the group";
                    }
                    tripped.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }
}
