// Fractional max pooling (kernels/pool_fractional.cu) on emu against references written here: the window
// starts by torch's generate_intervals in float32 (written out again below, not taken from
// fractional_windows.h), the first maximum in row-major order (a NaN wins), indices h W + w within the plane,
// backward adding dy at each argmax in output order (overlapping windows add up). Awkward sizes: odd H/W,
// kernels 2 and 3 (and 3x2), ratios 0.5/0.6/0.7, one output row, plane counts that are no multiple of a
// block; data with ties, NaNs and -inf; samples at 0, just below 1, and outside [0, 1) (NaN included).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "fractional_windows.h"
#include "pool_fractional.h"
#include "test_util.h"

namespace {

// Java's (int) of a float (truncation, NaN -> 0, saturating): the reference's own copy.
int java_int(float v) {
    if (isnan(v)) return 0;
    if (v >= 2147483648.0f) return 2147483647;
    if (v <= -2147483648.0f) return (int)-2147483648LL;
    return (int)v;
}

// torch's generate_intervals (float32), clamped into the plane as the op documents.
std::vector<int> starts_ref(float u, int in, int out, int pool) {
    std::vector<int> seq(out);
    volatile float alpha = out > 1 ? (float)(in - pool) / (float)(out - 1) : 0.0f;  // float32, not x87/double
    for (int i = 0; i < out - 1; ++i) {
        volatile float a = (float)i + u;
        volatile float b = a * alpha;
        volatile float c = u * alpha;
        long long s = (long long)java_int(b) - java_int(c);
        seq[i] = (int)(s < 0 ? 0 : (s > in - pool ? in - pool : s));
    }
    seq[out - 1] = in - pool;
    return seq;
}

struct Case {
    int n, c, h, w, kh, kw, oh, ow;
    std::string tag() const {
        return "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w) +
               "] k" + std::to_string(kh) + "x" + std::to_string(kw) + " -> " + std::to_string(oh) + "x" +
               std::to_string(ow);
    }
};

const Case kCases[] = {
    {3, 5, 7, 9, 2, 2, 3, 4},        // ratio 0.5 on odd sizes, 15 planes
    {2, 3, 11, 13, 3, 3, 7, 9},      // ratio 0.7, kernel 3: overlapping windows
    {1, 7, 5, 5, 2, 2, 3, 3},        // ratio 0.6
    {2, 3, 10, 8, 3, 2, 5, 6},       // rectangular kernel, different ratios per axis
    {1, 2, 4, 5, 2, 2, 1, 2},        // one output row: only the last window (in - pool)
    {4, 37, 17, 19, 2, 2, 11, 13},   // 148 planes, 21164 outputs: many blocks, none a multiple of 256
    {1, 1, 3, 3, 3, 3, 1, 1},        // the window is the plane
    {2, 2, 9, 9, 2, 2, 8, 8},        // out + pool - 1 == in: alpha = 1, every start steps by one
};

enum class Data { kUniform, kTies, kSpecials };
enum class Samples { kUniform, kEdges, kOutside };

std::vector<float> make_input(jt_test::Rng& rng, size_t n, Data d) {
    std::vector<float> x = rng.uniform_vector(n, -2.0f, 2.0f);
    if (d == Data::kTies)
        for (auto& v : x) v = (float)(int)(rng.uniform() * 3.0);  // {0, 1, 2}
    if (d == Data::kSpecials)
        for (auto& v : x) {
            const double p = rng.uniform();
            if (p < 0.08) v = NAN;
            else if (p < 0.16) v = -INFINITY;
            else if (p < 0.24) v = 1.0f;  // ties with each other
        }
    return x;
}

std::vector<float> make_samples(jt_test::Rng& rng, size_t planes, Samples s) {
    std::vector<float> u = rng.uniform_vector(2 * planes, 0.0f, 1.0f);
    if (s == Samples::kEdges) {
        const float edge[] = {0.0f, 0.99999994f, 0.5f, 0.25f};
        for (size_t k = 0; k < u.size(); ++k) u[k] = edge[k % 4];
    }
    if (s == Samples::kOutside) {  // not what torch draws; the op clamps the windows into the plane
        const float odd[] = {-0.5f, 1.5f, NAN, 7.0f, -1e30f, INFINITY, 0.3f};
        for (size_t k = 0; k < u.size(); ++k) u[k] = odd[k % 7];
    }
    return u;
}

bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

void run_case(const Case& g, Data data, Samples smp) {
    const std::string tag = "fractional " + g.tag() +
                            (data == Data::kTies ? " ties" : data == Data::kSpecials ? " nan/-inf" : "") +
                            (smp == Samples::kEdges ? " edge samples" : smp == Samples::kOutside ? " odd samples" : "");
    jt_test::Rng rng(41 + g.h * 7 + g.kw * 3 + (int)data * 100 + (int)smp * 1000);
    const size_t planes = (size_t)g.n * g.c, hw = (size_t)g.h * g.w, ohw = (size_t)g.oh * g.ow;
    const std::vector<float> x = make_input(rng, planes * hw, data);
    const std::vector<float> u = make_samples(rng, planes, smp);

    // Reference forward: the first maximum, a NaN replacing (the last NaN wins).
    std::vector<float> yref(planes * ohw);
    std::vector<int64_t> iref(planes * ohw);
    for (size_t pl = 0; pl < planes; ++pl) {
        const std::vector<int> sw = starts_ref(u[2 * pl], g.w, g.ow, g.kw);
        const std::vector<int> sh = starts_ref(u[2 * pl + 1], g.h, g.oh, g.kh);
        for (int i = 0; i < g.oh; ++i)
            for (int j = 0; j < g.ow; ++j) {
                float best = -INFINITY;
                int64_t bi = (int64_t)sh[i] * g.w + sw[j];
                for (int r = sh[i]; r < sh[i] + g.kh; ++r)
                    for (int s = sw[j]; s < sw[j] + g.kw; ++s) {
                        const float v = x[pl * hw + (size_t)r * g.w + s];
                        if (v > best || isnan(v)) {
                            best = v;
                            bi = (int64_t)r * g.w + s;
                        }
                    }
                yref[pl * ohw + (size_t)i * g.ow + j] = best;
                iref[pl * ohw + (size_t)i * g.ow + j] = bi;
            }
    }
    jt_test::DeviceBuffer<float> dx(x), du(u), dy(planes * ohw);
    jt_test::DeviceBuffer<int64_t> di(planes * ohw);
    dy.fill_bytes(0xff);
    di.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_fractional_max_forward(dx, du, dy, di, g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, 0));
    const std::vector<float> y = dy.download();
    const std::vector<int64_t> idx = di.download();
    int64_t wrong_y = 0, wrong_i = 0;
    for (size_t o = 0; o < y.size(); ++o) {
        wrong_y += !same_bits(y[o], yref[o]);
        wrong_i += idx[o] != iref[o];
    }
    CHECK_EQ(wrong_y, 0, tag + " y (a copy of an input: same bits, NaN payloads included)");
    CHECK_EQ(wrong_i, 0, tag + " indices (exact)");
    jt_test::DeviceBuffer<float> dy2(planes * ohw);
    CHECK_CUDA(jt_pool_fractional_max_forward(dx, du, dy2, nullptr, g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, 0));
    const std::vector<float> y2 = dy2.download();
    CHECK(memcmp(y2.data(), y.data(), y.size() * sizeof(float)) == 0, tag + " y without indices (same bits)");

