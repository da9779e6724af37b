// The exported launch decisions (launch_config.h) that live in common.cuh, and the device's SM count; the
// others are defined beside their kernels (batchnorm.cu, gemm.cu).
#include "launch_config.h"

#include <atomic>

extern "C" unsigned jt_launch_grid_1d(int64_t n, int threads) { return jt_grid_1d(n, threads); }

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
