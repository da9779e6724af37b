// SGEMM: C = alpha * op(A) * op(B) + beta * C (row-major), with a fused "+ bias[col], ReLU" epilogue.
//
// The kernels are kept as readable versions, one file each, the way siboehm's SGEMM_CUDA walk-through
// does (bench_kernels times each against cuBLAS):
//   gemm_v1_blocktile.cuh  version 1, the baseline: block tile + per-thread register tile (JT_GEMM_CONFIG_V1_*)
//   gemm_v2_warptile.cuh   version 2: warp tiles, conflict-free shared layout, one barrier per k-tile with
//                          register-prefetch double buffering, unguarded interior tiles (what AUTO runs)
//   gemm_splitk.cuh        the deterministic split-K reduction behind version 2 for outputs with few tiles
// This file checks the arguments and dispatches; the tile and split-K choice is launch_config.cu's (the one
// function emu and CUDA share).
#include "gemm.h"

#include "common.cuh"
#include "gemm_config.h"
#include "gemm_splitk.cuh"
#include "gemm_v1_blocktile.cuh"
#include "gemm_v2_warptile.cuh"
#include "launch_config.h"

namespace {

using namespace jt_gemm;

// The version-2 configurations (gemm.h); gemm_config.h repeats their sizes for the host-side choice.
// __launch_bounds__' second number caps the registers at 65536 / (threads x blocks): the 128x128 tile at 128
// (two blocks of 256 threads per SM, no spill on sm_90); the 64-thread tiles, chosen for outputs too small
// to fill the GPU (a few blocks per SM at most, so registers do not limit occupancy there), get room for
// ptxas to keep shared-memory fragments in flight (a cap of 128 made them spill). Their k-step is 16: at 32
// emu ran them 1.5-2x faster (twice the work per fiber switch), but ptxas then spilled 70-470 bytes on
// sm_90 (sm_90: 64x64 uses 209-241 registers, the 8x4 tiles ~155-183, no spills).
using Cfg128x128 = V2Config<128, 128, 8, 2, 2, 2>;  // warps 4x2 of 32x64, 8x8 per thread; 256 threads
using Cfg64x64 = V2Config<64, 64, 16, 2, 2, 4>;     // warps 2x1 of 32x64, 8x8 per thread; 64 threads
using Cfg32x64 = V2Config<32, 64, 16, 2, 1, 5>;     // warps 1x2 of 32x32, 8x4 per thread; 64 threads
using Cfg64x32 = V2Config<64, 32, 16, 2, 1, 5>;     // warps 2x1 of 32x32, 8x4 per thread; 64 threads

template <class CFG>
constexpr bool matches(int config) {
    return jt_gemm_tile(config).bm == CFG::BM && jt_gemm_tile(config).bn == CFG::BN &&
           jt_gemm_tile(config).bk == CFG::BK && jt_gemm_tile(config).threads == CFG::THREADS &&
           jt_gemm_tile(config).version == 2;
}
static_assert(matches<Cfg128x128>(JT_GEMM_CONFIG_128x128) && matches<Cfg64x64>(JT_GEMM_CONFIG_64x64) &&
                  matches<Cfg32x64>(JT_GEMM_CONFIG_32x64) && matches<Cfg64x32>(JT_GEMM_CONFIG_64x32),
              "gemm_config.h describes the version-2 configurations");

// Validates and dispatches one (strided-batched, or split-K) GEMM; the single GEMM is the batch of one with
// zero strides. splits: 0 automatic, 1 none, s > 1 at most s slices (gemm.h).
cudaError_t sgemm_dispatch(int config, int splits, int transA, int transB, int m, int n, int k, float alpha,
                           const float* A, int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                           float beta, float* C, int ldc, int64_t strideC, int batch, const float* bias, int relu,
                           void* workspace, size_t workspaceBytes, cudaStream_t stream) {
    JT_REQUIRE(m >= 1 && n >= 1 && k >= 1);
    JT_REQUIRE(lda >= (transA ? m : k));
    JT_REQUIRE(ldb >= (transB ? k : n));
    JT_REQUIRE(ldc >= n);
    JT_REQUIRE(config >= 0 && config < JT_GEMM_CONFIG_COUNT);
    JT_REQUIRE(batch >= 0);
    JT_REQUIRE(strideA >= 0 && strideB >= 0 && strideC >= 0);
    JT_REQUIRE(splits >= 0);
    // Two items writing the same element of C would race (and an accumulation into a shared C would lose
    // updates): strideC = 0 is rejected for batch > 1, and so is any other stride that makes items overlap.
    JT_REQUIRE(batch <= 1 || jt_gemm_batch_c_disjoint(m, n, ldc, strideC, batch));
    if (batch == 0) return cudaSuccess;  // nothing to compute; pointers may be null
    JT_REQUIRE(A != nullptr && B != nullptr && C != nullptr);
    if (config == JT_GEMM_CONFIG_AUTO) config = jt_gemm_auto_config(m, n, batch);

    // Split-K: how many slices, and is the workspace big enough for their partial sums.
    int slices = 1;
    if (splits == 0) {
        slices = jt_gemm_auto_splits(config, m, n, k, batch);
        if (slices > 1 && (workspace == nullptr || workspaceBytes < (size_t)slices * m * n * sizeof(float)))
            slices = 1;  // no (big enough) workspace: no split
    } else if (splits > 1) {
        JT_REQUIRE(batch == 1 && jt_gemm_tile(config).version == 2);
        slices = jt_gemm_slices(config, k, splits < JT_GEMM_MAX_SPLITS ? splits : JT_GEMM_MAX_SPLITS);
        JT_REQUIRE(slices == 1 ||
                   (workspace != nullptr && workspaceBytes >= (size_t)slices * m * n * sizeof(float)));
    }
    if (slices > 1) {
        // Each slice's raw sums into the workspace ([slices][m][n]), then C from them in slice order.
        const int kSplit = (int)jt_gemm_slice_k(config, k, slices);
        float* W = static_cast<float*>(workspace);
        const int64_t sliceStride = (int64_t)m * n;
        cudaError_t st = cudaErrorInvalidValue;
#define JT_SPLIT(CFG)                                                                                              \
    launch_v2<CFG>(transA, transB, m, n, k, 1.f, A, lda, 0, B, ldb, 0, 0.f, W, n, sliceStride, slices, nullptr, 0, \
                   kSplit, stream)
        switch (config) {
            case JT_GEMM_CONFIG_128x128: st = JT_SPLIT(Cfg128x128); break;
            case JT_GEMM_CONFIG_64x64: st = JT_SPLIT(Cfg64x64); break;
            case JT_GEMM_CONFIG_32x64: st = JT_SPLIT(Cfg32x64); break;
            case JT_GEMM_CONFIG_64x32: st = JT_SPLIT(Cfg64x32); break;
            default: break;
        }
#undef JT_SPLIT
        if (st != cudaSuccess) return st;
        return launch_splitk_reduce(m, n, slices, W, alpha, beta, C, ldc, bias, relu, stream);
    }

#define JT_V2(CFG)                                                                                                \
    launch_v2<CFG>(transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch, \
                   bias, relu, 0, stream)
#define JT_V1(BM, BN, BK, TM, TN)                                                                                    \
    launch_v1<BM, BN, BK, TM, TN>(transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, \
                                  strideC, batch, bias, relu, stream)
    switch (config) {
        case JT_GEMM_CONFIG_128x128: return JT_V2(Cfg128x128);
        case JT_GEMM_CONFIG_64x64: return JT_V2(Cfg64x64);
        case JT_GEMM_CONFIG_32x64: return JT_V2(Cfg32x64);
        case JT_GEMM_CONFIG_64x32: return JT_V2(Cfg64x32);
        case JT_GEMM_CONFIG_V1_128x128: return JT_V1(128, 128, 16, 8, 8);
        case JT_GEMM_CONFIG_V1_64x64: return JT_V1(64, 64, 32, 8, 8);
        case JT_GEMM_CONFIG_V1_32x64: return JT_V1(32, 64, 32, 4, 8);
        default: return cudaErrorInvalidValue;
    }
#undef JT_V2
#undef JT_V1
}

}  // namespace

