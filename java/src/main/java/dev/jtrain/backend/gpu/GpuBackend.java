package dev.jtrain.backend.gpu;

import dev.jtrain.backend.Activation;
import dev.jtrain.backend.Backend;
import dev.jtrain.backend.ConvSpec;
import dev.jtrain.backend.jni.NativeApi;
import dev.jtrain.tensor.DType;
import dev.jtrain.tensor.Device;
import dev.jtrain.tensor.HostStorage;
import dev.jtrain.tensor.Shape;
import dev.jtrain.tensor.Tensor;
import dev.jtrain.tensor.TransferStats;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The op set on a CUDA device, {@code emu} or {@code cuda:n}: every op is one or a few launches of our
 * kernels (kernels/*.cu) through the native library ({@link NativeApi}), on this backend's one stream, on
 * memory from its {@link DeviceAllocator}. The emu and the real GPU run this same class over the same
 * kernel sources; only the {@link NativeApi} (libjtrain_emu or libjtrain_cuda) differs.
 *
 * <p>It receives <b>checked</b> arguments (the op front {@code CheckedBackend} validated devices, dtypes
 * and shapes) and never reads tensor values on the host (that would be a sync per op). The kernels that must
 * check values do it on the device: a label outside [0, C) ({@code softmaxCrossEntropy} and its backward), a
 * maxout piece outside [0, pieces) ({@code maxoutBackward}) or a pooling index outside the input plane
 * ({@code maxPool2dBackward}) gives a defined result (NaN for the label's row; nothing routed for a piece or
 * index) and is recorded in this backend's device error record ({@link DeviceErrors}). The record is read at
 * the syncs the run makes anyway, {@link #synchronize()} and every device-to-host copy ({@link #copyToHost},
 * which {@code Tensor.to(cpu)} uses), with one 32-byte copy each; a set record is cleared and reported as a
 * {@link DeviceValueException} (an IllegalArgumentException, like the cpu's immediate check), possibly after
 * later ops. {@link #close()} does not report it.
 *
 * <p>Transfers and ordering: host copies go through this backend's pinned stager (two page-locked chunks,
 * {@link #STAGING_CHUNK_BYTES} each) as asynchronous copies on the same stream as the kernels, so a
 * host-to-device copy returns once the Java array has been read (the device copy overlaps host work), a
 * device-to-host copy sees every earlier op's result, and a batch upload never overwrites a buffer a queued
 * kernel still reads. Emu completes each launch and copy before the call returns.
 */
public final class GpuBackend implements Backend, AutoCloseable {
    private final NativeApi api;
    private final Device device;
    private final DeviceAllocator allocator;
    private final long stream;
    // The workspaces every sum and sum of squares requires (sized by the kernels' own size queries), reserved
    // from the allocator once: one each is enough, this backend's ops run in order on its one stream.
    private final long reduceWorkspace;
    private final long squaresWorkspace;
    private final long gemmWorkspace;
    private final long gemmWorkspaceBytes;
    private final long stager;
    private final DeviceErrors errors;
    private final String description;
    private final TransferStats transfers;
    private volatile KernelChoice kernels = KernelChoice.CUSTOM;
    private volatile boolean gemmOnCublas;
    private volatile boolean cudnnOps;     // conv, pooling, BatchNorm and relu/sigmoid/tanh/elu through cuDNN

    /** A backend on {@code device} over {@code rawApi}, guarded against fatal faults ({@link FaultGuard}). */
    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public GpuBackend(NativeApi rawApi, Device device, String description) {
        this(rawApi, device, description, null);
    }

    /** As above; {@code syncEachLaunch} null reads {@code JTRAIN_CUDA_SYNC}. */
    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public GpuBackend(NativeApi rawApi, Device device, String description, Boolean syncEachLaunch) {
        this.api = FaultGuard.wrap(Objects.requireNonNull(rawApi, "rawApi"), device, syncEachLaunch);
        this.device = Objects.requireNonNull(device, "device");
        this.allocator = new DeviceAllocator(api, device);
        this.stream = api.streamCreate();
        this.reduceWorkspace = allocator.reserve(api.reduceWorkspaceBytes());
        this.squaresWorkspace = allocator.reserve(api.optimSumSquaresWorkspaceBytes());
        this.gemmWorkspaceBytes = api.gemmWorkspaceBytes();
        this.gemmWorkspace = allocator.reserve(gemmWorkspaceBytes);
        this.stager = api.transferStagerCreate(STAGING_CHUNK_BYTES);
        this.errors = new DeviceErrors(api, device, allocator.reserve(DeviceErrors.RECORD_BYTES));
        this.description = description;
        this.transfers = new TransferStats(device);
    }

    /** Size of each of the stager's two pinned chunks: large enough for full PCIe speed, small to pin. */
    public static final long STAGING_CHUNK_BYTES = 4L << 20;

    /** The guard of this backend's native calls: lost state and profiling counters. */
    public FaultGuard guard() {
        return FaultGuard.of(api);
    }

    /** Why the device is lost after a fatal fault, or null while it works. */
    public String lostReason() {
        return FaultGuard.of(api).lostReason();
    }

    /** The native entry points, guarded (for interop and benchmarks). */
    @SuppressWarnings("exports") // NativeApi stays module-internal: outside the module only Backends builds these
    public NativeApi api() {
        return api;
    }

    /** The stream every op of this backend runs on (a {@code cudaStream_t}; hand it to interop code). */
    public long stream() {
        return stream;
    }

    public DeviceAllocator allocator() {
        return allocator;
    }

    /** Caps the device memory this backend's allocator holds ({@link DeviceAllocator#setMemoryLimit}). */
    public void setMemoryLimit(long bytes) {
        allocator.setMemoryLimit(bytes);
    }

    public MemoryStats memoryStats() {
        return allocator.stats();
    }

    /** The device error record of this backend's value-checking kernels (address, read count). */
    public DeviceErrors deviceErrors() {
        return errors;
    }

    /**
     * Chooses whose kernels run ({@link KernelChoice}). {@code vendor} needs a real GPU and cuBLAS: on emu, or
     * where cuBLAS was not found, it throws {@link IllegalArgumentException} saying why. With {@code vendor},
     * GEMM runs on cuBLAS (pedantic FP32) and, where cuDNN was found, convolutions, average pooling, the
     * relu/sigmoid/tanh/elu activations and BatchNorm (training forward, inference, training backward; its
     * saved statistic converted between cuDNN's 1/std and the contract's biased variance) run on cuDNN (FP32,
     * TF32 off), and max pooling's backward when given the forward's x and y (layers do); the max-pooling
     * forward stays ours whenever argmax indices are asked for (cuDNN does not produce them).
     */
    public void useKernels(KernelChoice choice) {
        boolean cudnn = false;
        if (choice == KernelChoice.VENDOR) {
            if (!"cuda".equals(api.buildKind())) {
                throw new IllegalArgumentException("KernelChoice.VENDOR needs a CUDA device: cuBLAS/cuDNN do not run on "
                        + device + " (emu runs our kernels only)");
            }
            var report = dev.jtrain.backend.jni.VendorLibraries.report(api);
            var cublas = dev.jtrain.backend.jni.VendorLibraries.find(report, "cublas");
            if (cublas == null || !cublas.found()) {
                throw new IllegalArgumentException("KernelChoice.VENDOR: "
                        + (cublas == null ? "cuBLAS is not known to the native library" : cublas.describe()));
            }
            var found = dev.jtrain.backend.jni.VendorLibraries.find(report, "cudnn");
            cudnn = found != null && found.found();
        }
        kernels = choice;
        gemmOnCublas = choice == KernelChoice.VENDOR;
        cudnnOps = cudnn;
    }

    /** Whether convolutions, pooling, BatchNorm and the cuDNN activations run on cuDNN (vendor kernels, cuDNN found). */
    public boolean usesCudnn() {
        return cudnnOps;
    }

    public KernelChoice kernels() {
        return kernels;
    }

    @Override
    public Device device() {
        return device;
    }

    /** The transfers between the host and this backend's device ({@code Tensor.to}, {@code copyFrom}). */
    @Override
    public TransferStats transferStats() {
        return transfers;
    }

    /** Host copies go through pinned staging memory (counted as pinned in {@link TransferStats}). */
    @Override
    public boolean stagesThroughPinnedMemory() {
        return true;
    }

    @Override
    public String describe() {
        return description;
    }

    /**
     * Waits for every op issued so far, then reads the device error record.
     *
     * @throws DeviceValueException when a kernel since the last check saw a bad value (the record is cleared)
     */
    @Override
    public void synchronize() {
        api.streamSynchronize(stream);
        errors.check("synchronize()");
    }

    /**
     * Waits for the stream, returns the cached and reserved memory and the stream to the device. On a lost
     * device nothing can be freed any more (the process must restart), so this only drops the references.
     * A bad value still in the device error record is not reported (closing must not throw for it).
     */
    @Override
    public void close() {
        if (lostReason() != null) {
            return;
        }
        api.streamSynchronize(stream);
        api.transferStagerDestroy(stager);
        allocator.close();
        api.streamDestroy(stream);
    }

    // ---------------------------------------------------------------- addresses

    private static long ptr(Tensor t) {
        return ((DeviceStorage) t.storage()).address();
    }

    /** The address of t, or 0 (null) for an absent optional tensor. */
    private static long opt(Tensor t) {
        return t == null ? 0L : ptr(t);
    }

    /** A temporary float buffer of n elements from the pool; close it when the op is done. */
    private Tensor scratch(long n) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a scratch buffer of " + n + " floats is too large on " + device);
        }
        return new Tensor(Shape.of((int) n), DType.FLOAT32, allocator.allocate(4L * n));
    }

    /** The product of the dimensions after dim 1 (1 for rank 2). */
    private static int inner(Tensor t) {
        return t.rank() == 2 ? 1 : t.shape().size(2, t.rank());
    }

    // ---------------------------------------------------------------- memory and transfers

    @Override
    public Tensor zeros(DType dtype, Shape shape) {
        long bytes = (long) shape.numel() * dtype.bytes();
        Tensor t = new Tensor(shape, dtype, allocator.allocate(bytes));
        api.elementwiseFill(ptr(t), bytes / 4, 0f, stream);
        return t;
    }

    @Override
    public Tensor fromHost(Tensor host) {
        Tensor t = new Tensor(host.shape(), host.dtype(),
                allocator.allocate((long) host.numel() * host.dtype().bytes()));
        copyFromHost(host, t);
        return t;
    }

    @Override
    public Tensor toHost(Tensor tensor) {
        Tensor h = new Tensor(tensor.shape(), tensor.dtype(), HostStorage.allocate(tensor.dtype(), tensor.numel()));
        copyToHost(tensor, h);
        return h;
    }

    @Override
    public void copyFromHost(Tensor host, Tensor dst) {
        if (host.dtype() == DType.FLOAT32) {
            api.transferFloatsToDevice(stager, host.floats(), 0, ptr(dst), host.numel(), stream);
        } else {
            api.transferLongsToDevice(stager, host.longs(), 0, ptr(dst), host.numel(), stream);
        }
    }

    /**
     * Copies to the host, which waits for every op issued before (the native stager copies on this backend's
     * stream through pinned chunks and waits for the copy);
     * then reads the device error record, so {@code Tensor.to(cpu)} and {@code item()} report bad values.
     *
     * @throws DeviceValueException when a kernel since the last check saw a bad value (the record is cleared;
     *                              the copy itself was made)
     */
    @Override
    public void copyToHost(Tensor src, Tensor host) {
        if (src.dtype() == DType.FLOAT32) {
            api.transferFloatsToHost(stager, ptr(src), host.floats(), 0, src.numel(), stream);
        } else {
            api.transferLongsToHost(stager, ptr(src), host.longs(), 0, src.numel(), stream);
        }
        errors.check("a device-to-host copy");
    }

    /** 32-bit words of a tensor (an int64 element is two). */
    private static long words(Tensor t) {
        return (long) t.numel() * t.dtype().bytes() / 4;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.storage() != dst.storage()) {
            api.elementwiseCopy(ptr(src), ptr(dst), words(src), stream);
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        if (t.dtype() == DType.FLOAT32) {
            api.elementwiseFill(ptr(t), t.numel(), value, stream);
        } else if (value == 0f) {
            api.elementwiseFill(ptr(t), words(t), 0f, stream); // all-zero bits are int64 0
        } else {
            long[] h = new long[t.numel()];
            java.util.Arrays.fill(h, (long) value);
            api.copyLongsToDevice(h, 0, ptr(t), h.length);
        }
    }

    // ---------------------------------------------------------------- random

    @Override
    public void randomUniform(Tensor t, float low, float high, long seed, long offset) {
        api.randomUniform(ptr(t), t.numel(), low, high, seed, offset, stream);
    }

    @Override
    public void randomNormal(Tensor t, float mean, float std, long seed, long offset) {
        api.randomNormal(ptr(t), t.numel(), mean, std, seed, offset, stream);
    }

    // ---------------------------------------------------------------- GEMM and bias

    @Override
    public void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
        int m = c.dim(0);
        int n = c.dim(1);
        int k = transA ? a.dim(0) : a.dim(1);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {                       // op(a) op(b) is all zeros: c = beta c (beta 0 ignores NaN)
            if (beta == 0f) {
                api.elementwiseFill(ptr(c), c.numel(), 0f, stream);
            } else {
                api.elementwiseScale(ptr(c), c.numel(), beta, stream);
            }
            return;
        }
        if (gemmOnCublas) {   // pedantic FP32, TF32 off: the same arithmetic as ours
            api.cublasSgemm(transA, transB, m, n, k, alpha, ptr(a), Math.max(1, a.dim(1)), ptr(b), Math.max(1, b.dim(1)),
                    beta, ptr(c), Math.max(1, n), true, stream);
            return;
        }
        // Automatic tile and split-K (outputs with few tiles, e.g. a Linear layer at batch 128, cut k into slices
        // summed in a fixed order through this backend's workspace: deterministic; one stream per backend).
        api.gemmSgemmSplit(0, 0, transA, transB, m, n, k, alpha, ptr(a), Math.max(1, a.dim(1)), ptr(b),
                Math.max(1, b.dim(1)), beta, ptr(c), Math.max(1, n), 0L, false, gemmWorkspace, gemmWorkspaceBytes,
                stream);
    }

    @Override
    public void addBias(Tensor y, Tensor bias) {
        api.elementwiseAddChannelBias(ptr(y), ptr(bias), y.dim(0), y.dim(1), inner(y), stream);
    }

    @Override
    public void biasGrad(Tensor dy, Tensor dbias) {
        biasGrad(ptr(dy), dy.dim(0), dy.dim(1), inner(dy), ptr(dbias));
    }

    /** dbias [c] += the sums of dy [n, c, inner] over n and inner (our split-channel kernels; deterministic). */
    private void biasGrad(long dy, int n, int c, int inner, long dbias) {
        try (Tensor ws = channelSumWorkspace(false, n, c, inner)) {
            api.reduceBiasGrad(dy, n, c, inner, dbias, ws == null ? 0L : ptr(ws), stream);
        }
    }

    /**
     * The workspace of the per-channel sums' partials (bias gradient, or PReLU's dalpha when {@code prelu}): a double
     * per block of the split channels, a few KiB, from the caching pool like BatchNorm's ({@link #bnWorkspace});
     * null when the plan does not split (small sums need none).
     */
    private Tensor channelSumWorkspace(boolean prelu, int n, int c, int inner) {
        ChannelSumShape shape = new ChannelSumShape(prelu, n, c, inner);
        Long bytes = channelSumWorkspaceBytes.get(shape);
        if (bytes == null) {   // one native call per new shape: a training step repeats its shapes
            if (channelSumWorkspaceBytes.size() >= 256) {
                channelSumWorkspaceBytes.clear();
            }
            bytes = prelu ? api.activationsPreluBackwardWorkspaceBytes(n, c, inner)
                    : api.reduceBiasGradWorkspaceBytes(n, c, inner);
            channelSumWorkspaceBytes.put(shape, bytes);
        }
        return bytes == 0 ? null : scratch((bytes + 3) / 4);
    }

    private record ChannelSumShape(boolean prelu, int n, int c, int inner) { }

    /** Channel-sum workspace bytes by shape (they depend on the shape and this device's SM count only). */
    private final Map<ChannelSumShape, Long> channelSumWorkspaceBytes = new ConcurrentHashMap<>();

    // ---------------------------------------------------------------- elementwise

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        api.elementwiseAdd(ptr(a), ptr(b), ptr(out), a.numel(), stream);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        api.elementwiseMul(ptr(a), ptr(b), ptr(out), a.numel(), stream);
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        api.elementwiseAxpy(alpha, ptr(x), ptr(y), x.numel(), stream);
    }

    @Override
    public void scale(Tensor x, float alpha) {
        api.elementwiseScale(ptr(x), x.numel(), alpha, stream);
    }

    @Override
    public void sqrt(Tensor x, Tensor out) {
        api.elementwiseSqrt(ptr(x), ptr(out), x.numel(), stream);
    }

    // ---------------------------------------------------------------- activations

    /** Kinds cuDNN computes (relu, sigmoid, tanh, elu); the rest are ours under every kernel choice. */
    private boolean onCudnn(Activation act) {
        return cudnnOps && switch (act.kind()) {
            case RELU, SIGMOID, TANH, ELU -> true;
            default -> false;
        };
    }

    @Override
    public void activationForward(Activation act, Tensor x, Tensor y) {
        if (onCudnn(act)) {
            api.cudnnActivationForward(act.kind().ordinal(), ptr(x), ptr(y), x.numel(), act.alpha(), stream);
            return;
        }
        api.activationsForward(act.kind().ordinal(), ptr(x), ptr(y), x.numel(), act.alpha(), act.beta(), stream);
    }

    @Override
    public void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        // cuDNN's ELU backward reads x and y; with one of them absent it stays ours.
        if (onCudnn(act) && (act.kind() != Activation.Kind.ELU || (x != null && y != null))) {
            api.cudnnActivationBackward(act.kind().ordinal(), opt(x), opt(y), ptr(dy), ptr(dx), dy.numel(), act.alpha(),
                    stream);
            return;
        }
        api.activationsBackward(act.kind().ordinal(), opt(x), opt(y), ptr(dy), ptr(dx), dy.numel(), act.alpha(),
                act.beta(), stream);
    }

    /** {n, c, inner} for PReLU: a shared alpha [1] sees the tensor as one channel. */
    private static int[] preluLayout(Tensor x, Tensor alpha) {
        if (alpha.dim(0) == 1 && (x.rank() < 2 || x.dim(1) != 1)) {
            return new int[] {1, 1, x.numel()};
        }
        return new int[] {x.dim(0), x.dim(1), inner(x)};
    }

    @Override
    public void preluForward(Tensor x, Tensor alpha, Tensor y) {
        int[] d = preluLayout(x, alpha);
        api.activationsPreluForward(ptr(x), ptr(alpha), ptr(y), d[0], d[1], d[2], stream);
    }

    @Override
    public void preluBackward(Tensor x, Tensor alpha, Tensor dy, Tensor dx, Tensor dalpha) {
        int[] d = preluLayout(x, alpha);
        try (Tensor ws = dalpha == null ? null : channelSumWorkspace(true, d[0], d[1], d[2])) {
            api.activationsPreluBackward(ptr(x), ptr(alpha), ptr(dy), ptr(dx), opt(dalpha), d[0], d[1], d[2],
                    ws == null ? 0L : ptr(ws), stream);
        }
    }

    @Override
    public void maxoutForward(Tensor z, int pieces, Tensor y, Tensor piece) {
        api.activationsMaxoutForward(ptr(z), z.dim(0), pieces, z.dim(1) / pieces, ptr(y), ptr(piece), stream);
    }

    @Override
    public void maxoutBackward(Tensor dy, Tensor piece, int pieces, Tensor dz) {
        api.activationsMaxoutBackward(ptr(dy), ptr(piece), dz.dim(0), pieces, dz.dim(1) / pieces, ptr(dz),
                errors.address(), stream);
    }

    // ---------------------------------------------------------------- losses

    @Override
    public void softmaxCrossEntropy(Tensor logits, Tensor labels, float labelSmoothing, Tensor probs,
                                    Tensor lossPerSample) {
        api.softmaxXentForward(ptr(logits), ptr(labels), logits.dim(0), logits.dim(1), labelSmoothing, ptr(probs),
                ptr(lossPerSample), errors.address(), stream);
    }

    @Override
    public void softmaxCrossEntropyBackward(Tensor probs, Tensor labels, float labelSmoothing, float scale,
                                            Tensor dlogits) {
        api.softmaxXentBackward(ptr(probs), ptr(labels), probs.dim(0), probs.dim(1), labelSmoothing, scale,
                ptr(dlogits), errors.address(), stream);
    }

    @Override
    public void bceWithLogits(Tensor logits, Tensor targets, Tensor lossPerElement) {
        api.lossBceWithLogitsForward(ptr(logits), ptr(targets), logits.numel(), ptr(lossPerElement), stream);
    }

    @Override
    public void bceWithLogitsBackward(Tensor logits, Tensor targets, float scale, Tensor dlogits) {
        api.lossBceWithLogitsBackward(ptr(logits), ptr(targets), logits.numel(), scale, ptr(dlogits), stream);
    }

    @Override
    public void squaredError(Tensor pred, Tensor target, Tensor out) {
        api.lossSquaredErrorForward(ptr(pred), ptr(target), pred.numel(), ptr(out), stream);
    }

    @Override
    public void squaredErrorBackward(Tensor pred, Tensor target, float scale, Tensor dpred) {
        api.lossSquaredErrorBackward(ptr(pred), ptr(target), pred.numel(), scale, ptr(dpred), stream);
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public void sum(Tensor x, Tensor out) {
        api.reduceSum(ptr(x), x.numel(), ptr(out), reduceWorkspace, stream);
    }

    @Override
    public void sumSquares(Tensor x, Tensor out, boolean accumulate) {
        api.reduceSumSquares(ptr(x), x.numel(), ptr(out), accumulate, reduceWorkspace, stream);
    }

    @Override
    public void sumAbs(Tensor x, Tensor out) {
        api.reduceSumAbs(ptr(x), x.numel(), ptr(out), reduceWorkspace, stream);
    }

    @Override
    public void argmaxRows(Tensor x, Tensor out) {
        if (x.dim(0) > 0) {
            api.reduceArgmaxRows(ptr(x), x.dim(0), x.dim(1), ptr(out), stream);
        }
    }

    @Override
    public void countEqual(Tensor a, Tensor b, Tensor out) {
        api.reduceCountEqual(ptr(a), ptr(b), a.numel(), ptr(out), reduceWorkspace, stream);
    }

    // ---------------------------------------------------------------- convolution (im2col + batched GEMM)

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor b, ConvSpec s, Tensor y) {
        if (cudnnOps) {
            api.cudnnConv2dForward(ptr(x), ptr(w), opt(b), ptr(y), x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0),
                    s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            return;
        }
        int n = x.dim(0);
        int cout = w.dim(0);
        int k = w.dim(1) * w.dim(2) * w.dim(3);
        int p = y.dim(2) * y.dim(3);
        try (Tensor col = scratch((long) n * k * p)) {
            api.convIm2col(ptr(x), ptr(col), n, x.dim(1), x.dim(2), x.dim(3), s.kernelH(), s.kernelW(), s.strideH(),
                    s.strideW(), s.padH(), s.padW(), stream);
            // y[i] [Cout, P] = W [Cout, K] col[i] [K, P] for every sample i: one batched GEMM, W shared (stride 0).
            api.gemmSgemmBatched(0, false, false, cout, p, k, 1f, ptr(w), k, 0L, ptr(col), p, (long) k * p, 0f,
                    ptr(y), p, (long) cout * p, n, stream);
        }
        if (b != null) {
            api.elementwiseAddChannelBias(ptr(y), ptr(b), n, cout, p, stream);
        }
    }

    @Override
    public void conv2dBackward(Tensor x, Tensor w, Tensor dy, ConvSpec s, Tensor dx, Tensor dw, Tensor db) {
        if (cudnnOps) {   // parameter gradients accumulate, dx is overwritten: the Backend contract
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), k = w.dim(0);
            if (dw != null) {
                api.cudnnConv2dBackwardFilter(ptr(x), ptr(dy), ptr(dw), n, c, h, wd, k, s.kernelH(), s.kernelW(),
                        s.strideH(), s.strideW(), s.padH(), s.padW(), true, stream);
            }
            if (db != null) {
                api.cudnnConv2dBackwardBias(ptr(dy), ptr(db), n, k, dy.dim(2), dy.dim(3), true, stream);
            }
            if (dx != null) {
                api.cudnnConv2dBackwardData(ptr(w), ptr(dy), ptr(dx), n, c, h, wd, k, s.kernelH(), s.kernelW(),
                        s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            }
            return;
        }
        int n = x.dim(0);
        int cout = w.dim(0);
        int k = w.dim(1) * w.dim(2) * w.dim(3);
        int p = dy.dim(2) * dy.dim(3);
        long colFloats = (long) n * k * p;
        if (dw != null) {
            try (Tensor col = scratch(colFloats)) {
                api.convIm2col(ptr(x), ptr(col), n, x.dim(1), x.dim(2), x.dim(3), s.kernelH(), s.kernelW(),
                        s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
                convWeightGrad(dy, col, n, cout, k, p, colFloats, dw);
            }
        }
        if (db != null) {
            biasGrad(ptr(dy), n, cout, p, ptr(db));
        }
        if (dx != null) {
            try (Tensor dcol = scratch(colFloats)) {
                // dcol[i] [K, P] = W^T [K, Cout] dy[i] [Cout, P] for every sample i: one batched GEMM, W shared.
                api.gemmSgemmBatched(0, true, false, k, p, cout, 1f, ptr(w), k, 0L, ptr(dy), p, (long) cout * p, 0f,
                        ptr(dcol), p, (long) k * p, n, stream);
                api.convCol2im(ptr(dcol), ptr(dx), n, x.dim(1), x.dim(2), x.dim(3), s.kernelH(), s.kernelW(),
                        s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            }
        }
    }

    /** Floats of per-sample weight gradients kept at once when they would exceed the im2col buffer. */
    private static final long WEIGHT_GRAD_PARTIALS_MIN = 1L << 24;   // 64 MiB

    /**
     * dW [Cout, K] += sum over samples i of dy[i] [Cout, P] col[i]^T [P, K], with dy [N, Cout, P] and col [N, K, P].
     *
     * <p>The samples cannot share one C in a batched GEMM (items accumulating into the same dW would race), so each
     * sample's product goes to its own slice of a scratch [N, Cout, K] (one batched GEMM, beta 0) and those are summed
     * over N into dW by reduceBiasGrad viewed as [N, Cout K, 1] (a column sum, accumulated into dW). Chosen over
     * transposing dy and col to [Cout, N P] and [K, N P] for one GEMM with the batch folded into k because: it needs
     * no new kernel and no second copy of col, the sum is deterministic (a fixed-order tree in double, no atomics),
     * and it keeps the GPU busy: the folded GEMM has a small [Cout, K] output (a handful of blocks) and a very long k,
     * while the batched one runs N times as many blocks. The cost is the scratch, N Cout K floats: where that would
     * exceed both the im2col buffer and 64 MiB, the samples go in chunks (two launches per chunk), so memory stays
     * bounded; for usual layers (Cout &lt;= P, or small) it is one chunk, two launches whatever the batch.
     */
    private void convWeightGrad(Tensor dy, Tensor col, int n, int cout, int k, int p, long colFloats, Tensor dw) {
        long perSample = (long) cout * k;
        if (perSample > Integer.MAX_VALUE) {   // reduceBiasGrad's channel count is an int
            throw new IllegalArgumentException("conv2d weight gradient of " + perSample + " floats is too large on "
                    + device);
        }
        long budget = Math.max(colFloats, WEIGHT_GRAD_PARTIALS_MIN);
        int chunk = (int) Math.max(1, Math.min(n, budget / perSample));
        try (Tensor partial = scratch(perSample * chunk)) {
            for (int i0 = 0; i0 < n; i0 += chunk) {
                int items = Math.min(chunk, n - i0);
                // partial[j] [Cout, K] = dy[i0 + j] [Cout, P] col[i0 + j]^T [P, K]
                api.gemmSgemmBatched(0, false, true, cout, k, p, 1f, ptr(dy) + 4L * i0 * cout * p, p, (long) cout * p,
                        ptr(col) + 4L * i0 * k * p, p, (long) k * p, 0f, ptr(partial), k, perSample, items, stream);
                biasGrad(ptr(partial), items, (int) perSample, 1, ptr(dw));   // dW += sum over j
            }
        }
    }

    // ---------------------------------------------------------------- pooling

    @Override
    public void maxPool2dForward(Tensor x, ConvSpec s, Tensor y, Tensor indices) {
        if (cudnnOps && indices == null) {   // cuDNN gives no argmax indices: only when none are wanted
            api.cudnnPoolForward(true, ptr(x), ptr(y), x.dim(0), x.dim(1), x.dim(2), x.dim(3), s.kernelH(), s.kernelW(),
                    s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            return;
        }
        api.poolMaxForward(ptr(x), ptr(y), opt(indices), x.dim(0), x.dim(1), x.dim(2), x.dim(3), s.kernelH(),
                s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor indices, ConvSpec s, Tensor dx) {
        api.poolMaxBackward(ptr(dy), ptr(indices), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3), s.kernelH(),
                s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), errors.address(), stream);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, Tensor indices, ConvSpec s, Tensor dx) {
        if (cudnnOps) {   // cuDNN routes by comparing x with y; the indices are not needed
            api.cudnnPoolBackward(true, ptr(x), ptr(y), ptr(dy), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3),
                    s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            return;
        }
        maxPool2dBackward(dy, indices, s, dx);
    }

    @Override
    public void avgPool2dForward(Tensor x, ConvSpec s, Tensor y) {
        if (cudnnOps) {
            api.cudnnPoolForward(false, ptr(x), ptr(y), x.dim(0), x.dim(1), x.dim(2), x.dim(3), s.kernelH(),
                    s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            return;
        }
        api.poolAvgForward(ptr(x), ptr(y), x.dim(0), x.dim(1), x.dim(2), x.dim(3), s.kernelH(), s.kernelW(),
                s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, ConvSpec s, Tensor dx) {
        if (cudnnOps) {
            api.cudnnPoolBackward(false, 0L, 0L, ptr(dy), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3),
                    s.kernelH(), s.kernelW(), s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
            return;
        }
        api.poolAvgBackward(ptr(dy), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2), dx.dim(3), s.kernelH(), s.kernelW(),
                s.strideH(), s.strideW(), s.padH(), s.padW(), stream);
    }

    // Fractional max pooling: our kernels only (cuDNN has none), under every kernel choice.
    @Override
    public void fractionalMaxPool2dForward(Tensor x, Tensor samples, int kh, int kw, Tensor y, Tensor indices) {
        api.poolFractionalMaxForward(ptr(x), ptr(samples), ptr(y), opt(indices), x.dim(0), x.dim(1), x.dim(2),
                x.dim(3), y.dim(2), y.dim(3), kh, kw, stream);
    }

    @Override
    public void fractionalMaxPool2dBackward(Tensor dy, Tensor indices, Tensor samples, int kh, int kw, Tensor dx) {
        api.poolFractionalMaxBackward(ptr(dy), ptr(indices), ptr(samples), ptr(dx), dx.dim(0), dx.dim(1), dx.dim(2),
                dx.dim(3), dy.dim(2), dy.dim(3), kh, kw, errors.address(), stream);
    }

    // ---------------------------------------------------------------- batch normalisation

    /** cuDNN's smallest epsilon (CUDNN_BN_MIN_EPSILON); a smaller one stays on our kernels. */
    private static final float CUDNN_BN_MIN_EPSILON = 1e-5f;

    /**
     * Whether a BatchNorm op runs on cuDNN: vendor kernels with cuDNN found, the affine parameters present
     * (cuDNN's spatial mode always scales and shifts), eps within cuDNN's range and at least two values per
     * channel (the unbiased running variance divides by M - 1).
     */
    private boolean bnOnCudnn(Tensor x, Tensor gamma, Tensor beta, float eps) {
        return cudnnOps && gamma != null && beta != null && eps >= CUDNN_BN_MIN_EPSILON
                && (long) x.dim(0) * inner(x) >= 2;
    }

    @Override
    public void batchNormForwardTrain(Tensor x, Tensor gamma, Tensor beta, float eps, float momentum,
                                      Tensor runningMean, Tensor runningVar, Tensor y, Tensor saveMean, Tensor saveVar) {
        if (bnOnCudnn(x, gamma, beta, eps)) {
            // cuDNN saves 1/sqrt(var + eps) where the Backend contract saves the biased variance: convert in place
            api.cudnnBatchnormForwardTrain(ptr(x), ptr(gamma), ptr(beta), eps, momentum, opt(runningMean),
                    opt(runningVar), ptr(y), opt(saveMean), opt(saveVar), x.dim(0), x.dim(1), inner(x), 1, stream);
            if (saveVar != null) {
                api.batchnormInvStdToVar(ptr(saveVar), x.dim(1), eps, stream);
            }
            return;
        }
        try (Tensor ws = bnWorkspace(x)) {
            api.batchnormForwardTrain(ptr(x), opt(gamma), opt(beta), eps, momentum, opt(runningMean),
                    opt(runningVar), ptr(y), opt(saveMean), opt(saveVar), x.dim(0), x.dim(1), inner(x), ptr(ws), stream);
        }
    }

    /**
     * The workspace of our BatchNorm kernels' per-block partial sums (a double pair per block of the split channels,
     * a few KiB) from the caching pool: returned when the op is queued, reused by later ops on this stream only after
     * the kernels that read it (stream order).
     */
    private Tensor bnWorkspace(Tensor x) {
        BnShape shape = new BnShape(x.dim(0), x.dim(1), inner(x));
        Long bytes = bnWorkspaceBytes.get(shape);
        if (bytes == null) {   // one native call per new shape: a training step repeats its shapes
            if (bnWorkspaceBytes.size() >= 256) {
                bnWorkspaceBytes.clear();
            }
            bytes = api.batchnormWorkspaceBytes(shape.n(), shape.c(), shape.inner());
            bnWorkspaceBytes.put(shape, bytes);
        }
        return scratch((bytes + 3) / 4);
    }

    private record BnShape(int n, int c, int inner) { }

    /** BatchNorm workspace bytes by shape (they depend on the shape and this device's SM count only). */
    private final Map<BnShape, Long> bnWorkspaceBytes = new ConcurrentHashMap<>();

    @Override
    public void batchNormForwardEval(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                     float eps, Tensor y) {
        if (bnOnCudnn(x, gamma, beta, eps)) {
            api.cudnnBatchnormForwardInference(ptr(x), ptr(gamma), ptr(beta), ptr(runningMean), ptr(runningVar), eps,
                    ptr(y), x.dim(0), x.dim(1), inner(x), 1, stream);
            return;
        }
        api.batchnormForwardEval(ptr(x), opt(gamma), opt(beta), ptr(runningMean), ptr(runningVar), eps, ptr(y),
                x.dim(0), x.dim(1), inner(x), stream);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor var, float eps,
                                  boolean training, Tensor dx, Tensor dgamma, Tensor dbeta) {
        if (training && dx != null && bnOnCudnn(x, gamma, gamma, eps)) {  // cuDNN has no eval-mode backward
            try (Tensor invStd = scratch(x.dim(1))) {
                api.batchnormVarToInvStd(ptr(var), ptr(invStd), x.dim(1), eps, stream);
                api.cudnnBatchnormBackward(ptr(x), ptr(dy), ptr(gamma), ptr(mean), ptr(invStd), eps, ptr(dx),
                        opt(dgamma), opt(dbeta), x.dim(0), x.dim(1), inner(x), 1, stream);
            }
            return;
        }
        if (!training && dgamma == null && dbeta == null) {  // dx = dy gamma inv: elementwise, no sums
            api.batchnormBackward(ptr(x), ptr(dy), opt(gamma), ptr(mean), ptr(var), eps, false, opt(dx), 0L, 0L,
                    x.dim(0), x.dim(1), inner(x), 0L, stream);
            return;
        }
        try (Tensor ws = bnWorkspace(x)) {
            api.batchnormBackward(ptr(x), ptr(dy), opt(gamma), ptr(mean), ptr(var), eps, training, opt(dx),
                    opt(dgamma), opt(dbeta), x.dim(0), x.dim(1), inner(x), ptr(ws), stream);
        }
    }

    // ---------------------------------------------------------------- dropout

    @Override
    public void dropoutForward(Tensor x, float p, long seed, long offset, Tensor y, Tensor mask) {
        api.dropoutForward(ptr(x), ptr(y), opt(mask), x.numel(), p, seed, offset, stream);
    }

    // ---------------------------------------------------------------- optimizer updates

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                        float weightDecay, boolean nesterov, boolean firstStep) {
        api.optimSgd(ptr(param), ptr(grad), opt(momentumBuffer), param.numel(), lr, momentum, dampening, weightDecay,
                nesterov, firstStep, stream);
    }

    @Override
    public void adagradStep(Tensor param, Tensor grad, Tensor sum, float clr, float weightDecay, float eps) {
        api.optimAdagrad(ptr(param), ptr(grad), ptr(sum), param.numel(), clr, weightDecay, eps, stream);
    }

    @Override
    public void rmspropStep(Tensor param, Tensor grad, Tensor squareAvg, Tensor momentumBuffer, float lr, float alpha,
                            float eps, float weightDecay, float momentum) {
        api.optimRmsprop(ptr(param), ptr(grad), ptr(squareAvg), opt(momentumBuffer), param.numel(), lr, alpha, eps,
                weightDecay, momentum, stream);
    }

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq, float lr,
                         float beta1, float beta2, float eps, float weightDecay, boolean decoupled, int step) {
        api.optimAdam(ptr(param), ptr(grad), ptr(expAvg), ptr(expAvgSq), opt(maxExpAvgSq), param.numel(), lr, beta1,
                beta2, eps, weightDecay, decoupled, step, stream);
    }

    @Override
    public void clipByGlobalNorm(Tensor grad, Tensor totalSquares, float maxNorm) {
        api.optimClipScale(ptr(grad), grad.numel(), ptr(totalSquares), maxNorm, stream);
    }

    // ---------------------------------------------------------------- list forms: one launch for every tensor

    private static long[] ptrs(List<Tensor> ts) {
        if (ts == null) {
            return null;
        }
        long[] a = new long[ts.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ptr(ts.get(i));
        }
        return a;
    }

    private static long[] sizes(List<Tensor> ts) {
        long[] a = new long[ts.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = ts.get(i).numel();
        }
        return a;
    }

    @Override
    public void sgdSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> momentumBuffers, float lr, float momentum,
                         float dampening, float weightDecay, boolean nesterov, boolean firstStep) {
        if (!params.isEmpty()) {
            api.optimSgdMulti(ptrs(params), ptrs(grads), ptrs(momentumBuffers), sizes(params), lr, momentum, dampening,
                    weightDecay, nesterov, firstStep, stream);
        }
    }

    @Override
    public void adagradSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> sums, float clr, float weightDecay,
                             float eps) {
        if (!params.isEmpty()) {
            api.optimAdagradMulti(ptrs(params), ptrs(grads), ptrs(sums), sizes(params), clr, weightDecay, eps, stream);
        }
    }

    @Override
    public void rmspropSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> squareAvgs,
                             List<Tensor> momentumBuffers, float lr, float alpha, float eps, float weightDecay,
                             float momentum) {
        if (!params.isEmpty()) {
            api.optimRmspropMulti(ptrs(params), ptrs(grads), ptrs(squareAvgs), ptrs(momentumBuffers), sizes(params), lr,
                    alpha, eps, weightDecay, momentum, stream);
        }
    }

    @Override
    public void adamSteps(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvgs, List<Tensor> expAvgSqs,
                          List<Tensor> maxExpAvgSqs, float lr, float beta1, float beta2, float eps, float weightDecay,
                          boolean decoupled, int step) {
        if (!params.isEmpty()) {
            api.optimAdamMulti(ptrs(params), ptrs(grads), ptrs(expAvgs), ptrs(expAvgSqs), ptrs(maxExpAvgSqs),
                    sizes(params), lr, beta1, beta2, eps, weightDecay, decoupled, step, stream);
        }
    }

    @Override
    public void sumSquares(List<Tensor> xs, Tensor out) {
        if (xs.isEmpty()) {
            api.elementwiseFill(ptr(out), 1, 0f, stream);
            return;
        }
        api.optimSumSquaresMulti(ptrs(xs), sizes(xs), ptr(out), false, squaresWorkspace, stream);
    }

    @Override
    public void clipByGlobalNorm(List<Tensor> grads, Tensor totalSquares, float maxNorm) {
        if (!grads.isEmpty()) {
            api.optimClipScaleMulti(ptrs(grads), sizes(grads), ptr(totalSquares), maxNorm, stream);
        }
    }

    // ---------------------------------------------------------------- regularizers

    @Override
    public void addSign(float lambda, Tensor w, Tensor grad) {
        api.elementwiseAddSign(lambda, ptr(w), ptr(grad), w.numel(), stream);
    }

    @Override
    public void rowNorms(Tensor w, Tensor norms) {
        int rows = w.dim(0);
        if (rows > 0) {
            api.reduceRowNorms(ptr(w), rows, w.numel() / rows, ptr(norms), stream);
        }
    }

    @Override
    public void maxNormRows(Tensor w, float c) {
        int rows = w.dim(0);
        if (rows > 0) {
            api.reduceMaxNormRows(ptr(w), rows, w.numel() / rows, c, stream);
        }
    }

    // ---------------------------------------------------------------- concatenation (one strided copy per part)

    @Override
    public void concatDim1(List<Tensor> parts, Tensor out) {
        int n = out.dim(0);
        long inner = out.numel() == 0 ? 0 : (long) out.numel() / ((long) n * out.dim(1));
        long rowOut = out.dim(1) * inner;
        long offset = 0;
        for (Tensor p : parts) {
            long block = p.dim(1) * inner;
            if (n > 0 && block > 0) {
                api.elementwiseCopyRows(ptr(p), block, ptr(out) + 4L * offset, rowOut, n, block, stream);
            }
            offset += block;
        }
    }

    @Override
    public void splitDim1(Tensor in, List<Tensor> parts) {
        int n = in.dim(0);
        long inner = in.numel() == 0 ? 0 : (long) in.numel() / ((long) n * in.dim(1));
        long rowIn = in.dim(1) * inner;
        long offset = 0;
        for (Tensor p : parts) {
            long block = p.dim(1) * inner;
            if (n > 0 && block > 0) {
                api.elementwiseCopyRows(ptr(in) + 4L * offset, rowIn, ptr(p), block, n, block, stream);
            }
            offset += block;
        }
    }
}
