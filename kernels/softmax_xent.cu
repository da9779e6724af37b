// Softmax cross-entropy (one warp per row: max, sum of exponentials and of (max - x) by warp shuffles,
// then the probabilities), its backward, BCE with logits and squared error (elementwise over block
// chunks, block_range.cuh).
#include "common.cuh"
#include "index_split.cuh"
#include "block_range.cuh"
#include "softmax_xent.h"

#ifndef __CUDACC__
#include <cmath>
#endif

namespace {

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / 32;  // one warp per row
constexpr unsigned kFull = 0xffffffffu;

__device__ __forceinline__ float warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, off));
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(kFull, v, off);
    return v;
}

// Every lane of a warp walks the same rows, so the shuffles always see the full warp.
__global__ void softmax_xent_forward_kernel(const float* __restrict__ logits, const int64_t* __restrict__ labels,
                                            int n, int c, float eps, float* __restrict__ probs,
                                            float* __restrict__ loss, JtDeviceError* err,
                                            unsigned long long tag) {
    const int lane = threadIdx.x & 31;
    const int64_t warpsInGrid = (int64_t)gridDim.x * kRowsPerBlock;
    for (int64_t row = (int64_t)blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5); row < n; row += warpsInGrid) {
        const float* x = logits + row * c;
        float m = -INFINITY;
        for (int64_t k = lane; k < c; k += 32) m = fmaxf(m, x[k]);
        m = warp_max(m);
        float s = 0.f;   // sum exp(x - m)
        float sd = 0.f;  // sum (m - x), for the smoothing term
        for (int64_t k = lane; k < c; k += 32) {
            const float v = x[k];
            s += expf(v - m);
            sd += m - v;
        }
        s = warp_sum(s);
        sd = warp_sum(sd);
        const float inv = 1.f / s;
        float* p = probs + row * c;
        for (int64_t k = lane; k < c; k += 32) p[k] = expf(x[k] - m) * inv;
        if (lane == 0) {
            const int64_t y = labels[row];
            float l;
            if (y < 0 || y >= c) {
                l = NAN;  // never x[y] out of the row
                jt_device_error_record(err, tag, row, y, c);
            } else {
                l = logf(s) + (1.f - eps) * (m - x[y]);
                if (eps != 0.f) l += (eps / (float)c) * sd;
            }
            loss[row] = l;
        }
    }
}

// Index: uint32_t when every position fits (a cheap 32-bit divide per element), else int64_t.
template <class Index>
__global__ void softmax_xent_backward_kernel(const float* probs, const int64_t* __restrict__ labels, int c, float eps,
                                             float scale, float* dlogits, int64_t total, JtDeviceError* err,
                                             unsigned long long tag) {
    const float off = eps / (float)c;
    const float on = (1.f - eps) + off;
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const int64_t r = (int64_t)((Index)i / (Index)c);
        const int64_t k = i - r * c;
        const int64_t y = labels[r];
        const bool bad = y < 0 || y >= c;
        const float q = bad ? NAN : (k == y ? on : off);
        if (bad && k == 0) jt_device_error_record(err, tag, r, y, c);  // once per row: its first element
        dlogits[i] = scale * (probs[i] - q);
    }
}

__global__ void bce_forward_kernel(const float* z, const float* t, int64_t n, float* loss) {
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const float v = z[i];
        // max(z, 0) - z t in one rounding (a fused multiply-add): rounding z t separately loses up to half an
        // ulp of |z| against a result that is small when t is near 1 (z > 0) or 0 (z < 0). Both terms are
        // nonnegative for t in [0, 1], so the sum has no cancellation.
        const float lin = __fmaf_rn(-v, t[i], fmaxf(v, 0.f));
        loss[i] = lin + log1pf(expf(-fabsf(v)));
    }
}

__global__ void bce_backward_kernel(const float* z, const float* t, int64_t n, float scale, float* dz) {
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const float s = 1.f / (1.f + expf(-z[i]));
        dz[i] = scale * (s - t[i]);
    }
}

__global__ void squared_error_forward_kernel(const float* p, const float* t, int64_t n, float* out) {
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const float d = p[i] - t[i];
        out[i] = d * d;
    }
}

__global__ void squared_error_backward_kernel(const float* p, const float* t, int64_t n, float scale2, float* dp) {
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        dp[i] = scale2 * (p[i] - t[i]);
    }
}

}  // namespace

extern "C" cudaError_t jt_softmax_xent_forward(const float* logits, const int64_t* labels, int n, int c, float eps,
                                               float* probs, float* loss, JtDeviceError* err, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1);
    JT_REQUIRE(eps >= 0.f && eps <= 1.f);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(logits != nullptr && labels != nullptr && probs != nullptr && loss != nullptr);
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_SOFTMAX_XENT_FORWARD_LABEL) : 0ull;
    LAUNCH(softmax_xent_forward_kernel, jt_grid_1d(n, kRowsPerBlock), kThreads, 0, stream)(logits, labels, n, c, eps,
                                                                                           probs, loss, err, tag);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_softmax_xent_backward(const float* probs, const int64_t* labels, int n, int c, float eps,
                                                float scale, float* dlogits, JtDeviceError* err,
                                                cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1);
    JT_REQUIRE(eps >= 0.f && eps <= 1.f);
    const int64_t total = (int64_t)n * c;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(probs != nullptr && labels != nullptr && dlogits != nullptr);
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_SOFTMAX_XENT_BACKWARD_LABEL) : 0ull;
    if (jt_fits_32(total)) {
        LAUNCH(softmax_xent_backward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            probs, labels, c, eps, scale, dlogits, total, err, tag);
    } else {
        LAUNCH(softmax_xent_backward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            probs, labels, c, eps, scale, dlogits, total, err, tag);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_loss_bce_with_logits_forward(const float* logits, const float* targets, int64_t n,
                                                       float* loss, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(logits != nullptr && targets != nullptr && loss != nullptr);
    LAUNCH(bce_forward_kernel, jt_grid_1d(n, kThreads), kThreads, 0, stream)(logits, targets, n, loss);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_loss_bce_with_logits_backward(const float* logits, const float* targets, int64_t n,
                                                        float scale, float* dlogits, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(logits != nullptr && targets != nullptr && dlogits != nullptr);
    LAUNCH(bce_backward_kernel, jt_grid_1d(n, kThreads), kThreads, 0, stream)(logits, targets, n, scale, dlogits);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_loss_squared_error_forward(const float* pred, const float* target, int64_t n, float* out,
                                                     cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(pred != nullptr && target != nullptr && out != nullptr);
    LAUNCH(squared_error_forward_kernel, jt_grid_1d(n, kThreads), kThreads, 0, stream)(pred, target, n, out);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_loss_squared_error_backward(const float* pred, const float* target, int64_t n, float scale,
                                                      float* dpred, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(pred != nullptr && target != nullptr && dpred != nullptr);
    LAUNCH(squared_error_backward_kernel, jt_grid_1d(n, kThreads), kThreads, 0, stream)(pred, target, n, 2.f * scale,
                                                                                        dpred);
    return JT_LAUNCH_STATUS();
}
