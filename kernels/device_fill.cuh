// The grid that fills the current device with one kernel (launch_config.h, jt_launch_grid_fill): the
// device's multiprocessor count (jt_device_sm_count) times the blocks of that kernel one multiprocessor holds at once (the
// occupancy calculator: registers, shared memory, thread and block limits). Both are asked of the runtime
// once per device and kernel and kept (a query costs microseconds; a launch should not). Host code only.
#pragma once

#include <atomic>

#include "common.cuh"
#include "launch_config.h"

#define JT_FILL_CACHED_DEVICES 64

// Blocks of a launch of Kernel at `threads` per block over `work_blocks` work items that fills the current
// device (jt_launch_grid_fill). Kernel's own cache: the threads it was asked for are kept beside the
// answer, so a kernel launched at several block sizes asks again when the size changes.
template <auto Kernel>
cudaError_t jt_fill_grid(int threads, int64_t work_blocks, unsigned* grid) {
    static std::atomic<int> cache[JT_FILL_CACHED_DEVICES];  // (blocks per SM << 11) | threads; 0 = not asked
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) return e;
    const int sms = jt_device_sm_count();  // launch_config.cu's per-device cache (1 when unreadable)
    const bool cacheable = device >= 0 && device < JT_FILL_CACHED_DEVICES;
    const int cached = cacheable ? cache[device].load(std::memory_order_relaxed) : 0;
    int per_sm = 0;
    if (cached != 0 && (cached & 0x7FF) == threads) {
        per_sm = cached >> 11;
    } else {
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, Kernel, threads, 0);
        if (e != cudaSuccess) return e;
        if (cacheable) cache[device].store((per_sm << 11) | (threads & 0x7FF), std::memory_order_relaxed);
    }
    *grid = jt_launch_grid_fill(work_blocks, sms, per_sm);
    return cudaSuccess;
}