extern "C" size_t jt_gemm_splitk_workspace_bytes(int config, int splits, int m, int n, int k) {
    if (config < 0 || config >= JT_GEMM_CONFIG_COUNT || splits < 0 || m < 1 || n < 1 || k < 1) return (size_t)-1;
    if (config == JT_GEMM_CONFIG_AUTO) config = jt_gemm_auto_config(m, n, 1);
    if (jt_gemm_tile(config).version != 2) return 0;
    const int slices = splits == 0 ? jt_gemm_auto_splits(config, m, n, k, 1)
                                   : jt_gemm_slices(config, k, splits < JT_GEMM_MAX_SPLITS ? splits : JT_GEMM_MAX_SPLITS);
    return slices > 1 ? (size_t)slices * m * n * sizeof(float) : 0;
}

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
    return sgemm_dispatch(config, 1, transA, transB, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, bias,
                          relu, nullptr, 0, stream);
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
    return sgemm_dispatch(config, 1, transA, transB, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc,
                          strideC, batch, nullptr, 0, nullptr, 0, stream);
}

extern "C" cudaError_t jt_gemm_sgemm_ex(int config, int splits, int transA, int transB, int m, int n, int k, float alpha,
                                        const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc,
                                        const float* bias, int relu, void* workspace, size_t workspaceBytes,
                                        cudaStream_t stream) {
    return sgemm_dispatch(config, splits, transA, transB, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1,
                          bias, relu, workspace, workspaceBytes, stream);
}