    // Backward: the float sum in output order (what the cpu does: bit-equal) and the float64 sum.
    const std::vector<float> gy = rng.uniform_vector(planes * ohw);
    std::vector<float> dxf(planes * hw, 0.0f);
    std::vector<double> dxd(planes * hw, 0.0), dxabs(planes * hw, 0.0);
    std::vector<int> hits(planes * hw, 0);
    for (size_t pl = 0; pl < planes; ++pl)
        for (size_t o = 0; o < ohw; ++o) {
            const size_t at = pl * hw + (size_t)iref[pl * ohw + o];
            dxf[at] += gy[pl * ohw + o];
            dxd[at] += gy[pl * ohw + o];
            dxabs[at] += fabs(gy[pl * ohw + o]);
            ++hits[at];
        }
    jt_test::DeviceBuffer<float> dgy(gy), ddx(planes * hw);
    ddx.fill_bytes(0xff);  // overwritten
    jt_test::ErrorRecord rec;
    CHECK_CUDA(jt_pool_fractional_max_backward(dgy, di, du, ddx, g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, rec, 0));
    CHECK_NO_DEVICE_ERROR(rec, tag + " backward, the forward's indices");
    const std::vector<float> gx = ddx.download();
    int64_t not_bit_equal = 0;
    for (size_t e = 0; e < gx.size(); ++e) not_bit_equal += !same_bits(gx[e], dxf[e]);
    CHECK_EQ(not_bit_equal, 0, tag + " dx = the float sum in output order (bit-equal)");
    // A float sum of `hits` terms: each addition rounds by at most 2^-24 of a partial sum <= sum |dy|.
    for (size_t e = 0; e < gx.size(); ++e)
        CHECK_CLOSE(gx[e], dxd[e], 0.0, hits[e] * 6e-8 * dxabs[e], tag + " dx vs float64 [" + std::to_string(e) + "]");
    ddx.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_fractional_max_backward(dgy, di, du, ddx, g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, nullptr,
                                               0));
    const std::vector<float> gx2 = ddx.download();
    CHECK(memcmp(gx2.data(), gx.data(), gx.size() * sizeof(float)) == 0, tag + " dx without a record (same bits)");

    // Bad indices: h w at the last output, -1 in the middle, an in-plane index outside its window at output 1
    // (when the plane has room for one). Each routes nothing and the smallest is recorded with the count.
    std::vector<int64_t> bad = iref;
    const size_t last = bad.size() - 1, mid = bad.size() / 2;
    bad[last] = (int64_t)hw;
    if (mid != last) bad[mid] = -1;
    if (bad.size() > 2 && mid != 1) {
        // outside output 1's window: a corner of the plane no window of the row/column reaches, if any
        const std::vector<int> sw = starts_ref(u[0], g.w, g.ow, g.kw);
        const std::vector<int> sh = starts_ref(u[1], g.h, g.oh, g.kh);
        const int i = (int)(1 / g.ow), j = (int)(1 % g.ow);
        for (int64_t at = 0; at < (int64_t)hw; ++at) {
            const int r = (int)(at / g.w), s = (int)(at % g.w);
            if (r < sh[i] || r >= sh[i] + g.kh || s < sw[j] || s >= sw[j] + g.kw) {
                bad[1] = at;
                break;
            }
        }
    }
    uint64_t count = 0;
    int64_t want_first = -1;
    int32_t want_value = 0;
    std::vector<float> badref(planes * hw, 0.0f);
    for (size_t o = 0; o < bad.size(); ++o) {
        if (bad[o] == iref[o]) {
            badref[(o / ohw) * hw + (size_t)bad[o]] += gy[o];
            continue;
        }
        if (want_first < 0) {
            want_first = (int64_t)o;
            want_value = (int32_t)bad[o];
        }
        ++count;
    }
    jt_test::DeviceBuffer<int64_t> dbad(bad);
    rec.clear();
    ddx.fill_bytes(0xff);
    CHECK_CUDA(jt_pool_fractional_max_backward(dgy, dbad, du, ddx, g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, rec,
                                               0));
    CHECK_DEVICE_ERROR(rec, JT_DEVERR_POOL_FRACTIONAL_BACKWARD_INDEX, want_first, want_value, count, (int64_t)hw,
                       tag + " bad indices recorded");
    const std::vector<float> gb = ddx.download();
    int64_t bad_bits = 0;
    for (size_t e = 0; e < gb.size(); ++e) bad_bits += !same_bits(gb[e], badref[e]);
    CHECK_EQ(bad_bits, 0, tag + " dx ignores bad indices (the rest bit-equal)");
}

