package dev.jtrain.nn.layers;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.nn.Buffer;
import dev.jtrain.nn.Buffers;
import dev.jtrain.nn.CrossReplicaSums;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Tensor;

/**
 * Batch normalisation over [N, C, inner] with PyTorch's conventions (tests/conformance/FORMAT.md items
 * 8-13). Per channel c, over the m = N·inner values x of that channel:
 * <pre>
 *   training:  μ = mean(x),  σ² = mean((x − μ)²)                    (biased: divides by m)
 *              y = (x − μ) / √(σ² + ε) · γ + β
 *              running_mean ← (1 − momentum)·running_mean + momentum·μ
 *              running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)   (unbiased)
 *              num_batches_tracked ← num_batches_tracked + 1
 *   eval:      y = (x − running_mean) / √(running_var + ε) · γ + β
 * </pre>
 * momentum is the weight of the new value (PyTorch's 0.1 by default), ε 1e-5; running_mean starts at 0,
 * running_var at 1. Parameters "weight" (γ = 1) and "bias" (β = 0); {@link dev.jtrain.nn.Buffer}s
 * "running_mean" and "running_var" (saved, not trained); num_batches_tracked is a host counter saved
 * under that name. Backward works after a training forward (through the batch statistics) and after an
 * eval forward (through the running statistics).
 *
 * <p>In a data-parallel run each replica normalises with its own shard's statistics, unless {@link #synchronize} gave
 * it the other replicas: then training forwards and backwards use the global batch's ({@link SyncBatchNorm}).
 */
public abstract class BatchNorm extends Layer {
    public static final float DEFAULT_EPS = 1e-5f;
    public static final float DEFAULT_MOMENTUM = 0.1f;

    private final int channels;
    private final float eps;
    private final float momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;

    private long numBatchesTracked; // PyTorch's num_batches_tracked: training forwards so far (kept on the host)
    private Tensor x;
    private boolean lastTraining;
    private Tensor y;
    private Tensor dx;
    private Tensor saveMean;
    private Tensor saveVar;
    private CrossReplicaSums crossReplica;   // null: per-replica statistics
    private boolean lastSynchronized;

    protected BatchNorm(int channels, float eps, float momentum) {
        this(channels, eps, momentum, Device.CPU);
    }

