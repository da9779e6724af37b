// SGEMM kernel version 1 (the baseline): block tiling with a per-thread register tile.
//
// The classic two-level tiling (as in siboehm's SGEMM_CUDA walk-through, kernels 5-6, written afresh):
//   1. each block owns a BM x BN tile of C (N on grid.x, M on grid.y) and walks k in steps of BK;
//   2. per step the block copies a BM x BK slice of op(A) and a BK x BN slice of op(B) into shared
//      memory, both stored k-major (As[k][m], Bs[k][n]) whatever the transposition in global memory,
//      so that the inner loop reads TM consecutive floats of As and TN of Bs (float4 reads);
//   3. each thread keeps a TM x TN block of C in registers and does TM*TN*BK FMAs per step;
//   4. the epilogue applies alpha, beta (C is read only when beta != 0), bias and ReLU, and stores
//      with float4 where the row is aligned.
// Kept as the baseline that bench_kernels compares version 2 (gemm_v2_warptile.cuh) against
// (JT_GEMM_CONFIG_V1_*). Its known costs on a GPU (why version 2 exists): thread (ty, tx) reads TN
// consecutive floats of Bs, so a warp's float4 reads of Bs stride 32 bytes (4 wavefronts where 2 would
// do); the transposed stores into As hit 4 addresses per bank (rows of BM floats, BM % 32 == 0); one
// shared buffer means two barriers per k-step and the global loads of the next step are not overlapped
// with the arithmetic of this one.
// Global loads use float4 only when the base pointer is 16-byte aligned and the leading dimension is a
// multiple of 4 (then every group of 4 that starts at a multiple of 4 is aligned); groups that cross
// the matrix edge fall back to bounds-checked scalar loads that fill zeros, so any m, n, k >= 1 works.
#pragma once

#include "gemm_common.cuh"

