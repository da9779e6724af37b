// im2col / col2im; see conv_im2col.h for the layout and contract.
//
// im2col: one thread per (n, c, i, j) output position, writing its kH kW column entries (for a fixed
// (u, v) neighbouring threads write neighbouring addresses). col2im: one thread per input element,
// gathering over the (u, v) whose window position (i, j) exists, so no two threads write the same
// element.
#include "conv_im2col.h"

#include "common.cuh"
#include "window_geometry.h"

namespace {

constexpr int kThreads = 256;

using Geom = JtWindow;

// Index: the type the flat position is split in (uint32_t when every position fits: a 32-bit divide is a
// few instructions on a GPU, a 64-bit one a long subroutine; int64_t otherwise). Addresses stay 64-bit.
template <class Index>
__global__ void im2col_kernel(const float* __restrict__ x, float* __restrict__ col, int64_t total, Geom g) {
    const int64_t p = (int64_t)g.oh * g.ow;
    const int64_t k = (int64_t)g.c * g.kh * g.kw;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t pos = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; pos < total; pos += stride) {
        const Index idx = (Index)pos;
        const Index row = idx / (Index)g.ow;
        const int j = (int)(idx - row * (Index)g.ow);
        const Index plane_i = row / (Index)g.oh;  // n * c + cc
        const int i = (int)(row - plane_i * (Index)g.oh);
        const Index nn_i = plane_i / (Index)g.c;
        const int cc = (int)(plane_i - nn_i * (Index)g.c);
        const int64_t plane = (int64_t)plane_i;
        const int64_t nn = (int64_t)nn_i;
        const float* xp = x + plane * g.h * g.w;
        float* out = col + nn * k * p + (int64_t)cc * g.kh * g.kw * p + (int64_t)i * g.ow + j;
        const int h0 = i * g.sh - g.ph;
        const int w0 = j * g.sw - g.pw;
        for (int u = 0; u < g.kh; ++u) {
            const int hh = h0 + u;
            const bool row_in = hh >= 0 && hh < g.h;
            for (int v = 0; v < g.kw; ++v) {
                const int ww = w0 + v;
                out[(int64_t)(u * g.kw + v) * p] = (row_in && ww >= 0 && ww < g.w) ? xp[(int64_t)hh * g.w + ww] : 0.0f;
            }
        }
    }
}

template <class Index>
__global__ void col2im_kernel(const float* __restrict__ col, float* __restrict__ dx, int64_t total, Geom g) {
    const int64_t p = (int64_t)g.oh * g.ow;
    const int64_t k = (int64_t)g.c * g.kh * g.kw;
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        const Index pos = (Index)idx;
        const Index row = pos / (Index)g.w;
        const int ww = (int)(pos - row * (Index)g.w);
        const Index plane_i = row / (Index)g.h;
        const int hh = (int)(row - plane_i * (Index)g.h);
        const Index nn_i = plane_i / (Index)g.c;
        const int cc = (int)(plane_i - nn_i * (Index)g.c);
        const int64_t nn = (int64_t)nn_i;
        const float* src = col + nn * k * p + (int64_t)cc * g.kh * g.kw * p;
        // 64-bit: u += sh and v += sw must not wrap for strides near INT_MAX.
        const int64_t hp = (int64_t)hh + g.ph;  // row in the padded input
        const int64_t wp = (int64_t)ww + g.pw;
        float acc = 0.0f;
        // u with (hp - u) % sh == 0 and 0 <= (hp - u) / sh < oh, ascending.
        for (int64_t u = hp % g.sh; u < g.kh && u <= hp; u += g.sh) {
            const int64_t i = (hp - u) / g.sh;
            if (i >= g.oh) continue;
            for (int64_t v = wp % g.sw; v < g.kw && v <= wp; v += g.sw) {
                const int64_t j = (wp - v) / g.sw;
                if (j >= g.ow) continue;
                acc += src[(u * g.kw + v) * p + i * g.ow + j];
            }
        }
        dx[idx] = acc;
    }
}

bool make_geom(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, Geom* g) {
    return jt_window_make(n, c, h, w, kh, kw, sh, sw, ph, pw, g);
}

}  // namespace

extern "C" cudaError_t jt_conv_im2col(const float* x, float* col, int n, int c, int h, int w, int kh, int kw, int sh,
                                      int sw, int ph, int pw, cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(x != nullptr && col != nullptr);
    const int64_t total = (int64_t)n * c * g.oh * g.ow;
    if (total <= (int64_t)UINT32_MAX) {
        LAUNCH(im2col_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, col, total, g);
    } else {
        LAUNCH(im2col_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, col, total, g);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_conv_col2im(const float* col, float* dx, int n, int c, int h, int w, int kh, int kw, int sh,
                                      int sw, int ph, int pw, cudaStream_t stream) {
    Geom g;
    JT_REQUIRE(make_geom(n, c, h, w, kh, kw, sh, sw, ph, pw, &g));
    JT_REQUIRE(col != nullptr && dx != nullptr);
    const int64_t total = (int64_t)n * c * h * w;
    if (total <= (int64_t)UINT32_MAX) {
        LAUNCH(col2im_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(col, dx, total, g);
    } else {
        LAUNCH(col2im_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(col, dx, total, g);
    }
    return JT_LAUNCH_STATUS();
}
