// Max and average pooling (kernels/pool.cu) on emu against references written here (FORMAT.md
// items 17-20): windows scanned row-major, the first maximum wins (strict >), indices h W + w within
// the (n, c) plane, floor output sizes, backward adding dy at each argmax (overlapping windows add
// up), avg dividing by kH kW. Inputs with many ties (values from {0, 1, 2}) and awkward shapes.
#include <math.h>
#include <stdio.h>
#include <sys/mman.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "pool.h"
#include "test_util.h"

namespace {

struct Geo {
    int n, c, h, w, kh, kw, sh, sw, ph, pw;
    int oh() const { return (h + 2 * ph - kh) / sh + 1; }
    int ow() const { return (w + 2 * pw - kw) / sw + 1; }
    std::string tag() const {
        return "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w) + "] k" +
               std::to_string(kh) + "x" + std::to_string(kw) + " s" + std::to_string(sh) + "," + std::to_string(sw) + " p" +
               std::to_string(ph) + "," + std::to_string(pw);
    }
};

const Geo kGeos[] = {
    {3, 5, 7, 9, 2, 2, 2, 2, 0, 0},  // 2x2/s2 on odd sizes: the last row/column dropped (floor)
    {2, 3, 7, 7, 3, 3, 2, 2, 0, 0},  // 3x3/s2: overlapping windows
    {1, 2, 6, 5, 3, 3, 1, 1, 1, 1},  // 3x3/s1/p1: every element in up to 9 windows
    {2, 1, 5, 8, 2, 3, 1, 2, 1, 1},  // rectangular, unequal strides, padding
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},  // one pixel
    {1, 2, 4, 4, 4, 4, 1, 1, 0, 0},  // global pooling
    {1, 1, 2, 3, 1, 1, 1, 1, 1, 1},  // windows entirely in the padding (max: -inf, index -1)
};

enum class Data { kUniform, kTies };

std::vector<float> make_input(jt_test::Rng& rng, size_t n, Data d) {
    std::vector<float> x = rng.uniform_vector(n, -2.0f, 2.0f);
    if (d == Data::kTies)
        for (auto& v : x) v = (float)(int)(rng.uniform() * 3.0);  // {0, 1, 2}
    return x;
}

