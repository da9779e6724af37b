// Fractional max pooling; see pool_fractional.h for the contract and fractional_windows.h for the windows.
// Forward: one thread per output. Backward (gather): one thread per input element, visiting the windows over it
// in ascending output order; no atomics. Both are grid-stride loops of 256 threads (jt_grid_1d, the same
// launch on emu and CUDA), with 32-bit position math when every input position fits (index_split.cuh).
#include "pool_fractional.h"

#include <math.h>

#include "common.cuh"
#include "fractional_windows.h"
#include "index_split.cuh"

namespace {

constexpr int kThreads = 256;

struct FracGeom {
    int h, w, oh, ow, kh, kw;
};

// The two axes of a plane from its samples [u_w, u_h].
__device__ __forceinline__ void plane_axes(const float* __restrict__ samples, int64_t plane, const FracGeom& g,
                                           JtFractionalAxis* rows, JtFractionalAxis* cols) {
    const float uw = samples[2 * plane];
    const float uh = samples[2 * plane + 1];
    *rows = jt_fractional_axis(uh, g.h, g.oh, g.kh);
    *cols = jt_fractional_axis(uw, g.w, g.ow, g.kw);
}

template <class Index>
__global__ void fractional_max_forward_kernel(const float* __restrict__ x, const float* __restrict__ samples,
                                              float* __restrict__ y, int64_t* __restrict__ idx, int64_t total,
                                              FracGeom g) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const Index hw = (Index)g.h * (Index)g.w;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += stride) {
        int i, j;
        int64_t plane;
        jt_split_plane<Index>(o, g.ow, g.oh, &j, &i, &plane);
        JtFractionalAxis rows, cols;
        plane_axes(samples, plane, g, &rows, &cols);
        const int r0 = jt_fractional_axis_start(rows, i);
        const int c0 = jt_fractional_axis_start(cols, j);
        const float* xp = x + (Index)plane * hw;
        Index best_at = (Index)r0 * (Index)g.w + (Index)c0;
        float best = -INFINITY;
        for (int r = r0; r < r0 + g.kh; ++r) {
            const Index row = (Index)r * (Index)g.w;
            for (int s = c0; s < c0 + g.kw; ++s) {
                const float v = xp[row + (Index)s];
                if (v > best || v != v) {  // the first maximum; a NaN wins (also over an earlier NaN)
                    best = v;
                    best_at = row + (Index)s;
                }
            }
        }
        y[o] = best;
        if (idx != nullptr) idx[o] = (int64_t)best_at;
    }
}

// Thread e also checks indices[e] for e < checks (= the output count when err is set), so every index is read
// once, even one whose window no input element covers (a gather never looks at it).
template <class Index>
__global__ void fractional_max_backward_kernel(const float* __restrict__ dy, const int64_t* __restrict__ idx,
                                               const float* __restrict__ samples, float* __restrict__ dx,
                                               int64_t total, FracGeom g, int64_t checks, JtDeviceError* err,
                                               unsigned long long tag) {
    const int64_t hw = (int64_t)g.h * g.w;
    const Index ohw = (Index)g.oh * (Index)g.ow;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t end = total > checks ? total : checks;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < end; e += stride) {
        if (e < checks) {
            int i, j;
            int64_t plane;
            jt_split_plane<Index>(e, g.ow, g.oh, &j, &i, &plane);
            JtFractionalAxis rows, cols;
            plane_axes(samples, plane, g, &rows, &cols);
            const int r0 = jt_fractional_axis_start(rows, i);
            const int c0 = jt_fractional_axis_start(cols, j);
            const int64_t at = idx[e];
            bool inside = at >= 0 && at < hw;
            if (inside) {  // at < h w: Index holds it
                const Index r = (Index)at / (Index)g.w, s = (Index)at - r * (Index)g.w;
                inside = (int64_t)r >= r0 && (int64_t)r < (int64_t)r0 + g.kh && (int64_t)s >= c0 &&
                         (int64_t)s < (int64_t)c0 + g.kw;
            }
            if (!inside) jt_device_error_record(err, tag, e, at, hw);
        }
        if (e >= total) continue;
        int s, r;
        int64_t plane;
        jt_split_plane<Index>(e, g.w, g.h, &s, &r, &plane);
        JtFractionalAxis rows, cols;
        plane_axes(samples, plane, g, &rows, &cols);
        int ilo, ihi, jlo, jhi;
        jt_fractional_covering(rows, g.kh, r, &ilo, &ihi);
        jt_fractional_covering(cols, g.kw, s, &jlo, &jhi);
        const int64_t me = (int64_t)r * g.w + s;
        const float* dyp = dy + (Index)plane * ohw;
        const int64_t* ip = idx + (Index)plane * ohw;
        float acc = 0.0f;
        for (int i = ilo; i <= ihi; ++i) {
            for (int j = jlo; j <= jhi; ++j) {
                const Index o = (Index)i * (Index)g.ow + (Index)j;
                if (ip[o] == me) acc += dyp[o];  // output order, as the cpu adds them
            }
        }
        dx[e] = acc;
    }
}

bool make_geom(int n, int c, int h, int w, int oh, int ow, int kh, int kw, FracGeom* g) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || oh < 1 || ow < 1 || kh < 1 || kw < 1) return false;
    if ((int64_t)oh + kh - 1 > h || (int64_t)ow + kw - 1 > w) return false;
    *g = FracGeom{h, w, oh, ow, kh, kw};
    return true;
}

}  // namespace

extern "C" cudaError_t jt_pool_fractional_max_forward(const float* x, const float* samples, float* y,
                                                      int64_t* indices, int n, int c, int h, int w, int oh, int ow,
                                                      int kh, int kw, cudaStream_t stream) {
    FracGeom g;
    JT_REQUIRE(make_geom(n, c, h, w, oh, ow, kh, kw, &g));
    JT_REQUIRE(x != nullptr && samples != nullptr && y != nullptr);
    const int64_t total = (int64_t)n * c * oh * ow;
    // Every input position (n c h w >= every output position) fits 32 bits: the cheap divides.
    if (jt_fits_32((int64_t)n * c * h * w)) {
        LAUNCH(fractional_max_forward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            x, samples, y, indices, total, g);
    } else {
        LAUNCH(fractional_max_forward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            x, samples, y, indices, total, g);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_pool_fractional_max_backward(const float* dy, const int64_t* indices, const float* samples,
                                                       float* dx, int n, int c, int h, int w, int oh, int ow, int kh,
                                                       int kw, JtDeviceError* err, cudaStream_t stream) {
    FracGeom g;
    JT_REQUIRE(make_geom(n, c, h, w, oh, ow, kh, kw, &g));
    JT_REQUIRE(dy != nullptr && indices != nullptr && samples != nullptr && dx != nullptr);
    const int64_t total = (int64_t)n * c * h * w;
    const int64_t checks = err ? (int64_t)n * c * oh * ow : 0;
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_POOL_FRACTIONAL_BACKWARD_INDEX) : 0ull;
    const int64_t threads_needed = total > checks ? total : checks;
    if (jt_fits_32(total)) {
        LAUNCH(fractional_max_backward_kernel<uint32_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, samples, dx, total, g, checks, err, tag);
    } else {
        LAUNCH(fractional_max_backward_kernel<int64_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, samples, dx, total, g, checks, err, tag);
    }
    return JT_LAUNCH_STATUS();
}
