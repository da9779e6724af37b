// im2col / col2im (kernels/conv_im2col.cu) on emu against references written here from the
// definitions (FORMAT.md items 16-17): col[n][(c kH + u) kW + v][i OW + j] = xpad[n, c, i sH + u, j sW + v],
// floor output sizes, zero padding; col2im as the sum over every (u, v, i, j) that reads an element.
// Also: a convolution assembled from im2col and a float64 GEMM equals the direct cross-correlation,
// and col2im is the adjoint of im2col (<im2col(x), c> = <x, col2im(c)>).
#include <math.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "conv_im2col.h"
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
    {2, 3, 7, 9, 3, 3, 1, 1, 1, 1},  // same-size 3x3
    {1, 2, 6, 6, 3, 3, 2, 2, 1, 1},  // 6x6, 3x3/s2/p1 -> 3x3 (floor)
    {3, 5, 7, 9, 1, 1, 1, 1, 0, 0},  // 1x1
    {2, 1, 11, 4, 5, 3, 3, 2, 2, 1}, // rows and columns that do not fit are dropped
    {1, 4, 5, 8, 2, 3, 2, 1, 0, 1},  // rectangular kernel, unequal strides
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},  // one pixel
    {2, 2, 2, 3, 3, 3, 1, 2, 1, 1},  // kernel larger than the input, reached through padding
    {1, 3, 4, 4, 2, 2, 3, 3, 0, 0},  // stride larger than the kernel (skipped pixels)
    {1, 1, 3, 3, 1, 1, 1, 1, 2, 2},  // padding wider than the kernel: all-zero border columns
};

float xpad(const Geo& g, const std::vector<float>& x, int n, int c, int hh, int ww) {
    if (hh < 0 || hh >= g.h || ww < 0 || ww >= g.w) return 0.0f;
    return x[(((size_t)n * g.c + c) * g.h + hh) * g.w + ww];
}