void test_max(const Geo& g, Data data) {
    const std::string tag = "max " + g.tag() + (data == Data::kTies ? " ties" : "");
    jt_test::Rng rng(17 + g.h * 5 + g.kw + (data == Data::kTies ? 100 : 0));
    const int oh = g.oh(), ow = g.ow();
    const size_t planes = (size_t)g.n * g.c, hw = (size_t)g.h * g.w, ohw = (size_t)oh * ow;
    const std::vector<float> x = make_input(rng, planes * hw, data);
    jt_test::DeviceBuffer<float> dx(x), dy(planes * ohw);
    jt_test::DeviceBuffer<int64_t> di(planes * ohw);
    CHECK_CUDA(jt_pool_max_forward(dx, dy, di, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    std::vector<double> yref(planes * ohw);
    std::vector<int64_t> iref(planes * ohw);
    for (size_t pl = 0; pl < planes; ++pl)
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                double best = -INFINITY;
                int64_t bi = -1;
                for (int u = 0; u < g.kh; ++u)
                    for (int v = 0; v < g.kw; ++v) {
                        const int hh = i * g.sh - g.ph + u, ww = j * g.sw - g.pw + v;
                        if (hh < 0 || hh >= g.h || ww < 0 || ww >= g.w) continue;  // padding never wins
                        const double val = x[pl * hw + (size_t)hh * g.w + ww];
                        if (bi < 0 || val > best) {  // strict >: the first maximum stays
                            best = val;
                            bi = (int64_t)hh * g.w + ww;
                        }
                    }
                yref[pl * ohw + (size_t)i * ow + j] = best;
                iref[pl * ohw + (size_t)i * ow + j] = bi;
            }
    CHECK_ALL_CLOSE(dy.download(), yref, 0.0, 0.0, tag + " y (a copy: exact)");
    const std::vector<int64_t> idx = di.download();
    int64_t wrong = 0;
    for (size_t o = 0; o < idx.size(); ++o) wrong += idx[o] != iref[o];
    CHECK_EQ(wrong, 0, tag + " indices (exact)");
    // Without indices the values are the same.
    jt_test::DeviceBuffer<float> dy2(planes * ohw);
    CHECK_CUDA(jt_pool_max_forward(dx, dy2, nullptr, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    CHECK(dy2.download() == dy.download(), tag + " y without indices");

    // Backward: dx = 0, then dy[o] added at plane index idx[o] (sums in double here).
    const std::vector<float> gy = rng.uniform_vector(planes * ohw);
    std::vector<double> dxref(planes * hw, 0.0);
    std::vector<int> hits(planes * hw, 0);
    for (size_t pl = 0; pl < planes; ++pl)
        for (size_t o = 0; o < ohw; ++o) {
            const int64_t at = iref[pl * ohw + o];
            if (at < 0) continue;
            dxref[pl * hw + (size_t)at] += gy[pl * ohw + o];
            ++hits[pl * hw + (size_t)at];
        }
    jt_test::DeviceBuffer<float> dgy(gy), ddx(planes * hw);
    ddx.fill_bytes(0xff);  // overwritten
    CHECK_CUDA(jt_pool_max_backward(dgy, di, ddx, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, nullptr, 0));
    // A float sum of at most kH kW values of |dy| < 1: |err| <= hits 2^-24 per addition.
    const std::vector<float> gx = ddx.download();
    for (size_t e = 0; e < gx.size(); ++e)
        CHECK_CLOSE(gx[e], dxref[e], 0.0, hits[e] * 6e-8, tag + " dx gather [" + std::to_string(e) + "]");
    ddx.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_max_backward_scatter(dgy, di, ddx, g.n, g.c, g.h, g.w, oh, ow, nullptr, 0));
    const std::vector<float> sx = ddx.download();
    for (size_t e = 0; e < sx.size(); ++e)
        CHECK_CLOSE(sx[e], dxref[e], 0.0, hits[e] * 6e-8, tag + " dx scatter (atomics) [" + std::to_string(e) + "]");

    // With a device error record: the forward's indices are good except -1 (a window entirely in the padding,
    // which the cpu rejects too); the smallest such output is reported, by the gather as well, although no
    // input element's windows include it. dx is the same with and without the record.
    int64_t first = -1;
    uint64_t minus = 0;
    for (size_t o = 0; o < iref.size(); ++o) {
        if (iref[o] >= 0) continue;
        if (first < 0) first = (int64_t)o;
        ++minus;
    }
    jt_test::ErrorRecord rec;
    ddx.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_max_backward(dgy, di, ddx, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, rec, 0));
    CHECK_ALL_CLOSE(ddx.download(), gx, 0.0, 0.0, tag + " dx gather with a record (same bits)");
    if (first < 0) {
        CHECK_NO_DEVICE_ERROR(rec, tag + " gather, forward's indices");
    } else {
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_POOL_MAX_BACKWARD_INDEX, first, -1, minus, (int64_t)hw,
                           tag + " gather, windows in the padding");
    }
    rec.clear();
    CHECK_CUDA(jt_pool_max_backward_scatter(dgy, di, ddx, g.n, g.c, g.h, g.w, oh, ow, rec, 0));
    if (first < 0) {
        CHECK_NO_DEVICE_ERROR(rec, tag + " scatter, forward's indices");
    } else {
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_POOL_MAX_SCATTER_INDEX, first, -1, minus, (int64_t)hw,
                           tag + " scatter, windows in the padding");
    }

    // Bad indices: hw at the last output, -1 in the middle, 2^40 at output 0 (each when distinct).
    std::vector<int64_t> bad = iref;
    const size_t last = bad.size() - 1, mid = bad.size() / 2;
    bad[last] = (int64_t)hw;
    if (mid != last && mid != 0) bad[mid] = -1;
    if (last != 0) bad[0] = (int64_t)1 << 40;
    uint64_t count = 0;
    int64_t want_first = -1;
    int32_t want_value = 0;
    for (size_t o = 0; o < bad.size(); ++o) {
        if (bad[o] >= 0 && bad[o] < (int64_t)hw) continue;
        if (want_first < 0) {
            want_first = (int64_t)o;
            want_value = bad[o] > INT32_MAX ? INT32_MAX : (int32_t)bad[o];
        }
        ++count;
    }
    // The reference: the good indices' dy only (a bad index routes nothing).
    std::vector<double> badref(planes * hw, 0.0);
    for (size_t pl = 0; pl < planes; ++pl)
        for (size_t o = 0; o < ohw; ++o) {
            const int64_t at = bad[pl * ohw + o];
            if (at >= 0 && at < (int64_t)hw) badref[pl * hw + (size_t)at] += gy[pl * ohw + o];
        }
    jt_test::DeviceBuffer<int64_t> dbad(bad);
    for (int scatter = 0; scatter < 2; ++scatter) {
        const std::string how = scatter ? " scatter" : " gather";
        rec.clear();
        ddx.fill_bytes(0xff);
        if (scatter) {
            CHECK_CUDA(jt_pool_max_backward_scatter(dgy, dbad, ddx, g.n, g.c, g.h, g.w, oh, ow, rec, 0));
        } else {
            CHECK_CUDA(jt_pool_max_backward(dgy, dbad, ddx, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw,
                                            rec, 0));
        }
        CHECK_DEVICE_ERROR(rec, scatter ? JT_DEVERR_POOL_MAX_SCATTER_INDEX : JT_DEVERR_POOL_MAX_BACKWARD_INDEX,
                           want_first, want_value, count, (int64_t)hw, tag + how + " bad indices");
        // Sums of at most kH kW values of |dy| < 1 (float): |err| <= kH kW 6e-8.
        CHECK_ALL_CLOSE(ddx.download(), badref, 0.0, g.kh * g.kw * 6e-8, tag + how + " dx ignores bad indices");
    }
}