// The 5x5 case of FractionalMaxPool2dTest worked out by hand: u_w = 0.9 -> columns 0, 1, 3; u_h = 0.5 ->
// rows 0, 2, 3; overlapping windows share maxima, whose gradients add.
void test_by_hand() {
    CHECK(jt_fractional_start(0.5f, 5, 3, 2, 0) == 0 && jt_fractional_start(0.5f, 5, 3, 2, 1) == 2 &&
              jt_fractional_start(0.5f, 5, 3, 2, 2) == 3,
          "starts u=0.5 in 5 out 3 pool 2: 0 2 3");
    CHECK(jt_fractional_start(0.9f, 5, 3, 2, 1) == 1, "starts u=0.9 in 5 out 3 pool 2: 0 1 3");
    CHECK(jt_fractional_start(0.25f, 10, 4, 3, 1) == 2 && jt_fractional_start(0.25f, 10, 4, 3, 2) == 5 &&
              jt_fractional_start(0.25f, 10, 4, 3, 3) == 7,
          "starts u=0.25 in 10 out 4 pool 3: 0 2 5 7");
    CHECK(jt_fractional_start(0.7f, 10, 1, 2, 0) == 8, "one window: in - pool");
    const std::vector<float> x = {1, 9, 2, 0, 3, 4, 5, 8, 7, 1, 0, 6, 3, 2, 9, 2, 1, 7, 4, 5, 8, 3, 0, 6, 2};
    jt_test::DeviceBuffer<float> dx(x), du(std::vector<float>{0.9f, 0.5f}), dy(9);
    jt_test::DeviceBuffer<int64_t> di(9);
    CHECK_CUDA(jt_pool_fractional_max_forward(dx, du, dy, di, 1, 1, 5, 5, 3, 3, 2, 2, 0));
    const std::vector<double> want = {9, 9, 7, 6, 7, 9, 8, 7, 6};
    CHECK_ALL_CLOSE(dy.download(), want, 0.0, 0.0, "by hand: y");
    jt_test::DeviceBuffer<float> gy(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}), gx(25);
    CHECK_CUDA(jt_pool_fractional_max_backward(gy, di, du, gx, 1, 1, 5, 5, 3, 3, 2, 2, nullptr, 0));
    std::vector<double> dxw(25, 0.0);
    dxw[1] = 1 + 2;  // (0,1): the maximum of two overlapping windows
    dxw[8] = 3;
    dxw[11] = 4;
    dxw[17] = 5 + 8;  // (3,2), twice
    dxw[14] = 6;
    dxw[20] = 7;
    dxw[23] = 9;
    CHECK_ALL_CLOSE(gx.download(), dxw, 0.0, 0.0, "by hand: dx (overlaps add up, exact)");
}

