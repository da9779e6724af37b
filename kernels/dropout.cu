// Dropout masks and random fills: one CUDA thread per Philox block of four elements (one generator
// evaluation gives four words), grid-stride over blocks. See dropout.h for the contract.
#include <math.h>

#include "common.cuh"
#include "dropout.h"
#include "philox.h"

namespace {

constexpr int kThreads = 256;

inline bool aligned16(const void* q) { return q == nullptr || ((uintptr_t)q & 15u) == 0; }

// x and y may alias (each element is read, then written, by one thread): no __restrict__ on them. With
// vec (every pointer 16-byte aligned) a full block of four moves as one float4 load and store(s); the
// arithmetic, and so every bit, is the same as element by element.
__global__ void dropout_kernel(const float* x, float* y, float* __restrict__ mask,
                               int64_t n, float p, float scale, uint64_t seed, uint64_t offset, int vec) {
    const int64_t blocks = (n + 3) >> 2;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        const jt_philox_out w = jt_philox_block(seed, offset, (uint64_t)b);
        const int64_t base = b << 2;
        if (vec && base + 3 < n) {
            const float4 xv = reinterpret_cast<const float4*>(x)[b];
            const bool k0 = jt_philox_to_uniform(w.w[0]) >= p, k1 = jt_philox_to_uniform(w.w[1]) >= p;
            const bool k2 = jt_philox_to_uniform(w.w[2]) >= p, k3 = jt_philox_to_uniform(w.w[3]) >= p;
            reinterpret_cast<float4*>(y)[b] = make_float4(k0 ? xv.x * scale : 0.0f, k1 ? xv.y * scale : 0.0f,
                                                          k2 ? xv.z * scale : 0.0f, k3 ? xv.w * scale : 0.0f);
            if (mask != nullptr) {
                reinterpret_cast<float4*>(mask)[b] = make_float4(k0 ? scale : 0.0f, k1 ? scale : 0.0f,
                                                                 k2 ? scale : 0.0f, k3 ? scale : 0.0f);
            }
            continue;
        }
        for (int k = 0; k < 4; ++k) {
            const int64_t i = base + k;
            if (i < n) {
                const bool keep = jt_philox_to_uniform(w.w[k]) >= p;
                y[i] = keep ? x[i] * scale : 0.0f;
                if (mask != nullptr) mask[i] = keep ? scale : 0.0f;
            }
        }
    }
}

// p = 0: y = x (exactly), mask = 1.
__global__ void dropout_keep_all_kernel(const float* x, float* y, float* __restrict__ mask, int64_t n) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        if (y != x) y[i] = x[i];
        if (mask != nullptr) mask[i] = 1.0f;
    }
}

__global__ void uniform_kernel(float* __restrict__ t, int64_t n, float lo, float hi, uint64_t seed,
                               uint64_t offset) {
    const int64_t blocks = (n + 3) >> 2;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        const jt_philox_out w = jt_philox_block(seed, offset, (uint64_t)b);
        const int64_t base = b << 2;
        for (int k = 0; k < 4; ++k) {
            if (base + k < n) t[base + k] = jt_philox_uniform_in(jt_philox_to_uniform(w.w[k]), lo, hi);
        }
    }
}

__global__ void normal_kernel(float* __restrict__ t, int64_t n, double mean, double std, uint64_t seed,
                              uint64_t offset) {
    const int64_t blocks = (n + 3) >> 2;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t b = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride) {
        const jt_philox_out w = jt_philox_block(seed, offset, (uint64_t)b);
        const int64_t base = b << 2;
        for (int pair = 0; pair < 4; pair += 2) {
            const int64_t i = base + pair;
            if (i < n) {
                const float ua = jt_philox_to_uniform(w.w[pair]);
                const float ub = jt_philox_to_uniform(w.w[pair + 1]);
                t[i] = (float)JT_DADD(mean, JT_DMUL(std, jt_philox_normal(ua, ub, false)));
                if (i + 1 < n) t[i + 1] = (float)JT_DADD(mean, JT_DMUL(std, jt_philox_normal(ua, ub, true)));
            }
        }
    }
}

}  // namespace

extern "C" cudaError_t jt_dropout_forward(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed,
                                          uint64_t offset, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    JT_REQUIRE(p >= 0.0f && p <= 1.0f);  // a probability (NaN fails too)
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && y != nullptr);
    if (p == 0.0f) {
        LAUNCH(dropout_keep_all_kernel, jt_grid_1d(n, kThreads), kThreads, 0, stream)(x, y, mask, n);
        return JT_LAUNCH_STATUS();
    }
    const float scale = p == 1.0f ? 0.0f : (float)(1.0 / (1.0 - (double)p));
    const int vec = aligned16(x) && aligned16(y) && aligned16(mask);
    LAUNCH(dropout_kernel, jt_grid_1d((n + 3) / 4, kThreads), kThreads, 0, stream)(x, y, mask, n, p, scale, seed,
                                                                                   offset, vec);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_random_uniform(float* t, int64_t n, float lo, float hi, uint64_t seed,
                                         uint64_t offset, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    JT_REQUIRE(isfinite(lo) && isfinite(hi) && lo <= hi);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(t != nullptr);
    LAUNCH(uniform_kernel, jt_grid_1d((n + 3) / 4, kThreads), kThreads, 0, stream)(t, n, lo, hi, seed, offset);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_random_normal(float* t, int64_t n, float mean, float std, uint64_t seed,
                                        uint64_t offset, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    JT_REQUIRE(isfinite(mean) && isfinite(std) && std >= 0.0f);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(t != nullptr);
    LAUNCH(normal_kernel, jt_grid_1d((n + 3) / 4, kThreads), kThreads, 0, stream)(t, n, (double)mean, (double)std,
                                                                                  seed, offset);
    return JT_LAUNCH_STATUS();
}
