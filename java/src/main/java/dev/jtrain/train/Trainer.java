package dev.jtrain.train;

import dev.jtrain.backend.Backend;
import dev.jtrain.backend.Backends;
import dev.jtrain.backend.cpu.CpuThreadPool;
import dev.jtrain.data.BatchIterator;
import dev.jtrain.data.BatchTransform;
import dev.jtrain.data.Dataset;
import dev.jtrain.distributed.DataParallel;
import dev.jtrain.nn.GradientReadyListener;
import dev.jtrain.nn.Layer;
import dev.jtrain.nn.Buffer;
import dev.jtrain.nn.Parameter;
import dev.jtrain.nn.StateTensor;
import dev.jtrain.nn.loss.Loss;
import dev.jtrain.nn.loss.MixupLoss;
import dev.jtrain.optim.Optimizer;
import dev.jtrain.random.Generator;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The training loop of a classifier: per epoch, a shuffled pass over the training set (zero grads,
 * forward in training mode, loss, backward, optimizer step) and an evaluation on the test set in eval
 * mode. The loss is expected to take logits [N, C] and int64 labels [N] (e.g. SoftmaxCrossEntropy).
 *
 * <p>Train loss and accuracy are accumulated <b>on the device</b> (axpy of the batch loss, argmax +
 * countEqual of the predictions into one-element tensors) and read once per epoch, so a device
 * backend never synchronises inside an epoch unless a listener asks for the loss. Batches, prediction
 * buffers and accumulators are allocated once and reused: after the first epoch a cpu step allocates
 * nothing in this class (see {@link EpochMetrics#allocBytesPerStep()} for the whole step).
 *
 * <p>Randomness: each epoch's shuffle takes the next offset of the run's {@link Generator} (the same
 * generator that initialised the model and drives dropout), so a run is fixed by (seed, thread count).
 *
 * <p>Data: an optional validation set is evaluated after each epoch (before the test set); an optional
 * training {@link BatchTransform} ({@link #setTrainTransform}: augmentation, then preprocessing) is applied
 * to training batches only. A mixing transform (mixup) makes the step use {@link MixupLoss} around the loss.
 *
 * <p>Data parallel ({@link #setDataParallel}): this trainer is one rank of N. Each rank takes its part of every global
 * batch of the shared shuffled order ({@link BatchIterator#sharded}), the gradients are averaged over the ranks
 * (weighted by each rank's share) before every optimizer step, and the epoch's metrics (loss sum, correct count,
 * samples; validation and test sets are split between the ranks) are summed over the ranks, so every rank sees the
 * global metrics. {@code batchSize} stays the global batch. At the start of a fit rank 0's parameters are copied to
 * all ranks and the generator's stream is set to the rank (dropout masks differ between ranks; the shuffle does not);
 * after each training phase BatchNorm's running statistics are averaged over the ranks, so all ranks evaluate and
 * save the same model.
 */
public final class Trainer implements AutoCloseable {
    private final Layer model;
    private final Loss loss;
    private final Optimizer optimizer;
    private final Device device;
    private final Backend backend;
    private final Parameter[] params;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private BatchTransform trainTransform;
    private MixupLoss mixupLoss;
    private CpuThreadPool threads;     // null: the calling thread's pool (CpuThreads.current())
    private boolean prefetch;
    private DataParallel dataParallel; // null: one process
    private boolean hasValidation;     // of the current fit (a data-parallel rank may hold none of a small set)
    private boolean hasTest;

    // reusable device-side metric state
    private final Sums trainSums = new Sums();
    private final Sums evalSums = new Sums();   // separate, so an evaluation inside an epoch keeps its train sums
    private Tensor correctTmp;
    private Tensor predsA;
    private Tensor predsB;

    /**
     * A trainer of {@code model} (already on {@code device}) with {@code loss} and {@code optimizer}; batches
     * are uploaded to {@code device}. The trainer does not own them ({@link #close()} releases only its own
     * tensors): the caller closes them.
     */
    public Trainer(Layer model, Loss loss, Optimizer optimizer, Device device) {
        this.model = Objects.requireNonNull(model, "model");
        this.loss = Objects.requireNonNull(loss, "loss");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.device = Objects.requireNonNull(device, "device");
        this.backend = Backends.forDevice(device);
        this.params = model.parameters().toArray(new Parameter[0]);
        this.prefetch = !device.isHost();
    }

    /** Adds a listener, called in the order added; returns this. */
    public Trainer addListener(TrainingListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    public Layer model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public Device device() {
        return device;
    }

    /**
     * Training batches go through {@code transform} (null: none): augmentation and the preprocessing
     * after it, on the host. Validation and test batches never do.
     */
    public Trainer setTrainTransform(BatchTransform transform) {
        this.trainTransform = transform;
        return this;
    }

    /**
     * Makes this trainer one rank of a data-parallel run (see the class comment); null: a single process. The caller
     * owns {@code dp} and closes it.
     */
    public Trainer setDataParallel(DataParallel dp) {
        this.dataParallel = dp;
        return this;
    }

    /** The data-parallel setting, or null. */
    public DataParallel dataParallel() {
        return dataParallel;
    }

    /**
     * Runs {@link #fit} and {@link #evaluate} on {@code pool} (bound to the calling thread for their duration),
     * so this model's cpu ops use its threads whatever other models in the JVM use; null: the pool bound to
     * the calling thread, else the default of one thread ({@link dev.jtrain.backend.cpu.CpuThreads}). The
     * caller owns the pool and closes it.
     */
    public Trainer useThreads(CpuThreadPool pool) {
        if (pool != null && pool.isClosed()) {
            throw new IllegalArgumentException("useThreads: " + pool + " is closed");
        }
        this.threads = pool;
        return this;
    }

    /**
     * Whether one background thread ({@code jtrain-batch-loader}) prepares and uploads the next batch while
     * the current one trains ({@link BatchIterator}). Default: on for a GPU device, where it overlaps the host
     * work and the upload with the device's compute, off on the cpu (it would only compete for its cores).
     * Batches and results are the same either way.
     */
    public Trainer setPrefetch(boolean prefetch) {
        this.prefetch = prefetch;
        return this;
    }

    /**
     * Trains for {@code epochs} epochs over {@code train} in shuffled batches of {@code batchSize} (the
     * last partial batch included), evaluating on {@code test} (may be null) after each epoch.
     * Returns the per-epoch metrics.
     */
    public List<EpochMetrics> fit(Dataset train, Dataset test, int epochs, int batchSize, Generator gen) {
        return fit(train, null, test, 1, epochs, batchSize, gen);
    }

    /** As above, also evaluating on {@code validation} (may be null) after each epoch. */
    public List<EpochMetrics> fit(Dataset train, Dataset validation, Dataset test, int epochs, int batchSize, Generator gen) {
        return fit(train, validation, test, 1, epochs, batchSize, gen);
    }

    /** {@link #fit(Dataset, Dataset, Dataset, int, int, int, Generator)} without a validation set. */
    public List<EpochMetrics> fit(Dataset train, Dataset test, int firstEpoch, int epochs, int batchSize, Generator gen) {
        return fit(train, null, test, firstEpoch, epochs, batchSize, gen);
    }

    /**
     * Runs epochs {@code firstEpoch} to {@code epochs} (1-based, inclusive) of a run of {@code epochs} in all:
     * the rest of a run resumed from a checkpoint saved after epoch {@code firstEpoch - 1}, whose model,
     * optimizer and generator the caller has restored. Returns the metrics of the epochs run here.
     */
    public List<EpochMetrics> fit(Dataset train, Dataset validation, Dataset test, int firstEpoch, int epochs, int batchSize,
                                  Generator gen) {
        if (threads == null) {
            return fitOnCurrentThreads(train, validation, test, firstEpoch, epochs, batchSize, gen);
        }
        return threads.call(() -> fitOnCurrentThreads(train, validation, test, firstEpoch, epochs, batchSize, gen));
    }

    private List<EpochMetrics> fitOnCurrentThreads(Dataset train, Dataset validation, Dataset test, int firstEpoch,
                                                   int epochs, int batchSize, Generator gen) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (firstEpoch < 1 || firstEpoch > epochs) {
            throw new IllegalArgumentException("first epoch must be in 1.." + epochs + ", got " + firstEpoch);
        }
        Objects.requireNonNull(gen, "gen");
        BatchIterator trainIt = dataParallel == null
                ? new BatchIterator(train, batchSize, true, device, prefetch, trainTransform)
                : BatchIterator.sharded(train, batchSize, true, device, prefetch, trainTransform, dataParallel.rank(),
                        dataParallel.size());
        BatchIterator valIt = evalIterator(validation, batchSize);
        BatchIterator testIt = evalIterator(test, batchSize);
        hasValidation = validation != null && validation.size() > 0;
        hasTest = test != null && test.size() > 0;
        if (dataParallel != null) {
            dataParallel.broadcastParameters(allState()); // one model on every rank, whatever each initialised
            gen.setStream(dataParallel.rank());
        }
        int steps = trainIt.batchesPerEpoch();
        for (TrainingListener l : listeners) {
            l.onTrainStart(epochs, steps, train.size());
        }
        List<EpochMetrics> history = new ArrayList<>(epochs - firstEpoch + 1);
        try (trainIt; BatchIterator ignoredVal = valIt; BatchIterator ignored = testIt) {
            for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
                history.add(trainEpoch(epoch, trainIt, valIt, testIt, gen));
                if (stopRequested()) {
                    break; // a listener (early stopping, a sanity run) has seen enough
                }
            }
        } catch (RuntimeException | Error e) {
            for (TrainingListener l : listeners) {
                try {
                    l.onTrainAborted(e);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        for (TrainingListener l : listeners) {
            l.onTrainEnd(history);
        }
        return history;
    }

    /**
     * An evaluation iterator over {@code data}, or null when there is nothing to evaluate; data-parallel: over this
     * rank's contiguous part of it (null when that is empty; the rank still joins the metrics' all-reduce).
     */
    private BatchIterator evalIterator(Dataset data, int batchSize) {
        if (data == null || data.size() == 0) {
            return null;
        }
        if (dataParallel == null) {
            return new BatchIterator(data, batchSize, false, device, prefetch);
        }
        int from = BatchIterator.shardStart(data.size(), dataParallel.rank(), dataParallel.size());
        int to = BatchIterator.shardStart(data.size(), dataParallel.rank() + 1, dataParallel.size());
        if (to == from) {
            return null;
        }
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = from + i;
        }
        return new BatchIterator(data.select(idx, data.name() + " (rank " + dataParallel.rank() + ")"), batchSize, false,
                device, prefetch);
    }

    /** Parameters and buffers (BatchNorm's running statistics): the model's whole state. */
    private StateTensor[] allState() {
        return model.namedState().values().toArray(new StateTensor[0]);
    }

    private boolean stopRequested() {
        for (TrainingListener l : listeners) {
            if (l.stopRequested()) {
                return true;
            }
        }
        return false;
    }

    private EpochMetrics trainEpoch(int epoch, BatchIterator it, BatchIterator valIt, BatchIterator testIt, Generator gen) {
        int steps = it.batchesPerEpoch();
        for (TrainingListener l : listeners) {
            l.onEpochStart(epoch, steps);
        }
        AllocationMeter meter = new AllocationMeter();
        TransferStats.Totals transfersBefore = device.isHost() ? null : backend.transferStats().snapshot();
        meter.start();
        long t0 = System.nanoTime();
        it.startEpoch(gen);
        boolean first = true;
        int step = 0;
        int samples = 0;
        while (it.hasNext()) {
            BatchIterator.Batch b = it.next();
            int n = b.size();
            if (dataParallel != null) {
                dataParallel.beginStep(epoch, step + 1, n, b.globalSize());
            }
            zeroGrads();
            Tensor logits = model.forward(b.x(), true);
            Tensor l;
            Tensor dlogits;
            if (b.mixed()) {
                if (mixupLoss == null) {
                    mixupLoss = new MixupLoss(loss);
                }
                l = mixupLoss.forward(logits, b.y(), b.yMix(), b.mixLambda());
                dlogits = mixupLoss.backward();
                accumulate(trainSums, logits, b.y(), l, n, first, b.yMix(), b.mixLambda());
            } else {
                l = loss.forward(logits, b.y());
                accumulate(trainSums, logits, b.y(), l, n, first);
                dlogits = loss.backward();
            }
            first = false;
            // the input is data: no dx for the first layer. Data parallel with overlap: the all-reduce of finished
            // gradients runs while the backward goes on; averageGradients waits for it.
            GradientReadyListener gradientsReady = dataParallel == null ? null
                    : dataParallel.startGradientReduction(params);
            if (gradientsReady == null) {
                model.backward(dlogits, false);
            } else {
                model.backward(dlogits, false, gradientsReady);
            }
            if (dataParallel != null) {
                dataParallel.averageGradients(params);
            }
            optimizer.step();
            step++;
            samples += n;
            for (int i = 0; i < listeners.size(); i++) {
                listeners.get(i).onStep(epoch, step, n, l);
            }
        }
        double lossTotal = trainSums.loss.to(Device.CPU).item();
        double correct = trainSums.correct.to(Device.CPU).item();
        if (dataParallel != null) {
            double[] sums = {lossTotal, correct, samples};
            dataParallel.sumMetrics(sums, "training loss, correct count and samples of epoch " + epoch);
            lossTotal = sums[0];
            correct = sums[1];
            samples = (int) sums[2];
            dataParallel.averageBuffers(model.namedBuffers().values().toArray(new Buffer[0]));
        }
        long t1 = System.nanoTime();
        meter.stop();
        for (TrainingListener l : listeners) {
            l.onTrainPhaseEnd(epoch);
        }
        double seconds = (t1 - t0) / 1e9;
        Evaluation val = hasValidation ? evaluate(valIt, "validation set") : null;
        Evaluation ev = hasTest ? evaluate(testIt, "test set") : null;
        EpochMetrics m = new EpochMetrics(epoch, samples, step, lossTotal / samples, correct / samples,
                val == null ? Double.NaN : val.loss(), val == null ? Double.NaN : val.accuracy(),
                ev == null ? Double.NaN : ev.loss(), ev == null ? Double.NaN : ev.accuracy(),
                seconds, (ev == null ? 0 : ev.seconds()) + (val == null ? 0 : val.seconds()), samples / seconds,
                meter.perStep(step, false), meter.perStep(step, true),
                device.isHost() ? null : backend.transferStats().snapshot().minus(transfersBefore),
                Backends.memoryStats(device));
        for (TrainingListener lis : listeners) {
            lis.onEpochEnd(m);
        }
        return m;
    }

    /** Loss and accuracy of the model on {@code data} in eval mode (no gradients, no parameter change). */
    public Evaluation evaluate(Dataset data, int batchSize) {
        if (threads != null) {
            return threads.call(() -> evaluateOnCurrentThreads(data, batchSize));
        }
        return evaluateOnCurrentThreads(data, batchSize);
    }

    private Evaluation evaluateOnCurrentThreads(Dataset data, int batchSize) {
        BatchIterator it = evalIterator(data, batchSize);
        try {
            return evaluate(it, data.name());
        } finally {
            if (it != null) {
                it.close();
            }
        }
    }

    /**
     * Loss and accuracy over {@code it} (null: this rank holds none of the set); data-parallel: over all ranks' parts,
     * every rank taking part in the sum.
     */
    private Evaluation evaluate(BatchIterator it, String what) {
        long t0 = System.nanoTime();
        double[] sums = new double[3];    // loss sum, correct, samples
        if (it != null) {
            it.startEpoch(0, 0);
            boolean first = true;
            int samples = 0;
            while (it.hasNext()) {
                BatchIterator.Batch b = it.next();
                Tensor logits = model.forward(b.x(), false);
                Tensor l = loss.forward(logits, b.y());
                accumulate(evalSums, logits, b.y(), l, b.size(), first);
                first = false;
                samples += b.size();
            }
            sums[0] = evalSums.loss.to(Device.CPU).item();
            sums[1] = evalSums.correct.to(Device.CPU).item();
            sums[2] = samples;
        }
        if (dataParallel != null) {
            dataParallel.sumMetrics(sums, "loss, correct count and samples of the " + what);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int samples = (int) sums[2];
        return new Evaluation(samples, sums[0] / samples, sums[1] / samples, seconds);
    }

    private void zeroGrads() {
        for (int i = 0; i < params.length; i++) {
            params[i].zeroGrad();
        }
    }

    /** Device-side running sums of one pass: loss times batch size, and correct predictions. */
    private static final class Sums {
        Tensor loss;
        Tensor correct;
    }

    /** sums.loss += n * l; sums.correct += #(argmax(logits) == labels); reset both first when {@code reset}. */
    private void accumulate(Sums sums, Tensor logits, Tensor labels, Tensor l, int n, boolean reset) {
        accumulate(sums, logits, labels, l, n, reset, null, 1f);
    }

    /**
     * As above for a mixup batch: correct += lambda #(pred == labels) + (1 - lambda) #(pred == mixLabels)
     * (plain counting when {@code mixLabels} is null).
     */
    private void accumulate(Sums sums, Tensor logits, Tensor labels, Tensor l, int n, boolean reset,
                            Tensor mixLabels, float lambda) {
        if (sums.loss == null || !sums.loss.shape().equals(l.shape())) {
            if (sums.loss != null) {
                sums.loss.close();
            }
            sums.loss = backend.zeros(DType.FLOAT32, l.shape());
        }
        if (sums.correct == null) {
            sums.correct = backend.zeros(DType.FLOAT32, Shape.of(1));
        }
        if (correctTmp == null) {
            correctTmp = backend.zeros(DType.FLOAT32, Shape.of(1));
        }
        if (reset) {
            backend.fill(sums.loss, 0f);
            backend.fill(sums.correct, 0f);
        }
        backend.axpy(n, l, sums.loss);
        Tensor preds = preds(logits.dim(0));
        backend.argmaxRows(logits.rank() == 2 ? logits : logits.reshape(logits.dim(0), logits.numel() / logits.dim(0)), preds);
        backend.countEqual(preds, labels, correctTmp);
        if (mixLabels == null) {
            backend.add(correctTmp, sums.correct, sums.correct);
        } else {
            backend.axpy(lambda, correctTmp, sums.correct);
            backend.countEqual(preds, mixLabels, correctTmp);
            backend.axpy((float) (1.0 - lambda), correctTmp, sums.correct);
        }
    }

    /** An int64 [n] prediction buffer; two sizes are cached (full and last partial batch). */
    private Tensor preds(int n) {
        if (predsA != null && predsA.dim(0) == n) {
            return predsA;
        }
        if (predsB != null && predsB.dim(0) == n) {
            Tensor t = predsB;
            predsB = predsA;
            predsA = t;
            return t;
        }
        if (predsB != null) {
            predsB.close();
        }
        predsB = predsA;
        predsA = backend.zeros(DType.INT64, Shape.of(n));
        return predsA;
    }

    /** Releases the trainer's own device tensors (metric sums, prediction buffers); not the model's. */
    @Override
    public void close() {
        for (Tensor t : new Tensor[] {trainSums.loss, trainSums.correct, evalSums.loss, evalSums.correct, correctTmp,
                predsA, predsB}) {
            if (t != null) {
                t.close();
            }
        }
        trainSums.loss = trainSums.correct = evalSums.loss = evalSums.correct = null;
        correctTmp = predsA = predsB = null;
        if (mixupLoss != null) {
            mixupLoss.close();
            mixupLoss = null;
        }
    }
}