// The covering range (the backward's search: a guess from the inverted formula, then a walk) against a scan of
// the starts, for every position, over many samples and sizes, gaps (alpha > pool) and heavy overlap included,
// and samples outside [0, 1) (where the guess is far off and the walk does the work).
void test_covering() {
    jt_test::Rng rng(7);
    int64_t wrong = 0;
    for (int in = 1; in <= 40; ++in)
        for (int pool = 1; pool <= 4 && pool <= in; ++pool)
            for (int out = 1; out + pool - 1 <= in; ++out)
                for (int t = 0; t < 10; ++t) {
                    const float odd[] = {NAN, -1e30f, 7.5f, INFINITY};
                    const float u = t == 0 ? 0.0f : t == 1 ? 0.99999994f : t >= 6 ? odd[t - 6] : (float)rng.uniform();
                    const JtFractionalAxis ax = jt_fractional_axis(u, in, out, pool);
                    const std::vector<int> seq = starts_ref(u, in, out, pool);
                    for (int i = 0; i < out; ++i) wrong += jt_fractional_axis_start(ax, i) != seq[i];
                    for (int xpos = 0; xpos < in; ++xpos) {
                        int lo, hi, rlo = out, rhi = -1;
                        jt_fractional_covering(ax, pool, xpos, &lo, &hi);
                        for (int i = 0; i < out; ++i)
                            if (seq[i] <= xpos && xpos < seq[i] + pool) {
                                if (rlo == out) rlo = i;
                                rhi = i;
                            }
                        if (rhi < 0) wrong += lo <= hi;  // no window: an empty range
                        else wrong += lo != rlo || hi != rhi;
                    }
                }
    CHECK_EQ(wrong, 0, "starts and covering ranges vs a scan (in 1..40, pool 1..4, every out)");
}

void test_bad_arguments() {
    jt_test::DeviceBuffer<float> a(64), b(64), s(8);
    jt_test::DeviceBuffer<int64_t> i(64);
    // out + pool - 1 > in
    CHECK_STATUS(jt_pool_fractional_max_forward(a, s, b, i, 1, 1, 4, 4, 3, 3, 3, 3, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_fractional_max_forward(a, s, b, i, 1, 1, 4, 4, 0, 2, 2, 2, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_fractional_max_forward(a, nullptr, b, i, 1, 1, 4, 4, 2, 2, 2, 2, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_fractional_max_backward(a, i, s, b, 1, 1, 4, 4, 2, 2, 0, 2, nullptr, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_pool_fractional_max_backward(a, nullptr, s, b, 1, 1, 4, 4, 2, 2, 2, 2, nullptr, 0),
                 cudaErrorInvalidValue);
}

}  // namespace

int main() {
    for (const Case& g : kCases) {
        run_case(g, Data::kUniform, Samples::kUniform);
        run_case(g, Data::kTies, Samples::kEdges);
        run_case(g, Data::kSpecials, Samples::kUniform);
        run_case(g, Data::kUniform, Samples::kOutside);
    }
    test_by_hand();
    test_covering();
    test_bad_arguments();
    return jt_test::finish("test_pool_fractional");
}
