// Reductions: sums (plain, of squares, of |x|, of equal int64 pairs) in two deterministic passes,
// row argmax (one warp per row), and the bias gradient along dim 1 of [N, C, inner].
#include "common.cuh"
#include "block_range.cuh"
#include "launch_config.h"
#include "reduce.h"
#include "reduce_util.cuh"
#include "channel_sum.cuh"

namespace {

constexpr int kThreads = 256;
// Each thread of the first pass sums at least this many elements before the block tree.
constexpr int64_t kPerThread = 32;

// The sums read their input in groups of 4 elements: group g is elements 4g .. 4g+3. An Op loads one
// group (16-byte vector loads when `vec`, the inputs being 16-byte aligned; element loads otherwise:
// the same values) and adds its 4 terms to a double in lane order, so the bits never depend on the
// alignment; tail(i) is the term of one element past the last whole group.
template <class Term>
struct FloatSumOp {
    const float* x;
    bool vec;
    using Group = float4;
    static constexpr int kUnroll = 4;  // groups in flight per thread: 64 bytes
    __device__ Group load(int64_t g) const {
        return vec ? reinterpret_cast<const float4*>(x)[g] : make_float4(x[4 * g], x[4 * g + 1], x[4 * g + 2], x[4 * g + 3]);
    }
    __device__ double add(double acc, const Group& q) const {
        return acc + Term::of(q.x) + Term::of(q.y) + Term::of(q.z) + Term::of(q.w);
    }
    __device__ double tail(int64_t i) const { return Term::of(x[i]); }
};
struct PlainTerm {
    __device__ static double of(float v) { return (double)v; }
};
struct SquareTerm {
    // Exact (48 bits), so an FMA contraction of acc + d * d gives the same bits.
    __device__ static double of(float v) { return (double)v * (double)v; }
};
struct AbsTerm {
    __device__ static double of(float v) { return fabs((double)v); }
};
using SumOp = FloatSumOp<PlainTerm>;
using SumSquaresOp = FloatSumOp<SquareTerm>;
using SumAbsOp = FloatSumOp<AbsTerm>;

// int64 a == b, compared as two 32-bit halves (each int4 holds two int64).
struct CountEqualOp {
    const int64_t* a;
    const int64_t* b;
    bool vec;
    struct Group {
        int4 a01, a23, b01, b23;
    };
    static constexpr int kUnroll = 2;  // 64 bytes in flight per thread, as the float sums
    __device__ static int4 pair(const int64_t* p, int64_t i, bool v) {
        if (v) return reinterpret_cast<const int4*>(p)[i / 2];
        const uint64_t lo = (uint64_t)p[i], hi = (uint64_t)p[i + 1];
        return make_int4((int)(uint32_t)lo, (int)(uint32_t)(lo >> 32), (int)(uint32_t)hi, (int)(uint32_t)(hi >> 32));
    }
    __device__ Group load(int64_t g) const {
        return Group{pair(a, 4 * g, vec), pair(a, 4 * g + 2, vec), pair(b, 4 * g, vec), pair(b, 4 * g + 2, vec)};
    }
    __device__ static double eq(int4 p, int4 q, bool high) {
        return (high ? (p.z == q.z && p.w == q.w) : (p.x == q.x && p.y == q.y)) ? 1.0 : 0.0;
    }
    __device__ double add(double acc, const Group& q) const {
        return acc + eq(q.a01, q.b01, false) + eq(q.a01, q.b01, true) + eq(q.a23, q.b23, false) + eq(q.a23, q.b23, true);
    }
    __device__ double tail(int64_t i) const { return a[i] == b[i] ? 1.0 : 0.0; }
};

// Pass 1: block b sums its contiguous run of groups (thread k: groups begin + k, begin + k + T, ...,
// Op::kUnroll groups loaded before any is added); the last block's thread 0 also adds the n % 4
// elements after the last group. With one block it writes the final result; otherwise partial[b].
template <class Op>
__global__ void __launch_bounds__(kThreads) reduce_pass1_kernel(Op op, int64_t n, double* partial, float* out,
                                                                int accumulate) {
    __shared__ double scratch[32];
    const int64_t groups = n / 4;
    const int64_t per_block = jt_ceil_div(jt_ceil_div(groups, (int64_t)gridDim.x), (int64_t)blockDim.x) * blockDim.x;
    const int64_t begin = (int64_t)blockIdx.x * per_block;
    const int64_t end = begin + per_block < groups ? begin + per_block : groups;
    double acc = 0.0;
    for (int64_t g = begin + threadIdx.x; g < end; g += Op::kUnroll * (int64_t)blockDim.x) {
        typename Op::Group q[Op::kUnroll];
#pragma unroll
        for (int u = 0; u < Op::kUnroll; ++u) {
            const int64_t gi = g + (int64_t)u * blockDim.x;
            if (gi < end) q[u] = op.load(gi);
        }
#pragma unroll
        for (int u = 0; u < Op::kUnroll; ++u) {
            if (g + (int64_t)u * blockDim.x < end) acc = op.add(acc, q[u]);
        }
    }
    if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) {
        for (int64_t i = groups * 4; i < n; ++i) acc += op.tail(i);
    }
    const double s = jt_block_sum_double(acc, scratch);
    if (threadIdx.x == 0) {
        if (gridDim.x == 1) {
            out[0] = accumulate ? (float)((double)out[0] + s) : (float)s;
        } else {
            partial[blockIdx.x] = s;
        }
    }
}

