package dev.jtrain.data;

import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.backend.cpu.CpuThreads;
import dev.jtrain.random.Generator;
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
 * generator's next offset {@code o} keys the {@link Permutation} of (seed, o) (a Fisher-Yates shuffle
 * driven by Philox4x32-10 words), so the order depends only on (seed, offset), the same on every
 * machine and device. Without shuffling samples come in data-set order.
 *
 * <p>On a non-cpu device each batch is assembled on the host and copied into persistent device tensors
 * with {@link Tensor#copyFrom} (a counted transfer into existing memory: no device allocation after the
 * first batch of each size). {@link #close()} releases those device tensors.
 *
 * <p>With prefetching (the five-argument constructor, off otherwise: the iterator then starts no thread),
 * one background thread ({@code jtrain-batch-loader}, a daemon that ends after 5 idle seconds or at
 * {@link #close()}) assembles and uploads batch
 * k+1 while the caller trains on batch k: two full-batch slots are used alternately (double buffering), so
 * the batch handed out is never the one being filled. On a GPU device the upload goes through the
 * backend's pinned staging memory as an asynchronous copy on the compute stream, which orders it after the
 * kernels already queued (those of batch k-1, the slot's previous user). Batches, order and values are
 * exactly those of the iterator without prefetching.
 *
 * <p>With a {@link BatchTransform} (training augmentation, then preprocessing), each gathered batch is
 * transformed on the host before the upload, with random numbers keyed by (seed, epoch offset, position):
 * batches carry the transform's output shape and, when it mixes (mixup), second labels and a weight.
 *
 * <p>Sharded (data-parallel, {@link #sharded}): every rank walks the same global batches of the same permutation
 * and gets its part of each: rank r of N takes positions [floor(r n / N), floor((r + 1) n / N)) of a batch of n
 * (so N ranks of a batch B not divisible by N get B/N rounded down or up, {@link Batch#globalSize()} says n for
 * weighting). A transform sees the samples' global positions, so per-sample augmentation is what one process
 * would draw for them.
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
    private final BatchTransform transform;  // null: batches are the samples as stored
    private final int shardRank;
    private final int shardCount;            // 1: not sharded
    private long epochSeed;
    private long epochOffset;
    private ExecutorService loader;   // one daemon thread, started on the first prefetch
    private Future<Batch> pending;    // the next batch, being filled (prefetching only)
    private boolean useAlt;           // which full slot the next full batch goes to
    private int position;             // samples handed out or being prepared
    private int epochs;

    /**
     * One batch: features [size, sampleDims...] and int64 labels [size], both on the iterator's device;
     * with mixup also the labels of the mixed-in samples and the weight of {@link #y()}.
     */
    public static final class Batch {
        private final Tensor hostX;
        private final Tensor hostY;
        private Tensor x;
        private Tensor y;
        private Tensor deviceX;
        private Tensor deviceY;
        private float[] raw;          // the gathered samples before the transform (with a transform only)
        private Tensor hostYMix;      // mixup's second labels (with a mixing transform only)
        private Tensor yMix;
        private Tensor deviceYMix;
        private float mixLambda = 1f;
        private int globalSize;       // samples of the global batch this one is part of (sharded), else size()

        Batch(int size, int[] sampleDims, int rawSampleSize, boolean mixes) {
            this(size, sampleDims);
            raw = new float[size * rawSampleSize];
            if (mixes) {
                hostYMix = Tensor.ofLongs(new long[size], size);
                yMix = hostYMix;
            }
        }

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

        /** The size of the global batch this batch is a shard of ({@link #size()} when the iterator is not sharded). */
        public int globalSize() {
            return globalSize;
        }

        /** Whether this batch mixes two samples per row (mixup): see {@link #yMix()} and {@link #mixLambda()}. */
        public boolean mixed() {
            return hostYMix != null;
        }

        /** The labels of the mixed-in samples (int64 [size]), or null when not {@link #mixed()}. */
        public Tensor yMix() {
            return yMix;
        }

        /** The weight lambda of {@link #y()} in the mix (that of {@link #yMix()} is 1 - lambda); 1 when not mixed. */
        public float mixLambda() {
            return mixLambda;
        }

        /** Copies the host batch into this batch's device tensors (allocated on first use). */
        void upload(Device device) {
            if (deviceX == null) {
                deviceX = Tensor.zeros(device, hostX.dtype(), hostX.shape());
                deviceY = Tensor.zeros(device, hostY.dtype(), hostY.shape());
            }
            x = deviceX.copyFrom(hostX);
            y = deviceY.copyFrom(hostY);
            if (hostYMix != null) {
                if (deviceYMix == null) {
                    deviceYMix = Tensor.zeros(device, hostYMix.dtype(), hostYMix.shape());
                }
                yMix = deviceYMix.copyFrom(hostYMix);
            }
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
            if (deviceYMix != null) {
                deviceYMix.close();
                deviceYMix = null;
                yMix = hostYMix;
            }
        }
    }

    public BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device) {
        this(data, batchSize, shuffle, device, false);
    }

    /** As above; {@code prefetch}: prepare the next batch on a background thread (see the class comment). */
    public BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device, boolean prefetch) {
        this(data, batchSize, shuffle, device, prefetch, null);
    }

    /**
     * As above; {@code transform} (null: none) turns each gathered batch into what is handed out
     * (see the class comment): training augmentation and the preprocessing after it.
     */
    public BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device, boolean prefetch,
                         BatchTransform transform) {
        this(data, batchSize, shuffle, device, prefetch, transform, 0, 1);
    }

    /**
     * A sharded iterator (see the class comment): {@code batchSize} is the global batch and this iterator hands out
     * rank {@code rank}'s part of each of the {@code ranks} ranks. Every rank must get at least one sample of every
     * batch: a global batch smaller than {@code ranks}, or a last partial batch smaller than {@code ranks}, is refused.
     */
    public static BatchIterator sharded(Dataset data, int batchSize, boolean shuffle, Device device, boolean prefetch,
                                        BatchTransform transform, int rank, int ranks) {
        return new BatchIterator(data, batchSize, shuffle, device, prefetch, transform, rank, ranks);
    }

    private BatchIterator(Dataset data, int batchSize, boolean shuffle, Device device, boolean prefetch,
                          BatchTransform transform, int shardRank, int shardCount) {
        if (shardCount < 1 || shardRank < 0 || shardRank >= shardCount) {
            throw new IllegalArgumentException("shard: rank " + shardRank + " of " + shardCount + " ranks");
        }
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
        this.transform = transform;
        int rest = data.size() % this.batchSize;
        // decided from sizes alone, so every rank refuses the same runs (none waits for a rank that gave up)
        if (this.batchSize < shardCount) {
            throw new IllegalArgumentException("batch size " + this.batchSize + " split over " + shardCount
                    + " ranks leaves some ranks no samples: the batch size must be >= the number of ranks");
        }
        if (rest > 0 && rest < shardCount) {
            throw new IllegalArgumentException(data.name() + ": the epoch's last batch has " + rest + " sample"
                    + (rest == 1 ? "" : "s") + " (" + data.size() + " % " + this.batchSize + "), fewer than the "
                    + shardCount + " ranks: choose a training-set size or batch size whose remainder is 0 or >= "
                    + shardCount);
        }
        this.shardRank = shardRank;
        this.shardCount = shardCount;
        int fullLocal = localCount(this.batchSize);
        int restLocal = rest == 0 ? 0 : localCount(rest);
        if (transform == null) {
            int[] dims = data.sampleDims();
            this.full = new Batch(fullLocal, dims);
            this.fullAlt = prefetch ? new Batch(fullLocal, dims) : null;
            this.partial = rest == 0 ? null : new Batch(restLocal, dims);
        } else {
            int[] dims = transform.outputDims();
            int raw = data.sampleSize();
            boolean mixes = transform.mixes();
            this.full = new Batch(fullLocal, dims, raw, mixes);
            this.fullAlt = prefetch ? new Batch(fullLocal, dims, raw, mixes) : null;
            this.partial = rest == 0 ? null : new Batch(restLocal, dims, raw, mixes);
        }
        this.prefetch = prefetch;
        this.position = order.length; // nothing to read before startEpoch
    }

    /** The first position of rank {@code rank}'s part of a batch of {@code n} split over {@code ranks} ranks. */
    public static int shardStart(int n, int rank, int ranks) {
        return (int) ((long) n * rank / ranks);
    }

    /** This iterator's part of a global batch of {@code n}. */
    private int localCount(int n) {
        return shardStart(n, shardRank + 1, shardCount) - shardStart(n, shardRank, shardCount);
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
     * Starts an epoch. With shuffling, takes {@code gen.nextSharedOffset()} and draws the epoch's permutation
     * from (gen.seed(), that offset); without, uses data-set order and leaves the generator untouched
     * (unless there is a transform, whose random numbers then take the offset).
     */
    public void startEpoch(Generator gen) {
        if (shuffle || transform != null) {
            startEpoch(gen.seed(), gen.nextSharedOffset()); // shared: every replica of a data-parallel run agrees
        } else {
            startEpoch(0, 0);
        }
    }

    /** Starts an epoch whose permutation comes from (seed, offset) (ignored when not shuffling). */
    public void startEpoch(long seed, long offset) {
        awaitPending(); // an abandoned epoch's prefetch still reads the order
        epochSeed = seed;
        epochOffset = offset;
        if (shuffle) {
            Permutation.shuffle(order, seed, offset, words);
        } else {
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
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
        CpuThreadPool pool = CpuThreads.current(); // the loader's cpu work runs on the caller's choice of threads
        pending = loader.submit(() -> pool.call(() -> {
            fill(b, start, n);
            return b;
        }));
    }

    /**
     * Gathers samples order[start .. start+n) into the batch's host tensors (through the transform, if any)
     * and uploads them to the device.
     */
    private void fill(Batch b, int batchStart, int globalN) {
        b.globalSize = globalN;
        int start = batchStart + shardStart(globalN, shardRank, shardCount);
        int n = localCount(globalN);
        float[] src = data.features();
        long[] labels = data.labels();
        float[] dst = transform == null ? b.hostX.floats() : b.raw;
        long[] yd = b.hostY.longs();
        int d = data.sampleSize();
        for (int r = 0; r < n; r++) {
            int i = order[start + r];
            System.arraycopy(src, i * d, dst, r * d, d);
            yd[r] = labels[i];
        }
        if (transform != null) {
            b.mixLambda = transform.apply(b.raw, b.hostX.floats(), yd, b.hostYMix == null ? null : b.hostYMix.longs(), n,
                    epochSeed, epochOffset, start, batchStart / batchSize);
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
