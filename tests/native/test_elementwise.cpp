// kernels/elementwise.cu: fill, copy, scale, axpy, add, mul, sqrt, add-sign at awkward sizes, with aligned and
// misaligned pointers (float4 path and scalar path), in place, and guard elements around the range
// that must stay untouched.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common.cuh"
#include "elementwise.h"
#include "test_util.h"

namespace {

constexpr int kGuard = 5;         // guard floats after the range
constexpr float kGuardValue = -777.f;

// A device array of n floats starting `offset` floats into its allocation, guards after it.
struct Arr {
    jt_test::DeviceBuffer<float> buf;
    int offset;
    int64_t n;
    Arr(const std::vector<float>& v, int off) : buf(v.size() + off + kGuard), offset(off), n((int64_t)v.size()) {
        std::vector<float> h(v.size() + off + kGuard, kGuardValue);
        std::copy(v.begin(), v.end(), h.begin() + off);
        buf.upload(h);
    }
    float* p() const { return buf.get() + offset; }
    std::vector<float> get() const {
        std::vector<float> h = buf.download();
        return std::vector<float>(h.begin() + offset, h.begin() + offset + n);
    }
    bool guards_intact() const {
        std::vector<float> h = buf.download();
        for (int i = 0; i < offset; ++i)
            if (h[i] != kGuardValue) return false;
        for (int i = 0; i < kGuard; ++i)
            if (h[offset + n + i] != kGuardValue) return false;
        return true;
    }
};

void test_sizes(jt_test::Rng& rng) {
    for (int64_t n : {1, 3, 4, 7, 33, 127, 1000, 4099, (1 << 20) + 1}) {
        // (a, b, out) offsets: all aligned (float4 path), all misaligned, mixed (scalar path)
        const int offsets[][3] = {{0, 0, 0}, {1, 1, 1}, {0, 0, 3}, {4, 0, 0}};
        for (const auto& off : offsets) {
            const std::string what = "n=" + std::to_string(n) + " offsets " + std::to_string(off[0]) + "," +
                                     std::to_string(off[1]) + "," + std::to_string(off[2]);
            const std::vector<float> a = rng.uniform_vector(n, -2.f, 2.f), b = rng.uniform_vector(n, -2.f, 2.f);
            Arr A(a, off[0]), B(b, off[1]), O(std::vector<float>(n, 0.f), off[2]);
            std::vector<float> ref(n);

            // Single float32 operations: the kernel result equals the float-rounded exact value.
            CHECK_CUDA(jt_elementwise_add(A.p(), B.p(), O.p(), n, 0));
            for (int64_t i = 0; i < n; ++i) ref[i] = (float)((double)a[i] + b[i]);
            CHECK_ALL_CLOSE(O.get(), ref, 0.0, 0.0, "add " + what);

            CHECK_CUDA(jt_elementwise_mul(A.p(), B.p(), O.p(), n, 0));
            for (int64_t i = 0; i < n; ++i) ref[i] = (float)((double)a[i] * b[i]);
            CHECK_ALL_CLOSE(O.get(), ref, 0.0, 0.0, "mul " + what);

            CHECK_CUDA(jt_elementwise_copy(A.p(), O.p(), n, 0));
            CHECK_ALL_CLOSE(O.get(), a, 0.0, 0.0, "copy " + what);

            CHECK_CUDA(jt_elementwise_fill(O.p(), n, 0.375f, 0));
            CHECK_ALL_CLOSE(O.get(), std::vector<float>(n, 0.375f), 0.0, 0.0, "fill " + what);

            CHECK_CUDA(jt_elementwise_scale(O.p(), n, -3.f, 0));  // 0.375 * -3 is exact
            CHECK_ALL_CLOSE(O.get(), std::vector<float>(n, -1.125f), 0.0, 0.0, "scale " + what);

            // axpy: y = alpha x + y is an FMA on a GPU (one rounding) and a product and a sum on the
            // host (two: 2^-24 |alpha x| for the product, 2^-24 |result| for the sum): within
            // 2^-23 (|alpha x| + |y|) of the exact value.
            Arr Y(b, off[2]);
            const float alpha = 0.3f;
            CHECK_CUDA(jt_elementwise_axpy(alpha, A.p(), Y.p(), n, 0));
            std::vector<float> y = Y.get();
            size_t bad = 0;
            for (int64_t i = 0; i < n; ++i) {
                const double exact = (double)alpha * a[i] + b[i];
                bad += fabs(y[i] - exact) > 0x1p-23 * (fabs((double)alpha * a[i]) + fabs(b[i])) + 1e-30;
            }
            CHECK_EQ(bad, 0u, "axpy " + what);

            // sqrt: correctly rounded on both sides (IEEE sqrtf; nvcc's default -prec-sqrt=true), so exact.
            std::vector<float> sq_in(b);
            for (float& x : sq_in) x = fabsf(x);
            Arr SQ(sq_in, off[0]);
            CHECK_CUDA(jt_elementwise_sqrt(SQ.p(), O.p(), n, 0));
            for (int64_t i = 0; i < n; ++i) ref[i] = (float)sqrt((double)sq_in[i]);  // double sqrt rounded once = sqrtf
            CHECK_ALL_CLOSE(O.get(), ref, 0.0, 0.0, "sqrt " + what);

            // add-sign: lambda * sign(w) is exact, so grad + it is one float rounding on both sides.
            Arr G(b, off[2]);
            CHECK_CUDA(jt_elementwise_add_sign(0.25f, A.p(), G.p(), n, 0));
            for (int64_t i = 0; i < n; ++i) ref[i] = b[i] + 0.25f * (a[i] > 0 ? 1.f : (a[i] < 0 ? -1.f : a[i]));
            CHECK_ALL_CLOSE(G.get(), ref, 0.0, 0.0, "add_sign " + what);

            CHECK(A.guards_intact() && B.guards_intact() && O.guards_intact() && Y.guards_intact() && G.guards_intact(),
                  "guards untouched " + what);
        }
    }
}

void test_in_place(jt_test::Rng& rng) {
    const int64_t n = 1003;
    const std::vector<float> a = rng.uniform_vector(n), b = rng.uniform_vector(n);
    Arr A(a, 0), B(b, 0);
    CHECK_CUDA(jt_elementwise_add(A.p(), B.p(), A.p(), n, 0));  // out aliases a
    std::vector<float> ref(n);
    for (int64_t i = 0; i < n; ++i) ref[i] = a[i] + b[i];
    CHECK_ALL_CLOSE(A.get(), ref, 0.0, 0.0, "add in place");
    CHECK_CUDA(jt_elementwise_mul(B.p(), B.p(), B.p(), n, 0));  // all three alias
    for (int64_t i = 0; i < n; ++i) ref[i] = b[i] * b[i];
    CHECK_ALL_CLOSE(B.get(), ref, 0.0, 0.0, "mul in place (square)");
}

void test_copy_bits() {
    // Copy moves 32-bit words unchanged: NaN payloads, -0, denormals, and int64 data as 2n words.
    std::vector<float> v(9);
    const uint32_t words[] = {0x7fc00001u, 0xffa00000u, 0x80000000u, 0x00000001u, 0x7f800000u,
                              0x12345678u, 0xdeadbeefu, 0x00000000u, 0x7fbfffffu};
    memcpy(v.data(), words, sizeof words);
    jt_test::DeviceBuffer<float> src(v), dst(9);
    CHECK_CUDA(jt_elementwise_copy(src, dst, 9, 0));
    std::vector<float> got = dst.download();
    CHECK(memcmp(got.data(), words, sizeof words) == 0, "copy is bit-exact");
    std::vector<int64_t> longs = {-1, 1ll << 62, 42, -(1ll << 40), 7};
    jt_test::DeviceBuffer<int64_t> ls(longs), ld(5);
    CHECK_CUDA(jt_elementwise_copy(reinterpret_cast<const float*>(ls.get()), reinterpret_cast<float*>(ld.get()), 10, 0));
    CHECK(ld.download() == longs, "copy of int64 data as 2n words");
}

void test_add_sign_special() {
    // sign(+-0) = +-0 leaves grad as it is; NaN weights make NaN gradients (Java's Math.signum).
    const std::vector<float> w = {0.f, -0.f, NAN, 3.f, -2.f, 1e-40f, -1e-40f};
    const std::vector<float> g = {1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f};
    jt_test::DeviceBuffer<float> W(w), G(g);
    CHECK_CUDA(jt_elementwise_add_sign(0.5f, W, G, 7, 0));
    const std::vector<float> got = G.download();
    CHECK(got[0] == 1.f && got[1] == 2.f, "sign(+-0) adds nothing");
    CHECK(isnan(got[2]), "sign(NaN) is NaN");
    CHECK(got[3] == 4.5f && got[4] == 4.5f, "sign of +-x");
    CHECK(got[5] == 6.5f && got[6] == 6.5f, "denormal weights have a sign");
    CHECK_STATUS(jt_elementwise_add_sign(1.f, nullptr, G, 7, 0), cudaErrorInvalidValue);
}

void test_copy_rows(jt_test::Rng& rng) {
    // One part of a concatenation along dim 1: rows x cols taken from a src of stride ss into a dst of
    // stride ds at a column offset; everything else in dst stays as it was.
    struct Case { int rows; int64_t cols, ss, ds, off; };
    for (const Case& c : {Case{1, 1, 1, 1, 0}, Case{7, 3, 3, 10, 4}, Case{33, 127, 130, 300, 170}, Case{5, 1000, 1000, 1001, 1},
                          Case{1000, 7, 9, 7, 0}}) {
        const std::vector<float> src = rng.uniform_vector((size_t)c.rows * c.ss);
        const std::vector<float> dst0 = rng.uniform_vector((size_t)c.rows * c.ds + c.off);
        jt_test::DeviceBuffer<float> S(src), D(dst0);
        CHECK_CUDA(jt_elementwise_copy_rows(S.get(), c.ss, D.get() + c.off, c.ds, c.rows, c.cols, 0));
        std::vector<float> ref(dst0);
        for (int r = 0; r < c.rows; ++r)
            for (int64_t k = 0; k < c.cols; ++k) ref[c.off + r * c.ds + k] = src[r * c.ss + k];
        CHECK_ALL_CLOSE(D.download(), ref, 0.0, 0.0,
                        "copy_rows rows=" + std::to_string(c.rows) + " cols=" + std::to_string(c.cols));
    }
    jt_test::DeviceBuffer<float> b(8);
    CHECK_STATUS(jt_elementwise_copy_rows(b, 2, b, 3, 2, 3, 0), cudaErrorInvalidValue);  // src stride < cols
    CHECK_STATUS(jt_elementwise_copy_rows(nullptr, 3, b, 3, 2, 3, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_elementwise_copy_rows(nullptr, 0, nullptr, 0, 0, 0, 0));  // empty is a no-op
}

void test_invalid() {
    jt_test::DeviceBuffer<float> b(8);
    CHECK_STATUS(jt_elementwise_fill(nullptr, 8, 0.f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_fill(b, -1, 0.f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_copy(b, nullptr, 8, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_axpy(1.f, nullptr, b, 8, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_add(b, nullptr, b, 8, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_mul(b, b, nullptr, 8, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_scale(nullptr, 8, 2.f, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_elementwise_add(nullptr, nullptr, nullptr, 0, 0));  // empty is a no-op
}

}  // namespace

int main() {
    jt_test::Rng rng(13);
    test_invalid();
    test_copy_bits();
    test_add_sign_special();
    test_copy_rows(rng);
    test_in_place(rng);
    test_sizes(rng);
    return jt_test::finish("test_elementwise");
}
