// The loop shape of the 1-D elementwise kernels (elementwise, activations, losses, reductions):
// block b owns the contiguous chunk [b * chunk, (b + 1) * chunk) of the n items and its threads walk
// it with a block-wide stride (for (i = begin + threadIdx.x; i < end; i += blockDim.x)).
//
// Why not the textbook grid-stride loop: both are coalesced on a GPU (a warp touches consecutive
// items at every step), but on emu one fiber runs its whole loop before the next fiber starts, so a
// grid stride (gridDim.x * blockDim.x items, 64 KiB and more) makes every access of every fiber a
// cache miss; with chunks a block's fibers sweep one small region. Any grid size is correct.
#pragma once

#include "common.cuh"

struct JtBlockRange {
    int64_t begin;
    int64_t end;
};

// This block's items of [0, n): chunk = ceil(n / gridDim.x) rounded up to a multiple of blockDim.x.
__device__ __forceinline__ JtBlockRange jt_block_range(int64_t n) {
    const int64_t per_block = jt_ceil_div(n, (int64_t)gridDim.x);
    const int64_t chunk = jt_ceil_div(per_block, (int64_t)blockDim.x) * blockDim.x;
    const int64_t begin = (int64_t)blockIdx.x * chunk;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    return JtBlockRange{begin, end};
}