namespace jt_gemm {

// Copies the ROWS x COLS tile at (r0, c0) of a row-major matrix G (rows x cols valid, leading dim ld)
// into shared memory. TRANSPOSE = false stores S[r * COLS + c]; TRANSPOSE = true stores S[c * ROWS + r].
// Elements outside the matrix become 0 (they then add nothing to the dot products).
template <int ROWS, int COLS, int NT, bool TRANSPOSE>
__device__ __forceinline__ void load_tile(const float* __restrict__ G, int ld, int rows, int cols, int64_t r0, int64_t c0,
                                          float* __restrict__ S, bool vec, int tid) {
    static_assert(COLS % 4 == 0, "tile width must be a multiple of 4");
    constexpr int GROUPS = ROWS * COLS / 4;  // groups of 4 consecutive elements along a row
    static_assert(GROUPS % NT == 0, "every thread loads the same number of groups");
    JT_UNROLL
    for (int it = 0; it < GROUPS / NT; ++it) {
        const int g = tid + it * NT;
        const int r = g / (COLS / 4);
        const int c = (g % (COLS / 4)) * 4;
        const int64_t gr = r0 + r;  // 64-bit: r0 + r and gc + 3 must not wrap near INT_MAX
        const int64_t gc = c0 + c;
        float v0, v1, v2, v3;
        if (vec && gr < rows && gc + 3 < cols) {
            const float4 t = *reinterpret_cast<const float4*>(G + (size_t)gr * ld + gc);
            v0 = t.x;
            v1 = t.y;
            v2 = t.z;
            v3 = t.w;
        } else {
            const float* p = G + (size_t)gr * ld + gc;
            const bool rowOk = gr < rows;
            v0 = (rowOk && gc + 0 < cols) ? p[0] : 0.f;
            v1 = (rowOk && gc + 1 < cols) ? p[1] : 0.f;
            v2 = (rowOk && gc + 2 < cols) ? p[2] : 0.f;
            v3 = (rowOk && gc + 3 < cols) ? p[3] : 0.f;
        }
        if (TRANSPOSE) {
            S[(c + 0) * ROWS + r] = v0;
            S[(c + 1) * ROWS + r] = v1;
            S[(c + 2) * ROWS + r] = v2;
            S[(c + 3) * ROWS + r] = v3;
        } else {
            *reinterpret_cast<float4*>(S + r * COLS + c) = make_float4(v0, v1, v2, v3);
        }
    }
}

// One block computes the BM x BN tile of C at (blockIdx.y * BM, blockIdx.x * BN) of batch item
// blockIdx.z (A, B and C advanced by blockIdx.z times their element strides; a single GEMM is the batch of
// one, z = 0); thread (ty, tx) computes its rows ty*TM .. ty*TM+TM-1 and columns tx*TN .. tx*TN+TN-1 of
// that tile. The item offset is the only batched part: tiling, loads and the k order of every sum are
// those of a single GEMM, so an item's result is bit for bit that of jt_gemm_sgemm_config on it.
template <int BM, int BN, int BK, int TM, int TN, bool TA, bool TB>
__global__ void JT_GEMM_BOUNDS((BM / TM) * (BN / TN))
    sgemm_v1_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda, int64_t strideA,
                 const float* __restrict__ B, int ldb, int64_t strideB, float beta, float* __restrict__ C, int ldc,
                 int64_t strideC, const float* __restrict__ bias, int relu, int vecA, int vecB, int vecC) {
    constexpr int NT = (BM / TM) * (BN / TN);
    static_assert(TM % 4 == 0 && TN % 4 == 0, "per-thread tiles are read as float4");
    // float4 storage guarantees 16-byte alignment for the float4 reads of the inner loop.
    __shared__ float4 As4[BK * BM / 4];
    __shared__ float4 Bs4[BK * BN / 4];
    float* As = reinterpret_cast<float*>(As4);  // As[k * BM + m] = op(A)[m0 + m][k0 + k]
    float* Bs = reinterpret_cast<float*>(Bs4);  // Bs[k * BN + n] = op(B)[k0 + k][n0 + n]

    // This block's batch item; 64-bit products: z * stride exceeds 2^31 elements for large batches.
    const int64_t z = blockIdx.z;
    A += z * strideA;
    B += z * strideB;
    C += z * strideC;

    const int tid = threadIdx.x;
    const int tx = tid % (BN / TN);
    const int ty = tid / (BN / TN);
    const int m0 = blockIdx.y * BM;
    const int n0 = blockIdx.x * BN;

    Vec4 acc[TM][TN / 4];  // acc[i][j / 4] holds C columns j .. j+3 of row i
    JT_UNROLL
    for (int i = 0; i < TM; ++i) {
        JT_UNROLL
        for (int j = 0; j < TN / 4; ++j) acc[i][j] = vec4_zero();
    }

    for (int64_t k0 = 0; k0 < K; k0 += BK) {  // 64-bit: k0 += BK must not wrap
        // op(A) slice [m0, m0+BM) x [k0, k0+BK) into As[k][m].
        if (TA) {
            load_tile<BK, BM, NT, false>(A, lda, K, M, k0, m0, As, vecA != 0, tid);  // A stored [K, M]
        } else {
            load_tile<BM, BK, NT, true>(A, lda, M, K, m0, k0, As, vecA != 0, tid);  // A stored [M, K]
        }
        // op(B) slice [k0, k0+BK) x [n0, n0+BN) into Bs[k][n].
        if (TB) {
            load_tile<BN, BK, NT, true>(B, ldb, N, K, n0, k0, Bs, vecB != 0, tid);  // B stored [N, K]
        } else {
            load_tile<BK, BN, NT, false>(B, ldb, K, N, k0, n0, Bs, vecB != 0, tid);  // B stored [K, N]
        }
        __syncthreads();

        JT_UNROLL
        for (int kk = 0; kk < BK; ++kk) {
            Vec4 a[TM / 4];  // rows ty*TM .. ty*TM+TM-1 of op(A), column k0 + kk
            Vec4 b[TN / 4];  // columns tx*TN .. tx*TN+TN-1 of op(B), row k0 + kk
            JT_UNROLL
            for (int i = 0; i < TM / 4; ++i) a[i] = vec4_load(As + kk * BM + ty * TM + 4 * i);
            JT_UNROLL
            for (int j = 0; j < TN / 4; ++j) b[j] = vec4_load(Bs + kk * BN + tx * TN + 4 * j);
            JT_UNROLL
            for (int i = 0; i < TM; ++i) {
                const float ai = vec4_get(a[i / 4], i % 4);
                JT_UNROLL
                for (int j = 0; j < TN / 4; ++j) vec4_madd(acc[i][j], ai, b[j]);
            }
        }
        __syncthreads();  // the next step overwrites As/Bs
    }

    // Epilogue.
    const int colBase = n0 + tx * TN;
    float bv[TN];
    JT_UNROLL
    for (int j = 0; j < TN; ++j) bv[j] = (bias != nullptr && colBase + j < N) ? bias[colBase + j] : 0.f;

    JT_UNROLL
    for (int i = 0; i < TM; ++i) {
        const int row = m0 + ty * TM + i;
        if (row >= M) break;
        float* crow = C + (size_t)row * ldc;
        JT_UNROLL
        for (int j = 0; j < TN; j += 4) {
            const int col = colBase + j;
            if (col >= N) break;
            float v[4];
            JT_UNROLL
            for (int q = 0; q < 4; ++q) v[q] = alpha * vec4_get(acc[i][j / 4], q);
            const bool full = vecC && col + 3 < N;
            if (beta != 0.f) {
                if (full) {
                    const float4 old = *reinterpret_cast<const float4*>(crow + col);
                    v[0] += beta * old.x;
                    v[1] += beta * old.y;
                    v[2] += beta * old.z;
                    v[3] += beta * old.w;
                } else {
                    JT_UNROLL
                    for (int q = 0; q < 4; ++q)
                        if (col + q < N) v[q] += beta * crow[col + q];
                }
            }
            JT_UNROLL
            for (int q = 0; q < 4; ++q) {
                v[q] += bv[j + q];
                if (relu && v[q] < 0.f) v[q] = 0.f;  // NaN compares false and stays NaN
            }
            if (full) {
                *reinterpret_cast<float4*>(crow + col) = make_float4(v[0], v[1], v[2], v[3]);
            } else {
                JT_UNROLL
                for (int q = 0; q < 4; ++q)
                    if (col + q < N) crow[col + q] = v[q];
            }
        }
    }
}

