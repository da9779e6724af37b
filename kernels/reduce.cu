// Reductions: sums (plain, of squares, of |x|, of equal int64 pairs) in two deterministic passes,
// row argmax (one warp per row), bias add and bias gradient along dim 1 of [N, C, inner].
#include "common.cuh"
#include "block_range.cuh"
#include "reduce.h"
#include "reduce_util.cuh"

namespace {

constexpr int kThreads = 256;
// Each thread of the first pass sums at least this many elements before the block tree.
constexpr int64_t kPerThread = 32;

struct SumOp {
    const float* x;
    __device__ double operator()(int64_t i) const { return (double)x[i]; }
};
struct SumSquaresOp {
    const float* x;
    __device__ double operator()(int64_t i) const {
        const double v = x[i];
        return v * v;
    }
};
struct SumAbsOp {
    const float* x;
    __device__ double operator()(int64_t i) const { return fabs((double)x[i]); }
};
struct CountEqualOp {
    const int64_t* a;
    const int64_t* b;
    __device__ double operator()(int64_t i) const { return a[i] == b[i] ? 1.0 : 0.0; }
};

// Pass 1: block b sums its contiguous chunk (thread t: items begin + t, begin + t + T, ...). With one
// block it writes the final result; otherwise partial[b].
template <class Op>
__global__ void reduce_pass1_kernel(Op op, int64_t n, double* partial, float* out, int accumulate) {
    __shared__ double scratch[32];
    const JtBlockRange range = jt_block_range(n);
    double acc = 0.0;
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) acc += op(i);
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
__global__ void reduce_pass2_kernel(const double* partial, int count, float* out, int accumulate) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
    const double s = jt_block_sum_double(acc, scratch);
    if (threadIdx.x == 0) out[0] = accumulate ? (float)((double)out[0] + s) : (float)s;
}

__global__ void set_zero_kernel(float* out) { out[0] = 0.f; }

template <class Op>
cudaError_t reduce_launch(Op op, int64_t n, float* out, int accumulate, void* workspace, cudaStream_t stream) {
    if (n == 0) {
        if (accumulate) return cudaSuccess;
        LAUNCH(set_zero_kernel, 1, 1, 0, stream)(out);
        return JT_LAUNCH_STATUS();
    }
    int64_t blocks = jt_ceil_div(n, kThreads * kPerThread);
    if (blocks > JT_REDUCE_MAX_PARTIALS) blocks = JT_REDUCE_MAX_PARTIALS;
    if (workspace == nullptr) blocks = 1;
    double* partial = static_cast<double*>(workspace);
    LAUNCH(reduce_pass1_kernel<Op>, (unsigned)blocks, kThreads, 0, stream)(op, n, partial, out, accumulate);
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

// Index: uint32_t when every index fits (a 32-bit divide is a few instructions, a 64-bit one a long
// subroutine on a GPU), else int64_t.
template <class Index>
__global__ void add_bias_kernel(float* y, const float* __restrict__ bias, int64_t total, Index c, Index inner) {
    const JtBlockRange range = jt_block_range(total);
    if (inner == 1) {
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) y[i] += bias[(Index)i % c];
    } else {
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
            y[i] += bias[((Index)i / inner) % c];
        }
    }
}

struct BiasGradTerm {
    const float* dy;
    __device__ float operator()(int64_t i, int) const { return dy[i]; }
};

}  // namespace

extern "C" size_t jt_reduce_workspace_bytes(void) { return JT_REDUCE_MAX_PARTIALS * sizeof(double); }

extern "C" cudaError_t jt_reduce_sum(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && out != nullptr && (n == 0 || x != nullptr));
    return reduce_launch(SumOp{x}, n, out, 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                             cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && out != nullptr && (n == 0 || x != nullptr));
    return reduce_launch(SumSquaresOp{x}, n, out, accumulate != 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_sum_abs(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && out != nullptr && (n == 0 || x != nullptr));
    return reduce_launch(SumAbsOp{x}, n, out, 0, workspace, stream);
}

extern "C" cudaError_t jt_reduce_count_equal(const int64_t* a, const int64_t* b, int64_t n, float* out,
                                             void* workspace, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && out != nullptr && (n == 0 || (a != nullptr && b != nullptr)));
    return reduce_launch(CountEqualOp{a, b}, n, out, 0, workspace, stream);
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

extern "C" cudaError_t jt_reduce_add_bias(float* y, const float* bias, int n, int c, int inner, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    const int64_t total = (int64_t)n * c * inner;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(y != nullptr && bias != nullptr);
    if (total <= (int64_t)UINT32_MAX) {
        LAUNCH(add_bias_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(y, bias, total, (uint32_t)c,
                                                                                           (uint32_t)inner);
    } else {
        LAUNCH(add_bias_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(y, bias, total, (int64_t)c,
                                                                                          (int64_t)inner);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_reduce_bias_grad(const float* dy, int n, int c, int inner, float* dbias,
                                           cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    JT_REQUIRE(dbias != nullptr);
    if ((int64_t)n * inner == 0) return cudaSuccess;  // += nothing
    JT_REQUIRE(dy != nullptr);
    return jt_channel_sum(BiasGradTerm{dy}, n, c, inner, dbias, 1, stream);
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
