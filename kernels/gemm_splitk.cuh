// Split-K for SGEMM version 2: when an output has too few tiles to fill the GPU (gemm_config.h), its k range
// is cut into `splits` slices of kSplit (a multiple of BK); sgemm_v2_kernel writes slice s's raw sums
// P_s = op(A)[:, slice s] op(B)[slice s, :] to W + s m n (a [splits][m][n] workspace), and this kernel
// finishes C = act(alpha (P_0 + P_1 + ... + P_{splits-1}) + beta C + bias).
//
// Deterministic: each element's partials are added in slice order 0, 1, .. by one thread (no atomics), so
// the same call gives the same bits every time, on every device. (Not the bits of the unsplit kernel: the
// k order of the sum differs; the tests hold both to the same float64 tolerance.)
// Each thread finishes 4 consecutive columns of a row: float4 reads of W (and C) when n and the pointers
// allow, so a warp reads 512 contiguous bytes of each slice; the work is memory-bound (splits + 1 or 2
// reads and one write per element).
#pragma once

#include "block_range.cuh"
#include "gemm_common.cuh"

namespace jt_gemm {

__global__ void JT_GEMM_BOUNDS(256)
    sgemm_splitk_reduce_kernel(int M, int N, int splits, const float* __restrict__ W, float alpha, float beta,
                               float* __restrict__ C, int ldc, const float* __restrict__ bias, int relu, int vecW,
                               int vecC) {
    const int64_t groupsPerRow = (N + 3) / 4;
    const int64_t sliceStride = (int64_t)M * N;
    const JtBlockRange range = jt_block_range((int64_t)M * groupsPerRow);
    for (int64_t g = range.begin + threadIdx.x; g < range.end; g += blockDim.x) {
        const int64_t row = g / groupsPerRow;
        const int col = (int)(g - row * groupsPerRow) * 4;
        const int cnt = N - col < 4 ? N - col : 4;
        const float* w = W + row * N + col;
        float s[4] = {0.f, 0.f, 0.f, 0.f};
        for (int z = 0; z < splits; ++z, w += sliceStride) {  // slice order: the fixed summation order
            if (vecW && cnt == 4) {
                const float4 t = *reinterpret_cast<const float4*>(w);
                s[0] += t.x;
                s[1] += t.y;
                s[2] += t.z;
                s[3] += t.w;
            } else {
                JT_UNROLL
                for (int q = 0; q < 4; ++q)
                    if (q < cnt) s[q] += w[q];
            }
        }
        float* c = C + row * ldc + col;
        float v[4];  // every index below is a constant after unrolling: v and s stay in registers
        JT_UNROLL
        for (int q = 0; q < 4; ++q) v[q] = alpha * s[q];
        const bool full = vecC && cnt == 4;
        if (beta != 0.f) {  // beta == 0 never reads C (BLAS)
            if (full) {
                const float4 old = *reinterpret_cast<const float4*>(c);
                v[0] += beta * old.x;
                v[1] += beta * old.y;
                v[2] += beta * old.z;
                v[3] += beta * old.w;
            } else {
                JT_UNROLL
                for (int q = 0; q < 4; ++q)
                    if (q < cnt) v[q] += beta * c[q];
            }
        }
        JT_UNROLL
        for (int q = 0; q < 4; ++q) {
            if (bias != nullptr && q < cnt) v[q] += bias[col + q];
            if (relu && v[q] < 0.f) v[q] = 0.f;  // NaN stays NaN
        }
        if (full) {
            *reinterpret_cast<float4*>(c) = make_float4(v[0], v[1], v[2], v[3]);
        } else {
            JT_UNROLL
            for (int q = 0; q < 4; ++q)
                if (q < cnt) c[q] = v[q];
        }
    }
}

// Reduces `splits` partial products in W ([splits][m][n], contiguous) into C.
inline cudaError_t launch_splitk_reduce(int m, int n, int splits, const float* W, float alpha, float beta, float* C,
                                        int ldc, const float* bias, int relu, cudaStream_t stream) {
    const int64_t groups = (int64_t)m * ((n + 3) / 4);
    const int vecW = aligned16(W) && n % 4 == 0;
    const int vecC = aligned16(C) && ldc % 4 == 0;
    LAUNCH(sgemm_splitk_reduce_kernel, jt_grid_1d(groups, 256), 256, 0, stream)(m, n, splits, W, alpha, beta, C, ldc,
                                                                             bias, relu, vecW, vecC);
    return JT_LAUNCH_STATUS();
}

}  // namespace jt_gemm
