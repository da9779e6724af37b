package dev.jtrain.infer;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.data.preprocess.Identity;
import dev.jtrain.data.preprocess.Preprocessor;
import dev.jtrain.ensemble.Member;
import dev.jtrain.ensemble.MemberLoader;
import dev.jtrain.ensemble.ModelFactory;
import dev.jtrain.io.Checkpoint;
import dev.jtrain.io.CheckpointException;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TensorScope;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Runs a trained model in eval mode on batches, from any number of threads at once.
 *
 * <p>A layer keeps its output and work buffers in its own fields (valid until its next forward), so one model
 * instance cannot serve two calls at a time. A predictor therefore keeps <b>replicas</b>: models of the same
 * architecture, built by the supplier it is given, whose parameters read the trained model's tensors without a
 * copy ({@link Parameter#shareValueOf}). Each call borrows an idle replica (building one when none is idle, at most
 * {@code maxReplicas}; beyond that, callers wait) and gives it back when done. A replica is a model and its
 * activations, not a copy of the weights; no replica allocates gradients or optimizer state. Results do not depend
 * on which replica or thread ran them: the same batch gives the same bits from one thread or many.
 *
 * <p>On a GPU device (emu, cuda) the model runs on the device and calls are serialised on its backend, which has one
 * stream and one set of workspaces (building a replica included); the batch may be on the host or on the device. On
 * the cpu, calls run in parallel (a call that finds the CPU pool busy runs its loops on its own thread, with the same
 * results).
 *
 * <p>Ownership: what {@link #predict}, {@link #predictProbabilities} and {@link #predictClasses} return is the
 * caller's and lives on the host (read back from the device inside the call, so that no other thread's work on the
 * device can touch it). The trained model's tensors are read where they are (only the folded layers' weights are the
 * predictor's own), so a model passed to {@link #builder} must stay open and unchanged while the predictor is in
 * use; a model {@link #load}ed is the predictor's. {@link #close()} releases the replicas (call it once no
 * prediction is running).
 */
public final class Predictor implements AutoCloseable {
    private final Supplier<? extends Layer> architecture;
    private final boolean foldBatchNorm;
    private final Device device;
    private final int maxReplicas;
    private final int[] inputDims;          // null: the batch goes to the model as it is
    private final Preprocessor preprocessing; // null: none
    private final AutoCloseable owned;        // what the predictor loaded (a checkpoint's model), or null
    /** The first replica; its parameters (the folded ones when folding) are what the other replicas read. */
    private final Replica first;
    private final Map<String, StateTensor> weights;
    private final ArrayDeque<Replica> idle = new ArrayDeque<>();
    private final List<Replica> all = new ArrayList<>();
    private boolean closed;

    private Predictor(Builder b, Layer trained, AutoCloseable owned) {
        this.architecture = b.architecture;
        this.foldBatchNorm = b.foldBatchNorm;
        this.maxReplicas = b.maxReplicas;
        this.inputDims = b.inputDims;
        this.preprocessing = b.preprocessing instanceof Identity ? null : b.preprocessing;
        this.owned = owned;
        this.device = deviceOf(trained);
        Replica r = build(trained.namedState());
        this.first = r;
        this.weights = r.model.namedState();
        all.add(r);
        idle.push(r);
    }

    /** A builder for a predictor of {@code trained}, whose architecture {@code architecture} builds anew on each call. */
    public static Builder builder(Layer trained, Supplier<? extends Layer> architecture) {
        return new Builder(Objects.requireNonNull(trained, "trained"), Objects.requireNonNull(architecture, "architecture"));
    }

    /** A predictor of {@code trained} with the defaults (no folding, batch as is, one replica per processor). */
    public static Predictor of(Layer trained, Supplier<? extends Layer> architecture) {
        return builder(trained, architecture).build();
    }

    /**
     * A predictor of the checkpoint {@code file} (weights and sidecar verified, model rebuilt by {@code factory} and
     * loaded as an ensemble member is: {@link MemberLoader}). Batches are raw samples of {@code rawSampleDims}: the
     * preprocessing recorded in the sidecar is applied (on the host) before the model sees them. The predictor owns
     * the loaded model; the checkpoint (host copies of its tensors) stays in memory while the predictor may build
     * replicas, since {@code factory} builds each from it. {@code foldBatchNorm} as {@link Builder#foldBatchNorm}.
     */
    public static Predictor load(Path file, ModelFactory factory, int[] rawSampleDims, Device device,
                                 boolean foldBatchNorm) throws CheckpointException {
        Checkpoint c = Checkpoint.load(file); // kept: the factory reads it again for each further replica
        Member m = MemberLoader.load(c, factory, rawSampleDims, device);
        try {
            int[] modelSampleDims = m.preprocessing().outputDims();
            Supplier<Layer> architecture = () -> {
                try {
                    return factory.build(c, modelSampleDims, device).model();
                } catch (CheckpointException e) {
                    throw new IllegalStateException(e.getMessage(), e); // it built the first one from the same checkpoint
                }
            };
            Builder b = builder(m.model(), architecture).foldBatchNorm(foldBatchNorm).inputDims(m.inputDims());
            b.preprocessing = m.preprocessing();
            return new Predictor(b, m.model(), m);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Options of a predictor. */
    public static final class Builder {
        private final Layer trained;
        private final Supplier<? extends Layer> architecture;
        private boolean foldBatchNorm;
        private int maxReplicas = Runtime.getRuntime().availableProcessors();
        private int[] inputDims;
        private Preprocessor preprocessing;

        private Builder(Layer trained, Supplier<? extends Layer> architecture) {
            this.trained = trained;
            this.architecture = architecture;
        }

        /**
         * Folds each BatchNorm that directly follows a Linear or Conv2d in a Sequential into that layer, once, here
         * (the predictor owns the folded weights): one GEMM or convolution with a bias instead of two ops.
         */
        public Builder foldBatchNorm(boolean fold) {
            this.foldBatchNorm = fold;
            return this;
        }

        /** At most this many replicas (concurrent predictions); more callers wait for one. Default: processors. */
        public Builder maxReplicas(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxReplicas must be >= 1, got " + n);
            }
            this.maxReplicas = n;
            return this;
        }

        /**
         * The model's sample shape (e.g. 1, 28, 28 for a CNN): a batch of N samples of any shape with as many
         * elements is reshaped to [N, dims...] (a view, no copy). Without it the batch goes to the model as it is.
         */
        public Builder inputDims(int... dims) {
            for (int d : dims) {
                if (d < 1) {
                    throw new IllegalArgumentException("inputDims must be >= 1, got " + Arrays.toString(dims));
                }
            }
            this.inputDims = dims.clone();
            return this;
        }

        public Predictor build() {
            return new Predictor(this, trained, null);
        }
    }

    /** The device the model runs on (results are read back to the host). */
    public Device device() {
        return device;
    }

    /**
     * The model's output (logits) for {@code batch} [N, ...] in eval mode (no dropout, BatchNorm's running
     * statistics), as a new host tensor that the caller owns. The batch may be on the host or on the model's device
     * (a host batch is uploaded, a counted transfer); it is not changed.
     */
    public Tensor predict(Tensor batch) {
        return run(batch, (r, be, y) -> toHost(y));
    }

    /** Softmax over the classes of the logits of {@code batch} ([N, C]), as a new host tensor the caller owns. */
    public Tensor predictProbabilities(Tensor batch) {
        return run(batch, (r, be, y) -> {
            if (y.rank() != 2) {
                throw new IllegalArgumentException("predictProbabilities: the model's output " + y.shape()
                        + " is not [N, classes]");
            }
            int n = y.dim(0);
            Tensor probs = r.probabilities(be, y.shape());
            be.softmaxCrossEntropy(y, r.zeroLabels(be, n), 0f, probs, r.lossPerSample(be, n));
            return toHost(probs);
        });
    }

    /** A host copy of {@code t} (on the host: a fresh array, since {@code t} is a replica's buffer). */
    private static Tensor toHost(Tensor t) {
        return t.device().isHost() ? Tensor.of(t.toFloatArray(), t.dims()) : t.to(Device.CPU);
    }

    /** The index of the largest logit of each sample (the first on ties), read back to the host. */
    public int[] predictClasses(Tensor batch) {
        return run(batch, (r, be, y) -> {
            if (y.rank() != 2) {
                throw new IllegalArgumentException("predictClasses: the model's output " + y.shape()
                        + " is not [N, classes]");
            }
            Tensor classes = r.classes(be, y.dim(0));
            be.argmaxRows(y, classes);
            long[] c = classes.device().isHost() ? classes.longs() : classes.to(Device.CPU).longs();
            int[] out = new int[c.length];
            for (int i = 0; i < c.length; i++) {
                out[i] = (int) c[i];
            }
            return out;
        });
    }

    /** Replicas built so far (at most maxReplicas). */
    public int replicas() {
        synchronized (idle) {
            return all.size();
        }
    }

    @FunctionalInterface
    private interface Output<T> {
        T from(Replica r, Backend be, Tensor logits);
    }

    private <T> T run(Tensor batch, Output<T> output) {
        Objects.requireNonNull(batch, "batch");
        Replica r = acquire();
        try {
            Backend be = Backends.forDevice(device);
            if (device.isHost()) {
                return forward(r, be, batch, output);
            }
            synchronized (be) { // one stream and one set of workspaces per GPU backend (the lock build() takes too)
                return forward(r, be, batch, output);
            }
        } finally {
            release(r);
        }
    }

    private <T> T forward(Replica r, Backend be, Tensor batch, Output<T> output) {
        Tensor x = r.onDevice(modelInput(r, batch), be);
        Tensor y = r.model.forward(x, false);
        return output.from(r, be, y);
    }

    /** {@code batch} as the model takes it: preprocessed (on the host) and reshaped to [N, inputDims]. */
    private Tensor modelInput(Replica r, Tensor batch) {
        if (batch.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException("predict: the batch must be float32, got " + batch);
        }
        if (batch.rank() < 1 || batch.dim(0) < 1) {
            throw new IllegalArgumentException("predict: the batch must be [N, ...] with N >= 1, got " + batch.shape());
        }
        int n = batch.dim(0);
        if (preprocessing != null) {
            if (!batch.device().isHost()) {
                throw new IllegalArgumentException("predict: this model's preprocessing (" + preprocessing.spec()
                        + ") runs on the host; pass the batch as a cpu tensor, not " + batch.device());
            }
            requireSamples(batch, preprocessing.inputDims(), "raw samples (before its preprocessing)");
            float[] out = r.preprocessed(n * preprocessing.outputSize());
            preprocessing.apply(batch.floats(), out, n);
            float[] exact = out.length == n * preprocessing.outputSize() ? out
                    : Arrays.copyOf(out, n * preprocessing.outputSize());
            return Tensor.of(exact, withBatch(n, inputDims != null ? inputDims : preprocessing.outputDims()));
        }
        if (inputDims == null) {
            return batch;
        }
        requireSamples(batch, inputDims, "samples");
        return batch.rank() == inputDims.length + 1 && Arrays.equals(batch.dims(), withBatch(n, inputDims)) ? batch
                : batch.reshape(withBatch(n, inputDims));
    }

    private static void requireSamples(Tensor batch, int[] dims, String what) {
        int size = 1;
        for (int d : dims) {
            size *= d;
        }
        if (batch.numel() != batch.dim(0) * size) {
            throw new IllegalArgumentException("predict: the model takes " + what + " of " + Arrays.toString(dims)
                    + " (" + size + " values each), got a batch " + batch.shape());
        }
    }

    private static int[] withBatch(int n, int[] dims) {
        int[] d = new int[dims.length + 1];
        d[0] = n;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return d;
    }

    private Replica acquire() {
        synchronized (idle) {
            while (true) {
                if (closed) {
                    throw new IllegalStateException("this Predictor is closed");
                }
                Replica r = idle.poll();
                if (r != null) {
                    return r;
                }
                if (all.size() < maxReplicas) {
                    Replica made = build(weights); // under the lock: a supplier need not be thread-safe
                    all.add(made);
                    return made;
                }
                try {
                    idle.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a free replica", e);
                }
            }
        }
    }

    private void release(Replica r) {
        synchronized (idle) {
            idle.push(r);
            idle.notify();
        }
    }

    /**
     * A fresh model of the architecture, folded when asked, reading {@code source}'s tensors. Built outside any
     * open TensorScope of the caller: the replica outlives the call that made it.
     */
    private Replica build(Map<String, StateTensor> source) {
        if (!device.isHost()) {
            synchronized (Backends.forDevice(device)) { // building runs ops (initialisation, folding) on the device
                return buildUnlocked(source);
            }
        }
        return buildUnlocked(source);
    }

    private Replica buildUnlocked(Map<String, StateTensor> source) {
        return TensorScope.outside(() -> {
            Layer model = Objects.requireNonNull(architecture.get(), "the architecture supplier returned null");
            try {
                if (!deviceOf(model).equals(device)) {
                    throw new IllegalArgumentException("the architecture supplier builds models on " + deviceOf(model)
                            + ", the trained model is on " + device);
                }
                if (foldBatchNorm && source != weights) {
                    // the first replica: read the trained weights, then fold them into tensors of its own
                    Replica.shareWeights(model, source);
                    model = SequentialFolding.fold(model);
                } else {
                    model = foldBatchNorm ? SequentialFolding.fold(model) : model;
                    Replica.shareWeights(model, source);
                }
                return new Replica(model);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        });
    }

    private static Device deviceOf(Layer model) {
        for (Parameter p : model.namedParameters().values()) {
            return p.value().device();
        }
        return Device.CPU; // no parameters: runs wherever its input is; the cpu by default
    }

    /** Releases every replica (the folded weights with the first) and what {@link #load} loaded. */
    @Override
    public void close() {
        synchronized (idle) {
            if (closed) {
                return;
            }
            closed = true;
            for (Replica r : all) {
                if (r != first) {
                    r.close();
                }
            }
            first.close();
            all.clear();
            idle.clear();
            idle.notifyAll();
        }
        if (owned != null) {
            try {
                owned.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the loaded model: " + e.getMessage(), e);
            }
        }
    }
}
