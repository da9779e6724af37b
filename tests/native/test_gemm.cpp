// kernels/gemm.cu: C = alpha op(A) op(B) + beta C (+ bias, ReLU) against a float64 reference, for every
// tile configuration, every transposition, awkward sizes, padded leading dimensions, aligned and
// misaligned pointers. Padding of A, B and C holds NaN / a sentinel, so a read outside the matrix
// shows up as NaN and a write outside it as a changed sentinel.
#include <math.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "gemm.h"
#include "test_util.h"

namespace {

constexpr float kSentinel = 12345.0f;

struct Opts {
    int config = JT_GEMM_CONFIG_AUTO;
    int ta = 0, tb = 0;
    int m = 1, n = 1, k = 1;
    int pad = 0;        // extra columns in every leading dimension; -1: each ld rounded up to a multiple of 4, + 4
    int offset = 0;     // floats added to every base pointer (1 makes them misaligned for float4)
    float alpha = 1.f, beta = 0.f;
    bool bias = false, relu = false;
    bool integer = false;  // small integers: every product and sum is exact in float32
};

std::string describe(const Opts& o) {
    char buf[256];
    snprintf(buf, sizeof buf, "gemm cfg=%d %c%c m=%d n=%d k=%d pad=%d off=%d alpha=%g beta=%g bias=%d relu=%d int=%d",
             o.config, o.ta ? 'T' : 'N', o.tb ? 'T' : 'N', o.m, o.n, o.k, o.pad, o.offset, o.alpha, o.beta, o.bias,
             o.relu, o.integer);
    return buf;
}

void run(const Opts& o, jt_test::Rng& rng) {
    const int rowsA = o.ta ? o.k : o.m, colsA = o.ta ? o.m : o.k;
    const int rowsB = o.tb ? o.n : o.k, colsB = o.tb ? o.k : o.n;
    auto ld = [&](int cols) { return o.pad >= 0 ? cols + o.pad : (cols + 3) / 4 * 4 + 4; };
    const int lda = ld(colsA), ldb = ld(colsB), ldc = ld(o.n);
    auto value = [&]() { return o.integer ? (float)((int)(rng.uniform() * 7.0) - 3) : rng.uniform(-1.f, 1.f); };

    std::vector<float> a((size_t)rowsA * lda + o.offset, NAN), b((size_t)rowsB * ldb + o.offset, NAN);
    for (int r = 0; r < rowsA; ++r)
        for (int c = 0; c < colsA; ++c) a[o.offset + (size_t)r * lda + c] = value();
    for (int r = 0; r < rowsB; ++r)
        for (int c = 0; c < colsB; ++c) b[o.offset + (size_t)r * ldb + c] = value();
    std::vector<float> c0((size_t)o.m * ldc + o.offset, kSentinel);
    for (int i = 0; i < o.m; ++i)
        for (int j = 0; j < o.n; ++j) c0[o.offset + (size_t)i * ldc + j] = o.beta == 0.f ? NAN : value();
    std::vector<float> bias(o.n + o.offset, NAN);
    for (int j = 0; j < o.n; ++j) bias[o.offset + j] = value();

    auto A = [&](int i, int p) -> double {  // op(A)[i][p]
        return o.ta ? a[o.offset + (size_t)p * lda + i] : a[o.offset + (size_t)i * lda + p];
    };
    auto B = [&](int p, int j) -> double {  // op(B)[p][j]
        return o.tb ? b[o.offset + (size_t)j * ldb + p] : b[o.offset + (size_t)p * ldb + j];
    };

    jt_test::DeviceBuffer<float> dA(a), dB(b), dC(c0), dBias(bias);
    const std::string what = describe(o);
    CHECK_CUDA(jt_gemm_sgemm_config(o.config, o.ta, o.tb, o.m, o.n, o.k, o.alpha, dA.get() + o.offset, lda,
                                    dB.get() + o.offset, ldb, o.beta, dC.get() + o.offset, ldc,
                                    o.bias ? dBias.get() + o.offset : nullptr, o.relu, 0));
    std::vector<float> c = dC.download();

    size_t bad = 0, worstI = 0;
    double worstExcess = -1, worstGot = 0, worstWant = 0;
    for (int i = 0; i < o.m; ++i) {
        for (int j = 0; j < o.n; ++j) {
            double dot = 0, mag = 0;
            for (int p = 0; p < o.k; ++p) {
                dot += A(i, p) * B(p, j);
                mag += fabs(A(i, p) * B(p, j));
            }
            double want = o.alpha * dot;
            mag *= fabs(o.alpha);
            if (o.beta != 0.f) {
                want += (double)o.beta * c0[o.offset + (size_t)i * ldc + j];
                mag += fabs((double)o.beta * c0[o.offset + (size_t)i * ldc + j]);
            }
            if (o.bias) {
                want += bias[o.offset + j];
                mag += fabs(bias[o.offset + j]);
            }
            if (o.relu && want < 0) want = 0;
            // Tolerance: integer inputs are exact in float32 (|sums| < 2^24), so 0. Otherwise the kernel
            // is a float32 FMA chain over k terms: rounding error ~ sqrt(k) 2^-24 times the magnitude
            // scale mag = sum |terms|; 2e-6 mag is ~30 ulp of it, while a missing or doubled term
            // (about mag / k with these O(1) inputs, k <= 1000) is at least 500x larger.
            const double tol = o.integer ? 0.0 : 2e-6 * mag + 1e-30;
            const double got = c[o.offset + (size_t)i * ldc + j];
            const double excess = isnan(got) ? INFINITY : fabs(got - want) - tol;
            if (excess > 0) {
                if (excess > worstExcess) {
                    worstExcess = excess;
                    worstI = (size_t)i * o.n + j;
                    worstGot = got;
                    worstWant = want;
                }
                ++bad;
            }
        }
    }
    if (!CHECK(bad == 0, what)) {
        fprintf(stderr, "  %zu bad elements; worst (%zu, %zu): got %.9g want %.9g\n", bad, worstI / o.n,
                worstI % o.n, worstGot, worstWant);
    }
    // Padding of C (columns n..ldc-1 and the leading offset) is never written.
    size_t touched = 0;
    for (int i = 0; i < o.m; ++i)
        for (int j = o.n; j < ldc; ++j) touched += c[o.offset + (size_t)i * ldc + j] != kSentinel;
    for (int q = 0; q < o.offset; ++q) touched += c[q] != kSentinel;
    CHECK_EQ(touched, 0u, what + ": padding of C written");
}

void test_all_shapes() {
    jt_test::Rng rng(11);
    struct Size {
        int m, n, k;
    };
    const Size sizes[] = {{1, 1, 1},   {7, 1, 33},   {1, 7, 5},     {33, 7, 5},   {5, 33, 127},
                          {127, 33, 17}, {65, 130, 64}, {129, 127, 40}, {32, 64, 16}, {10, 70, 9}};
    for (int config = 0; config < JT_GEMM_CONFIG_COUNT; ++config)
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb)
                for (const Size& s : sizes) {
                    Opts o;
                    o.config = config;
                    o.ta = ta;
                    o.tb = tb;
                    o.m = s.m;
                    o.n = s.n;
                    o.k = s.k;
                    // exact products, aligned, no padding: any indexing slip shows as a wrong integer
                    o.integer = true;
                    run(o, rng);
                    // random floats, padded leading dims (ld % 4 != 0 -> scalar loads), alpha/beta
                    o.integer = false;
                    o.pad = 3;
                    o.alpha = -0.75f;
                    o.beta = 0.5f;
                    run(o, rng);
                    // aligned, every ld % 4 == 0 with padding (float4 loads/stores up to the edge, then
                    // scalar tails), beta = 0 over NaN, bias + ReLU
                    o.pad = -1;
                    o.alpha = 1.25f;
                    o.beta = 0.f;
                    o.bias = true;
                    o.relu = true;
                    run(o, rng);
                    // the same with misaligned base pointers (scalar everywhere), beta = 1
                    o.offset = 1;
                    o.beta = 1.f;
                    o.relu = false;
                    run(o, rng);
                }
}

