// kernels/gemm.cu: C = alpha op(A) op(B) + beta C (+ bias, ReLU) against a float64 reference, for every
// tile configuration (both kernel versions), every transposition, awkward sizes (1, 7, 33, 127, 129, 255,
// 257, 1 x n, m x 1, k = 1, k not a multiple of the k-step), padded leading dimensions, aligned and
// misaligned pointers, split-K off, forced and automatic. Padding of A, B and C holds NaN / a sentinel, so a
// read outside the matrix shows up as NaN and a write outside it as a changed sentinel; the split-K
// workspace is followed by sentinels too.
// jt_gemm_sgemm_batched: every item bit for bit equal to jt_gemm_sgemm_config on that item alone (same
// configuration), against the float64 reference, shared (stride 0) A or B, gaps between C items untouched,
// the invalid arguments, batch 0, and a batch beyond the grid's z limit.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "gemm.h"
#include "launch_config.h"
#include "test_util.h"

namespace {

constexpr float kSentinel = 12345.0f;

bool same_bits(const std::vector<float>& x, const std::vector<float>& y);

struct Opts {
    int config = JT_GEMM_CONFIG_AUTO;
    int ta = 0, tb = 0;
    int m = 1, n = 1, k = 1;
    int pad = 0;        // extra columns in every leading dimension; -1: each ld rounded up to a multiple of 4, + 4
    int offset = 0;     // floats added to every base pointer (1 makes them misaligned for float4)
    float alpha = 1.f, beta = 0.f;
    bool bias = false, relu = false;
    bool integer = false;  // small integers: every product and sum is exact in float32
    int splits = 1;        // != 1: jt_gemm_sgemm_ex with this splits argument (0 = automatic) and a workspace
};

std::string describe(const Opts& o) {
    char buf[256];
    snprintf(buf, sizeof buf,
             "gemm cfg=%d %c%c m=%d n=%d k=%d pad=%d off=%d alpha=%g beta=%g bias=%d relu=%d int=%d splits=%d",
             o.config, o.ta ? 'T' : 'N', o.tb ? 'T' : 'N', o.m, o.n, o.k, o.pad, o.offset, o.alpha, o.beta, o.bias,
             o.relu, o.integer, o.splits);
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
    if (o.splits == 1) {
        CHECK_CUDA(jt_gemm_sgemm_config(o.config, o.ta, o.tb, o.m, o.n, o.k, o.alpha, dA.get() + o.offset, lda,
                                        dB.get() + o.offset, ldb, o.beta, dC.get() + o.offset, ldc,
                                        o.bias ? dBias.get() + o.offset : nullptr, o.relu, 0));
    } else {
        // The workspace the call needs (JT_GEMM_WORKSPACE_BYTES for the automatic choice, as callers pass),
        // followed by sentinels that must survive.
        const size_t need = o.splits == 0 ? JT_GEMM_WORKSPACE_BYTES
                                          : jt_gemm_splitk_workspace_bytes(o.config, o.splits, o.m, o.n, o.k);
        CHECK(need != (size_t)-1, what + ": workspace size");
        const size_t wsFloats = need / sizeof(float);
        std::vector<float> ws(wsFloats + 64, kSentinel);
        jt_test::DeviceBuffer<float> dWs(ws);
        CHECK_CUDA(jt_gemm_sgemm_ex(o.config, o.splits, o.ta, o.tb, o.m, o.n, o.k, o.alpha, dA.get() + o.offset, lda,
                                    dB.get() + o.offset, ldb, o.beta, dC.get() + o.offset, ldc,
                                    o.bias ? dBias.get() + o.offset : nullptr, o.relu, need ? dWs.get() : nullptr,
                                    need, 0));
        const std::vector<float> wsAfter = dWs.download();
        size_t overrun = 0;
        for (size_t q = wsFloats; q < wsAfter.size(); ++q) overrun += wsAfter[q] != kSentinel;
        CHECK_EQ(overrun, 0u, what + ": wrote past the workspace");
    }
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
            // scale mag = sum |terms|; 2e-6 mag is ~30 ulp of it (k <= 1000; 4e-6 up to k = 4096, where
            // sqrt(k) 2^-24 is 3.8e-6), while a missing or doubled term (about mag / k with these O(1)
            // inputs) is at least 60x larger. Split-K sums the same terms in another order: same bound.
            const double tol = o.integer ? 0.0 : (o.k > 1000 ? 4e-6 : 2e-6) * mag + 1e-30;
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


// The sizes of the brief: 1, 7, 33, 127, 129, 255, 257 for m and n, k = 1 and k off every k-step, skinny
// 1 x n and m x 1; every version-2 configuration (what AUTO picks from) and AUTO. Configuration, k and the
// layout variant rotate with the case number (the full cross product is too slow on emu).
void test_odd_sizes() {
    jt_test::Rng rng(31);
    const int dims[] = {1, 7, 33, 127, 129, 255, 257};
    const int ks[] = {1, 9, 33, 127, 257, 17};
    const int configs[] = {JT_GEMM_CONFIG_AUTO, JT_GEMM_CONFIG_128x128, JT_GEMM_CONFIG_64x64, JT_GEMM_CONFIG_32x64,
                           JT_GEMM_CONFIG_64x32};
    int idx = 0;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (int m : dims)
                for (int n : dims) {
                    Opts o;
                    o.ta = ta;
                    o.tb = tb;
                    o.m = m;
                    o.n = n;
                    o.k = ks[idx % 6];
                    o.config = configs[idx % 5];
                    switch (idx % 3) {
                        case 0: o.integer = true; break;
                        case 1: o.pad = 3; o.alpha = -0.75f; o.beta = 0.5f; break;
                        default: o.pad = -1; o.beta = 0.f; o.bias = true; o.relu = true; break;
                    }
                    run(o, rng);
                    ++idx;
                }
    // Skinny outputs and k = 1 at sizes where interior tiles exist.
    const int skinny[][3] = {{1, 1000, 65}, {1000, 1, 65}, {300, 300, 1}, {2, 513, 40}, {513, 3, 40}};
    for (const auto& sz : skinny)
        for (int config : configs)
            for (int t = 0; t < 4; ++t) {
                Opts o;
                o.config = config;
                o.ta = t & 1;
                o.tb = t >> 1;
                o.m = sz[0];
                o.n = sz[1];
                o.k = sz[2];
                o.integer = (t & 1) == 0;
                o.beta = 0.5f;
                run(o, rng);
            }
}

// Split-K: forced slice counts on every version-2 configuration (awkward sizes, the training shapes), the
// automatic choice with and without a workspace, and determinism (two runs, the same bits).
void test_split_k() {
    jt_test::Rng rng(37);
    const int v2[] = {JT_GEMM_CONFIG_AUTO, JT_GEMM_CONFIG_128x128, JT_GEMM_CONFIG_64x64, JT_GEMM_CONFIG_32x64,
                      JT_GEMM_CONFIG_64x32};
    const int shapes[][3] = {{33, 129, 257}, {1, 257, 1000}, {257, 1, 300}, {129, 127, 40}, {7, 7, 7}};
    const int splits[] = {2, 3, 16};
    int idx = 0;
    for (const auto& sz : shapes)
        for (int config : v2)
            for (int sp : splits) {
                Opts o;
                o.config = config;
                o.splits = sp;
                o.ta = idx & 1;
                o.tb = (idx >> 1) & 1;
                o.m = sz[0];
                o.n = sz[1];
                o.k = sz[2];
                switch (idx % 3) {
                    case 0: o.integer = true; break;                                           // exact sums
                    case 1: o.pad = 3; o.alpha = -0.75f; o.beta = 0.5f; o.offset = 1; break;  // scalar paths
                    default: o.pad = -1; o.beta = 0.f; o.bias = true; o.relu = true; break;   // NaN in C ignored
                }
                run(o, rng);
                ++idx;
            }
    // The training shapes (MLP 784-512-512-10 at batch 128), automatic split-K, all three transpositions.
    const int training[][3] = {{128, 784, 512}, {128, 512, 512}, {128, 512, 784}, {512, 784, 128}, {128, 10, 512}};
    for (const auto& sz : training)
        for (int t = 0; t < 3; ++t) {  // NN, NT, TN
            Opts o;
            o.splits = 0;
            o.ta = t == 2;
            o.tb = t == 1;
            o.m = sz[0];
            o.n = sz[1];
            o.k = sz[2];
            o.beta = t == 2 ? 1.f : 0.f;  // the weight gradient accumulates
            o.bias = t == 0;
            run(o, rng);
        }
    // Without a workspace the automatic path does not split (and still computes the right thing).
    {
        Opts o;
        o.splits = 0;
        o.m = 128, o.n = 512, o.k = 512;
        o.integer = true;
        CHECK(jt_gemm_auto_splits(jt_gemm_auto_config(128, 512, 1), 128, 512, 512, 1) > 1, "128x512x512 splits");
        run(o, rng);  // with the workspace
        const int m = 64, n = 64, k = 256;
        std::vector<float> a(m * k), b(k * n), c(m * n, NAN);
        for (size_t q = 0; q < a.size(); ++q) a[q] = (float)(q % 5) - 2.f;
        for (size_t q = 0; q < b.size(); ++q) b[q] = (float)(q % 7) - 3.f;
        jt_test::DeviceBuffer<float> dA(a), dB(b), dC(c), dRef(c);
        CHECK_CUDA(jt_gemm_sgemm_ex(0, 0, 0, 0, m, n, k, 1.f, dA.get(), k, dB.get(), n, 0.f, dC.get(), n, nullptr, 0,
                                    nullptr, 0, 0));
        CHECK_CUDA(jt_gemm_sgemm_config(0, 0, 0, m, n, k, 1.f, dA.get(), k, dB.get(), n, 0.f, dRef.get(), n, nullptr, 0,
                                        0));
        CHECK(same_bits(dC.download(), dRef.download()), "split-K auto without workspace = no split");
    }
    // Deterministic: the same call twice gives the same bits (random floats: order-sensitive sums).
    {
        const int m = 96, n = 200, k = 1000;
        std::vector<float> a(m * k), b(k * n), c(m * n, 0.f);
        for (float& x : a) x = rng.uniform(-1.f, 1.f);
        for (float& x : b) x = rng.uniform(-1.f, 1.f);
        const size_t need = jt_gemm_splitk_workspace_bytes(JT_GEMM_CONFIG_64x64, 16, m, n, k);
        CHECK(need == (size_t)16 * m * n * sizeof(float), "16 slices of 1000 (64 deep, the last 40)");
        jt_test::DeviceBuffer<float> dA(a), dB(b), dC1(c), dC2(c), dWs(need / sizeof(float));
        for (jt_test::DeviceBuffer<float>* out : {&dC1, &dC2}) {
            CHECK_CUDA(jt_gemm_sgemm_ex(JT_GEMM_CONFIG_64x64, 16, 0, 1, m, n, k, 1.f, dA.get(), k, dB.get(), k, 0.f,
                                        out->get(), n, nullptr, 0, dWs.get(), need, 0));
        }
        CHECK(same_bits(dC1.download(), dC2.download()), "split-K deterministic");
    }
}

// The automatic choice (launch_config.h): tiles and slices for the shapes the brief names.
void test_chooser() {
    CHECK_EQ(jt_gemm_auto_config(4096, 4096, 1), (int)JT_GEMM_CONFIG_128x128, "4096^2: 128x128");
    CHECK_EQ(jt_gemm_auto_config(128, 512, 1), (int)JT_GEMM_CONFIG_64x64, "128x512: 64x64");
    CHECK_EQ(jt_gemm_auto_config(10, 512, 1), (int)JT_GEMM_CONFIG_32x64, "10x512: 32x64");
    CHECK_EQ(jt_gemm_auto_config(128, 10, 1), (int)JT_GEMM_CONFIG_64x32, "128x10: 64x32");
    CHECK_EQ(jt_gemm_auto_config(128, 512, 100), (int)JT_GEMM_CONFIG_128x128, "a batch fills the GPU");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 128, 512, 512, 1), 4, "128x512x512: 4 slices of 128");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 128, 784, 512, 1), 4, "128x784x512: 4 slices");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 128, 512, 784, 1), 6, "128x512x784: 6 slices of 144");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 512, 784, 128, 1), 1, "512x784x128: k too short");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 128, 512, 512, 2), 1, "batches never split");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_128x128, 4096, 4096, 4096, 1), 1, "enough tiles: no split");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_V1_64x64, 128, 512, 512, 1), 1, "version 1 never splits");
    CHECK_EQ(jt_gemm_auto_splits(JT_GEMM_CONFIG_64x64, 128, 512, 100, 1), 1, "k too short to split");
    // The partials never exceed the workspace.
    for (int mn : {100, 500, 1000, 2000})
        for (int k : {64, 1000, 100000}) {
            const size_t need = jt_gemm_splitk_workspace_bytes(JT_GEMM_CONFIG_AUTO, 0, mn, mn / 2 + 1, k);
            CHECK(need <= JT_GEMM_WORKSPACE_BYTES, "auto workspace within JT_GEMM_WORKSPACE_BYTES");
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
    // Split-K: a negative count, version 1, no or too small a workspace for a forced split.
    const size_t ws = jt_gemm_splitk_workspace_bytes(JT_GEMM_CONFIG_64x64, 2, 4, 4, 128);  // 2 slices of 64
    CHECK_EQ(ws, (size_t)2 * 4 * 4 * sizeof(float), "two slices of 4x4");
    jt_test::DeviceBuffer<float> big(1024);
    float* q = big.get();
    CHECK_STATUS(jt_gemm_sgemm_ex(2, -1, 0, 0, 4, 4, 128, 1.f, q, 128, q, 4, 0.f, p, 4, nullptr, 0, p + 32, ws, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm_ex(JT_GEMM_CONFIG_V1_64x64, 2, 0, 0, 4, 4, 128, 1.f, q, 128, q, 4, 0.f, p, 4, nullptr, 0,
                                  p + 32, ws, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm_ex(2, 2, 0, 0, 4, 4, 128, 1.f, q, 128, q, 4, 0.f, p, 4, nullptr, 0, nullptr, ws, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_gemm_sgemm_ex(2, 2, 0, 0, 4, 4, 128, 1.f, q, 128, q, 4, 0.f, p, 4, nullptr, 0, p + 32, ws - 4, 0),
                 cudaErrorInvalidValue);
    CHECK_CUDA(jt_gemm_sgemm_ex(2, 2, 0, 0, 4, 4, 128, 1.f, q, 128, q, 4, 0.f, p, 4, nullptr, 0, p + 32, ws, 0));
    CHECK_EQ(jt_gemm_splitk_workspace_bytes(JT_GEMM_CONFIG_COUNT, 2, 4, 4, 4), (size_t)-1, "bad config");
    CHECK_EQ(jt_gemm_splitk_workspace_bytes(2, 2, 4, 4, 16), (size_t)0, "k of one slice: no split");
}


// ------------------------------------------------------------------ strided-batched

struct BOpts {
    int config = JT_GEMM_CONFIG_AUTO;
    int ta = 0, tb = 0;
    int m = 1, n = 1, k = 1, batch = 1;
    bool shareA = false, shareB = false;  // stride 0: one matrix for every item
    int gapA = 0, gapB = 0, gapC = 0;      // elements between consecutive items (odd gaps misalign them)
    int pad = 0;                           // extra columns in every leading dimension
    float alpha = 1.f, beta = 0.f;
    bool integer = false;
};

std::string describe(const BOpts& o) {
    char buf[256];
    snprintf(buf, sizeof buf,
             "batched cfg=%d %c%c m=%d n=%d k=%d batch=%d shareA=%d shareB=%d gaps=%d/%d/%d pad=%d alpha=%g "
             "beta=%g int=%d",
             o.config, o.ta ? 'T' : 'N', o.tb ? 'T' : 'N', o.m, o.n, o.k, o.batch, o.shareA, o.shareB, o.gapA, o.gapB,
             o.gapC, o.pad, o.alpha, o.beta, o.integer);
    return buf;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && (x.empty() || memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0);
}

void run_batched(const BOpts& o, jt_test::Rng& rng) {
    const int rowsA = o.ta ? o.k : o.m, colsA = o.ta ? o.m : o.k;
    const int rowsB = o.tb ? o.n : o.k, colsB = o.tb ? o.k : o.n;
    const int lda = colsA + o.pad, ldb = colsB + o.pad, ldc = o.n + o.pad;
    const int64_t extA = (int64_t)(rowsA - 1) * lda + colsA;
    const int64_t extB = (int64_t)(rowsB - 1) * ldb + colsB;
    const int64_t extC = (int64_t)(o.m - 1) * ldc + o.n;
    const int64_t sA = o.shareA ? 0 : extA + o.gapA, sB = o.shareB ? 0 : extB + o.gapB, sC = extC + o.gapC;
    const int items = o.batch > 0 ? o.batch : 1;
    auto value = [&]() { return o.integer ? (float)((int)(rng.uniform() * 7.0) - 3) : rng.uniform(-1.f, 1.f); };

    // Everything outside the items' matrices is NaN in A and B (a stray read poisons a result) and the
    // sentinel in C (a stray write shows).
    std::vector<float> a((size_t)((items - 1) * sA + extA), NAN), b((size_t)((items - 1) * sB + extB), NAN);
    std::vector<float> c0((size_t)((items - 1) * sC + extC), kSentinel);
    for (int t = 0; t < items; ++t) {
        for (int r = 0; r < rowsA; ++r)
            for (int c = 0; c < colsA; ++c) a[t * sA + (size_t)r * lda + c] = value();
        for (int r = 0; r < rowsB; ++r)
            for (int c = 0; c < colsB; ++c) b[t * sB + (size_t)r * ldb + c] = value();
        for (int i = 0; i < o.m; ++i)
            for (int j = 0; j < o.n; ++j) c0[t * sC + (size_t)i * ldc + j] = o.beta == 0.f ? NAN : value();
    }

    const std::string what = describe(o);
    jt_test::DeviceBuffer<float> dA(a), dB(b), dC(c0), dSingle(c0);
    CHECK_CUDA(jt_gemm_sgemm_batched(o.config, o.ta, o.tb, o.m, o.n, o.k, o.alpha, dA.get(), lda, sA, dB.get(), ldb, sB,
                                     o.beta, dC.get(), ldc, sC, o.batch, 0));
    const std::vector<float> c = dC.download();
    if (o.batch == 0) {
        CHECK(same_bits(c, c0), what + ": batch 0 changed C");
        return;
    }

    // The same items one GEMM at a time, with the same configuration: identical bits everywhere (items and gaps).
    for (int t = 0; t < o.batch; ++t) {
        CHECK_CUDA(jt_gemm_sgemm_config(o.config, o.ta, o.tb, o.m, o.n, o.k, o.alpha, dA.get() + t * sA, lda,
                                        dB.get() + t * sB, ldb, o.beta, dSingle.get() + t * sC, ldc, nullptr, 0, 0));
    }
    CHECK(same_bits(c, dSingle.download()), what + ": differs from per-item jt_gemm_sgemm_config");

    size_t bad = 0;
    double worstExcess = -1, worstGot = 0, worstWant = 0;
    int worstT = 0, worstI = 0, worstJ = 0;
    for (int t = 0; t < o.batch; ++t) {
        const float* at = a.data() + t * sA;
        const float* bt = b.data() + t * sB;
        for (int i = 0; i < o.m; ++i) {
            for (int j = 0; j < o.n; ++j) {
                double dot = 0, mag = 0;
                for (int p = 0; p < o.k; ++p) {
                    const double x = o.ta ? at[(size_t)p * lda + i] : at[(size_t)i * lda + p];
                    const double y = o.tb ? bt[(size_t)j * ldb + p] : bt[(size_t)p * ldb + j];
                    dot += x * y;
                    mag += fabs(x * y);
                }
                const size_t ci = t * sC + (size_t)i * ldc + j;
                double want = o.alpha * dot;
                mag *= fabs(o.alpha);
                if (o.beta != 0.f) {
                    want += (double)o.beta * c0[ci];
                    mag += fabs((double)o.beta * c0[ci]);
                }
                // Tolerance as in run(): exact for integers; else ~30 ulp of the magnitude scale, far below
                // one missing or doubled term.
                const double tol = o.integer ? 0.0 : 2e-6 * mag + 1e-30;
                const double got = c[ci];
                const double excess = isnan(got) ? INFINITY : fabs(got - want) - tol;
                if (excess > 0) {
                    if (excess > worstExcess) {
                        worstExcess = excess;
                        worstT = t, worstI = i, worstJ = j;
                        worstGot = got;
                        worstWant = want;
                    }
                    ++bad;
                }
            }
        }
    }
    if (!CHECK(bad == 0, what)) {
        fprintf(stderr, "  %zu bad elements; worst item %d (%d, %d): got %.9g want %.9g\n", bad, worstT, worstI, worstJ,
                worstGot, worstWant);
    }
    // C outside the items (row padding and the gaps between items) keeps the sentinel.
    std::vector<char> inside(c.size(), 0);
    for (int t = 0; t < o.batch; ++t)
        for (int i = 0; i < o.m; ++i)
            for (int j = 0; j < o.n; ++j) inside[t * sC + (size_t)i * ldc + j] = 1;
    size_t touched = 0;
    for (size_t q = 0; q < c.size(); ++q) touched += !inside[q] && c[q] != kSentinel;
    CHECK_EQ(touched, 0u, what + ": C outside the items written");
}

void test_batched_shapes() {
    jt_test::Rng rng(23);
    const int dims[] = {1, 7, 33, 127, 130};
    const int batches[] = {1, 3, 17};
    // Every (m, n, k) and transposition; the batch, configuration and layout variants rotate with the case
    // number, so each of them meets small and large sizes (the full cross product is too slow on emu).
    int idx = 0;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (int m : dims)
                for (int n : dims)
                    for (int k : dims) {
                        BOpts o;
                        o.ta = ta;
                        o.tb = tb;
                        o.m = m;
                        o.n = n;
                        o.k = k;
                        o.batch = batches[idx % 3];
                        o.config = 1 + (idx / 3) % 3;  // explicit, so per-item calls use the very same kernel
                        switch (idx % 5) {
                            case 0: o.integer = true; break;  // exact: any indexing slip is a wrong integer
                            case 1: o.shareA = true; o.gapC = 5; break;  // shared weights, odd gaps in C
                            case 2: o.shareB = true; o.gapA = 4; o.gapC = 8; o.beta = 0.5f; break;  // aligned gaps
                            case 3: o.gapA = 1; o.gapB = 3; o.pad = 3; o.alpha = -0.75f; o.beta = 1.f; break;
                            default: o.pad = 4; o.gapB = 4; o.integer = true; o.shareA = idx % 2; break;
                        }
                        run_batched(o, rng);
                        ++idx;
                    }
}

void test_batched_auto_and_special() {
    jt_test::Rng rng(29);
    // The automatic configuration (checked against the reference and per-item AUTO calls, which on emu pick
    // the same tile), and the convolution's shapes: y_i = W col_i, dcol_i = W^T dy_i, dW_i = dy_i col_i^T.
    const int shapes[][6] = {// m, n, k, ta, tb, batch
                             {8, 196, 9, 0, 0, 17},   {16, 49, 72, 0, 0, 5},  {72, 49, 16, 1, 0, 5},
                             {16, 72, 49, 0, 1, 5},   {130, 7, 33, 1, 1, 3},  {1, 130, 127, 0, 0, 3}};
    for (const auto& s : shapes) {
        BOpts o;
        o.m = s[0];
        o.n = s[1];
        o.k = s[2];
        o.ta = s[3];
        o.tb = s[4];
        o.batch = s[5];
        o.shareA = s[3] == 0 && s[4] == 0;
        run_batched(o, rng);
        o.integer = true;
        o.beta = 1.f;
        run_batched(o, rng);
    }
    // Both operands shared: every item computes the same product into its own C.
    BOpts o;
    o.m = 33, o.n = 7, o.k = 130, o.batch = 3, o.shareA = true, o.shareB = true, o.config = JT_GEMM_CONFIG_64x64;
    run_batched(o, rng);
    // Batch 0: nothing happens (C keeps NaN / sentinel bits).
    o.batch = 0;
    run_batched(o, rng);
}

// C items interleaved within the rows (strideC = n, ldc = batch n): accepted, and each item lands in its columns.
void test_batched_interleaved_c() {
    const int m = 5, n = 3, k = 4, batch = 4, ldc = batch * n;
    std::vector<float> a(m * k), b(batch * k * n), c0(m * ldc, kSentinel);
    for (size_t q = 0; q < a.size(); ++q) a[q] = (float)(q % 5) - 2.f;
    for (size_t q = 0; q < b.size(); ++q) b[q] = (float)(q % 7) - 3.f;
    jt_test::DeviceBuffer<float> dA(a), dB(b), dC(c0);
    CHECK_CUDA(jt_gemm_sgemm_batched(JT_GEMM_CONFIG_AUTO, 0, 0, m, n, k, 1.f, dA.get(), k, 0, dB.get(), n, k * n, 0.f,
                                     dC.get(), ldc, n, batch, 0));
    const std::vector<float> c = dC.download();
    size_t bad = 0;
    for (int t = 0; t < batch; ++t)
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
                double want = 0;  // small integers: exact
                for (int p = 0; p < k; ++p) want += (double)a[i * k + p] * b[t * k * n + p * n + j];
                bad += c[i * ldc + t * n + j] != (float)want;
            }
    CHECK_EQ(bad, 0u, "batched interleaved C");
}

// Beyond gridDim.z's 65535: the launcher splits the batch into chunks; every item computed exactly once.
void test_batched_huge_batch() {
    const int batch = 65535 + 65535 / 2 + 7;  // two chunks, the second partial
    std::vector<float> a(batch), b(batch), c0(batch);
    for (int t = 0; t < batch; ++t) {
        a[t] = (float)(t % 13) - 6.f;
        b[t] = (float)(t % 11) - 5.f;
        c0[t] = (float)(t % 7);
    }
    jt_test::DeviceBuffer<float> dA(a), dB(b), dC(c0);
    CHECK_CUDA(jt_gemm_sgemm_batched(JT_GEMM_CONFIG_32x64, 0, 0, 1, 1, 1, 2.f, dA.get(), 1, 1, dB.get(), 1, 1, 1.f,
                                     dC.get(), 1, 1, batch, 0));
    const std::vector<float> c = dC.download();
    size_t bad = 0;
    for (int t = 0; t < batch; ++t) bad += c[t] != 2.f * a[t] * b[t] + c0[t];  // small integers: exact
    CHECK_EQ(bad, 0u, "batched m = n = k = 1 over 65535 items");
}

void test_batched_invalid() {
    jt_test::DeviceBuffer<float> buf(256);
    float* p = buf.get();
    const cudaError_t bad = cudaErrorInvalidValue;
    // The valid call everything below varies: 4 items of 4x4x4 with separate A, B and C.
    CHECK_CUDA(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0));
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, -1, 0), bad);
    // Items accumulating into one C would race: strideC = 0 with batch > 1, and overlapping items.
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 1.f, p + 128, 4, 0, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 12, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 3, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 8, 4, 4, 0), bad);
    // ... while strideC = 0 for a single item is fine, and so is strideC = extent exactly (13 = 3 * 4 + 1 with n 1).
    CHECK_CUDA(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 0, 1, 0));
    CHECK_CUDA(jt_gemm_sgemm_batched(0, 0, 0, 4, 1, 4, 1.f, p, 4, 16, p + 64, 1, 4, 0.f, p + 128, 4, 13, 4, 0));
    // Negative strides.
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p + 64, 4, -16, p, 4, 16, 0.f, p + 128, 4, 16, 2, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, -16, 0.f, p + 128, 4, 16, 2, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 192, 4, -16, 2, 0), bad);
    // Null pointers.
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, nullptr, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0),
                 bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, nullptr, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, nullptr, 4, 16, 4, 0), bad);
    // The single-GEMM rules: sizes, leading dimensions, configuration.
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 0, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 0, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 0, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, p, 3, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 1, 0, 5, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 1, 4, 4, 5, 1.f, p, 5, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 5, 4, 1.f, p, 4, 16, p + 64, 5, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(JT_GEMM_CONFIG_COUNT, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128,
                                       4, 16, 4, 0),
                 bad);
    CHECK_STATUS(jt_gemm_sgemm_batched(-1, 0, 0, 4, 4, 4, 1.f, p, 4, 16, p + 64, 4, 16, 0.f, p + 128, 4, 16, 4, 0), bad);
    // Batch 0 is a no-op, with or without operands; its scalar arguments are still checked.
    CHECK_CUDA(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, nullptr, 4, 16, nullptr, 4, 16, 0.f, nullptr, 4, 0, 0, 0));
    CHECK_STATUS(jt_gemm_sgemm_batched(0, 0, 0, 4, 4, 4, 1.f, nullptr, 3, 16, nullptr, 4, 16, 0.f, nullptr, 4, 0, 0, 0),
                 bad);

    // The disjointness rule itself.
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 4, 16, 1000) == 1, "contiguous items");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 4, 0, 1) == 1, "one item");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 4, 0, 2) == 0, "strideC 0");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 6, 22, 2) == 1, "strideC = extent (3 * 6 + 4)");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 6, 21, 2) == 0, "strideC one short of the extent");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 12, 4, 3) == 1, "interleaved columns");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 12, 4, 4) == 0, "interleaved columns spilling into the next row");
    CHECK(jt_gemm_batch_c_disjoint(4, 4, 12, 3, 3) == 0, "interleaved columns overlapping");
    CHECK(jt_gemm_batch_c_disjoint(2, 1, 2147483647, 1, 2147483647) == 1, "huge batch interleaved, no overflow");
    CHECK(jt_gemm_batch_c_disjoint(2, 1, 2147483647, 2147483648LL, 2147483647) == 1, "huge stride, no overflow");
    CHECK(jt_gemm_batch_c_disjoint(2, 1, 2147483647, 2147483647, 2) == 0, "item 1 row 0 is item 0 row 1");
    CHECK(jt_gemm_batch_c_disjoint(2, 2, 2147483647, 1073741824, 3) == 0, "(batch - 1) strideC + n > ldc");
}

}  // namespace

int main() {
    test_invalid();
    test_chooser();
    test_all_shapes();
    test_odd_sizes();
    test_split_k();
    test_larger();
    test_batched_invalid();
    test_batched_interleaved_c();
    test_batched_shapes();
    test_batched_auto_and_special();
    test_batched_huge_batch();
    return jt_test::finish("test_gemm");
}
