// The exported launch decisions (launch_config.h) that live in common.cuh, the device's SM count and the
// device-filling grid; the others are defined beside their kernels (batchnorm.cu, gemm.cu, reduce.cu).
#include "launch_config.h"

#include <atomic>

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
