// SGEMM: C = alpha * op(A) * op(B) + beta * C (row-major), with a fused "+ bias[col], ReLU" epilogue.
//
// The classic two-level tiling (as in siboehm's SGEMM_CUDA walk-through, written afresh here):
//   1. each block owns a BM x BN tile of C and walks k in steps of BK;
//   2. per step the block copies a BM x BK slice of op(A) and a BK x BN slice of op(B) into shared
//      memory, both stored k-major (As[k][m], Bs[k][n]) whatever the transposition in global memory,
//      so that the inner loop reads TM consecutive floats of As and TN of Bs (float4 reads);
//   3. each thread keeps a TM x TN block of C in registers and does TM*TN*BK FMAs per step: that much
//      work between two barriers is what makes the kernel fast on a GPU (register reuse) and on emu
//      (each barrier costs a fiber switch per thread there);
//   4. the epilogue applies alpha, beta (C is read only when beta != 0), bias and ReLU, and stores
//      with float4 where the row is aligned.
// Products are written `acc += a * b`, not fmaf(): nvcc contracts them into FFMA, and on the host
// (emu, built without -mfma) fmaf() is a slow libm call while a * b + c vectorises.
// Global loads use float4 only when the base pointer is 16-byte aligned and the leading dimension is a
// multiple of 4 (then every group of 4 that starts at a multiple of 4 is aligned); groups that cross
// the matrix edge fall back to bounds-checked scalar loads that fill zeros, so any m, n, k >= 1 works.
#include "common.cuh"
#include "gemm.h"

#ifndef JT_UNROLL
#ifdef __CUDACC__
#define JT_UNROLL _Pragma("unroll")
#else
#define JT_UNROLL _Pragma("GCC unroll 16")
#endif
#endif

#ifdef __CUDACC__
#define JT_GEMM_BOUNDS(n) __launch_bounds__(n)
#else
#define JT_GEMM_BOUNDS(n)
#endif

