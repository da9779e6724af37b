// Fractional max pooling; see pool_fractional.h for the contract and fractional_windows.h for the windows.
// Forward: one thread per output. Backward (gather, no atomics): one thread per segment of kSegment consecutive
// input elements of a row, which finds the windows over its row once and slides the column range along the
// segment, visiting the windows over each element in ascending output order; the same launch checks the indices
// in segments of kSegment consecutive outputs of a row. Both are grid-stride loops of 256 threads (jt_grid_1d,
// the same launch on emu and CUDA), with 32-bit position math when every input position fits (index_split.cuh).
#include "pool_fractional.h"

#include <math.h>

#include "common.cuh"
#include "fractional_windows.h"
#include "index_split.cuh"

namespace {

constexpr int kThreads = 256;
// Elements (backward) and indices (its check) per thread: the per-row work (split, samples, the row's
// windows) is paid once per segment instead of once per element.
constexpr int kSegment = 4;

struct FracGeom {
    int h, w, oh, ow, kh, kw;
    JtFractionalAxis rows, cols;  // alpha and 1/alpha of each axis, computed once by the launcher
};

// The two axes of a plane from its samples [u_w, u_h].
__device__ __forceinline__ void plane_axes(const float* __restrict__ samples, int64_t plane, const FracGeom& g,
                                           JtFractionalAxis* rows, JtFractionalAxis* cols) {
    *cols = jt_fractional_axis_with(g.cols, samples[2 * plane]);
    *rows = jt_fractional_axis_with(g.rows, samples[2 * plane + 1]);
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

// Checks indices of outputs (plane, i, j0 .. j0 + kSegment - 1): each must lie inside its own window.
template <class Index>
__device__ __forceinline__ void check_segment(const int64_t* __restrict__ idx, const float* __restrict__ samples,
                                              int64_t q, const FracGeom& g, int segs_per_out_row,
                                              JtDeviceError* err, unsigned long long tag) {
    int c, i;
    int64_t plane;
    jt_split_plane<Index>(q, segs_per_out_row, g.oh, &c, &i, &plane);
    JtFractionalAxis rows, cols;
    plane_axes(samples, plane, g, &rows, &cols);
    const int64_t hw = (int64_t)g.h * g.w;
    const int r0 = jt_fractional_axis_start(rows, i);
    const int j0 = c * kSegment;
    const int j1 = j0 + kSegment < g.ow ? j0 + kSegment : g.ow;
    const Index first = ((Index)plane * (Index)g.oh + (Index)i) * (Index)g.ow;  // output (plane, i, 0)
    for (int j = j0; j < j1; ++j) {
        const int c0 = jt_fractional_axis_start(cols, j);
        const int64_t at = idx[first + (Index)j];
        bool inside = at >= 0 && at < hw;
        if (inside) {  // at < h w: Index holds it
            const Index r = (Index)at / (Index)g.w, s = (Index)at - r * (Index)g.w;
            inside = (int64_t)r >= r0 && (int64_t)r < (int64_t)r0 + g.kh && (int64_t)s >= c0 &&
                     (int64_t)s < (int64_t)c0 + g.kw;
        }
        if (!inside) jt_device_error_record(err, tag, (int64_t)(first + (Index)j), at, hw);
    }
}

// dx for input elements (plane, r, s0 .. s0 + kSegment - 1). The windows over row r are rows [ilo, ihi]; the
// column range [jlo, jhi] slides right with s (both ends never decrease), re-evaluating a start only when an
// end moves. Each element adds the dy of the windows that chose it in output order (row-major), as the cpu.
template <class Index>
__device__ __forceinline__ void gather_segment(const float* __restrict__ dy, const int64_t* __restrict__ idx,
                                               const float* __restrict__ samples, float* __restrict__ dx,
                                               int64_t t, const FracGeom& g, int segs_per_row) {
    int c, r;
    int64_t plane;
    jt_split_plane<Index>(t, segs_per_row, g.h, &c, &r, &plane);
    JtFractionalAxis rows, cols;
    plane_axes(samples, plane, g, &rows, &cols);
    int ilo, ihi, jlo, jhi;
    jt_fractional_covering(rows, g.kh, r, &ilo, &ihi);
    const int s0 = c * kSegment;
    const int s1 = s0 + kSegment < g.w ? s0 + kSegment : g.w;
    jt_fractional_covering(cols, g.kw, s0, &jlo, &jhi);
    // The starts at the range's moving ends: window jlo drops out once it no longer reaches s (start < s - kw + 1),
    // window jhi + 1 joins once it starts at or before s (an index of ow stands for "no such window").
    int lo_start = jlo < g.ow ? jt_fractional_axis_start(cols, jlo) : 0;
    int next_start = jhi + 1 < g.ow ? jt_fractional_axis_start(cols, jhi + 1) : 0;
    const Index ohw = (Index)g.oh * (Index)g.ow;
    const float* dyp = dy + (Index)plane * ohw;
    const int64_t* ip = idx + (Index)plane * ohw;
    const Index row = (Index)r * (Index)g.w;
    float* dxp = dx + (Index)plane * ((Index)g.h * (Index)g.w) + row;
    for (int s = s0; s < s1; ++s) {
        while (jlo < g.ow && lo_start < s - g.kw + 1) {
            ++jlo;
            if (jlo < g.ow) lo_start = jt_fractional_axis_start(cols, jlo);
        }
        while (jhi + 1 < g.ow && next_start <= s) {
            ++jhi;
            if (jhi + 1 < g.ow) next_start = jt_fractional_axis_start(cols, jhi + 1);
        }
        const int64_t me = (int64_t)(row + (Index)s);
        float acc = 0.0f;
        for (int i = ilo; i <= ihi; ++i) {
            for (int j = jlo; j <= jhi; ++j) {
                const Index o = (Index)i * (Index)g.ow + (Index)j;
                if (ip[o] == me) acc += dyp[o];  // output order, as the cpu adds them
            }
        }
        dxp[s] = acc;
    }
}

// Thread t gathers segment t (t < segments) and checks index segment t (t < checks; 0 without a record), so
// every index is read once, even one whose window no input element reaches (a gather never looks at it).
template <class Index>
__global__ void fractional_max_backward_kernel(const float* __restrict__ dy, const int64_t* __restrict__ idx,
                                               const float* __restrict__ samples, float* __restrict__ dx,
                                               int64_t segments, int segs_per_row, int64_t checks,
                                               int segs_per_out_row, FracGeom g, JtDeviceError* err,
                                               unsigned long long tag) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t end = segments > checks ? segments : checks;
    for (int64_t t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; t < end; t += stride) {
        if (t < checks) check_segment<Index>(idx, samples, t, g, segs_per_out_row, err, tag);
        if (t < segments) gather_segment<Index>(dy, idx, samples, dx, t, g, segs_per_row);
    }
}

bool make_geom(int n, int c, int h, int w, int oh, int ow, int kh, int kw, FracGeom* g) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || oh < 1 || ow < 1 || kh < 1 || kw < 1) return false;
    if ((int64_t)oh + kh - 1 > h || (int64_t)ow + kw - 1 > w) return false;
    g->h = h;
    g->w = w;
    g->oh = oh;
    g->ow = ow;
    g->kh = kh;
    g->kw = kw;
    g->rows = jt_fractional_axis(0.0f, h, oh, kh);
    g->cols = jt_fractional_axis(0.0f, w, ow, kw);
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
    const int segs_per_row = (int)jt_ceil_div(w, kSegment);
    const int segs_per_out_row = (int)jt_ceil_div(ow, kSegment);
    const int64_t segments = (int64_t)n * c * h * segs_per_row;
    const int64_t checks = err ? (int64_t)n * c * oh * segs_per_out_row : 0;
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_POOL_FRACTIONAL_BACKWARD_INDEX) : 0ull;
    const int64_t threads_needed = segments > checks ? segments : checks;
    if (jt_fits_32((int64_t)n * c * h * w)) {  // every input position (and segment, and output) fits
        LAUNCH(fractional_max_backward_kernel<uint32_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, samples, dx, segments, segs_per_row, checks, segs_per_out_row, g, err, tag);
    } else {
        LAUNCH(fractional_max_backward_kernel<int64_t>, jt_grid_1d(threads_needed, kThreads), kThreads, 0, stream)(
            dy, indices, samples, dx, segments, segs_per_row, checks, segs_per_out_row, g, err, tag);
    }
    return JT_LAUNCH_STATUS();
}
