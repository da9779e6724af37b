// Optimizer updates and global-norm clipping; see optim.h for the contract.
//
// One multi-tensor machinery serves every launcher (a single tensor is a list of one): the host packs
// up to kMtMaxTensors device pointers per state list and up to kMtMaxBlocks (tensor, chunk) pairs
// into the kernel's by-value arguments (about 3 KB, under the 4 KB kernel-parameter limit), and each
// block updates one chunk of kMtChunk elements of one tensor. Many small tensors (biases, BatchNorm
// parameters) then cost one launch instead of one each.
//
// Arithmetic: float32 in the operation order of CpuOptimizers (PyTorch's float32 kernels), with
// multiplies/adds that the device compiler may not contract into FMAs (__fmul_rn/__fadd_rn), so
// cpu, emu and cuda give the same bits.
#include "optim.h"

#include <math.h>

#include "common.cuh"

namespace {

constexpr int kMtLists = 5;
constexpr int kMtMaxTensors = 32;
constexpr int kMtMaxBlocks = 320;
constexpr int64_t kMtChunk = 65536;
constexpr int kMtThreads = 256;

struct MtArgs {
    float* ptr[kMtLists][kMtMaxTensors];  // list l (param, grad, states...) of tensor slot t
    int64_t size[kMtMaxTensors];
    int chunk[kMtMaxBlocks];              // chunk index within its tensor, per block
    unsigned char tensor[kMtMaxBlocks];   // tensor slot, per block
};
static_assert(sizeof(MtArgs) + 128 <= 4096, "kernel parameters must stay under 4 KB");

// Float arithmetic that the compiler may not fuse into FMAs (Java never fuses), so each operation
// rounds exactly as in CpuOptimizers. Division and sqrtf are IEEE-rounded by default under nvcc
// (-prec-div/-prec-sqrt), and Java's (float) Math.sqrt(float) is the correctly rounded float sqrt.
JT_HD float fmul(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
JT_HD float fadd(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}
JT_HD float fsub(float a, float b) {
#ifdef __CUDA_ARCH__
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}

template <class Op>
__global__ void mt_kernel(MtArgs a, Op op) {
    const int t = a.tensor[blockIdx.x];
    const int64_t start = (int64_t)a.chunk[blockIdx.x] * kMtChunk;
    const int64_t end = start + kMtChunk < a.size[t] ? start + kMtChunk : a.size[t];
    for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) op(a, t, i);
}

// Packs the tensors into launches and calls launch(args, blocks) for each; a tensor whose chunks do
// not fit the current launch continues in the next one.
template <class Launch>
cudaError_t mt_for_each(int count, float* const* const lists[kMtLists], const int64_t* sizes, Launch launch) {
    MtArgs a;
    int nt = 0;
    int nb = 0;
    for (int k = 0; k < count; ++k) {
        const int64_t n = sizes[k];
        if (n == 0) continue;
        for (int l = 0; l < kMtLists; ++l) a.ptr[l][nt] = lists[l] == nullptr ? nullptr : lists[l][k];
        a.size[nt] = n;
        ++nt;
        const int64_t chunks = (n + kMtChunk - 1) / kMtChunk;
        for (int64_t ch = 0; ch < chunks; ++ch) {
            a.tensor[nb] = (unsigned char)(nt - 1);
            a.chunk[nb] = (int)ch;
            ++nb;
            const bool last = ch == chunks - 1;
            if (nb == kMtMaxBlocks || (nt == kMtMaxTensors && last)) {
                const cudaError_t e = launch(a, nb);
                if (e != cudaSuccess) return e;
                nb = 0;
                if (last) {
                    nt = 0;
                } else {  // the tensor goes on in the next launch, in slot 0
                    for (int l = 0; l < kMtLists; ++l) a.ptr[l][0] = a.ptr[l][nt - 1];
                    a.size[0] = a.size[nt - 1];
                    nt = 1;
                }
            }
        }
    }
    if (nb > 0) return launch(a, nb);
    return cudaSuccess;
}

// Checks the arguments of a multi-tensor call: `needed` lists must hold non-null pointers for every
// non-empty tensor.
bool mt_valid(int count, float* const* const lists[kMtLists], const bool needed[kMtLists], const int64_t* sizes) {
    if (count < 0) return false;
    if (count == 0) return true;
    if (sizes == nullptr) return false;
    for (int l = 0; l < kMtLists; ++l)
        if (needed[l] && lists[l] == nullptr) return false;
    for (int k = 0; k < count; ++k) {
        if (sizes[k] < 0 || sizes[k] / kMtChunk >= 0x7FFFFFFF) return false;
        if (sizes[k] == 0) continue;
        for (int l = 0; l < kMtLists; ++l)
            if (needed[l] && lists[l][k] == nullptr) return false;
    }
    return true;
}

template <class Op>
cudaError_t mt_apply(int count, float* const* const lists[kMtLists], const bool needed[kMtLists],
                     const int64_t* sizes, const Op& op, cudaStream_t stream) {
    if (!mt_valid(count, lists, needed, sizes)) return cudaErrorInvalidValue;
    return mt_for_each(count, lists, sizes, [&](const MtArgs& a, int blocks) {
        LAUNCH(mt_kernel<Op>, (unsigned)blocks, kMtThreads, 0, stream)(a, op);
        return JT_LAUNCH_STATUS();
    });
}

// ------------------------------------------------------------------------- the rules (lists: 0 param, 1 grad, 2.. state)
// Float32 arithmetic in the operation order of CpuOptimizers (PyTorch 1.13's single-tensor float32
// kernels); Java evaluates a - b * c / d as a - ((b * c) / d).

struct SgdOp {
    float lr, mu, keep, wd;  // keep = 1f - dampening (a float subtraction, like the cpu)
    int use_momentum, nesterov, first;
    __device__ void operator()(const MtArgs& a, int t, int64_t i) const {
        float* p = a.ptr[0][t];
        const float* g = a.ptr[1][t];
        const float pi = p[i];
        const float gi = wd == 0.0f ? g[i] : fadd(g[i], fmul(wd, pi));
        if (!use_momentum) {
            p[i] = fsub(pi, fmul(lr, gi));
            return;
        }
        float* buf = a.ptr[2][t];
        const float b = first ? gi : fadd(fmul(buf[i], mu), fmul(gi, keep));
        buf[i] = b;
        const float step = nesterov ? fadd(gi, fmul(mu, b)) : b;
        p[i] = fsub(pi, fmul(lr, step));
    }
};

struct AdagradOp {
    float clr, wd, eps;
    __device__ void operator()(const MtArgs& a, int t, int64_t i) const {
        float* p = a.ptr[0][t];
        const float* g = a.ptr[1][t];
        float* sum = a.ptr[2][t];
        const float pi = p[i];
        const float gi = wd == 0.0f ? g[i] : fadd(g[i], fmul(wd, pi));
        const float s = fadd(sum[i], fmul(gi, gi));
        sum[i] = s;
        p[i] = fsub(pi, fmul(clr, gi) / fadd(sqrtf(s), eps));
    }
};

struct RmspropOp {
    float lr, alpha, one_minus_alpha, eps, wd, mu;  // one_minus_alpha = (float)(1.0 - alpha)
    int use_momentum;
    __device__ void operator()(const MtArgs& a, int t, int64_t i) const {
        float* p = a.ptr[0][t];
        const float* g = a.ptr[1][t];
        float* sq = a.ptr[2][t];
        const float pi = p[i];
        const float gi = wd == 0.0f ? g[i] : fadd(g[i], fmul(wd, pi));
        const float v = fadd(fmul(sq[i], alpha), fmul(fmul(one_minus_alpha, gi), gi));
        sq[i] = v;
        const float avg = fadd(sqrtf(v), eps);
        if (use_momentum) {
            float* buf = a.ptr[3][t];
            const float b = fadd(fmul(buf[i], mu), gi / avg);
            buf[i] = b;
            p[i] = fsub(pi, fmul(lr, b));
        } else {
            p[i] = fsub(pi, fmul(lr, gi) / avg);
        }
    }
};

struct AdamOp {
    // c1 = (float)(1 - beta1), c2 = (float)(1 - beta2), step_size = (float)(lr / (1 - beta1^t)),
    // sqrt_bc2 = (float) sqrt(1 - beta2^t), decay = (float)(1 - lr wd): computed in double on the host.
    float b1, c1, b2, c2, step_size, sqrt_bc2, eps, wd, decay;
    int decays, amsgrad;  // decays: AdamW with wd != 0 (then wd = 0 here: no L2 term)
    __device__ void operator()(const MtArgs& a, int t, int64_t i) const {
        float* p = a.ptr[0][t];
        const float* g = a.ptr[1][t];
        float* m = a.ptr[2][t];
        float* v = a.ptr[3][t];
        const float pi = decays ? fmul(p[i], decay) : p[i];
        const float gi = wd == 0.0f ? g[i] : fadd(g[i], fmul(wd, pi));
        const float mi = fadd(fmul(m[i], b1), fmul(gi, c1));
        const float vi = fadd(fmul(v[i], b2), fmul(fmul(gi, c2), gi));
        m[i] = mi;
        v[i] = vi;
        float v_use = vi;
        if (amsgrad) {
            float* vmax = a.ptr[4][t];
            const float old = vmax[i];
            v_use = old != old ? old : ((vi != vi || vi > old) ? vi : old);  // Java's Math.max: NaN wins
            vmax[i] = v_use;
        }
        p[i] = fsub(pi, fmul(mi, step_size) / fadd(sqrtf(v_use) / sqrt_bc2, eps));
    }
};

// Clip: grad *= max_norm / (||g|| + 1e-6) when that is < 1. The coefficient (an FP64 sqrt and divide) is
// computed once per thread, not per element; the bits are the same.
__global__ void clip_kernel(MtArgs a, const float* __restrict__ total, double max_norm) {
    const double coef = max_norm / (sqrt((double)*total) + 1e-6);
    if (coef >= 1.0) return;  // NaN scales by NaN, like the cpu
    const float c = (float)coef;
    const int t = a.tensor[blockIdx.x];
    const int64_t start = (int64_t)a.chunk[blockIdx.x] * kMtChunk;
    const int64_t end = start + kMtChunk < a.size[t] ? start + kMtChunk : a.size[t];
    float* g = a.ptr[0][t];
    for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) g[i] *= c;
}