// Pass 2: one block sums the partials in a fixed order.
__global__ void __launch_bounds__(kThreads) reduce_pass2_kernel(const double* partial, int count, float* out,
                                                                int accumulate) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
    const double s = jt_block_sum_double(acc, scratch);
    if (threadIdx.x == 0) out[0] = accumulate ? (float)((double)out[0] + s) : (float)s;
}

__global__ void set_zero_kernel(float* out) { out[0] = 0.f; }

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <class Op>
cudaError_t reduce_launch(Op op, int64_t n, float* out, int accumulate, void* workspace, cudaStream_t stream) {
    if (n == 0) {
        if (accumulate) return cudaSuccess;
        LAUNCH(set_zero_kernel, 1, 1, 0, stream)(out);
        return JT_LAUNCH_STATUS();
    }
    const unsigned blocks = jt_reduce_pass1_blocks(n);
    double* partial = static_cast<double*>(workspace);
    LAUNCH(reduce_pass1_kernel<Op>, blocks, kThreads, 0, stream)(op, n, partial, out, accumulate);
    cudaError_t st = JT_LAUNCH_STATUS();
    if (st != cudaSuccess || blocks == 1) return st;
    LAUNCH(reduce_pass2_kernel, 1, kThreads, 0, stream)(partial, (int)blocks, out, accumulate);
    return JT_LAUNCH_STATUS();
}

// (v2, i2) replaces the current best (v1, i1): NaN beats numbers, larger beats smaller, ties (and
// NaN vs NaN) go to the lower index.
__device__ __forceinline__ bool argmax_better(float v1, int i1, float v2, int i2) {
    const bool nan1 = v1 != v1;
    const bool nan2 = v2 != v2;
    if (nan1 || nan2) return nan2 && (!nan1 || i2 < i1);
    return v2 > v1 || (v2 == v1 && i2 < i1);
}

