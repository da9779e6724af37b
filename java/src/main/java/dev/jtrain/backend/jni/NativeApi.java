package dev.jtrain.backend.jni;

/**
 * Every entry point of the native library, as one list: {@link EmuNative} (libjtrain_emu.so) and
 * {@link CudaNative} (libjtrain_cuda.so) declare the same methods as {@code static native}, each
 * library's {@code JNI_OnLoad} registers them on its own class (native/README.md), and
 * {@link EmuNative#api()} / {@link CudaNative#api()} return this interface over them. A test checks
 * that the two classes, this interface and the native method tables agree.
 *
 * <p>Conventions: device pointers and streams are {@code long} (0 = null / the default stream); element
 * counts are {@code long}, dimensions {@code int}. Every method validates its arguments first (null
 * pointer, negative or overflowing size, a Java array too short, a device range outside its allocation
 * or in freed memory) and throws {@link IllegalArgumentException} naming the argument; a failing CUDA
 * call or kernel launch throws {@link CudaException}. Kernels run on {@code stream}; on emu a launch
 * completes before the call returns.
 *
 * <p>The kernel methods are named {@code <family><Op>} after the launchers {@code jt_<family>_<op>} in
 * {@code kernels/<family>.h}, whose comments give the exact semantics; the op part says what is computed
 * ({@code elementwiseAddChannelBias} adds, {@code reduceBiasGrad} sums). Two families have no file of their
 * own: {@code loss} (BCE with logits, squared error) is declared in {@code kernels/softmax_xent.h}, and
 * {@code random} (Philox fills) in {@code kernels/dropout.h}.
 *
 * <p>Kernels that check tensor values (labels, maxout pieces, pooling indices) take {@code long err}: the
 * device error record ({@code kernels/device_error.h}, 32 bytes, 8-byte aligned, zeroed = no error) where a
 * bad value is recorded on the device instead of being read on the host, or 0 for no record. The caller reads
 * it at a sync it makes anyway ({@code dev.jtrain.backend.gpu.DeviceErrors}).
 */
public interface NativeApi {

    // ------------------------------------------------------------------ what the library is

    /** "emu" or "cuda". */
    String buildKind();

    /** One line: build kind, compiler or CUDA runtime version, JNI class. */
    String buildInfo();

    /** CUDART_VERSION compiled against (e.g. 13000), 0 on emu. */
    int cudaRuntimeVersion();

    /** The driver's CUDA version (0 without a driver), 0 on emu. */
    int driverVersion();

    /** "family name signature" lines of every registered native method. */
    String methodTable();

    /** The emu's description of the last failure on this thread (kernel, block, barrier site), or "". */
    String lastErrorDetail();

    /**
     * Emu only: the emulated device's memory limit in bytes (0 = none), so out-of-memory paths run without
     * a GPU; cudaMalloc fails once live allocations would exceed it. The environment variable
     * {@code JTRAIN_EMU_MEMORY} (e.g. "64m") sets it at start. On cuda: UnsupportedOperationException.
     */
    void emuSetMemoryLimit(long bytes);

    /** Emu only: the current memory limit in bytes, 0 = none. */
    long emuMemoryLimit();

    // ------------------------------------------------------------------ devices

    /** Devices visible (0 without a GPU or driver); emu has exactly 1. */
    int deviceCount();

    String deviceName(int device);

    /** major * 10 + minor (e.g. 90), 0 on emu. */
    int deviceComputeCapability(int device);

    long deviceTotalMemory(int device);

    // ------------------------------------------------------------------ memory

    /** Device memory of {@code bytes >= 1} bytes (cudaMalloc); recorded so kernel arguments can be checked. */
    long malloc(long bytes);

    /** Frees memory from {@link #malloc}; 0 is ignored; a double free or a foreign pointer throws. */
    void free(long ptr);

    /** Live allocations made by {@link #malloc}. */
    long allocationCount();

    long allocatedBytes();