// ------------------------------------------------------------------------- sum of squares

// One partial per block: the chunk's sum of squares, per thread in double, merged by a fixed tree.
__global__ void sumsq_partial_kernel(MtArgs a, double* __restrict__ partials) {
    __shared__ double s[kMtThreads];
    const int t = a.tensor[blockIdx.x];
    const int64_t start = (int64_t)a.chunk[blockIdx.x] * kMtChunk;
    const int64_t end = start + kMtChunk < a.size[t] ? start + kMtChunk : a.size[t];
    const float* x = a.ptr[0][t];
    double acc = 0.0;
    for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x) {
        const double v = x[i];
        acc += v * v;
    }
    s[threadIdx.x] = acc;
    __syncthreads();
    for (int k = blockDim.x >> 1; k > 0; k >>= 1) {
        if ((int)threadIdx.x < k) s[threadIdx.x] += s[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) partials[blockIdx.x] = s[0];
}

// acc = (first ? (accumulate ? out : 0) : acc) + partials[0..blocks) in order; out = (float) acc.
__global__ void sumsq_fold_kernel(const double* __restrict__ partials, int blocks, double* __restrict__ acc,
                                  float* __restrict__ out, int first, int accumulate) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double total = first ? (accumulate ? (double)out[0] : 0.0) : *acc;
    for (int b = 0; b < blocks; ++b) total += partials[b];
    *acc = total;
    out[0] = (float)total;
}

}  // namespace

