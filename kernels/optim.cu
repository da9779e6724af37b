// Optimizer updates and global-norm clipping; see optim.h for the contract.
//
// One multi-tensor machinery serves every launcher (a single tensor is a list of one): the host packs
// up to kMtMaxTensors tensors per launch into the kernel's by-value arguments (about 1.9 KB, under the
// 4 KB kernel-parameter limit): their pointers, sizes and the running count of their chunks of kMtChunk
// elements. The grid fills the device (device_fill.cuh) and each block walks the launch's chunks with a
// grid stride (chunk blockIdx.x, then + gridDim.x, ...), so one launch covers any sizes with every
// resident block slot busy, and many small tensors (biases, BatchNorm parameters) still cost one launch.
//
// Inside a chunk each thread moves kMtUnroll float4 per state list per iteration, all loads issued before
// any arithmetic (memory-level parallelism: a bandwidth-bound update needs bytes in flight, not threads),
// when every pointer of the tensor is 16-byte aligned; otherwise, and for the last size % 4 elements, it
// runs the scalar path. Both apply the rule's one per-element function, so they give the same bits.
//
// Arithmetic: float32 in the operation order of CpuOptimizers (PyTorch's float32 kernels), with
// multiplies/adds that the device compiler may not contract into FMAs (__fmul_rn/__fadd_rn), so
// cpu, emu and cuda give the same bits.
#include "optim.h"

#include <math.h>

#include "common.cuh"
#include "device_fill.cuh"
#include "reduce_util.cuh"