    /** Pageable copies (a bounded bounce buffer, synchronous); the staged transfer* methods are the fast path. */
    void copyFloatsToDevice(float[] src, int srcOffset, long dst, int count);

    void copyFloatsToHost(long src, float[] dst, int dstOffset, int count);

    void copyLongsToDevice(long[] src, int srcOffset, long dst, int count);

    void copyLongsToHost(long src, long[] dst, int dstOffset, int count);

    void copyDeviceToDevice(long dst, long src, long bytes);

    /** Sets {@code bytes} bytes to {@code value} (0..255). */
    void memset(long dst, int value, long bytes);

    void synchronize();

    // ------------------------------------------------------------------ pinned transfers (jni_transfer.cpp)

    /**
     * A stager: two pinned (page-locked) host chunks of {@code chunkBytes} each, used alternately for
     * host-device copies of Java arrays with cudaMemcpyAsync. Free with {@link #transferStagerDestroy}.
     */
    long transferStagerCreate(long chunkBytes);

    void transferStagerDestroy(long stager);

    /** Host to device through the stager, on {@code stream}: returns once {@code src} has been read. */
    void transferFloatsToDevice(long stager, float[] src, int srcOffset, long dst, int count, long stream);

    /** Device to host through the stager, after the stream's earlier work: returns with {@code dst} filled. */
    void transferFloatsToHost(long stager, long src, float[] dst, int dstOffset, int count, long stream);

    void transferLongsToDevice(long stager, long[] src, int srcOffset, long dst, int count, long stream);

    void transferLongsToHost(long stager, long src, long[] dst, int dstOffset, int count, long stream);

    /**
     * The native reference for transfer benchmarks: {@code reps} synchronous cudaMemcpy calls of {@code bytes}
     * (after one warm-up), host to device or back, from pinned or pageable host memory; {best, median}
     * seconds per copy.
     */
    double[] transferBenchMemcpy(long bytes, boolean h2d, boolean pinned, int reps);

    long streamCreate();

    void streamDestroy(long stream);

    void streamSynchronize(long stream);

    /**
     * A new CUDA event (cudaEventDisableTiming: for ordering, not timing). Events order work across streams: the
     * gradient all-reduce on its own stream waits for the backward's event, the optimizer for the all-reduce's. On
     * emu, where every op completes before its call returns, an event is complete as soon as it is recorded.
     */
    long eventCreate();

    /** Destroys an event made by {@link #eventCreate}; a second destroy is an IllegalArgumentException. */
    void eventDestroy(long event);

    /** Records {@code event} on {@code stream}: it completes when the work queued there before it has. */
    void eventRecord(long event, long stream);

    /** Makes the work queued on {@code stream} after this call wait until {@code event} (as last recorded) completes; the host does not wait. */
    void streamWaitEvent(long stream, long event);

    /** Whether the work before the event's last record has completed (true for an event never recorded). */
    boolean eventQuery(long event);

    /** Blocks the host until {@code event} completes. */
    void eventSynchronize(long event);

    /**
     * Emu only: launches a kernel whose {@code __syncthreads} is reached by half of the block, which must
     * throw {@link CudaException} (cudaErrorLaunchFailure with the emulation's detail). A test of the error
     * path; UnsupportedOperationException on the CUDA build.
     */
    void selfTestDivergentBarrier();

    /**
     * Throws a C++ exception inside a native call (std::bad_alloc when {@code outOfMemory}): must arrive as an
     * OutOfMemoryError or IllegalStateException, never end the process (every entry point is guarded).
     */
    void selfTestCppException(boolean outOfMemory);