void test_avg(const Geo& g) {
    const std::string tag = "avg " + g.tag();
    jt_test::Rng rng(29 + g.h * 3 + g.kh);
    const int oh = g.oh(), ow = g.ow();
    const size_t planes = (size_t)g.n * g.c, hw = (size_t)g.h * g.w, ohw = (size_t)oh * ow;
    const std::vector<float> x = rng.uniform_vector(planes * hw);
    jt_test::DeviceBuffer<float> dx(x), dy(planes * ohw);
    CHECK_CUDA(jt_pool_avg_forward(dx, dy, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    std::vector<double> yref(planes * ohw, 0.0);
    const double div = (double)g.kh * g.kw;  // padding counts (count_include_pad)
    for (size_t pl = 0; pl < planes; ++pl)
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j) {
                double s = 0;
                for (int u = 0; u < g.kh; ++u)
                    for (int v = 0; v < g.kw; ++v) {
                        const int hh = i * g.sh - g.ph + u, ww = j * g.sw - g.pw + v;
                        if (hh >= 0 && hh < g.h && ww >= 0 && ww < g.w) s += x[pl * hw + (size_t)hh * g.w + ww];
                    }
                yref[pl * ohw + (size_t)i * ow + j] = s / div;
            }
    // Sum in double, one multiply by 1/(kH kW), one float rounding: within 1 ulp (rtol 1.2e-7).
    CHECK_ALL_CLOSE(dy.download(), yref, 1.2e-7, 1e-30, tag + " y");

    const std::vector<float> gy = rng.uniform_vector(planes * ohw);
    std::vector<double> dxref(planes * hw, 0.0);
    std::vector<int> hits(planes * hw, 0);
    for (size_t pl = 0; pl < planes; ++pl)
        for (int i = 0; i < oh; ++i)
            for (int j = 0; j < ow; ++j)
                for (int u = 0; u < g.kh; ++u)
                    for (int v = 0; v < g.kw; ++v) {
                        const int hh = i * g.sh - g.ph + u, ww = j * g.sw - g.pw + v;
                        if (hh < 0 || hh >= g.h || ww < 0 || ww >= g.w) continue;
                        dxref[pl * hw + (size_t)hh * g.w + ww] += gy[pl * ohw + (size_t)i * ow + j] / div;
                        ++hits[pl * hw + (size_t)hh * g.w + ww];
                    }
    jt_test::DeviceBuffer<float> dgy(gy), ddx(planes * hw);
    ddx.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_avg_backward(dgy, ddx, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    // Each term dy/(kH kW) rounded to float, then a float sum: (hits + 1) 2^-24 |dy|/(kH kW) at most.
    const std::vector<float> gx = ddx.download();
    for (size_t e = 0; e < gx.size(); ++e)
        CHECK_CLOSE(gx[e], dxref[e], 0.0, (hits[e] + 1) * 6e-8 / div + 1e-30, tag + " dx [" + std::to_string(e) + "]");
}

// The overlapping 3x3/s2 case of FORMAT.md item 19 by hand: a plane whose maximum sits where four
// windows meet receives the sum of their four dy.
void test_overlap_by_hand() {
    std::vector<float> x(25, 0.0f);
    x[2 * 5 + 2] = 9.0f;  // centre of a 5x5 plane: inside all four 3x3/s2 windows
    jt_test::DeviceBuffer<float> dx(x), dy(4);
    jt_test::DeviceBuffer<int64_t> di(4);
    CHECK_CUDA(jt_pool_max_forward(dx, dy, di, 1, 1, 5, 5, 3, 3, 2, 2, 0, 0, 0));
    const std::vector<int64_t> idx = di.download();
    for (int o = 0; o < 4; ++o) CHECK_EQ(idx[o], 12, "overlap: every window picks the centre");
    jt_test::DeviceBuffer<float> gy(std::vector<float>{1.0f, 2.0f, 4.0f, 8.0f}), gx(25);
    CHECK_CUDA(jt_pool_max_backward(gy, di, gx, 1, 1, 5, 5, 3, 3, 2, 2, 0, 0, nullptr, 0));
    const std::vector<float> g = gx.download();
    CHECK_CLOSE(g[12], 15.0, 0.0, 0.0, "overlap: the centre gets 1 + 2 + 4 + 8 (exact)");
    double rest = 0;
    for (int e = 0; e < 25; ++e)
        if (e != 12) rest += fabs(g[e]);
    CHECK_CLOSE(rest, 0.0, 0.0, 0.0, "overlap: zero elsewhere");
}

// Review item 2: covering() computed (a + s - 1) in int, which wrapped for a stride and padding near
// 2^30 (lo = -1), so backward read dy[-ow] / indices[-ow]. n=c=h=w=1, k=1, sh=1073741826,
// ph=1073741823: oh = 2, ow = 1, and the pixel is in no window, so dx must be 0. A sentinel sits at
// dy[-1] (and indices[-1] = 0, the pixel's own index) to catch the out-of-range read.
void test_covering_overflow() {
    jt_test::DeviceBuffer<float> dybuf(3), dx(1);
    jt_test::DeviceBuffer<int64_t> ibuf(3);
    dybuf.upload(std::vector<float>{42.0f, 1.0f, 2.0f});
    ibuf.upload(std::vector<int64_t>{0, -1, -1});
    dx.upload(std::vector<float>{-1.0f});
    CHECK_CUDA(jt_pool_avg_backward(dybuf.ptr + 1, dx, 1, 1, 1, 1, 1, 1, 1073741826, 1, 1073741823, 0, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CLOSE(dx.download()[0], 0.0, 0.0, 0.0, "avg backward huge stride/padding: pixel in no window");
    dx.upload(std::vector<float>{-1.0f});
    CHECK_CUDA(jt_pool_max_backward(dybuf.ptr + 1, ibuf.ptr + 1, dx, 1, 1, 1, 1, 1, 1, 1073741826, 1, 1073741823, 0,
                                    nullptr, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_CLOSE(dx.download()[0], 0.0, 0.0, 0.0, "max backward huge stride/padding: pixel in no window");
}

// Review item 3: forward offsets (h0 + u) * w were int, wrong for planes with h * w > 2^31.
// h = 2, w = 2^30 + 1, k = 1, sw = 2^30: outputs (i, j) read x[i w + j 2^30]; output (1, 1) is
// element 2^31 + 1. The input is a MAP_NORESERVE mapping; only the touched pages are backed.
void test_large_plane() {
#ifdef JT_EMU
    // The plane is host memory (mmap), not a device allocation: the emu's memory checker
    // (JTRAIN_EMU_RACECHECK=1) rightly refuses it (a GPU would fault on it too).
    if (jt_emu_checks() & JT_EMU_CHECK_MEMORY) {
        fprintf(stderr, "test_large_plane: skipped under the emu's memory checker (the plane is host memory)\n");
        return;
    }
#endif
    const int64_t w = (1LL << 30) + 1, hw = 2 * w;
    const size_t bytes = (size_t)hw * sizeof(float);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "test_large_plane: mmap of %zu bytes failed, skipped\n", bytes);
        return;
    }
    float* x = (float*)m;
    const int64_t at[4] = {0, 1LL << 30, w, w + (1LL << 30)};
    for (int k = 0; k < 4; ++k) x[at[k]] = 10.0f + k;
    jt_test::DeviceBuffer<float> y(4);
    jt_test::DeviceBuffer<int64_t> idx(4);
    CHECK_CUDA(jt_pool_max_forward(x, y, idx, 1, 1, 2, (int)w, 1, 1, 1, 1 << 30, 0, 0, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    const std::vector<float> yv = y.download();
    const std::vector<int64_t> iv = idx.download();
    for (int k = 0; k < 4; ++k) {
        CHECK_CLOSE(yv[k], 10.0 + k, 0.0, 0.0, "max forward, plane > 2^31 elements: value");
        CHECK_EQ(iv[k], at[k], "max forward, plane > 2^31 elements: 64-bit index");
    }
    CHECK_CUDA(jt_pool_avg_forward(x, y, 1, 1, 2, (int)w, 1, 1, 1, 1 << 30, 0, 0, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    const std::vector<float> ya = y.download();
    for (int k = 0; k < 4; ++k) CHECK_CLOSE(ya[k], 10.0 + k, 0.0, 0.0, "avg forward, plane > 2^31 elements");
    munmap(m, bytes);
}

void test_bad_arguments() {
    jt_test::DeviceBuffer<float> a(64), b(64);
    jt_test::DeviceBuffer<int64_t> i(64);
    CHECK_STATUS(jt_pool_max_forward(a, b, i, 1, 1, 2, 2, 3, 3, 1, 1, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_max_backward(a, nullptr, b, 1, 1, 4, 4, 2, 2, 2, 2, 0, 0, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_max_backward_scatter(a, i, b, 1, 1, 4, 4, 0, 2, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_avg_forward(a, b, 1, 0, 4, 4, 2, 2, 2, 2, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_avg_backward(a, b, 1, 1, 4, 4, 2, 2, 0, 2, 0, 0, 0), cudaErrorInvalidValue);
}

}  // namespace

int main() {
    for (const Geo& g : kGeos) {
        test_max(g, Data::kUniform);
        test_max(g, Data::kTies);
        test_avg(g);
    }
    test_overlap_by_hand();
    test_bad_arguments();
    test_covering_overflow();
    test_large_plane();
    return jt_test::finish("test_pool");
}