__global__ void argmax_rows_kernel(const float* __restrict__ x, int rows, int cols, int64_t* __restrict__ out) {
    const int lane = threadIdx.x & 31;
    const int warpsPerBlock = blockDim.x >> 5;
    const int64_t warpsInGrid = (int64_t)gridDim.x * warpsPerBlock;
    for (int64_t r = (int64_t)blockIdx.x * warpsPerBlock + (threadIdx.x >> 5); r < rows; r += warpsInGrid) {
        const float* row = x + r * cols;
        float bv = -INFINITY;
        int bi = 0x7fffffff;  // loses every comparison against a real element
        for (int64_t k = lane; k < cols; k += 32) {  // 64-bit: k += 32 must not wrap near INT_MAX
            const float v = row[k];
            if (argmax_better(bv, bi, v, (int)k)) {
                bv = v;
                bi = (int)k;
            }
        }
        for (int off = 16; off > 0; off >>= 1) {
            const float ov = __shfl_down_sync(JT_FULL_MASK, bv, off);
            const int oi = __shfl_down_sync(JT_FULL_MASK, bi, off);
            if (argmax_better(bv, bi, ov, oi)) {
                bv = ov;
                bi = oi;
            }
        }
        if (lane == 0) out[r] = bi;
    }
}

// The bias gradient's terms for the channel sums (channel_sum.cuh): dy itself, each value added in double.
struct BiasGradParams {
    const float* dy;
};
__device__ __forceinline__ double add_lanes(double acc, float v) { return acc + (double)v; }
__device__ __forceinline__ double add_lanes(double acc, float4 v) {
    return acc + (double)v.x + (double)v.y + (double)v.z + (double)v.w;
}
template <class L>
struct BiasGradTerms : BiasGradParams {
    using Params = BiasGradParams;
    using Lanes = L;
    using Loaded = typename L::T;
    __device__ float channel(int) const { return 0.f; }
    template <class Index>
    __device__ Loaded load(Index u) const { return L::load(dy, u); }
    template <class Index>
    __device__ double add(double acc, const Loaded& v, Index, float) const { return add_lanes(acc, v); }
};

}  // namespace

extern "C" size_t jt_reduce_workspace_bytes(void) { return JT_REDUCE_MAX_PARTIALS * sizeof(double); }

extern "C" unsigned jt_reduce_pass1_blocks(int64_t n) {
    int64_t blocks = jt_ceil_div(n, kThreads * kPerThread);
    if (blocks < 1) blocks = 1;
    if (blocks > JT_REDUCE_MAX_PARTIALS) blocks = JT_REDUCE_MAX_PARTIALS;
    return (unsigned)blocks;
}

// The checks every sum makes: n >= 0, out, and the workspace (required, 8-byte aligned).
#define JT_REQUIRE_SUM_ARGS(n, out, workspace) \
    JT_REQUIRE((n) >= 0 && (out) != nullptr && (workspace) != nullptr && reinterpret_cast<uintptr_t>(workspace) % 8 == 0)