// ------------------------------------------------------------------------- launchers

extern "C" cudaError_t jt_optim_sgd_multi(int count, float* const* params, const float* const* grads,
                                          float* const* momentum_bufs, const int64_t* sizes, float lr,
                                          float momentum, float dampening, float weight_decay, int nesterov,
                                          int first_step, cudaStream_t stream) {
    SgdOp op;
    op.lr = lr;
    op.mu = momentum;
    op.keep = 1.0f - dampening;
    op.wd = weight_decay;
    op.use_momentum = momentum != 0.0f;
    op.nesterov = nesterov != 0;
    op.first = first_step != 0;
    float* const* const lists[kMtLists] = {params, const_cast<float* const*>(grads), momentum_bufs, nullptr, nullptr};
    const bool needed[kMtLists] = {true, true, op.use_momentum != 0, false, false};
    return mt_apply(count, lists, needed, sizes, op, stream);
}

extern "C" cudaError_t jt_optim_sgd(float* param, const float* grad, float* momentum_buf, int64_t n, float lr,
                                    float momentum, float dampening, float weight_decay, int nesterov, int first_step,
                                    cudaStream_t stream) {
    const float* grads[1] = {grad};
    return jt_optim_sgd_multi(1, &param, grads, &momentum_buf, &n, lr, momentum, dampening, weight_decay, nesterov,
                              first_step, stream);
}