    /**
     * A launch decision of this library (kernels/launch_config.h), so a test can check that emu runs the
     * configuration CUDA runs: kind 0 = blocks of a 1-D launch over {@code a} items with {@code b} threads;
     * 1 = BatchNorm threads per block and 5 = BatchNorm blocks per channel (the split), both for
     * [n = {@code a}, channels = {@code b & 0xffffffff}, inner = {@code c}] on a device of {@code b >>> 32} SMs;
     * 2 = the automatic GEMM tile (JT_GEMM_CONFIG_*) for an {@code a} x {@code b} output and {@code c} batch items;
     * 3 = blocks of a device-filling grid-stride launch over {@code a} work items on {@code b} multiprocessors
     * holding {@code c} blocks each (the optimizer updates); 4 = blocks of the first pass of the two-pass sums
     * over {@code a} items; 6 = the k slices automatic split-K uses for one {@code a} x {@code b} x {@code c}
     * product (1 = no split); 7 = the per-channel sums' blocks per channel (bias gradient, PReLU dalpha) for
     * [n = {@code a}, channels = {@code b & 0xffffffff}, inner = {@code c}] on a device of {@code b >>> 32} SMs.
     */
    int launchConfig(int kind, long a, long b, long c);

    // ------------------------------------------------------------------ vendor libraries (CUDA build only)

    /** One line per library: name, state (found / missing / n/a), path, version, detail, tab-separated. */
    String vendorReport();

