// The exported launch decisions (launch_config.h): the 1-D grid of common.cuh, the device's SM count, the
// device-filling grid, the SGEMM tile and split-K choice (below); BatchNorm's plan, the per-channel sums' plan and
// the sums' first pass are defined beside their kernels (batchnorm.cu, channel_sum.cu, reduce.cu).
#include "launch_config.h"

#include <atomic>

#include "gemm_config.h"

extern "C" unsigned jt_launch_grid_1d(int64_t n, int threads) { return jt_grid_1d(n, threads); }

extern "C" unsigned jt_launch_grid_fill(int64_t work_blocks, int sm_count, int blocks_per_sm) {
    // A device that reports nothing usable still gets a working (if small) grid.
    const int64_t sms = sm_count < 1 ? 1 : sm_count;
    const int64_t per_sm = blocks_per_sm < 1 ? 1 : blocks_per_sm;
    int64_t blocks = (int64_t)JT_FILL_WAVES * sms * per_sm;
    if (work_blocks < blocks) blocks = work_blocks;
    if (blocks < 1) blocks = 1;
    if (blocks > 0x7FFFFFFF) blocks = 0x7FFFFFFF;
    return (unsigned)blocks;
}

namespace {
constexpr int kMaxCachedDevices = 64;
std::atomic<int> g_sm_count[kMaxCachedDevices];  // 0: not read yet
}  // namespace

extern "C" int jt_device_sm_count(void) {
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess) {
        (void)cudaGetLastError();
        return 1;
    }
    const bool cacheable = device >= 0 && device < kMaxCachedDevices;
    if (cacheable) {
        const int cached = g_sm_count[device].load(std::memory_order_relaxed);
        if (cached > 0) return cached;
    }
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms < 1) {
        (void)cudaGetLastError();
        return 1;
    }
    if (cacheable) g_sm_count[device].store(sms, std::memory_order_relaxed);
    return sms;
}


// SGEMM tile: the 128x128 tile (the most work per byte moved: 32 FLOP per byte loaded from global memory,
// 8x8 outputs per thread) only when it still makes two blocks per SM on the target GPU (one full wave at
// the two resident blocks its 128 registers x 256 threads allow). Otherwise a 64-wide tile, which makes 4x
// the blocks: 32 rows when the output is short (m <= 32), 32 columns when it is narrow (n <= 32), so fewer
// padded rows/columns are computed. A batch multiplies the blocks (all items run in one grid), so it counts
// towards filling the GPU (the automatic choice for a batch may differ from that for one of its items).
extern "C" int jt_gemm_auto_config(int m, int n, int batch) {
    const int64_t big = jt_ceil_div(m, 128) * jt_ceil_div(n, 128) * (int64_t)batch;
    if (big >= 2 * JT_GEMM_TARGET_SMS) return JT_GEMM_CONFIG_128x128;
    if (m <= 32) return JT_GEMM_CONFIG_32x64;
    if (n <= 32) return JT_GEMM_CONFIG_64x32;
    return JT_GEMM_CONFIG_64x64;
}

// Split-K: a single GEMM whose tiles cannot give every SM a block (e.g. 128x512: 16 tiles of 64x64) cuts k
// into slices so that tiles x slices approaches two blocks per SM, keeping each slice at least
// JT_GEMM_MIN_SLICE_K deep and the partial sums within JT_GEMM_WORKSPACE_BYTES. Batches never split (their
// items already multiply the blocks). 128x512x512: 4 slices of 128 (16 tiles of 64x64: 64 blocks);
// 128x784x512: 26 tiles x 4 slices; 128x512x784: 16 tiles x 6 slices of 144 (the last 64 deep);
// 512x784x128 (104 tiles): k too short to split.
extern "C" int jt_gemm_auto_splits(int config, int m, int n, int k, int batch) {
    const JtGemmTile t = jt_gemm_tile(config);
    if (t.version != 2 || batch != 1 || m < 1 || n < 1 || k < 1) return 1;
    const int64_t tiles = jt_ceil_div(m, t.bm) * jt_ceil_div(n, t.bn);
    if (tiles >= JT_GEMM_TARGET_SMS) return 1;
    int64_t s = jt_ceil_div(2 * JT_GEMM_TARGET_SMS, tiles);
    if (s > k / JT_GEMM_MIN_SLICE_K) s = k / JT_GEMM_MIN_SLICE_K;
    if (s > JT_GEMM_MAX_SPLITS) s = JT_GEMM_MAX_SPLITS;
    const int64_t fit = (int64_t)(JT_GEMM_WORKSPACE_BYTES / sizeof(float)) / ((int64_t)m * n);
    if (s > fit) s = fit;
    if (s < 2) return 1;
    return jt_gemm_slices(config, k, (int)s);
}
