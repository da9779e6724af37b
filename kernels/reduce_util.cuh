// Deterministic block reductions shared by reduce.cu (sums) and the per-channel sums (channel_sum.cuh: bias
// grad, PReLU dalpha).
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
