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

// The tile configuration (JT_GEMM_CONFIG_*) jt_gemm_sgemm picks for an m x n output, `batch` items (gemm.cu).
int jt_gemm_auto_config(int m, int n, int batch);

// Blocks of a grid-stride launch that fills the device: min(work_blocks, JT_FILL_WAVES * sm_count *
// blocks_per_sm), at least 1 (work_blocks: the launch's independent work items, e.g. optimizer chunks).
// sm_count and blocks_per_sm are the device's (device_fill.cuh asks the runtime: multiprocessor count and
// the occupancy calculator for the kernel; emu answers with its workers and an SM's thread limits), so the
// grid differs between devices, the rule does not. Used where the bits do not depend on the grid
// (elementwise updates; per-chunk partial sums).
#define JT_FILL_WAVES 1
unsigned jt_launch_grid_fill(int64_t work_blocks, int sm_count, int blocks_per_sm);

// Blocks of the first pass of the two-pass sums over n items (reduce.cu): a function of n alone, so a sum
// has the same bits on every device, emu included (reduce.h).
unsigned jt_reduce_pass1_blocks(int64_t n);

#ifdef __cplusplus
}
#endif
