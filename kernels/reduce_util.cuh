// Deterministic block reductions shared by reduce.cu (sums, bias grad) and activations.cu (PReLU dalpha).
// Every result is a fixed-order tree: per-thread sequential sums (double), then a warp shuffle tree,
// then the warps' results summed by thread 0 in warp order. No float atomics anywhere, so the bits
// depend only on the sizes and the launch shape (which depends only on the sizes).
#pragma once

#include "common.cuh"

#define JT_FULL_MASK 0xffffffffu

// Sum over the 32 lanes of a warp (all lanes active), valid in lane 0. The double is shuffled whole
// (CUDA's double overload of __shfl_down_sync; the emu moves all 64 bits too), so the tree is exact
// double arithmetic: partials beyond the float range stay finite (or give the right +-inf), and
// partials below it are not flushed. (Splitting into float hi + lo shuffles, as this once did, turned
// a partial above FLT_MAX into inf - inf = NaN, flushed partials below ~1e-38 and kept ~48 bits.)
__device__ __forceinline__ double jt_warp_sum_double(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(JT_FULL_MASK, v, off);
    return v;
}

// Sum over a 1-D block whose size is a multiple of 32 (at most 1024), valid in thread 0.
// `scratch` is a __shared__ double[32] of the caller. Ends with a barrier, so scratch can be reused.
__device__ __forceinline__ double jt_block_sum_double(double v, double* scratch) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    v = jt_warp_sum_double(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    double total = 0.0;
    if (threadIdx.x == 0) {
        const int warps = (int)(blockDim.x >> 5);
        for (int w = 0; w < warps; ++w) total += scratch[w];
    }
    __syncthreads();
    return total;
}

// Per-channel sums over [N, C, inner] for inner == 1 ([N, C]): block (32, JT_COLS_ROWS), one column per
// threadIdx.x (coalesced rows), rows split over threadIdx.y and then summed in y order.
// out[c] = (float)(out[c] + sum_r f(r * C + c, c)) when accumulate, else (float)sum.
// F: `__device__ float operator()(int64_t index, int channel) const` (it may also write outputs).
#define JT_COLS_ROWS 8
template <class F>
__global__ void jt_channel_sum_cols_kernel(F f, int N, int C, float* out, int accumulate) {
    __shared__ double part[JT_COLS_ROWS][32];
    const int col = blockIdx.x * 32 + threadIdx.x;
    double acc = 0.0;
    if (col < C) {
        for (int64_t r = threadIdx.y; r < N; r += JT_COLS_ROWS) acc += (double)f(r * C + col, col);  // 64-bit: no wrap
    }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < C) {
        double s = 0.0;
        for (int y = 0; y < JT_COLS_ROWS; ++y) s += part[y][threadIdx.x];
        out[col] = accumulate ? (float)((double)out[col] + s) : (float)s;
    }
}

// Per-channel sums over [N, C, inner] (any inner): one block per channel, threads over (n, i) pairs.
template <class F>
__global__ void jt_channel_sum_planes_kernel(F f, int N, int C, int inner, float* out, int accumulate) {
    __shared__ double scratch[32];
    const int c = blockIdx.x;
    const int64_t count = (int64_t)N * inner;
    double acc = 0.0;
    for (int64_t t = threadIdx.x; t < count; t += blockDim.x) {
        const int64_t n = t / inner;
        const int64_t i = t - n * inner;
        acc += (double)f((n * C + c) * inner + i, c);
    }
    const double s = jt_block_sum_double(acc, scratch);
    if (threadIdx.x == 0) out[c] = accumulate ? (float)((double)out[c] + s) : (float)s;
}

#define JT_PLANES_THREADS 256

// Launches the fitting channel-sum kernel; returns the launch status.
template <class F>
static inline cudaError_t jt_channel_sum(F f, int N, int C, int inner, float* out, int accumulate,
                                         cudaStream_t stream) {
    if (inner == 1) {
        const dim3 grid((unsigned)jt_ceil_div(C, 32), 1, 1);
        const dim3 block(32, JT_COLS_ROWS, 1);
        LAUNCH(jt_channel_sum_cols_kernel<F>, grid, block, 0, stream)(f, N, C, out, accumulate);
    } else {
        LAUNCH(jt_channel_sum_planes_kernel<F>, dim3((unsigned)C, 1, 1), dim3(JT_PLANES_THREADS, 1, 1), 0,
               stream)(f, N, C, inner, out, accumulate);
    }
    return JT_LAUNCH_STATUS();
}