void test_larger() {
    jt_test::Rng rng(5);
    // Sizes of the MLP 784-512-512-10 at batch 128 (forward NT, backward NN and TN) plus k = 1000,
    // and an output big enough for the heuristic to pick the 128x128 tile.
    const int shapes[][5] = {
        {128, 512, 784, 0, 1}, {128, 10, 512, 0, 1}, {128, 784, 512, 0, 0}, {512, 784, 128, 1, 0},
        {10, 512, 128, 1, 0},  {200, 300, 1000, 0, 0}, {1000, 1000, 7, 1, 1}, {2049, 2047, 3, 0, 1},
    };
    for (const auto& s : shapes) {
        Opts o;
        o.m = s[0];
        o.n = s[1];
        o.k = s[2];
        o.ta = s[3];
        o.tb = s[4];
        o.beta = 1.f;
        o.bias = true;
        run(o, rng);
        o.integer = true;
        o.beta = 0.f;
        o.relu = true;
        run(o, rng);
    }
}

void test_invalid() {
    jt_test::DeviceBuffer<float> buf(64);
    float* p = buf.get();
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 0, 4, 4, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 0, 4, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 4, 0, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 4, 4, 1.f, p, 3, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(1, 0, 5, 4, 4, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 1, 4, 4, 5, 1.f, p, 5, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 5, 4, 1.f, p, 4, p, 5, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 4, 4, 1.f, nullptr, 4, p, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 4, 4, 1.f, p, 4, nullptr, 4, 0.f, p, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm(0, 0, 4, 4, 4, 1.f, p, 4, p, 4, 0.f, nullptr, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm_config(JT_GEMM_CONFIG_COUNT, 0, 0, 4, 4, 4, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm_config(-1, 0, 0, 4, 4, 4, 1.f, p, 4, p, 4, 0.f, p, 4, nullptr, 0, 0),
                 cudaErrorInvalidValue);
    CHECK_CUDA(jt_gemm_sgemm(0, 0, 4, 4, 4, 1.f, p, 4, p + 16, 4, 0.f, p + 32, 4, nullptr, 0, 0));
}

}  // namespace

int main() {
    test_invalid();
    test_all_shapes();
    test_larger();
    return jt_test::finish("test_gemm");
}
