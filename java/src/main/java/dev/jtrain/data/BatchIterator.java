package dev.jtrain.data;

import dev.jtrain.random.Generator;
import dev.jtrain.random.Philox;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Walks a {@link Dataset} in mini-batches, one epoch at a time, filling <b>reusable</b> batch tensors
 * (one pair for full batches, one for the last partial batch, which is included): after the first
 * epoch no batch allocates anything on the cpu device.
 *
 * <p>Shuffling (when enabled) draws a new permutation at each {@link #startEpoch(Generator)}: the
 * generator's next offset {@code o} keys a Fisher-Yates shuffle driven by Philox4x32-10 words of
 * (seed, o): for i = n-1 down to 1, swap positions i and j = floor(word_k * (i + 1) / 2^32), with
 * word_k the k-th Philox word of the call, k = n-1-i. So the order depends only on (seed, offset),
 * the same on every machine and device. Without shuffling samples come in data-set order.
 *
 * <p>On a non-cpu device each batch is assembled on the host and copied into persistent device tensors
 * with {@link Tensor#copyFrom} (a counted transfer into existing memory: no device allocation after the
 * first batch of each size). {@link #close()} releases those device tensors.
 *
 * <p>With prefetching (the five-argument constructor), one background thread assembles and uploads batch
 * k+1 while the caller trains on batch k: two full-batch slots are used alternately (double buffering), so
 * the batch handed out is never the one being filled. On a GPU device the upload goes through the
 * backend's pinned staging memory as an asynchronous copy on the compute stream, which orders it after the
 * kernels already queued (those of batch k-1, the slot's previous user). Batches, order and values are
 * exactly those of the iterator without prefetching.
 */
public final class BatchIterator implements AutoCloseable {
    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final Device device;
    private final int[] order;
    private final int[] words = new int[4];
    private final Batch full;
    private final Batch fullAlt;      // the second full-batch slot when prefetching, else null
    private final Batch partial;
    private final boolean prefetch;
    private ExecutorService loader;   // one daemon thread, started on the first prefetch
    private Future<Batch> pending;    // the next batch, being filled (prefetching only)
    private boolean useAlt;           // which full slot the next full batch goes to
    private int position;             // samples handed out or being prepared
    private int epochs;

    /** One batch: features [size, sampleDims...] and int64 labels [size], both on the iterator's device. */
    public static final class Batch {
        private final Tensor hostX;
        private final Tensor hostY;
        private Tensor x;
        private Tensor y;
        private Tensor deviceX;
        private Tensor deviceY;

        Batch(int size, int[] sampleDims) {
            int[] d = new int[sampleDims.length + 1];
            d[0] = size;
            System.arraycopy(sampleDims, 0, d, 1, sampleDims.length);
            int sampleSize = 1;
            for (int v : sampleDims) {
                sampleSize *= v;
            }
            hostX = Tensor.of(new float[size * sampleSize], d);
            hostY = Tensor.ofLongs(new long[size], size);
            x = hostX;
            y = hostY;
        }

        public Tensor x() {
            return x;
        }

        public Tensor y() {
            return y;
        }

        public int size() {
            return hostY.numel();
        }

        /** Copies the host batch into this batch's device tensors (allocated on first use). */
        void upload(Device device) {
            if (deviceX == null) {
                deviceX = Tensor.zeros(device, hostX.dtype(), hostX.shape());
                deviceY = Tensor.zeros(device, hostY.dtype(), hostY.shape());
            }
            x = deviceX.copyFrom(hostX);
            y = deviceY.copyFrom(hostY);
        }

        void close() {
            if (deviceX != null) {
                deviceX.close();
                deviceY.close();
                deviceX = null;
                deviceY = null;
                x = hostX;
                y = hostY;
            }
        }
    }

    public BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device) {
        this(data, batchSize, shuffle, device, false);
    }

    /** As above; {@code prefetch}: prepare the next batch on a background thread (see the class comment). */
    public BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device, boolean prefetch) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException(data.name() + " is empty: nothing to iterate over");
        }
        this.data = data;
        this.batchSize = Math.min(batchSize, data.size());
        this.shuffle = shuffle;
        this.device = device;
        this.order = new int[data.size()];
        int[] dims = data.sampleDims();
        this.full = new Batch(this.batchSize, dims);
        this.fullAlt = prefetch ? new Batch(this.batchSize, dims) : null;
        int rest = data.size() % this.batchSize;
        this.partial = rest == 0 ? null : new Batch(rest, dims);
        this.prefetch = prefetch;
        this.position = order.length; // nothing to read before startEpoch
    }

    /** Whether batches are prepared on a background thread. */
    public boolean prefetches() {
        return prefetch;
    }

    public Dataset dataset() {
        return data;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch, the last partial one included. */
    public int batchesPerEpoch() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    /** Number of epochs started so far. */
    public int epochsStarted() {
        return epochs;
    }

    /**
     * Starts an epoch. With shuffling, takes {@code gen.nextOffset()} and draws the epoch's permutation
     * from (gen.seed(), that offset); without, uses data-set order and leaves the generator untouched.
     */
    public void startEpoch(Generator gen) {
        if (shuffle) {
            startEpoch(gen.seed(), gen.nextOffset());
        } else {
            startEpoch(0, 0);
        }
    }

    /** Starts an epoch whose permutation comes from (seed, offset) (ignored when not shuffling). */
    public void startEpoch(long seed, long offset) {
        awaitPending(); // an abandoned epoch's prefetch still reads the order
        int n = order.length;
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            for (int i = n - 1, k = 0; i > 0; i--, k++) {
                if ((k & 3) == 0) {
                    Philox.block(seed, offset, k >>> 2, words, 0);
                }
                long w = words[k & 3] & 0xffffffffL;
                int j = (int) ((w * (i + 1)) >>> 32);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        position = 0;
        epochs++;
        if (prefetch) {
            schedule();
        }
    }

    /** The sample order of the current epoch (a copy). */
    public int[] order() {
        return order.clone();
    }

    public boolean hasNext() {
        return prefetch ? pending != null : position < order.length;
    }

    /**
     * Returns the next batch, filled. The returned object and its tensors are reused by later calls
     * (copy what must outlive the next call).
     */
    public Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch finished: call startEpoch for the next one");
        }
        if (!prefetch) {
            int n = Math.min(batchSize, order.length - position);
            Batch b = slotFor(n);
            fill(b, position, n);
            position += n;
            return b;
        }
        Batch b = await(pending);
        pending = null;
        schedule();
        return b;
    }

    private Batch slotFor(int n) {
        if (n != batchSize) {
            return partial;
        }
        if (fullAlt == null) {
            return full;
        }
        useAlt = !useAlt;
        return useAlt ? fullAlt : full;
    }

    /** Starts filling the epoch's next batch on the loader thread, if there is one. */
    private void schedule() {
        if (position >= order.length) {
            return;
        }
        int start = position;
        int n = Math.min(batchSize, order.length - start);
        Batch b = slotFor(n);
        position += n;
        if (loader == null) {
            // One daemon thread that also ends after a few idle seconds, so an iterator dropped without
            // close() leaves no thread behind.
            ThreadPoolExecutor pool = new ThreadPoolExecutor(1, 1, 5, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> {
                        Thread t = new Thread(r, "jtrain-batch-loader");
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            loader = pool;
        }
        pending = loader.submit(() -> {
            fill(b, start, n);
            return b;
        });
    }

    /** Gathers samples order[start .. start+n) into the batch's host tensors and uploads them to the device. */
    private void fill(Batch b, int start, int n) {
        float[] src = data.features();
        long[] labels = data.labels();
        float[] dst = b.hostX.floats();
        long[] yd = b.hostY.longs();
        int d = data.sampleSize();
        for (int r = 0; r < n; r++) {
            int i = order[start + r];
            System.arraycopy(src, i * d, dst, r * d, d);
            yd[r] = labels[i];
        }
        if (!device.isHost()) {
            b.upload(device);
        }
    }

    private static Batch await(Future<Batch> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the next batch", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("preparing the next batch failed: " + cause, cause);
        }
    }

    /** Waits for a batch still being prepared (its result is dropped; a failure is not hidden). */
    private void awaitPending() {
        if (pending != null) {
            Future<Batch> f = pending;
            pending = null;
            await(f);
        }
    }

    /**
     * Releases the device copies of the batches and stops the loader thread. The iterator can still be used:
     * device tensors come back on demand; when prefetching, the current epoch ends (call startEpoch).
     */
    @Override
    public void close() {
        try {
            awaitPending();
        } finally {
            if (loader != null) {
                loader.shutdown();
                loader = null;
            }
            if (prefetch) {
                position = order.length;
            }
            closeSlots();
        }
    }

    private void closeSlots() {
        full.close();
        if (fullAlt != null) {
            fullAlt.close();
        }
        if (partial != null) {
            partial.close();
        }
    }
}