extern "C" cudaError_t jt_reduce_sum(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream) {
    JT_REQUIRE_SUM_ARGS(n, out, workspace);
    JT_REQUIRE(n == 0 || x != nullptr);
    return reduce_launch(SumOp{x, aligned16(x)}, n, out, 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                             cudaStream_t stream) {
    JT_REQUIRE_SUM_ARGS(n, out, workspace);
    JT_REQUIRE(n == 0 || x != nullptr);
    return reduce_launch(SumSquaresOp{x, aligned16(x)}, n, out, accumulate != 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_sum_abs(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream) {
    JT_REQUIRE_SUM_ARGS(n, out, workspace);
    JT_REQUIRE(n == 0 || x != nullptr);
    return reduce_launch(SumAbsOp{x, aligned16(x)}, n, out, 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_count_equal(const int64_t* a, const int64_t* b, int64_t n, float* out,
                                             void* workspace, cudaStream_t stream) {
    JT_REQUIRE_SUM_ARGS(n, out, workspace);
    JT_REQUIRE(n == 0 || (a != nullptr && b != nullptr));
    return reduce_launch(CountEqualOp{a, b, aligned16(a) && aligned16(b)}, n, out, 0, workspace, stream);
}

// One block per row (grid-strided over rows): the row's sum of squares, a fixed-order tree in double.
__device__ __forceinline__ double row_sum_squares(const float* row, int64_t cols, double* scratch) {
    double acc = 0.0;
    for (int64_t k = threadIdx.x; k < cols; k += blockDim.x) acc += (double)row[k] * (double)row[k];
    return jt_block_sum_double(acc, scratch);
}

__global__ void row_norms_kernel(const float* __restrict__ w, int rows, int64_t cols, float* __restrict__ norms) {
    __shared__ double scratch[32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const double s = row_sum_squares(w + r * cols, cols, scratch);
        if (threadIdx.x == 0) norms[r] = (float)sqrt(s);
    }
}

__global__ void max_norm_rows_kernel(float* w, int rows, int64_t cols, float c) {
    __shared__ double scratch[32];
    __shared__ double factor;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        float* row = w + r * cols;
        const double s = row_sum_squares(row, cols, scratch);
        if (threadIdx.x == 0) {
            const double norm = sqrt(s);
            factor = norm > (double)c ? (double)c / norm : 1.0;  // NaN norm: not > c, row untouched (as cpu)
        }
        __syncthreads();
        const double f = factor;
        if (f != 1.0) {
            for (int64_t k = threadIdx.x; k < cols; k += blockDim.x) row[k] = (float)((double)row[k] * f);
        }
        __syncthreads();  // factor is rewritten for the next row
    }
}

extern "C" cudaError_t jt_reduce_argmax_rows(const float* x, int rows, int cols, int64_t* out, cudaStream_t stream) {
    JT_REQUIRE(rows >= 0 && cols >= 1);
    if (rows == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && out != nullptr);
    LAUNCH(argmax_rows_kernel, jt_grid_1d(rows, kThreads / 32), kThreads, 0, stream)(x, rows, cols, out);
    return JT_LAUNCH_STATUS();
}

extern "C" size_t jt_reduce_bias_grad_workspace_bytes(int n, int c, int inner) {
    return jt_channel_sum_plan(n, c, inner, jt_device_sm_count()).workspace_bytes;
}

extern "C" cudaError_t jt_reduce_bias_grad_sm(const float* dy, int n, int c, int inner, float* dbias, void* workspace,
                                              size_t workspace_bytes, int sm_count, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    JT_REQUIRE(dbias != nullptr);
    if ((int64_t)n * inner == 0) return cudaSuccess;  // += nothing
    JT_REQUIRE(dy != nullptr);
    const JtChannelSumPlan plan = jt_channel_sum_plan(n, c, inner, sm_count);
    JT_REQUIRE(jt_channel_sum_workspace_ok(plan, workspace, workspace_bytes));
    return jt_channel_sum<BiasGradTerms>(BiasGradParams{dy}, n, c, inner, plan, aligned16(dy), dbias, workspace,
                                         stream);
}

extern "C" cudaError_t jt_reduce_bias_grad(const float* dy, int n, int c, int inner, float* dbias, void* workspace,
                                           size_t workspace_bytes, cudaStream_t stream) {
    return jt_reduce_bias_grad_sm(dy, n, c, inner, dbias, workspace, workspace_bytes, jt_device_sm_count(), stream);
}

extern "C" cudaError_t jt_reduce_row_norms(const float* w, int rows, int64_t cols, float* norms, cudaStream_t stream) {
    JT_REQUIRE(rows >= 0 && cols >= 0);
    if (rows == 0) return cudaSuccess;
    JT_REQUIRE(w != nullptr || cols == 0);
    JT_REQUIRE(norms != nullptr);
    LAUNCH(row_norms_kernel, jt_grid_1d(rows, 1), kThreads, 0, stream)(w, rows, cols, norms);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_reduce_max_norm_rows(float* w, int rows, int64_t cols, float c, cudaStream_t stream) {
    JT_REQUIRE(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return cudaSuccess;
    JT_REQUIRE(w != nullptr);
    LAUNCH(max_norm_rows_kernel, jt_grid_1d(rows, 1), kThreads, 0, stream)(w, rows, cols, c);
    return JT_LAUNCH_STATUS();
}
