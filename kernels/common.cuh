// Shared by every kernel family: the CUDA API (real or emulated), the launch macro, small helpers.
#pragma once

#include <stdint.h>

#ifdef __CUDACC__
#include <cuda_runtime.h>
// Under nvcc a launch is the usual triple-chevron syntax.
#define LAUNCH(kernel, grid, block, smem, stream) kernel<<<(grid), (block), (smem), (stream)>>>
#define DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#else
// Under the host compiler the emulation provides the same names (native/emu/cuda_emu.h).
#include "cuda_emu.h"
#endif

#define JT_HD __host__ __device__ __forceinline__

// Ceil division for grid sizes.
JT_HD int64_t jt_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Returns cudaErrorInvalidValue from the enclosing launcher when cond is false.
#define JT_REQUIRE(cond) \
    do {                 \
        if (!(cond)) return cudaErrorInvalidValue; \
    } while (0)

// The status of the launch just made (launch-configuration errors surface here).
#define JT_LAUNCH_STATUS() cudaGetLastError()

// Blocks in a 1-D launch over n elements: one per `threads` items, capped; kernels loop over their
// chunk (block_range.cuh), so any cap is correct. The same on emu and CUDA: emu runs the program the
// GPU runs (launch_config.h exposes these choices so a test compares the two libraries).
#define JT_MAX_GRID_1D 65535
static inline unsigned jt_grid_1d(int64_t n, int threads) {
    int64_t blocks = jt_ceil_div(n, threads);
    if (blocks < 1) blocks = 1;
    if (blocks > JT_MAX_GRID_1D) blocks = JT_MAX_GRID_1D;
    return (unsigned)blocks;
}
