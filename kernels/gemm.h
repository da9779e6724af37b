// SGEMM with a fused bias/ReLU epilogue (kernels/gemm.cu).
#pragma once

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// C = alpha * op(A) * op(B) + beta * C, row-major, then optionally + bias[col] and ReLU:
//   C[i][j] = act(alpha * sum_p op(A)[i][p] * op(B)[p][j] + beta * C[i][j] + bias[j]).
// op(A) is [m, k]: A is stored [m, k] (lda >= k) when transA == 0, [k, m] (lda >= m) when transA != 0.
// op(B) is [k, n]: B is stored [k, n] (ldb >= n) when transB == 0, [n, k] (ldb >= k) when transB != 0.
// C is [m, n] with ldc >= n. m, n, k >= 1. beta == 0 never reads C (NaN in C does not propagate).
// bias may be null (no bias); relu != 0 applies max(v, 0) last (NaN stays NaN).
// Returns cudaErrorInvalidValue for bad arguments (checked before launching), else the launch status.
cudaError_t jt_gemm_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                          const float* B, int ldb, float beta, float* C, int ldc, const float* bias, int relu,
                          cudaStream_t stream);

// The tile configurations jt_gemm_sgemm chooses from (by problem size). Exposed so that tests run each
// configuration on every device (emu included) whatever the size heuristic picks, and so that bench_kernels
// can time each kernel version.
enum {
    JT_GEMM_CONFIG_AUTO = 0,  // what jt_gemm_sgemm does (jt_gemm_auto_config in launch_config.h)
    // Version 2 (gemm_v2_warptile.cuh: warp tiles, conflict-free shared layout, double buffering); the
    // automatic choice picks among these.
    JT_GEMM_CONFIG_128x128 = 1,  // 128x128 block tile, k-step 8, 8x8 outputs per thread, 256 threads
    JT_GEMM_CONFIG_64x64 = 2,    // 64x64 block tile, k-step 16, 8x8 outputs per thread, 64 threads
    JT_GEMM_CONFIG_32x64 = 3,    // 32x64 block tile, k-step 16, 8x4 outputs per thread, 64 threads (short outputs)
    JT_GEMM_CONFIG_64x32 = 4,    // 64x32 block tile, k-step 16, 8x4 outputs per thread, 64 threads (narrow outputs)
    // Version 1 (gemm_v1_blocktile.cuh), the baseline kept for comparison; never chosen automatically.
    JT_GEMM_CONFIG_V1_128x128 = 5,  // 128x128 block tile, k-step 16, 8x8 outputs per thread, 256 threads
    JT_GEMM_CONFIG_V1_64x64 = 6,    // 64x64 block tile, k-step 32, 8x8 outputs per thread, 64 threads
    JT_GEMM_CONFIG_V1_32x64 = 7,    // 32x64 block tile, k-step 32, 4x8 outputs per thread, 64 threads
    JT_GEMM_CONFIG_COUNT = 8
};

// jt_gemm_sgemm with an explicit configuration (JT_GEMM_CONFIG_*); an unknown one is invalid.
cudaError_t jt_gemm_sgemm_config(int config, int transA, int transB, int m, int n, int k, float alpha, const float* A,
                                 int lda, const float* B, int ldb, float beta, float* C, int ldc, const float* bias,
                                 int relu, cudaStream_t stream);

// Split-K: the workspace jt_gemm_sgemm_ex needs at most for its automatic choice (partial sums of up to
// JT_GEMM_MAX_SPLITS slices of an output, capped at this size; gemm_config.h).
#define JT_GEMM_WORKSPACE_BYTES ((size_t)4 << 20)

// jt_gemm_sgemm_config with split-K: for outputs with too few tiles to fill a GPU, k is cut into slices whose
// partial products go to `workspace` ([slices][m][n] floats) and are then summed in slice order (deterministic:
// the same bits on every run; not the bits of the unsplit kernel). splits: 0 = automatic (jt_gemm_auto_splits
// when the workspace holds the partials, else none), 1 = none, s > 1 = at most s slices (the slice depth is
// ceil(k / s) rounded up to the tile's k-step; fewer slices when that covers k sooner). workspace may be null
// (then splits must be 0 or 1); workspaceBytes must cover jt_gemm_splitk_workspace_bytes(config, splits, m, n,
// k) for explicit splits. Split-K needs a version-2 configuration (or AUTO). The workspace must not be used
// by another call running at the same time (another stream).
cudaError_t jt_gemm_sgemm_ex(int config, int splits, int transA, int transB, int m, int n, int k, float alpha,
                             const float* A, int lda, const float* B, int ldb, float beta, float* C, int ldc,
                             const float* bias, int relu, void* workspace, size_t workspaceBytes, cudaStream_t stream);

// Bytes of workspace split-K with at most `splits` slices uses for an m x n x k product with `config`
// (AUTO: the configuration jt_gemm_sgemm_ex would pick); 0 when that is no split. -1 cast to size_t for
// bad arguments.
size_t jt_gemm_splitk_workspace_bytes(int config, int splits, int m, int n, int k);

// Strided-batched SGEMM: for b in [0, batch), C_b = alpha * op(A_b) * op(B_b) + beta * C_b, where
// X_b = X + b * strideX (element strides, 64-bit). Each C_b is as in jt_gemm_sgemm (m, n, k >= 1, the same
// leading-dimension rules, beta == 0 never reads C_b) without bias or ReLU, and is bit for bit what
// jt_gemm_sgemm_config with the same configuration computes on that item alone. All items run in one grid
// (blockIdx.z; batches over 65535 items take one launch per 65535). config: JT_GEMM_CONFIG_*.
// Strides are >= 0; a stride of 0 shares one matrix between all items (e.g. the weights of a convolution
// applied to every sample). Items must not write the same element of C: batch > 1 needs
// jt_gemm_batch_c_disjoint(m, n, ldc, strideC, batch) (strideC = 0 is rejected; sum per-item results
// into separate C_b and reduce them instead). batch == 0 does nothing (the pointers may then be null);
// batch < 0 and every other bad argument give cudaErrorInvalidValue before anything is launched.
cudaError_t jt_gemm_sgemm_batched(int config, int transA, int transB, int m, int n, int k, float alpha,
                                  const float* A, int lda, int64_t strideA, const float* B, int ldb, int64_t strideB,
                                  float beta, float* C, int ldc, int64_t strideC, int batch, cudaStream_t stream);

// 1 when the batch items of C ([m, n] with leading dimension ldc, item b at b * strideC) never share an
// element, as jt_gemm_sgemm_batched requires; else 0. Accepted layouts: items one after another
// (strideC >= (m - 1) * ldc + n), or interleaved within the rows (strideC >= n and
// (batch - 1) * strideC + n <= ldc). batch <= 1 is always disjoint.
int jt_gemm_batch_c_disjoint(int m, int n, int ldc, int64_t strideC, int batch);

#ifdef __cplusplus
}
#endif