namespace {

constexpr int kMtLists = 5;
constexpr int kMtMaxTensors = 32;
constexpr int kMtThreads = 256;
constexpr int kMtUnroll = 2;        // float4 per list per thread per iteration (Adam: 8 loads in flight)
constexpr int kSumsqUnroll = 4;     // one list: 4 float4 loads in flight
constexpr int64_t kMtChunk = JT_OPTIM_CHUNK;  // elements per work item: 4 iterations of a 256-thread block
static_assert(kMtChunk % (4 * kMtThreads * kMtUnroll) == 0 && kMtChunk % (4 * kMtThreads * kSumsqUnroll) == 0,
              "a chunk is whole float4 iterations (and a multiple of 4: every chunk of an aligned tensor starts aligned)");
constexpr int64_t kNoChunkCap = INT64_MAX / 4;  // updates: no cap on the chunks of one launch

struct MtArgs {
    float* ptr[kMtLists][kMtMaxTensors];  // list l (param, grad, states...) of tensor slot t
    int64_t size[kMtMaxTensors];          // elements of slot t
    int64_t chunk_end[kMtMaxTensors];     // chunks of slots 0..t together (chunk c is in the first t with c < chunk_end[t])
    unsigned vec;                         // bit t: every pointer slot t uses is 16-byte aligned
    int tensors;                          // slots in use (>= 1)
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

__device__ __forceinline__ float lane(const float4& v, int k) { return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w; }
__device__ __forceinline__ void set_lane(float4& v, int k, float f) {
    if (k == 0) v.x = f; else if (k == 1) v.y = f; else if (k == 2) v.z = f; else v.w = f;
}

// Calls body(c, t, begin, end) for this block's chunks: c = blockIdx.x, + gridDim.x, ... below the launch's
// chunk count; t its tensor slot, [begin, end) its elements within the slot. Block-uniform: every thread
// of the block makes the same calls (body may hold barriers).
template <class Body>
__device__ __forceinline__ void mt_for_each_chunk(const MtArgs& a, Body body) {
    const int64_t chunks = a.chunk_end[a.tensors - 1];
    int t = 0;
    for (int64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
        while (c >= a.chunk_end[t]) ++t;  // c only grows: t moves forward, 32 steps at most per block
        const int64_t first = t == 0 ? 0 : a.chunk_end[t - 1];
        const int64_t begin = (c - first) * kMtChunk;
        const int64_t end = begin + kMtChunk < a.size[t] ? begin + kMtChunk : a.size[t];
        body(c, t, begin, end);
    }
}

// Applies op to elements [begin, end) of slot t (begin a multiple of 4). An Op has
//   bool reads(int l), bool writes(int l): which lists the element function loads and stores;
//   void operator()(float (&x)[kMtLists]): the rule for one element, x[l] = element of list l, in place.
template <int kUnroll, class Op>
__device__ __forceinline__ void mt_update_range(const MtArgs& a, const Op& op, int t, int64_t begin, int64_t end) {
    float* ptr[kMtLists];
#pragma unroll
    for (int l = 0; l < kMtLists; ++l) ptr[l] = a.ptr[l][t];
    const int64_t vec_end = ((a.vec >> t) & 1u) ? begin + (end - begin) / 4 * 4 : begin;
    // float4 groups: thread k takes groups g, g + blockDim.x, ... of the range, kUnroll at a time.
    const int64_t gend = vec_end / 4;
    for (int64_t g = begin / 4 + threadIdx.x; g < gend; g += kUnroll * (int64_t)blockDim.x) {
        float4 r[kUnroll][kMtLists] = {};
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t gi = g + (int64_t)u * blockDim.x;
            if (gi < gend) {
#pragma unroll
                for (int l = 0; l < kMtLists; ++l)
                    if (op.reads(l)) r[u][l] = reinterpret_cast<const float4*>(ptr[l])[gi];
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                float x[kMtLists];
#pragma unroll
                for (int l = 0; l < kMtLists; ++l) x[l] = lane(r[u][l], k);
                op(x);
#pragma unroll
                for (int l = 0; l < kMtLists; ++l) set_lane(r[u][l], k, x[l]);
            }
        }
#pragma unroll
        for (int u = 0; u < kUnroll; ++u) {
            const int64_t gi = g + (int64_t)u * blockDim.x;
            if (gi < gend) {
#pragma unroll
                for (int l = 0; l < kMtLists; ++l)
                    if (op.writes(l)) reinterpret_cast<float4*>(ptr[l])[gi] = r[u][l];
            }
        }
    }
    // Scalar path: the whole range of a misaligned tensor, else the last (end - begin) % 4 elements.
    for (int64_t i = vec_end + threadIdx.x; i < end; i += blockDim.x) {
        float x[kMtLists] = {};
#pragma unroll
        for (int l = 0; l < kMtLists; ++l)
            if (op.reads(l)) x[l] = ptr[l][i];
        op(x);
#pragma unroll
        for (int l = 0; l < kMtLists; ++l)
            if (op.writes(l)) ptr[l][i] = x[l];
    }
}

template <class Op>
__global__ void __launch_bounds__(kMtThreads) mt_kernel(MtArgs a, Op op) {
    mt_for_each_chunk(a, [&](int64_t, int t, int64_t begin, int64_t end) {
        mt_update_range<kMtUnroll>(a, op, t, begin, end);
    });
}

// Packs the tensors into launches and calls launch(args, chunks) for each: up to kMtMaxTensors slots and
// max_chunks chunks per launch; a tensor that does not fit continues in the next launch (a slot holds a
// part of a tensor: its pointers advanced by whole chunks, so their alignment is the tensor's). Only the
// lists marked `used` are passed (others are null in the slots and do not count for alignment).
template <class Launch>
cudaError_t mt_for_each(int count, float* const* const lists[kMtLists], const bool used[kMtLists],
                        const int64_t* sizes, int64_t max_chunks, Launch launch) {
    MtArgs a;
    a.tensors = 0;
    a.vec = 0;
    int64_t chunks = 0;
    for (int k = 0; k < count; ++k) {
        const int64_t n = sizes[k];
        int64_t done = 0;  // elements of tensor k already placed
        while (done < n) {
            const int64_t left = (n - done + kMtChunk - 1) / kMtChunk;
            const int64_t take = left < max_chunks - chunks ? left : max_chunks - chunks;
            const int64_t elems = n - done < take * kMtChunk ? n - done : take * kMtChunk;
            const int s = a.tensors++;
            bool aligned = true;
            for (int l = 0; l < kMtLists; ++l) {
                float* p = used[l] ? lists[l][k] + done : nullptr;
                a.ptr[l][s] = p;
                aligned = aligned && reinterpret_cast<uintptr_t>(p) % 16 == 0;
            }
            a.size[s] = elems;
            chunks += take;
            a.chunk_end[s] = chunks;
            if (aligned) a.vec |= 1u << s;
            done += elems;
            if (a.tensors == kMtMaxTensors || chunks == max_chunks) {
                const cudaError_t e = launch(a, chunks);
                if (e != cudaSuccess) return e;
                a.tensors = 0;
                a.vec = 0;
                chunks = 0;
            }
        }
    }
    if (a.tensors > 0) return launch(a, chunks);
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
        if (sizes[k] < 0 || sizes[k] > kNoChunkCap) return false;
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
    return mt_for_each(count, lists, needed, sizes, kNoChunkCap, [&](const MtArgs& a, int64_t chunks) {
        unsigned grid = 0;
        const cudaError_t e = jt_fill_grid<mt_kernel<Op>>(kMtThreads, chunks, &grid);
        if (e != cudaSuccess) return e;
        LAUNCH(mt_kernel<Op>, grid, kMtThreads, 0, stream)(a, op);
        return JT_LAUNCH_STATUS();
    });
}

// ------------------------------------------------------------------------- the rules (lists: 0 param, 1 grad, 2.. state)
// Float32 arithmetic in the operation order of CpuOptimizers (PyTorch 1.13's single-tensor float32
// kernels); Java evaluates a - b * c / d as a - ((b * c) / d). Each rule is one element: x[0] param,
// x[1] grad, x[2..] its states, updated in place.

struct SgdOp {
    float lr, mu, keep, wd;  // keep = 1f - dampening (a float subtraction, like the cpu)
    int use_momentum, nesterov, first;
    __device__ bool reads(int l) const { return l <= 1 || (l == 2 && use_momentum && !first); }
    __device__ bool writes(int l) const { return l == 0 || (l == 2 && use_momentum); }
    __device__ void operator()(float (&x)[kMtLists]) const {
        const float pi = x[0];
        const float gi = wd == 0.0f ? x[1] : fadd(x[1], fmul(wd, pi));
        if (!use_momentum) {
            x[0] = fsub(pi, fmul(lr, gi));
            return;
        }
        const float b = first ? gi : fadd(fmul(x[2], mu), fmul(gi, keep));
        x[2] = b;
        const float step = nesterov ? fadd(gi, fmul(mu, b)) : b;
        x[0] = fsub(pi, fmul(lr, step));
    }
};

struct AdagradOp {
    float clr, wd, eps;
    __device__ bool reads(int l) const { return l <= 2; }
    __device__ bool writes(int l) const { return l == 0 || l == 2; }
    __device__ void operator()(float (&x)[kMtLists]) const {
        const float pi = x[0];
        const float gi = wd == 0.0f ? x[1] : fadd(x[1], fmul(wd, pi));
        const float s = fadd(x[2], fmul(gi, gi));
        x[2] = s;
        x[0] = fsub(pi, fmul(clr, gi) / fadd(sqrtf(s), eps));
    }
};

struct RmspropOp {
    float lr, alpha, one_minus_alpha, eps, wd, mu;  // one_minus_alpha = (float)(1.0 - alpha)
    int use_momentum;
    __device__ bool reads(int l) const { return l <= 2 || (l == 3 && use_momentum); }
    __device__ bool writes(int l) const { return l == 0 || l == 2 || (l == 3 && use_momentum); }
    __device__ void operator()(float (&x)[kMtLists]) const {
        const float pi = x[0];
        const float gi = wd == 0.0f ? x[1] : fadd(x[1], fmul(wd, pi));
        const float v = fadd(fmul(x[2], alpha), fmul(fmul(one_minus_alpha, gi), gi));
        x[2] = v;
        const float avg = fadd(sqrtf(v), eps);
        if (use_momentum) {
            const float b = fadd(fmul(x[3], mu), gi / avg);
            x[3] = b;
            x[0] = fsub(pi, fmul(lr, b));
        } else {
            x[0] = fsub(pi, fmul(lr, gi) / avg);
        }
    }
};

struct AdamOp {
    // c1 = (float)(1 - beta1), c2 = (float)(1 - beta2), step_size = (float)(lr / (1 - beta1^t)),
    // sqrt_bc2 = (float) sqrt(1 - beta2^t), decay = (float)(1 - lr wd): computed in double on the host.
    float b1, c1, b2, c2, step_size, sqrt_bc2, eps, wd, decay;
    int decays, amsgrad;  // decays: AdamW with wd != 0 (then wd = 0 here: no L2 term)
    __device__ bool reads(int l) const { return l <= 3 || (l == 4 && amsgrad); }
    __device__ bool writes(int l) const { return l == 0 || l == 2 || l == 3 || (l == 4 && amsgrad); }
    __device__ void operator()(float (&x)[kMtLists]) const {
        const float pi = decays ? fmul(x[0], decay) : x[0];
        const float gi = wd == 0.0f ? x[1] : fadd(x[1], fmul(wd, pi));
        const float mi = fadd(fmul(x[2], b1), fmul(gi, c1));
        const float vi = fadd(fmul(x[3], b2), fmul(fmul(gi, c2), gi));
        x[2] = mi;
        x[3] = vi;
        float v_use = vi;
        if (amsgrad) {
            const float old = x[4];
            v_use = old != old ? old : ((vi != vi || vi > old) ? vi : old);  // Java's Math.max: NaN wins
            x[4] = v_use;
        }
        x[0] = fsub(pi, fmul(mi, step_size) / fadd(sqrtf(v_use) / sqrt_bc2, eps));
    }
};

// grad *= coef (one float multiply per element, as the cpu).
struct ClipOp {
    float coef;
    __device__ bool reads(int l) const { return l == 0; }
    __device__ bool writes(int l) const { return l == 0; }
    __device__ void operator()(float (&x)[kMtLists]) const { x[0] = fmul(x[0], coef); }
};

// Clip: grad *= max_norm / (||g|| + 1e-6) when that is < 1. The coefficient (an FP64 sqrt and divide) is
// computed once per block by thread 0 and shared; every thread then scales its elements of every chunk.
__global__ void __launch_bounds__(kMtThreads) clip_kernel(MtArgs a, const float* __restrict__ total, double max_norm) {
    __shared__ float coef_shared;
    __shared__ int scale_shared;
    if (threadIdx.x == 0) {
        const double coef = max_norm / (sqrt((double)*total) + 1e-6);
        scale_shared = !(coef >= 1.0);  // NaN scales by NaN, like the cpu
        coef_shared = (float)coef;
    }
    __syncthreads();
    if (!scale_shared) return;  // block-uniform
    const ClipOp op{coef_shared};
    mt_for_each_chunk(a, [&](int64_t, int t, int64_t begin, int64_t end) {
        mt_update_range<kSumsqUnroll>(a, op, t, begin, end);
    });
}

// ------------------------------------------------------------------------- sum of squares

// One partial per chunk, partials[c] for the launch's chunk c: thread k sums the squares of float4
// groups k, k + blockDim.x, ... of the chunk in double (lanes in order), thread 0 then the last
// (end - begin) % 4 elements, and a fixed tree merges the threads. A misaligned tensor loads the same
// groups element by element: the same sums. So the bits depend on the chunking alone (the sizes).
__global__ void __launch_bounds__(kMtThreads) sumsq_partial_kernel(MtArgs a, double* __restrict__ partials) {
    __shared__ double scratch[32];
    mt_for_each_chunk(a, [&](int64_t c, int t, int64_t begin, int64_t end) {
        const float* x = a.ptr[0][t];
        const bool vec = (a.vec >> t) & 1u;
        const int64_t gend = end / 4;
        double acc = 0.0;
        for (int64_t g = begin / 4 + threadIdx.x; g < gend; g += kSumsqUnroll * (int64_t)blockDim.x) {
            float4 q[kSumsqUnroll];
#pragma unroll
            for (int u = 0; u < kSumsqUnroll; ++u) {
                const int64_t gi = g + (int64_t)u * blockDim.x;
                if (gi < gend) {
                    q[u] = vec ? reinterpret_cast<const float4*>(x)[gi]
                               : make_float4(x[4 * gi], x[4 * gi + 1], x[4 * gi + 2], x[4 * gi + 3]);
                } else {
                    q[u] = make_float4(0.f, 0.f, 0.f, 0.f);
                }
            }
#pragma unroll
            for (int u = 0; u < kSumsqUnroll; ++u) {
#pragma unroll
                for (int k = 0; k < 4; ++k) {
                    const double v = lane(q[u], k);
                    acc += v * v;  // exact product (48 bits): an FMA contraction gives the same bits
                }
            }
        }
        if (threadIdx.x == 0) {
            for (int64_t i = gend * 4; i < end; ++i) {
                const double v = x[i];
                acc += v * v;
            }
        }
        const double s = jt_block_sum_double(acc, scratch);
        if (threadIdx.x == 0) partials[c] = s;
    });
}

// acc = (first ? (accumulate ? out : 0) : acc) + (the partials[0..count) merged by a fixed tree);
// out = (float) acc. One block of kMtThreads.
__global__ void __launch_bounds__(kMtThreads) sumsq_fold_kernel(const double* __restrict__ partials, int64_t count,
                                                                double* __restrict__ acc, float* __restrict__ out,
                                                                int first, int accumulate) {
    __shared__ double scratch[32];
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partials[i];
    s = jt_block_sum_double(s, scratch);
    if (threadIdx.x == 0) {
        const double total = (first ? (accumulate ? (double)out[0] : 0.0) : *acc) + s;
        *acc = total;
        out[0] = (float)total;
    }
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
    return mt_for_each(count, lists, needed, sizes, kNoChunkCap, [&](const MtArgs& a, int64_t chunks) {
        unsigned grid = 0;
        const cudaError_t e = jt_fill_grid<clip_kernel>(kMtThreads, chunks, &grid);
        if (e != cudaSuccess) return e;
        LAUNCH(clip_kernel, grid, kMtThreads, 0, stream)(a, total_squares, (double)max_norm);
        return JT_LAUNCH_STATUS();
    });
}

extern "C" cudaError_t jt_optim_clip_scale(float* grad, int64_t n, const float* total_squares, float max_norm,
                                           cudaStream_t stream) {
    return jt_optim_clip_scale_multi(1, &grad, &n, total_squares, max_norm, stream);
}

extern "C" size_t jt_optim_sum_squares_workspace_bytes(void) { return JT_OPTIM_SUMSQ_WORKSPACE_BYTES; }

extern "C" cudaError_t jt_optim_sum_squares_multi(int count, const float* const* tensors, const int64_t* sizes,
                                                  float* out, int accumulate, void* workspace, cudaStream_t stream) {
    JT_REQUIRE(out != nullptr && workspace != nullptr && reinterpret_cast<uintptr_t>(workspace) % 8 == 0);
    float* const* const lists[kMtLists] = {const_cast<float* const*>(tensors), nullptr, nullptr, nullptr, nullptr};
    const bool needed[kMtLists] = {true, false, false, false, false};
    JT_REQUIRE(mt_valid(count, lists, needed, sizes));
    double* partials = static_cast<double*>(workspace);
    double* acc = partials + JT_OPTIM_SUMSQ_MAX_CHUNKS;
    int first = 1;
    cudaError_t e = mt_for_each(count, lists, needed, sizes, JT_OPTIM_SUMSQ_MAX_CHUNKS,
                                [&](const MtArgs& a, int64_t chunks) {
        unsigned grid = 0;
        cudaError_t st = jt_fill_grid<sumsq_partial_kernel>(kMtThreads, chunks, &grid);
        if (st != cudaSuccess) return st;
        LAUNCH(sumsq_partial_kernel, grid, kMtThreads, 0, stream)(a, partials);
        st = JT_LAUNCH_STATUS();
        if (st != cudaSuccess) return st;
        LAUNCH(sumsq_fold_kernel, 1, kMtThreads, 0, stream)(partials, chunks, acc, out, first, accumulate);
        first = 0;
        return JT_LAUNCH_STATUS();
    });
    if (e != cudaSuccess) return e;
    if (first) {  // nothing to add: out = accumulate ? out : 0
        LAUNCH(sumsq_fold_kernel, 1, kMtThreads, 0, stream)(partials, 0, acc, out, 1, accumulate);
        return JT_LAUNCH_STATUS();
    }
    return cudaSuccess;
}

extern "C" cudaError_t jt_optim_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                            cudaStream_t stream) {
    return jt_optim_sum_squares_multi(1, &x, &n, out, accumulate, workspace, stream);
}