extern "C" cudaError_t jt_optim_adagrad_multi(int count, float* const* params, const float* const* grads,
                                              float* const* sums, const int64_t* sizes, float clr,
                                              float weight_decay, float eps, cudaStream_t stream) {
    AdagradOp op;
    op.clr = clr;
    op.wd = weight_decay;
    op.eps = eps;
    float* const* const lists[kMtLists] = {params, const_cast<float* const*>(grads), sums, nullptr, nullptr};
    const bool needed[kMtLists] = {true, true, true, false, false};
    return mt_apply(count, lists, needed, sizes, op, stream);
}

extern "C" cudaError_t jt_optim_adagrad(float* param, const float* grad, float* sum, int64_t n, float clr,
                                        float weight_decay, float eps, cudaStream_t stream) {
    const float* grads[1] = {grad};
    return jt_optim_adagrad_multi(1, &param, grads, &sum, &n, clr, weight_decay, eps, stream);
}

extern "C" cudaError_t jt_optim_rmsprop_multi(int count, float* const* params, const float* const* grads,
                                              float* const* square_avgs, float* const* momentum_bufs,
                                              const int64_t* sizes, float lr, float alpha, float eps,
                                              float weight_decay, float momentum, cudaStream_t stream) {
    RmspropOp op;
    op.lr = lr;
    op.alpha = alpha;
    op.one_minus_alpha = (float)(1.0 - (double)alpha);
    op.eps = eps;
    op.wd = weight_decay;
    op.mu = momentum;
    op.use_momentum = momentum != 0.0f;
    float* const* const lists[kMtLists] = {params, const_cast<float* const*>(grads), square_avgs, momentum_bufs,
                                           nullptr};
    const bool needed[kMtLists] = {true, true, true, op.use_momentum != 0, false};
    return mt_apply(count, lists, needed, sizes, op, stream);
}

extern "C" cudaError_t jt_optim_rmsprop(float* param, const float* grad, float* square_avg, float* momentum_buf,
                                        int64_t n, float lr, float alpha, float eps, float weight_decay,
                                        float momentum, cudaStream_t stream) {
    const float* grads[1] = {grad};
    return jt_optim_rmsprop_multi(1, &param, grads, &square_avg, &momentum_buf, &n, lr, alpha, eps, weight_decay,
                                  momentum, stream);
}

extern "C" cudaError_t jt_optim_adam_multi(int count, float* const* params, const float* const* grads,
                                           float* const* exp_avgs, float* const* exp_avg_sqs,
                                           float* const* max_exp_avg_sqs, const int64_t* sizes, float lr,
                                           float beta1, float beta2, float eps, float weight_decay, int decoupled,
                                           int step, cudaStream_t stream) {
    JT_REQUIRE(step >= 1);
    // The scalars PyTorch computes in Python, in double on the host and rounded to float once, exactly
    // as CpuOptimizers.adam computes them.
    AdamOp op;
    op.b1 = beta1;
    op.c1 = (float)(1.0 - (double)beta1);
    op.b2 = beta2;
    op.c2 = (float)(1.0 - (double)beta2);
    op.step_size = (float)((double)lr / (1.0 - pow((double)beta1, step)));
    op.sqrt_bc2 = (float)sqrt(1.0 - pow((double)beta2, step));
    op.eps = eps;
    op.decay = (float)(1.0 - (double)lr * (double)weight_decay);
    op.decays = decoupled != 0 && weight_decay != 0.0f;
    op.wd = decoupled ? 0.0f : weight_decay;
    op.amsgrad = max_exp_avg_sqs != nullptr;
    float* const* const lists[kMtLists] = {params, const_cast<float* const*>(grads), exp_avgs, exp_avg_sqs,
                                           max_exp_avg_sqs};
    const bool needed[kMtLists] = {true, true, true, true, op.amsgrad != 0};
    return mt_apply(count, lists, needed, sizes, op, stream);
}