    /** Row-major SGEMM through cuBLAS (pedantic: CUBLAS_PEDANTIC_MATH, else DEFAULT; TF32 off either way). */
    void cublasSgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long b, int ldb,
                     float beta, long c, int ldc, boolean pedantic, long stream);

    /** Creates and destroys a cuDNN handle; throws when cuDNN is absent or fails on this device. */
    void cudnnHandleCheck();

    // The cuDNN calls of the vendor path (native/vendor/vendor_ops.h, jt_vendor_*): FP32, NCHW, TF32 off
    // (convolutions in CUDNN_FMA_MATH). Each throws UnsupportedOperationException saying why when cuDNN (or the
    // group of functions it needs) is not there, or on emu; a cuDNN status becomes a CudaException naming the
    // cuDNN function. Conventions follow Backend's: activation gradients overwritten, parameter gradients
    // accumulated when {@code accumulate}.

    /** y [n, k, oh, ow] = conv(x [n, c, h, w], weights [k, c, kh, kw]) + bias[k] (bias may be 0); cross-correlation. */
    void cudnnConv2dForward(long x, long weights, long bias, long y, int n, int c, int h, int w, int k, int kh, int kw,
                            int sh, int sw, int ph, int pw, long stream);

    /** dx [n, c, h, w] (overwritten) from weights and dy [n, k, oh, ow]. */
    void cudnnConv2dBackwardData(long weights, long dy, long dx, int n, int c, int h, int w, int k, int kh, int kw,
                                 int sh, int sw, int ph, int pw, long stream);

    /** dweights [k, c, kh, kw] (+)= the correlation of x with dy. */
    void cudnnConv2dBackwardFilter(long x, long dy, long dweights, int n, int c, int h, int w, int k, int kh, int kw,
                                   int sh, int sw, int ph, int pw, boolean accumulate, long stream);

    /** dbias[k] (+)= sum of dy [n, k, oh, ow] over n, oh, ow. */
    void cudnnConv2dBackwardBias(long dy, long dbias, int n, int k, int oh, int ow, boolean accumulate, long stream);

    /**
     * CUDNN_BATCHNORM_SPATIAL over x [n, c, h, w]; momentum = cuDNN's exponentialAverageFactor (running variance
     * unbiased, like ours). cuDNN saves the batch mean and 1 / sqrt(biased var + eps) ({@code saveInvStd}), not
     * the biased variance {@link #batchnormForwardTrain} saves. gamma, beta may be 0; running and saved pairs
     * are both set or both 0.
     */
    void cudnnBatchnormForwardTrain(long x, long gamma, long beta, float eps, float momentum, long runningMean,
                                    long runningVar, long y, long saveMean, long saveInvStd, int n, int c, int h,
                                    int w, long stream);

    void cudnnBatchnormForwardInference(long x, long gamma, long beta, long runningMean, long runningVar, float eps,
                                        long y, int n, int c, int h, int w, long stream);

    /**
     * Training-mode backward from cuDNN's saved mean and inverse std (both 0: recomputed); dx overwritten, dgamma
     * and dbeta (either may be 0) accumulated.
     */
    void cudnnBatchnormBackward(long x, long dy, long gamma, long saveMean, long saveInvStd, float eps, long dx,
                                long dgamma, long dbeta, int n, int c, int h, int w, long stream);

    /** y = f(x) for kind ({@code Activation.Kind} ordinal) relu, sigmoid, tanh or elu (a = alpha); others unsupported. */
    void cudnnActivationForward(int kind, long x, long y, long n, float a, long stream);

    /** dx = dy f'(.) (relu: x or y; sigmoid, tanh: y; elu: x and y). */
    void cudnnActivationBackward(int kind, long x, long y, long dy, long dx, long n, float a, long stream);

    /** Max (deterministic) or average (padding counted) pooling, y [n, c, oh, ow]. */
    void cudnnPoolForward(boolean max, long x, long y, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                          int ph, int pw, long stream);

    /** dx overwritten; max needs the forward's x and y, average neither (0). */
    void cudnnPoolBackward(boolean max, long x, long y, long dy, long dx, int n, int c, int h, int w, int kh, int kw,
                           int sh, int sw, int ph, int pw, long stream);

    // ------------------------------------------------------------------ gemm

    /**
     * c = act(alpha op(a) op(b) + beta c + bias[col]); config 0 = auto, 1..7 = JT_GEMM_CONFIG_* (1..4 the
     * warp-tiled version 2 that auto picks from, 5..7 the version-1 baseline); bias may be 0. No split-K.
     */
    void gemmSgemm(int config, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                   long b, int ldb, float beta, long c, int ldc, long bias, boolean relu, long stream);

    /** Bytes of the split-K workspace {@link #gemmSgemmSplit} uses at most with splits 0 (JT_GEMM_WORKSPACE_BYTES). */
    long gemmWorkspaceBytes();

    /**
     * {@link #gemmSgemm} with split-K (kernels/gemm.h, jt_gemm_sgemm_ex): splits 0 = automatic (outputs with too
     * few tiles to fill a GPU cut k into slices whose partial sums go to the workspace, then are added in slice
     * order: deterministic), 1 = none, s &gt; 1 = at most s slices (config 0..4). workspace (16-byte aligned,
     * workspaceBytes long, not used concurrently by another stream) may be 0: then no split.
     */
    void gemmSgemmSplit(int config, int splits, boolean transA, boolean transB, int m, int n, int k, float alpha,
                        long a, int lda, long b, int ldb, float beta, long c, int ldc, long bias, boolean relu,
                        long workspace, long workspaceBytes, long stream);

    /**
     * Strided-batched SGEMM, all items in one kernel launch (batches over 65535 items: one per 65535): for i in
     * [0, batch), {@code c_i = alpha op(a_i) op(b_i) + beta c_i} with {@code x_i = x + i * strideX} (strides in
     * float elements, not bytes), each item exactly as {@link #gemmSgemm} (same rules for m, n, k and the leading
     * dimensions, no bias or ReLU, beta 0 never reads c) and bit for bit what gemmSgemm with the same config
     * computes on that item alone. A stride of 0 shares one matrix among all items (e.g. convolution weights).
     * The items of c must not overlap, since they are written concurrently: strideC &gt;= (m - 1) ldc + n, or
     * strideC &gt;= n with (batch - 1) strideC + n &lt;= ldc; strideC 0 is allowed only for batch &lt;= 1 (to sum
     * items, write them apart and reduce). Batch 0 does nothing (pointers may be 0). Throws
     * IllegalArgumentException naming the argument for a negative batch or stride, overlapping c items, or an
     * operand whose whole extent {@code (batch - 1) * stride + one matrix} is not inside its allocation.
     *
     * @param config  0 = auto, 1..7 = JT_GEMM_CONFIG_*
     * @param strideA elements from one a item to the next, &gt;= 0
     * @param strideB elements from one b item to the next, &gt;= 0
     * @param strideC elements from one c item to the next, &gt;= 0 (see above)
     * @param batch   number of items, &gt;= 0
     */
    void gemmSgemmBatched(int config, boolean transA, boolean transB, int m, int n, int k, float alpha, long a,
                          int lda, long strideA, long b, int ldb, long strideB, float beta, long c, int ldc,
                          long strideC, int batch, long stream);

    // ------------------------------------------------------------------ activations

    /** y = f(x); kind = {@code Activation.Kind} ordinal; a, b = the activation's alpha and beta. */
    void activationsForward(int kind, long x, long y, long n, float a, float b, long stream);

    /** dx = dy * f'(.) (sigmoid/tanh read y, identity neither, relu x or y, the others x). */
    void activationsBackward(int kind, long x, long y, long dy, long dx, long n, float a, float b, long stream);

    void activationsPreluForward(long x, long alpha, long y, int n, int c, int inner, long stream);

    /**
     * Bytes of device memory (16-byte aligned) {@link #activationsPreluBackward} needs as its workspace for
     * dalpha over [n, c, inner] on the current device: one double per block of the split channels; 0 when the
     * plan does not split (small sums).
     */
    long activationsPreluBackwardWorkspaceBytes(int n, int c, int inner);

    /**
     * dx overwritten; dalpha (may be 0) accumulated. workspace: {@link #activationsPreluBackwardWorkspaceBytes}
     * bytes (may be 0 when that is 0 or dalpha is 0), not used by another stream meanwhile.
     */
    void activationsPreluBackward(long x, long alpha, long dy, long dx, long dalpha, int n, int c, int inner,
                                  long workspace, long stream);

    void activationsMaxoutForward(long z, int n, int pieces, int d, long y, long piece, long stream);

    /** A piece outside [0, pieces) routes nothing and is recorded in {@code err} (0 = not recorded; see below). */
    void activationsMaxoutBackward(long dy, long piece, int n, int pieces, int d, long dz, long err, long stream);

    // ------------------------------------------------------------------ softmax_xent and loss (softmax_xent.h)

    /** A label outside [0, c) gives NaN for its row and is recorded in {@code err} (0 = not recorded). */
    void softmaxXentForward(long logits, long labels, int n, int c, float eps, long probs, long loss, long err,
                            long stream);

    void softmaxXentBackward(long probs, long labels, int n, int c, float eps, float scale, long dlogits, long err,
                             long stream);

    /** loss[i] = max(z, 0) - z t + log(1 + exp(-|z|)) per element (the mean is the caller's). */
    void lossBceWithLogitsForward(long logits, long targets, long n, long loss, long stream);

    /** dlogits[i] = scale (sigmoid(z) - t), overwritten. */
    void lossBceWithLogitsBackward(long logits, long targets, long n, float scale, long dlogits, long stream);

    /** out[i] = (pred - target)^2 per element (no 1/2; the mean is the caller's). */
    void lossSquaredErrorForward(long pred, long target, long n, long out, long stream);

    /** dpred[i] = 2 scale (pred - target), overwritten. */
    void lossSquaredErrorBackward(long pred, long target, long n, float scale, long dpred, long stream);

    // ------------------------------------------------------------------ reduce

    /**
     * Bytes of the workspace every sum requires (16-byte aligned device memory; 0 is refused with
     * IllegalArgumentException): the partials of the first pass, merged in a fixed order by the second.
     */
    long reduceWorkspaceBytes();

    void reduceSum(long x, long n, long out, long workspace, long stream);

    void reduceSumSquares(long x, long n, long out, boolean accumulate, long workspace, long stream);

    void reduceSumAbs(long x, long n, long out, long workspace, long stream);

    void reduceCountEqual(long a, long b, long n, long out, long workspace, long stream);

    void reduceArgmaxRows(long x, int rows, int cols, long out, long stream);

    /**
     * Bytes of device memory (16-byte aligned) {@link #reduceBiasGrad} needs as its workspace for [n, c, inner] on
     * the current device: one double per block of the split channels; 0 when the plan does not split.
     */
    long reduceBiasGradWorkspaceBytes(int n, int c, int inner);

    /**
     * dbias += the sums of dy over n and inner. workspace: {@link #reduceBiasGradWorkspaceBytes} bytes (may be 0 when
     * that is 0), not used by another stream meanwhile.
     */
    void reduceBiasGrad(long dy, int n, int c, int inner, long dbias, long workspace, long stream);

    // ------------------------------------------------------------------ elementwise

    void elementwiseFill(long x, long n, float value, long stream);

    /** dst = src for n 32-bit words (an int64 tensor of m elements is n = 2m). */
    void elementwiseCopy(long src, long dst, long n, long stream);

    void elementwiseScale(long x, long n, float alpha, long stream);

    void elementwiseAxpy(float alpha, long x, long y, long n, long stream);

    void elementwiseAdd(long a, long b, long out, long n, long stream);

    void elementwiseMul(long a, long b, long out, long n, long stream);

    /** out = sqrtf(x), correctly rounded. */
    void elementwiseSqrt(long x, long out, long n, long stream);

    /** grad += lambda * sign(w) with sign(+-0) = +-0 (the L1 subgradient). */
    void elementwiseAddSign(float lambda, long w, long grad, long n, long stream);

    /**
     * dst[r * dstRowStride + c] = src[r * srcRowStride + c] for r &lt; rows, c &lt; cols (strides &gt;= cols,
     * no overlap): one part of a concatenation or split along dim 1.
     */
    void elementwiseCopyRows(long src, long srcRowStride, long dst, long dstRowStride, int rows, long cols, long stream);

    /**
     * y [n, c, inner] += bias [c]: a bias broadcast along dim 1 (a Linear output is inner = 1, NCHW inner = h w).
     * Its gradient is {@link #reduceBiasGrad}.
     */
    void elementwiseAddChannelBias(long y, long bias, int n, int c, int inner, long stream);

    // ------------------------------------------------------------------ row norms (weight constraints)

    /** norms[r] = ||w[r, :]||, summed in double: w [rows, cols], norms [rows]. */
    void reduceRowNorms(long w, int rows, long cols, long norms, long stream);

    /** Rows of w [rows, cols] with norm &gt; c scaled by c / norm (the max-norm constraint). */
    void reduceMaxNormRows(long w, int rows, long cols, float c, long stream);

    // ------------------------------------------------------------------ batchnorm ([n, c, inner])

    /**
     * Bytes of device memory (16-byte aligned) {@link #batchnormForwardTrain} and {@link #batchnormBackward} need
     * as their workspace for [n, c, inner] on the current device: one double pair per block of the split channels.
     */
    long batchnormWorkspaceBytes(int n, int c, long inner);

    /** workspace: {@link #batchnormWorkspaceBytes} bytes, not used by another stream meanwhile. */
    void batchnormForwardTrain(long x, long gamma, long beta, float eps, float momentum, long runningMean,
                               long runningVar, long y, long saveMean, long saveVar, int n, int c, long inner,
                               long workspace, long stream);

    void batchnormForwardEval(long x, long gamma, long beta, long runningMean, long runningVar, float eps, long y,
                              int n, int c, long inner, long stream);

    /** workspace: as for the forward; may be 0 in eval mode without dgamma and dbeta (no sums). */
    void batchnormBackward(long x, long dy, long gamma, long mean, long var, float eps, boolean training, long dx,
                           long dgamma, long dbeta, int n, int c, long inner, long workspace, long stream);

    /** In place, per channel: s = 1 / s^2 - eps (cuDNN's saved inverse std to our biased variance). */
    void batchnormInvStdToVar(long s, int c, float eps, long stream);

    /** Per channel: invStd = 1 / sqrt(var + eps) (our biased variance to cuDNN's saved inverse std). */
    void batchnormVarToInvStd(long var, long invStd, int c, float eps, long stream);

    // ------------------------------------------------------------------ dropout and random fills (Philox)

    void dropoutForward(long x, long y, long mask, long n, float p, long seed, long offset, long stream);

    void randomUniform(long t, long n, float lo, float hi, long seed, long offset, long stream);

    void randomNormal(long t, long n, float mean, float std, long seed, long offset, long stream);

    // ------------------------------------------------------------------ optim (arrays: device pointers, one per tensor)

    void optimSgd(long param, long grad, long momentumBuf, long n, float lr, float momentum, float dampening,
                  float weightDecay, boolean nesterov, boolean firstStep, long stream);

    void optimSgdMulti(long[] params, long[] grads, long[] momentumBufs, long[] sizes, float lr, float momentum,
                       float dampening, float weightDecay, boolean nesterov, boolean firstStep, long stream);

    void optimAdagrad(long param, long grad, long sum, long n, float clr, float weightDecay, float eps, long stream);

    void optimAdagradMulti(long[] params, long[] grads, long[] sums, long[] sizes, float clr, float weightDecay,
                           float eps, long stream);

    void optimRmsprop(long param, long grad, long squareAvg, long momentumBuf, long n, float lr, float alpha,
                      float eps, float weightDecay, float momentum, long stream);

    void optimRmspropMulti(long[] params, long[] grads, long[] squareAvgs, long[] momentumBufs, long[] sizes,
                           float lr, float alpha, float eps, float weightDecay, float momentum, long stream);

    void optimAdam(long param, long grad, long expAvg, long expAvgSq, long maxExpAvgSq, long n, float lr, float beta1,
                   float beta2, float eps, float weightDecay, boolean decoupled, int step, long stream);

    void optimAdamMulti(long[] params, long[] grads, long[] expAvgs, long[] expAvgSqs, long[] maxExpAvgSqs,
                        long[] sizes, float lr, float beta1, float beta2, float eps, float weightDecay,
                        boolean decoupled, int step, long stream);

    /** Bytes of device workspace (8-byte aligned) the sum-of-squares methods need. */
    long optimSumSquaresWorkspaceBytes();

    void optimSumSquares(long x, long n, long out, boolean accumulate, long workspace, long stream);

    void optimSumSquaresMulti(long[] tensors, long[] sizes, long out, boolean accumulate, long workspace, long stream);

    void optimClipScale(long grad, long n, long totalSquares, float maxNorm, long stream);

    void optimClipScaleMulti(long[] grads, long[] sizes, long totalSquares, float maxNorm, long stream);

    // ------------------------------------------------------------------ conv_im2col (NCHW)

    void convIm2col(long x, long col, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                    long stream);

    void convCol2im(long col, long dx, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                    long stream);

    // ------------------------------------------------------------------ pool (NCHW)

    /** indices (int64, same shape as y) may be 0. */
    void poolMaxForward(long x, long y, long indices, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                        int ph, int pw, long stream);

    /** Indices outside the h x w plane are ignored and recorded in {@code err} (0 = not recorded). */
    void poolMaxBackward(long dy, long indices, long dx, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                         int ph, int pw, long err, long stream);

    void poolMaxBackwardScatter(long dy, long indices, long dx, int n, int c, int h, int w, int oh, int ow, long err,
                                long stream);

    void poolAvgForward(long x, long y, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                        long stream);

    void poolAvgBackward(long dy, long dx, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                         long stream);

    /** Fractional max pooling: samples [n, c, 2] (u_w, u_h); y and indices [n, c, oh, ow]; indices may be 0. */
    void poolFractionalMaxForward(long x, long samples, long y, long indices, int n, int c, int h, int w, int oh, int ow,
                                  int kh, int kw, long stream);

    /** Indices not inside their own window are ignored and recorded in {@code err} (0 = not recorded). */
    void poolFractionalMaxBackward(long dy, long indices, long samples, long dx, int n, int c, int h, int w, int oh,
                                   int ow, int kh, int kw, long err, long stream);
}
