// The launch decisions the host side makes from the sizes (block counts, threads per block, GEMM tile),
// exported from both libraries so a test can check that emu runs exactly the configuration CUDA runs:
// emu is the correctness oracle for code no GPU has run, so it must not test a different program.
#pragma once

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// Blocks of a 1-D launch over n items with `threads` per block (jt_grid_1d in common.cuh).
unsigned jt_launch_grid_1d(int64_t n, int threads);

// Threads per channel block of the BatchNorm statistics kernels for m = N * inner values (batchnorm.cu).
int jt_batchnorm_block_threads(int64_t m);

// The tile configuration (JT_GEMM_CONFIG_*) jt_gemm_sgemm picks for an m x n output, `batch` items.
int jt_gemm_auto_config(int m, int n, int batch);

// The k slices jt_gemm_sgemm_ex's automatic split-K uses for an m x n x k product with `config` (a version-2
// configuration) and `batch` items, given a workspace of JT_GEMM_WORKSPACE_BYTES: 1 = no split.
int jt_gemm_auto_splits(int config, int m, int n, int k, int batch);

#ifdef __cplusplus
}
#endif