    /** Built directly on {@code device}: parameters are allocated and initialised there (the same bits as on the cpu). */
    protected BatchNorm(int channels, float eps, float momentum, Device device) {
        if (channels < 1) {
            throw new IllegalArgumentException(name() + " needs at least one channel, got " + channels);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException(name() + ": eps must be > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(name() + ": momentum must be in [0, 1], got " + momentum);
        }
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        Backend be = dev.jtrain.backend.Backends.forDevice(device);
        this.weight = register(Parameter.trainable("weight", be.zeros(channels)));
        this.bias = register(Parameter.trainable("bias", be.zeros(channels)));
        this.runningMean = register(new Buffer("running_mean", be.zeros(channels)));
        this.runningVar = register(new Buffer("running_var", be.zeros(channels)));
        be.fill(weight.value(), 1f);
        be.fill(runningVar.value(), 1f);
    }

    /** "BatchNorm1d" or "BatchNorm2d", for messages. */
    protected abstract String name();

    /** Throws a clear error when {@code x} has the wrong rank for this layer. */
    protected abstract void checkRank(Tensor x);

    public int channels() {
        return channels;
    }

    public float eps() {
        return eps;
    }

    public float momentum() {
        return momentum;
    }

    /** gamma. */
    public Parameter weight() {
        return weight;
    }

    /** beta. */
    public Parameter bias() {
        return bias;
    }

    public Buffer runningMean() {
        return runningMean;
    }

    public Buffer runningVar() {
        return runningVar;
    }

    /** Training forwards so far: PyTorch's {@code num_batches_tracked} buffer (saved with checkpoints). */
    public long numBatchesTracked() {
        return numBatchesTracked;
    }

    /** Sets the counter (restoring a checkpoint). */
    public void setNumBatchesTracked(long n) {
        if (n < 0) {
            throw new IllegalArgumentException(name() + ": num_batches_tracked must be >= 0, got " + n);
        }
        numBatchesTracked = n;
    }

    /**
     * Training forwards and backwards use the statistics of all replicas' samples, summed through {@code sums} (null:
     * this replica's batch only, the default). Host tensors only: a synchronized layer on a device throws
     * {@link UnsupportedOperationException} at its first training forward.
     */
    public void synchronize(CrossReplicaSums sums) {
        this.crossReplica = sums;
    }

    /** Whether training uses the statistics of all replicas ({@link #synchronize}). */
    public boolean isSynchronized() {
        return crossReplica != null;
    }

    /** The batch mean [C] of the last training forward (null before one). */
    public Tensor lastBatchMean() {
        return saveMean;
    }

    /** The biased batch variance [C] of the last training forward (null before one). */
    public Tensor lastBatchVar() {
        return saveVar;
    }

    @Override
    public Tensor forward(Tensor x, boolean training) {
        Buffers.requireFloat(x, name());
        checkRank(x);
        if (x.dim(1) != channels) {
            throw new IllegalArgumentException(name() + "(" + channels + "): input " + x.shape() + " has "
                    + x.dim(1) + " channels along dim 1");
        }
        Buffers.requireDevice(x, weight.value().device(), name());
        Backend be = Backends.of(x);
        y = buffers.ensureLike(y, x);
        if (training) {
            int m = x.numel() / channels;
            if (m < 2) {
                throw new IllegalArgumentException(name() + ": training needs more than one value per channel (input "
                        + x.shape() + "); the unbiased variance of one value is undefined");
            }
            Shape cs = Shape.of(channels);
            saveMean = buffers.ensure(saveMean, be, cs);
            saveVar = buffers.ensure(saveVar, be, cs);
            if (crossReplica != null) {
                requireHost(x);
                SyncBatchNorm.forward(x, weight.value(), bias.value(), eps, momentum, runningMean.value(), runningVar.value(),
                        y, saveMean, saveVar, crossReplica, name());
            } else {
                be.batchNormForwardTrain(x, weight.value(), bias.value(), eps, momentum,
                        runningMean.value(), runningVar.value(), y, saveMean, saveVar);
            }
            numBatchesTracked++;
        } else {
            be.batchNormForwardEval(x, weight.value(), bias.value(), runningMean.value(), runningVar.value(), eps, y);
        }
        this.x = x;
        this.lastTraining = training;
        this.lastSynchronized = training && crossReplica != null;
        return y;
    }

    private void requireHost(Tensor x) {
        if (!x.device().isHost()) {
            throw new UnsupportedOperationException(name() + ": synchronized BatchNorm runs on the cpu only (x is on "
                    + x.device() + "); use per-replica statistics on a GPU");
        }
    }

    @Override
    public Tensor backward(Tensor dy) {
        if (x == null) {
            throw new IllegalStateException(name() + ".backward called before forward");
        }
        if (!dy.shape().equals(x.shape())) {
            throw new IllegalArgumentException(name() + ".backward: dy " + dy.shape() + " does not match the output " + x.shape());
        }
        Backend be = Backends.of(dy);
        dx = buffers.ensureLike(dx, x);
        Tensor mean = lastTraining ? saveMean : runningMean.value();
        Tensor var = lastTraining ? saveVar : runningVar.value();
        if (lastSynchronized) {
            SyncBatchNorm.backward(x, dy, weight.value(), mean, var, eps, dx, weight.grad(), bias.grad(), crossReplica);
        } else {
            be.batchNormBackward(x, dy, weight.value(), mean, var, eps, lastTraining, dx, weight.grad(), bias.grad());
        }
        return dx;
    }
}