void test_geometry(const Geo& g) {
    const std::string tag = g.tag();
    jt_test::Rng rng(7 + g.h * 13 + g.kh);
    const int oh = g.oh(), ow = g.ow();
    const size_t k = (size_t)g.c * g.kh * g.kw, p = (size_t)oh * ow;
    const size_t xn = (size_t)g.n * g.c * g.h * g.w, cn = (size_t)g.n * k * p;
    const std::vector<float> x = rng.uniform_vector(xn);
    jt_test::DeviceBuffer<float> dx(x), dcol(cn);
    dcol.fill_bytes(0xff);  // NaN everywhere: every element must be written
    CHECK_CUDA(jt_conv_im2col(dx, dcol, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    std::vector<double> colref(cn);
    for (int n = 0; n < g.n; ++n)
        for (int c = 0; c < g.c; ++c)
            for (int u = 0; u < g.kh; ++u)
                for (int v = 0; v < g.kw; ++v)
                    for (int i = 0; i < oh; ++i)
                        for (int j = 0; j < ow; ++j)
                            colref[(size_t)n * k * p + ((size_t)(c * g.kh + u) * g.kw + v) * p + (size_t)i * ow + j] =
                                xpad(g, x, n, c, i * g.sh - g.ph + u, j * g.sw - g.pw + v);
    const std::vector<float> col = dcol.download();
    CHECK_ALL_CLOSE(col, colref, 0.0, 0.0, tag + " im2col (a copy: exact)");

    // col2im of arbitrary columns: dx[n,c,y,x] = sum of the column entries that read (y, x).
    const std::vector<float> cin = rng.uniform_vector(cn);
    jt_test::DeviceBuffer<float> dc(cin), dout(xn);
    dout.fill_bytes(0xff);  // overwritten, not accumulated
    CHECK_CUDA(jt_conv_col2im(dc, dout, g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 0));
    std::vector<double> dref(xn, 0.0), dabs(xn, 0.0);
    for (int n = 0; n < g.n; ++n)
        for (int c = 0; c < g.c; ++c)
            for (int u = 0; u < g.kh; ++u)
                for (int v = 0; v < g.kw; ++v)
                    for (int i = 0; i < oh; ++i)
                        for (int j = 0; j < ow; ++j) {
                            const int hh = i * g.sh - g.ph + u, ww = j * g.sw - g.pw + v;
                            if (hh < 0 || hh >= g.h || ww < 0 || ww >= g.w) continue;
                            const double val = cin[(size_t)n * k * p + ((size_t)(c * g.kh + u) * g.kw + v) * p + (size_t)i * ow + j];
                            const size_t at = (((size_t)n * g.c + c) * g.h + hh) * g.w + ww;
                            dref[at] += val;
                            dabs[at] += fabs(val);
                        }
    const std::vector<float> got = dout.download();
    // A float sum of at most kH kW terms: |err| <= kH kW 2^-24 sum|terms|.
    for (size_t i = 0; i < xn; ++i)
        CHECK_CLOSE(got[i], dref[i], 0.0, g.kh * g.kw * 6e-8 * dabs[i] + 1e-30, tag + " col2im [" + std::to_string(i) + "]");

    // Adjoint: <im2col(x), cin> == <x, col2im(cin)>, both in double from the device results.
    double lhs = 0, rhs = 0, mag = 0;
    for (size_t i = 0; i < cn; ++i) {
        lhs += (double)col[i] * cin[i];
        mag += fabs((double)col[i] * cin[i]);
    }
    for (size_t i = 0; i < xn; ++i) rhs += (double)x[i] * got[i];
    CHECK_CLOSE(rhs, lhs, 0.0, 1e-6 * mag + 1e-12, tag + " col2im is the adjoint of im2col (float col2im sums)");

    // Conv forward through im2col + a float64 GEMM equals the direct cross-correlation.
    const int cout = 3;
    const std::vector<float> wts = rng.uniform_vector((size_t)cout * k);
    for (int n = 0; n < g.n; ++n) {
        const std::vector<float> coln(col.begin() + (ptrdiff_t)(n * k * p), col.begin() + (ptrdiff_t)((n + 1) * k * p));
        const std::vector<double> y = jt_test::gemm_ref(wts, coln, cout, (int)p, (int)k);
        std::vector<double> direct((size_t)cout * p, 0.0);
        for (int o = 0; o < cout; ++o)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    double s = 0;
                    for (int c = 0; c < g.c; ++c)
                        for (int u = 0; u < g.kh; ++u)
                            for (int v = 0; v < g.kw; ++v)
                                s += (double)wts[((size_t)o * g.c + c) * g.kh * g.kw + u * g.kw + v] *
                                     xpad(g, x, n, c, i * g.sh + u - g.ph, j * g.sw + v - g.pw);
                    direct[(size_t)o * p + (size_t)i * ow + j] = s;
                }
        // Both in double over the same products, different order: 1e-12.
        CHECK_ALL_CLOSE(y, direct, 1e-12, 1e-12, tag + " conv via im2col == direct, sample " + std::to_string(n));
    }
}

// Review item 1: col2im with a stride near INT_MAX used int u += sh, which wrapped to a negative
// index (SIGSEGV). n=c=h=w=1, kh=2, kw=1, sh=INT_MAX, ph=1: oh = ow = 1; the one pixel (padded row 1)
// is kernel row u=1 of output 0, so dx = col[1].
void test_col2im_huge_stride() {
    jt_test::DeviceBuffer<float> col(2), dx(1);
    col.upload(std::vector<float>{1.0f, 2.0f});  // layout (kh*kw, oh*ow) = (2, 1)
    CHECK_CUDA(jt_conv_col2im(col, dx, 1, 1, 1, 1, 2, 1, 2147483647, 1, 1, 0, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    const std::vector<float> g = dx.download();
    CHECK_CLOSE(g[0], 2.0, 0.0, 0.0, "col2im sh=INT_MAX: dx = col[1] (exact)");
}

void test_bad_arguments() {
    jt_test::DeviceBuffer<float> a(64), b(64);
    CHECK_STATUS(jt_conv_im2col(a, b, 1, 1, 2, 2, 3, 3, 1, 1, 0, 0, 0), cudaErrorInvalidValue);  // kernel > padded input
    CHECK_STATUS(jt_conv_im2col(a, b, 1, 1, 4, 4, 3, 3, 0, 1, 0, 0, 0), cudaErrorInvalidValue);  // stride 0
    CHECK_STATUS(jt_conv_col2im(a, b, 1, 1, 4, 4, 3, 3, 1, 1, -1, 0, 0), cudaErrorInvalidValue); // negative padding
    CHECK_STATUS(jt_conv_col2im(nullptr, b, 1, 1, 4, 4, 3, 3, 1, 1, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_conv_im2col(a, b, 0, 1, 4, 4, 3, 3, 1, 1, 0, 0, 0), cudaErrorInvalidValue);
}

}  // namespace

int main() {
    for (const Geo& g : kGeos) test_geometry(g);
    test_bad_arguments();
    test_col2im_huge_stride();
    return jt_test::finish("test_conv_im2col");
}