extern "C" cudaError_t jt_optim_adam(float* param, const float* grad, float* exp_avg, float* exp_avg_sq,
                                     float* max_exp_avg_sq, int64_t n, float lr, float beta1, float beta2, float eps,
                                     float weight_decay, int decoupled, int step, cudaStream_t stream) {
    const float* grads[1] = {grad};
    return jt_optim_adam_multi(1, &param, grads, &exp_avg, &exp_avg_sq,
                               max_exp_avg_sq == nullptr ? nullptr : &max_exp_avg_sq, &n, lr, beta1, beta2, eps,
                               weight_decay, decoupled, step, stream);
}

extern "C" cudaError_t jt_optim_clip_scale_multi(int count, float* const* grads, const int64_t* sizes,
                                                 const float* total_squares, float max_norm, cudaStream_t stream) {
    JT_REQUIRE(total_squares != nullptr);
    float* const* const lists[kMtLists] = {grads, nullptr, nullptr, nullptr, nullptr};
    const bool needed[kMtLists] = {true, false, false, false, false};
    if (!mt_valid(count, lists, needed, sizes)) return cudaErrorInvalidValue;
    return mt_for_each(count, lists, sizes, [&](const MtArgs& a, int blocks) {
        LAUNCH(clip_kernel, (unsigned)blocks, kMtThreads, 0, stream)(a, total_squares, (double)max_norm);
        return JT_LAUNCH_STATUS();
    });
}

extern "C" cudaError_t jt_optim_clip_scale(float* grad, int64_t n, const float* total_squares, float max_norm,
                                           cudaStream_t stream) {
    return jt_optim_clip_scale_multi(1, &grad, &n, total_squares, max_norm, stream);
}

extern "C" cudaError_t jt_optim_sum_squares_multi(int count, const float* const* tensors, const int64_t* sizes,
                                                  float* out, int accumulate, void* workspace, cudaStream_t stream) {
    JT_REQUIRE(out != nullptr && workspace != nullptr);
    float* const* const lists[kMtLists] = {const_cast<float* const*>(tensors), nullptr, nullptr, nullptr, nullptr};
    const bool needed[kMtLists] = {true, false, false, false, false};
    JT_REQUIRE(mt_valid(count, lists, needed, sizes));
    double* partials = static_cast<double*>(workspace);
    double* acc = partials + kMtMaxBlocks;
    int first = 1;
    cudaError_t e = mt_for_each(count, lists, sizes, [&](const MtArgs& a, int blocks) {
        LAUNCH(sumsq_partial_kernel, (unsigned)blocks, kMtThreads, 0, stream)(a, partials);
        cudaError_t st = JT_LAUNCH_STATUS();
        if (st != cudaSuccess) return st;
        LAUNCH(sumsq_fold_kernel, 1, 1, 0, stream)(partials, blocks, acc, out, first, accumulate);
        first = 0;
        return JT_LAUNCH_STATUS();
    });
    if (e != cudaSuccess) return e;
    if (first) {  // nothing to add: out = accumulate ? out : 0
        LAUNCH(sumsq_fold_kernel, 1, 1, 0, stream)(partials, 0, acc, out, 1, accumulate);
        return JT_LAUNCH_STATUS();
    }
    return cudaSuccess;
}

extern "C" cudaError_t jt_optim_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                            cudaStream_t stream) {
    return jt_optim_sum_squares_multi(1, &x, &n, out, accumulate, workspace, stream);
}
