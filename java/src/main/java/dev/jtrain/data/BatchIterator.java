package dev.jtrain.data;

import dev.jtrain.random.Generator;
import dev.jtrain.random.Philox;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

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
 */
public final class BatchIterator implements AutoCloseable {
    private final Dataset data;
    private final int batchSize;
    private final boolean shuffle;
    private final Device device;
    private final int[] order;
    private final int[] words = new int[4];
    private final Batch full;
    private final Batch partial;
    private int position;
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
        int rest = data.size() % this.batchSize;
        this.partial = rest == 0 ? null : new Batch(rest, dims);
        this.position = order.length; // nothing to read before startEpoch
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
    }

    /** The sample order of the current epoch (a copy). */
    public int[] order() {
        return order.clone();
    }

    public boolean hasNext() {
        return position < order.length;
    }

    /**
     * Fills and returns the next batch. The returned object and its tensors are reused by later calls
     * (copy what must outlive the next call).
     */
    public Batch next() {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException("epoch finished: call startEpoch for the next one");
        }
        int n = Math.min(batchSize, order.length - position);
        Batch b = n == batchSize ? full : partial;
        float[] src = data.features();
        long[] labels = data.labels();
        float[] dst = b.hostX.floats();
        long[] yd = b.hostY.longs();
        int d = data.sampleSize();
        for (int r = 0; r < n; r++) {
            int i = order[position + r];
            System.arraycopy(src, i * d, dst, r * d, d);
            yd[r] = labels[i];
        }
        position += n;
        if (!device.isHost()) {
            b.upload(device);
        }
        return b;
    }

    /** Releases the device copies of the batches (the iterator can still be used: they come back on demand). */
    @Override
    public void close() {
        full.close();
        if (partial != null) {
            partial.close();
        }
    }
}
