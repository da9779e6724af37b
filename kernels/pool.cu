// Max and average pooling; see pool.h for the contract. Forward: one thread per output. Backward
// (gather): one thread per input element, visiting the outputs (i, j) whose window contains it in
// ascending order; no atomics.
#include "pool.h"

#include <math.h>

#include "common.cuh"
#include "index_split.cuh"
#include "window_geometry.h"

namespace {

constexpr int kThreads = 256;

using Geom = JtWindow;

// The output range [lo, hi] along one axis whose windows contain input coordinate x (padded xp = x + p):
// o sH <= xp <= o sH + k - 1.
// 64-bit throughout: x + p and a + s - 1 can exceed INT_MAX.
__device__ __forceinline__ void covering(int x, int p, int k, int s, int out, int* lo, int* hi) {
    const int64_t xp = (int64_t)x + p;
    const int64_t a = xp - k + 1;  // o >= ceil(a / s)
    *lo = a <= 0 ? 0 : (int)((a + s - 1) / s);
    const int64_t b = xp / s;
    *hi = b < out - 1 ? (int)b : out - 1;
}

template <class Index>
__global__ void max_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t* __restrict__ idx,
                                   int64_t total, Geom g) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += stride) {
        int i, j;
        int64_t plane;
        jt_split_plane<Index>(o, g.ow, g.oh, &j, &i, &plane);
        const float* xp = x + plane * ((int64_t)g.h * g.w);
        // 64-bit window origin and offsets: i * sh and h * w can exceed INT_MAX.
        const int64_t h0 = (int64_t)i * g.sh - g.ph;
        const int64_t w0 = (int64_t)j * g.sw - g.pw;
        const int64_t u0 = h0 < 0 ? -h0 : 0;
        const int64_t u1 = g.kh < g.h - h0 ? g.kh : g.h - h0;
        const int64_t v0 = w0 < 0 ? -w0 : 0;
        const int64_t v1 = g.kw < g.w - w0 ? g.kw : g.w - w0;
        float best = -INFINITY;
        int64_t bi = -1;
        for (int64_t u = u0; u < u1; ++u) {
            const int64_t row = (h0 + u) * g.w;
            for (int64_t v = v0; v < v1; ++v) {
                const int64_t at = row + w0 + v;
                const float val = xp[at];
                if (bi < 0 || val > best || val != val) {
                    best = val;
                    bi = at;
                }
            }
        }
        y[o] = best;
        if (idx != nullptr) idx[o] = bi;
    }
}

// Also checks the indices when err is set: thread e checks indices[e] for e < checks (= the output count), so
// every index is read once, even one whose window no input element covers (a gather never looks at it).
template <class Index>
__global__ void max_backward_kernel(const float* __restrict__ dy, const int64_t* __restrict__ idx,
                                    float* __restrict__ dx, int64_t total, Geom g, int64_t checks,
                                    JtDeviceError* err, unsigned long long tag) {
    const int64_t hw = (int64_t)g.h * g.w;
    const int64_t ohw = (int64_t)g.oh * g.ow;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t end = total > checks ? total : checks;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < end; e += stride) {
        if (e < checks) {
            const int64_t at = idx[e];
            if (at < 0 || at >= hw) jt_device_error_record(err, tag, e, at, hw);
        }
        if (e >= total) continue;
        int ww, hh;
        int64_t plane;
        jt_split_plane<Index>(e, g.w, g.h, &ww, &hh, &plane);
        const int64_t me = (int64_t)hh * g.w + ww;
        const float* dyp = dy + plane * ohw;
        const int64_t* ip = idx + plane * ohw;
        int ilo, ihi, jlo, jhi;
        covering(hh, g.ph, g.kh, g.sh, g.oh, &ilo, &ihi);
        covering(ww, g.pw, g.kw, g.sw, g.ow, &jlo, &jhi);
        float acc = 0.0f;
        for (int i = ilo; i <= ihi; ++i) {
            for (int j = jlo; j <= jhi; ++j) {
                const int64_t o = (int64_t)i * g.ow + j;
                if (ip[o] == me) acc += dyp[o];
            }
        }
        dx[e] = acc;
    }
}

__global__ void max_backward_scatter_kernel(const float* __restrict__ dy, const int64_t* __restrict__ idx,
                                            float* __restrict__ dx, int64_t total, int64_t hw, int64_t ohw,
                                            JtDeviceError* err, unsigned long long tag) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += stride) {
        const int64_t at = idx[o];
        if (at < 0 || at >= hw) {  // never an atomicAdd outside the plane
            jt_device_error_record(err, tag, o, at, hw);
            continue;
        }
        atomicAdd(dx + (o / ohw) * hw + at, dy[o]);
    }
}

__global__ void zero_kernel(float* __restrict__ p, int64_t n) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) p[i] = 0.0f;
}