namespace {

// Four consecutive floats of a per-thread tile: float4 under nvcc; a GCC vector on the host, so that
// the emu build (plain -O2, SSE2) turns the rank-1 update into packed multiplies and adds instead of
// 64 scalar accumulators spilled to the stack (3-4x slower). Only this arithmetic helper differs between
// the builds; tiling, indexing, loads and barriers are the same code.
#ifdef __CUDACC__
typedef float4 Vec4;
__device__ __forceinline__ Vec4 vec4_zero() { return make_float4(0.f, 0.f, 0.f, 0.f); }
__device__ __forceinline__ Vec4 vec4_load(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ float vec4_get(const Vec4& v, int q) {
    return q == 0 ? v.x : (q == 1 ? v.y : (q == 2 ? v.z : v.w));  // q is a constant after unrolling
}
// acc += a * b, written as separate products and sums that nvcc contracts into FFMA.
__device__ __forceinline__ void vec4_madd(Vec4& acc, float a, const Vec4& b) {
    acc.x += a * b.x;
    acc.y += a * b.y;
    acc.z += a * b.z;
    acc.w += a * b.w;
}
#else
typedef float Vec4 __attribute__((vector_size(16)));
inline Vec4 vec4_zero() { return Vec4{0.f, 0.f, 0.f, 0.f}; }
inline Vec4 vec4_load(const float* p) {  // p is 16-byte aligned (shared tiles are float4 arrays)
    Vec4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
inline float vec4_get(const Vec4& v, int q) { return v[q]; }
inline void vec4_madd(Vec4& acc, float a, const Vec4& b) { acc += b * a; }
#endif

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
    sgemm_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda, int64_t strideA,
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

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

// The largest gridDim.z (CUDA's limit; emu enforces the same).
constexpr int kMaxGridZ = 65535;

template <int BM, int BN, int BK, int TM, int TN>
cudaError_t launch_config(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
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
    for (int z0 = 0; z0 < batch; z0 += kMaxGridZ) {
        const int items = batch - z0 < kMaxGridZ ? batch - z0 : kMaxGridZ;
        const dim3 grid((unsigned)gridX, (unsigned)gridY, (unsigned)items);
        const float* Az = A + z0 * strideA;  // z0 * stride: int64_t, no wrap
        const float* Bz = B + z0 * strideB;
        float* Cz = C + z0 * strideC;
        if (!transA && !transB) {
            LAUNCH((sgemm_kernel<BM, BN, BK, TM, TN, false, false>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else if (!transA && transB) {
            LAUNCH((sgemm_kernel<BM, BN, BK, TM, TN, false, true>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else if (transA && !transB) {
            LAUNCH((sgemm_kernel<BM, BN, BK, TM, TN, true, false>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        } else {
            LAUNCH((sgemm_kernel<BM, BN, BK, TM, TN, true, true>), grid, block, 0, stream)(
                m, n, k, alpha, Az, lda, strideA, Bz, ldb, strideB, beta, Cz, ldc, strideC, bias, relu, vecA, vecB,
                vecC);
        }
        const cudaError_t st = JT_LAUNCH_STATUS();
        if (st != cudaSuccess) return st;  // later chunks are not launched after a failed one
    }
    return cudaSuccess;
}

// Size heuristic, the same on emu and CUDA (emu runs the program the GPU runs; launch_config.h): the
// 128x128 tile only when it still gives enough blocks to fill a large GPU. A short output (m <= 32)
// uses the 32-row tile, which computes fewer padded rows. A batch multiplies the blocks (all items run in one grid), so it counts towards filling
// the GPU (so on CUDA the automatic choice for a batch may differ from that for one of its items).
int choose_config(int m, int n, int batch) {
    const int64_t big = jt_ceil_div(m, 128) * jt_ceil_div(n, 128) * (int64_t)batch;
    if (big >= 256) return JT_GEMM_CONFIG_128x128;
    if (m <= 32) return JT_GEMM_CONFIG_32x64;
    return JT_GEMM_CONFIG_64x64;
}

// Validates and dispatches one (strided-batched) GEMM; the single GEMM is the batch of one with zero strides.
cudaError_t sgemm_batched(int config, int transA, int transB, int m, int n, int k, float alpha, const float* A,
                          int lda, int64_t strideA, const float* B, int ldb, int64_t strideB, float beta, float* C,
                          int ldc, int64_t strideC, int batch, const float* bias, int relu, cudaStream_t stream) {
    JT_REQUIRE(m >= 1 && n >= 1 && k >= 1);
    JT_REQUIRE(lda >= (transA ? m : k));
    JT_REQUIRE(ldb >= (transB ? k : n));
    JT_REQUIRE(ldc >= n);
    JT_REQUIRE(config >= 0 && config < JT_GEMM_CONFIG_COUNT);
    JT_REQUIRE(batch >= 0);
    JT_REQUIRE(strideA >= 0 && strideB >= 0 && strideC >= 0);
    // Two items writing the same element of C would race (and an accumulation into a shared C would lose
    // updates): strideC = 0 is rejected for batch > 1, and so is any other stride that makes items overlap.
    JT_REQUIRE(batch <= 1 || jt_gemm_batch_c_disjoint(m, n, ldc, strideC, batch));
    if (batch == 0) return cudaSuccess;  // nothing to compute; pointers may be null
    JT_REQUIRE(A != nullptr && B != nullptr && C != nullptr);
    if (config == JT_GEMM_CONFIG_AUTO) config = choose_config(m, n, batch);
    switch (config) {
        case JT_GEMM_CONFIG_128x128:
            return launch_config<128, 128, 16, 8, 8>(transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,
                                                    beta, C, ldc, strideC, batch, bias, relu, stream);
        case JT_GEMM_CONFIG_64x64:
            return launch_config<64, 64, 32, 8, 8>(transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,
                                                   beta, C, ldc, strideC, batch, bias, relu, stream);
        default:
            return launch_config<32, 64, 32, 4, 8>(transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB,
                                                   beta, C, ldc, strideC, batch, bias, relu, stream);
    }
}

}  // namespace

extern "C" int jt_gemm_auto_config(int m, int n, int batch) { return choose_config(m, n, batch); }

extern "C" int jt_gemm_batch_c_disjoint(int m, int n, int ldc, int64_t strideC, int batch) {
    if (m < 1 || n < 1 || ldc < n || strideC < 0 || batch < 0) return 0;
    if (batch <= 1) return 1;
    // Items one after another: each starts past the last element of the previous one.
    const int64_t extent = (int64_t)(m - 1) * ldc + n;
    if (strideC >= extent) return 1;
    // Items interleaved within each row: item b's row i is [i ldc + b strideC, + n); with strideC >= n these are
    // disjoint, and they all end before row i + 1 starts when (batch - 1) strideC + n <= ldc.
    // (batch - 1) strideC <= ldc - n is tested by division: the product could overflow int64_t.
    if (strideC >= n && strideC <= ((int64_t)ldc - n) / (batch - 1)) return 1;
    return 0;
}

extern "C" cudaError_t jt_gemm_sgemm_config(int config, int transA, int transB, int m, int n, int k, float alpha,
                                            const float* A, int lda, const float* B, int ldb, float beta, float* C,
                                            int ldc, const float* bias, int relu, cudaStream_t stream) {
    return sgemm_batched(config, transA, transB, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, bias, relu,
                         stream);
}

extern "C" cudaError_t jt_gemm_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                                     const float* B, int ldb, float beta, float* C, int ldc, const float* bias,
                                     int relu, cudaStream_t stream) {
    return jt_gemm_sgemm_config(JT_GEMM_CONFIG_AUTO, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc,
                                bias, relu, stream);
}

extern "C" cudaError_t jt_gemm_sgemm_batched(int config, int transA, int transB, int m, int n, int k, float alpha,
                                             const float* A, int lda, int64_t strideA, const float* B, int ldb,
                                             int64_t strideB, float beta, float* C, int ldc, int64_t strideC,
                                             int batch, cudaStream_t stream) {
    return sgemm_batched(config, transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                         strideC, batch, nullptr, 0, stream);
}