template <int BM, int BN, int BK, int TM, int TN>
cudaError_t launch_v1(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                          int64_t strideA, const float* B, int ldb, int64_t strideB, float beta, float* C, int ldc,
                          int64_t strideC, int batch, const float* bias, int relu, cudaStream_t stream) {
    const int64_t gridX = jt_ceil_div(n, BN);
    const int64_t gridY = jt_ceil_div(m, BM);
    if (gridY > 65535) return cudaErrorInvalidValue;  // m beyond 65535 * BM rows
    const dim3 block((BM / TM) * (BN / TN), 1, 1);
    // float4 loads need every item's base aligned too: the base, and the stride a multiple of 4 floats.
    const int vecA = aligned16(A) && lda % 4 == 0 && strideA % 4 == 0;
    const int vecB = aligned16(B) && ldb % 4 == 0 && strideB % 4 == 0;
    const int vecC = aligned16(C) && ldc % 4 == 0 && strideC % 4 == 0;
    // The batch runs on blockIdx.z, whose grid limit is 65535: larger batches take one launch per 65535
    // items (the pointers advanced to the chunk's first item), never one launch per item.
    for (int z0 = 0; z0 < batch; z0 += kMaxGridYZ) {
        const int items = batch - z0 < kMaxGridYZ ? batch - z0 : kMaxGridYZ;
        const dim3 grid((unsigned)gridX, (unsigned)gridY, (unsigned)items);
        const float* Az = A + z0 * strideA;  // z0 * stride: int64_t, no wrap
        const float* Bz = B + z0 * strideB;
        float* Cz = C + z0 * strideC;
        if (!transA && !transB) {
            LAUNCH((sgemm_v1_kernel<BM, BN, BK, TM, TN, false, false>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else if (!transA && transB) {
            LAUNCH((sgemm_v1_kernel<BM, BN, BK, TM, TN, false, true>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else if (transA && !transB) {
            LAUNCH((sgemm_v1_kernel<BM, BN, BK, TM, TN, true, false>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else {
            LAUNCH((sgemm_v1_kernel<BM, BN, BK, TM, TN, true, true>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        }
        const cudaError_t st = JT_LAUNCH_STATUS();
        if (st != cudaSuccess) return st;  // later chunks are not launched after a failed one
    }
    return cudaSuccess;
}

}  // namespace jt_gemm
