// The launch decisions the host side makes from the sizes (block counts, threads per block, GEMM tile),
// exported from both libraries so a test can check that emu runs exactly the configuration CUDA runs:
// emu is the correctness oracle for code no GPU has run, so it must not test a different program.
#pragma once

#include <stddef.h>

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// Blocks of a 1-D launch over n items with `threads` per block (jt_grid_1d in common.cuh).
unsigned jt_launch_grid_1d(int64_t n, int threads);

// The current device's SM count (cudaDevAttrMultiProcessorCount; emu: its worker count), cached per
// device; 1 when it cannot be read (then the error is cleared). Plans that size grids to the device use it.
int jt_device_sm_count(void);

// BatchNorm over [n, c, inner] (batchnorm.cu). Planes layout (inner > 1): a channel is n runs of `inner`
// contiguous values, split into `splits` chunks of `chunk` values (the last may be short or empty), one
// block of `threads` each, grid (c, splits); `vec` is 4 where inner % 4 == 0 (float4 loads, when the
// pointers are 16-byte aligned too; the launcher falls back to scalar loads otherwise). Columns layout
// (inner == 1, [N, C]): blocks of 32 channels x JT_BN_COLUMN_ROWS row lanes (a warp reads 32 consecutive
// channels of a row), the rows split into `splits` chunks of `chunk` rows, grid (ceil(c / 32), splits).
// The split aims at JT_BN_BLOCKS_PER_SM blocks per SM in total, rounded down so that the grid is one wave
// (the kernels' launch bounds keep that many blocks resident), and gives every thread some work.
#define JT_BN_PLANES 0
#define JT_BN_COLUMNS 1
#define JT_BN_COLUMN_ROWS 8
#define JT_BN_BLOCKS_PER_SM 4
typedef struct JtBatchnormPlan {
    int layout;              // JT_BN_PLANES or JT_BN_COLUMNS
    int threads;             // threads per block
    int vec;                 // 4 or 1 (planes); 1 (columns)
    int splits;              // blocks per channel (planes) or per 32-channel tile (columns); <= 65535
    int64_t chunk;           // values (planes) or rows (columns) per split
    size_t workspace_bytes;  // c * splits partial pairs (double2)
} JtBatchnormPlan;
JtBatchnormPlan jt_batchnorm_plan(int n, int c, int64_t inner, int sm_count);

// Per-channel sums over [n, c, inner] (channel_sum.cuh: the bias gradient, PReLU's dalpha). Planes layout
// (inner > 1): each channel's n * inner values are split into `splits` chunks of `chunk` values (the last may
// be short or empty), one block of `threads` each, grid (c, splits); `vec` is 4 where inner % 4 == 0 (units of
// 4 floats: float4 loads where the pointers are 16-byte aligned, four float loads otherwise, the same sums).
// Columns layout (inner == 1, [n, c]): blocks of 32 channels x JT_CHANSUM_COLUMN_ROWS row lanes, the n rows
// split into `splits` chunks of `chunk` rows, grid (ceil(c / 32), splits). The split aims at
// JT_CHANSUM_BLOCKS_PER_SM blocks per SM in total, rounded down so that the grid is one wave, and leaves every
// thread at least 32 values (planes) or 16 rows (columns) per chunk, so small sums stay one launch. With more
// than one split, pass 1 writes a double per (channel, split) to a workspace of `workspace_bytes` and a second
// kernel merges each channel's partials in a fixed order; with one split pass 1 writes the result and
// workspace_bytes is 0.
#define JT_CHANSUM_PLANES 0
#define JT_CHANSUM_COLUMNS 1
#define JT_CHANSUM_COLUMN_ROWS 8
#define JT_CHANSUM_MAX_THREADS 256
#define JT_CHANSUM_BLOCKS_PER_SM 4
typedef struct JtChannelSumPlan {
    int layout;              // JT_CHANSUM_PLANES or JT_CHANSUM_COLUMNS
    int threads;             // threads per block
    int vec;                 // 4 or 1 (planes); 1 (columns)
    int splits;              // blocks per channel (planes) or per 32-channel tile (columns); <= 65535
    int64_t chunk;           // values (planes; a multiple of vec) or rows (columns) per split
    size_t workspace_bytes;  // c * splits doubles when splits > 1, else 0
} JtChannelSumPlan;
JtChannelSumPlan jt_channel_sum_plan(int n, int c, int64_t inner, int sm_count);

// The tile configuration (JT_GEMM_CONFIG_*) jt_gemm_sgemm picks for an m x n output, `batch` items.
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

// The k slices jt_gemm_sgemm_ex's automatic split-K uses for an m x n x k product with `config` (a version-2
// configuration) and `batch` items, given a workspace of JT_GEMM_WORKSPACE_BYTES: 1 = no split.
int jt_gemm_auto_splits(int config, int m, int n, int k, int batch);

#ifdef __cplusplus
}
#endif