template <class Index>
__global__ void avg_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total, Geom g,
                                   double inv) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < total; o += stride) {
        int i, j;
        int64_t plane;
        jt_split_plane<Index>(o, g.ow, g.oh, &j, &i, &plane);
        const float* xp = x + plane * ((int64_t)g.h * g.w);
        // 64-bit window origin and offsets: i * sh and h * w can exceed INT_MAX.
        const int64_t h0 = (int64_t)i * g.sh - g.ph;
        const int64_t w0 = (int64_t)j * g.sw - g.pw;
        const int64_t u0 = h0 < 0 ? -h0 : 0;
        const int64_t u1 = g.kh < g.h - h0 ? g.kh : g.h - h0;
        const int64_t v0 = w0 < 0 ? -w0 : 0;
        const int64_t v1 = g.kw < g.w - w0 ? g.kw : g.w - w0;
        double sum = 0.0;
        for (int64_t u = u0; u < u1; ++u) {
            const float* row = xp + (h0 + u) * g.w + w0;
            for (int64_t v = v0; v < v1; ++v) sum += row[v];
        }
        y[o] = (float)(sum * inv);
    }
}

template <class Index>
__global__ void avg_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx, int64_t total, Geom g,
                                    float div) {
    const int64_t ohw = (int64_t)g.oh * g.ow;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride) {
        int ww, hh;
        int64_t plane;
        jt_split_plane<Index>(e, g.w, g.h, &ww, &hh, &plane);
        const float* dyp = dy + plane * ohw;
        int ilo, ihi, jlo, jhi;
        covering(hh, g.ph, g.kh, g.sh, g.oh, &ilo, &ihi);
        covering(ww, g.pw, g.kw, g.sw, g.ow, &jlo, &jhi);
        float acc = 0.0f;
        for (int i = ilo; i <= ihi; ++i) {
            for (int j = jlo; j <= jhi; ++j) acc += dyp[(int64_t)i * g.ow + j] / div;
        }
        dx[e] = acc;
    }
}

bool make_geom(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, Geom* g) {
    if ((int64_t)kh * kw > 0x7FFFFFFF) return false;
    return jt_window_make(n, c, h, w, kh, kw, sh, sw, ph, pw, g);
}

}  // namespace

extern "C" cudaError_t jt_pool_max_forward(const float* x, float* y, int64_t* indices, int n, int c, int h, int w,
                                           int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(x != nullptr && y != nullptr);
    const int64_t total = (int64_t)n * c * g.oh * g.ow;
    if (jt_fits_32(total)) {
        LAUNCH(max_forward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, y, indices, total, g);
    } else {
        LAUNCH(max_forward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, y, indices, total, g);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_pool_max_backward(const float* dy, const int64_t* indices, float* dx, int n, int c, int h,
                                            int w, int kh, int kw, int sh, int sw, int ph, int pw, JtDeviceError* err,
                                            cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(dy != nullptr && indices != nullptr && dx != nullptr);
    const int64_t total = (int64_t)n * c * h * w;
    const int64_t checks = err ? (int64_t)n * c * g.oh * g.ow : 0;
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_POOL_MAX_BACKWARD_INDEX) : 0ull;
    const int64_t threads_needed = total > checks ? total : checks;
    if (jt_fits_32(total)) {
        LAUNCH(max_backward_kernel<uint32_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, dx, total, g, checks, err, tag);
    } else {
        LAUNCH(max_backward_kernel<int64_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, dx, total, g, checks, err, tag);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_pool_max_backward_scatter(const float* dy, const int64_t* indices, float* dx, int n, int c,
                                                    int h, int w, int oh, int ow, JtDeviceError* err,
                                                    cudaStream_t stream) {
    JT_REQUIRE(n >= 1 && c >= 1 && h >= 1 && w >= 1 && oh >= 1 && ow >= 1);
    JT_REQUIRE(dy != nullptr && indices != nullptr && dx != nullptr);
    const int64_t planes = (int64_t)n * c;
    const int64_t hw = (int64_t)h * w;
    const int64_t ohw = (int64_t)oh * ow;
    LAUNCH(zero_kernel, jt_grid_1d(planes * hw, kThreads), kThreads, 0, stream)(dx, planes * hw);
    cudaError_t e = JT_LAUNCH_STATUS();
    if (e != cudaSuccess) return e;
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_POOL_MAX_SCATTER_INDEX) : 0ull;
    LAUNCH(max_backward_scatter_kernel, jt_grid_1d(planes * ohw, kThreads), kThreads, 0, stream)(
        dy, indices, dx, planes * ohw, hw, ohw, err, tag);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_pool_avg_forward(const float* x, float* y, int n, int c, int h, int w, int kh, int kw,
                                           int sh, int sw, int ph, int pw, cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(x != nullptr && y != nullptr);
    const int64_t total = (int64_t)n * c * g.oh * g.ow;
    const double inv = 1.0 / ((double)kh * (double)kw);
    if (jt_fits_32(total)) {
        LAUNCH(avg_forward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, y, total, g, inv);
    } else {
        LAUNCH(avg_forward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, y, total, g, inv);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_pool_avg_backward(const float* dy, float* dx, int n, int c, int h, int w, int kh, int kw,
                                            int sh, int sw, int ph, int pw, cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(dy != nullptr && dx != nullptr);
    const int64_t total = (int64_t)n * c * h * w;
    const float div = (float)(kh * kw);
    if (jt_fits_32(total)) {
        LAUNCH(avg_backward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(dy, dx, total, g, div);
    } else {
        LAUNCH(avg_backward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(dy, dx, total, g, div);
    }
    return JT_LAUNCH_STATUS();
}
