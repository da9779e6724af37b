// kernels/reduce.cu: sums (plain, squares with accumulate, |x|), count-equal, row argmax (first
// maximum, NaN wins), bias add and bias gradient along dim 1, against float64 references; and the
// determinism of every float result (bit-identical whatever order the emulated threads run in).
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <string>
#include <algorithm>
#include <vector>

#include "common.cuh"
#include "elementwise.h"
#include "launch_config.h"
#include "reduce.h"
#include "test_util.h"

namespace {

enum SumKind { kSum, kSumSquares, kSumAbs };

// Runs one sum and returns out[0].
float run_sum(SumKind kind, const float* x, int64_t n, float* out, int accumulate, void* ws) {
    switch (kind) {
        case kSum: CHECK_CUDA(jt_reduce_sum(x, n, out, ws, 0)); break;
        case kSumSquares: CHECK_CUDA(jt_reduce_sum_squares(x, n, out, accumulate, ws, 0)); break;
        case kSumAbs: CHECK_CUDA(jt_reduce_sum_abs(x, n, out, ws, 0)); break;
    }
    float v;
    cudaMemcpy(&v, out, sizeof v, cudaMemcpyDeviceToHost);
    return v;
}

bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

// dbias += the bias gradient on the current device's plan, with the workspace it asks for (test_channel_sum.cpp
// tests the plans of other devices).
cudaError_t bias_grad(const float* dy, int n, int c, int inner, float* db) {
    const size_t bytes = jt_reduce_bias_grad_workspace_bytes(n, c, inner);
    jt_test::DeviceBuffer<unsigned char> ws(bytes + 16);
    return jt_reduce_bias_grad(dy, n, c, inner, db, ws, bytes, 0);
}

void test_sums(jt_test::Rng& rng) {
    const char* names[] = {"sum", "sum_squares", "sum_abs"};
    jt_test::DeviceBuffer<unsigned char> ws(jt_reduce_workspace_bytes());
    // 16 Mi + 5: the most partials (2048 blocks of 8 Ki elements, 16 elements per thread-iteration).
    for (int64_t n : {0, 1, 3, 5, 7, 33, 127, 1000, 1023, 4097, 8193, 100003, (1 << 20) + 3, (1 << 24) + 5}) {
        std::vector<float> x = rng.uniform_vector(n, -1.f, 1.f);
        if (n > 5) x[5] = 1e4f;  // one large value among small ones
        jt_test::DeviceBuffer<float> dX(x), out(1);
        std::vector<jt_test::DeviceBuffer<float>> shifted;  // x at offsets 1, 2, 3 floats
        for (int off = 1; off < (n < ((int64_t)1 << 24) ? 4 : 2) && n > 0; ++off) {
            shifted.emplace_back((size_t)n + 4);
            CHECK_CUDA(cudaMemcpy(shifted.back().get() + off, x.data(), (size_t)n * sizeof(float), cudaMemcpyHostToDevice));
        }
        for (int kind = 0; kind < 3; ++kind) {
            double ref = 0, mag = 0;
            for (float v : x) {
                const double t = kind == kSum ? v : (kind == kSumSquares ? (double)v * v : fabs(v));
                ref += t;
                mag += fabs(t);
            }
            const std::string what = std::string(names[kind]) + " n=" + std::to_string(n);
            out.fill_bytes(0x7f);  // overwritten (not accumulated)
            const float got = run_sum((SumKind)kind, dX, n, out, 0, ws.get());
            // Summed in double, rounded once to float32: half an ulp (rtol 6e-8) plus the double
            // summation error of a fixed-order tree (in practice far below 1e-12 sum|terms|).
            CHECK_CLOSE(got, ref, 6e-8, 1e-12 * mag, what);
            // Same inputs, same launch shape: bit-identical, whatever order the threads run in.
            // (The largest n, there for the partial count, skips the repeats: the smaller ones cover them.)
            const bool repeat = n < ((int64_t)1 << 24);
            bool det = true;
#ifdef JT_EMU
            const int previous = jt_emu_set_order(0);
            for (int order : {0, 1, 2}) {
                if (!repeat) break;
                jt_emu_set_order(order);
                det = det && same_bits(run_sum((SumKind)kind, dX, n, out, 0, ws.get()), got);
            }
            jt_emu_set_order(previous);
#else
            det = same_bits(run_sum((SumKind)kind, dX, n, out, 0, ws.get()), got);
#endif
            CHECK(det, what + ": reproducible bits");
            // The input misaligned by 1-3 floats (element loads instead of float4): the same groups, the same bits.
            for (int off = 1; off < (repeat ? 4 : 2) && n > 0; ++off) {
                CHECK(same_bits(run_sum((SumKind)kind, shifted[off - 1].get() + off, n, out, 0, ws.get()), got),
                      what + " offset " + std::to_string(off) + ": the aligned input's bits");
            }
        }
        // sum of squares accumulates into out[0] when asked (global norms over several tensors).
        std::vector<float> start = {2.5f};
        out.upload(start);
        double sq = 0;
        for (float v : x) sq += (double)v * v;
        const float acc = run_sum(kSumSquares, dX, n, out, 1, ws.get());
        CHECK_CLOSE(acc, 2.5 + sq, 6e-8, 1e-12 * (2.5 + sq), "sum_squares accumulate n=" + std::to_string(n));
    }
}

void test_count_equal(jt_test::Rng& rng) {
    jt_test::DeviceBuffer<unsigned char> ws(jt_reduce_workspace_bytes());
    for (int64_t n : {0, 1, 3, 5, 7, 128, 1000, 1023, 4097, 70001}) {
        std::vector<int64_t> a(n), b(n);
        int64_t want = 0;
        for (int64_t i = 0; i < n; ++i) {
            a[i] = (int64_t)(rng.uniform() * 10);
            b[i] = rng.uniform() < 0.3 ? a[i] : a[i] + ((int64_t)1 << 40);  // differ only in high bits
            want += a[i] == b[i];
        }
        jt_test::DeviceBuffer<int64_t> dA(a), dB(b);
        jt_test::DeviceBuffer<float> out(1);
        CHECK_CUDA(jt_reduce_count_equal(dA, dB, n, out, ws, 0));
        // a count below 2^24 is exact in float32
        CHECK_EQ((int64_t)out.download()[0], want, "count_equal n=" + std::to_string(n));
        // misaligned by one int64 (8 bytes): element loads, the same count
        if (n > 0) {
            jt_test::DeviceBuffer<int64_t> sA((size_t)n + 1), sB((size_t)n + 1);
            CHECK_CUDA(cudaMemcpy(sA.get() + 1, a.data(), (size_t)n * 8, cudaMemcpyHostToDevice));
            CHECK_CUDA(cudaMemcpy(sB.get() + 1, b.data(), (size_t)n * 8, cudaMemcpyHostToDevice));
            CHECK_CUDA(jt_reduce_count_equal(sA.get() + 1, sB.get() + 1, n, out, ws, 0));
            CHECK_EQ((int64_t)out.download()[0], want, "count_equal n=" + std::to_string(n) + " misaligned");
            CHECK_CUDA(jt_reduce_count_equal(dA, sB.get() + 1, n, out, ws, 0));
            CHECK_EQ((int64_t)out.download()[0], want, "count_equal n=" + std::to_string(n) + " one input misaligned");
        }
    }
}

void test_argmax() {
    jt_test::Rng rng(9);
    struct Shape {
        int rows, cols;
    };
    for (Shape s : {Shape{1, 1}, Shape{7, 33}, Shape{33, 7}, Shape{127, 1000}, Shape{300, 10}, Shape{3, 100}}) {
        std::vector<float> x = rng.uniform_vector((size_t)s.rows * s.cols);
        for (int r = 0; r < s.rows; ++r) {
            float* row = &x[(size_t)r * s.cols];
            switch (r % 5) {
                case 1:  // a tie for the maximum: the first one wins
                    if (s.cols >= 3) row[s.cols - 1] = row[s.cols / 3] = 7.f;
                    break;
                case 2:  // a NaN counts as the maximum (the first NaN)
                    if (s.cols >= 2) row[s.cols / 2] = row[s.cols - 1] = NAN;
                    break;
                case 3:  // all -inf: index 0
                    for (int k = 0; k < s.cols; ++k) row[k] = -INFINITY;
                    break;
                case 4:  // all equal: index 0
                    for (int k = 0; k < s.cols; ++k) row[k] = 0.5f;
                    break;
                default:
                    break;
            }
        }
        std::vector<int64_t> want(s.rows);
        for (int r = 0; r < s.rows; ++r) {
            const float* row = &x[(size_t)r * s.cols];
            int best = 0;
            for (int k = 0; k < s.cols; ++k) {
                if (isnan(row[k])) {
                    best = k;
                    break;
                }
                if (row[k] > row[best]) best = k;
            }
            want[r] = best;
        }
        jt_test::DeviceBuffer<float> dX(x);
        jt_test::DeviceBuffer<int64_t> out(s.rows);
        CHECK_CUDA(jt_reduce_argmax_rows(dX, s.rows, s.cols, out, 0));
        std::vector<int64_t> got = out.download();
        size_t bad = 0;
        for (int r = 0; r < s.rows; ++r) bad += got[r] != want[r];
        CHECK_EQ(bad, 0u, "argmax rows=" + std::to_string(s.rows) + " cols=" + std::to_string(s.cols));
    }
}

void test_bias(jt_test::Rng& rng) {
    struct Shape {
        int n, c, inner;
    };
    const Shape shapes[] = {{1, 1, 1},   {7, 3, 1},    {128, 512, 1}, {1000, 3, 1}, {33, 1, 1},
                            {4, 17, 33}, {2, 5, 1000}, {1, 1, 4099},  {9, 64, 49}};
    for (const Shape& s : shapes) {
        const size_t total = (size_t)s.n * s.c * s.inner;
        const std::string what = std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.inner);
        std::vector<float> y = rng.uniform_vector(total), bias = rng.uniform_vector(s.c), dy = rng.uniform_vector(total);
        jt_test::DeviceBuffer<float> dY(y), dB(bias), dDy(dy);
        CHECK_CUDA(jt_elementwise_add_channel_bias(dY, dB, s.n, s.c, s.inner, 0));
        std::vector<float> yref(total);
        for (size_t i = 0; i < total; ++i) yref[i] = (float)((double)y[i] + bias[(i / s.inner) % s.c]);
        // one float32 addition: equal to the float-rounded exact sum
        CHECK_ALL_CLOSE(dY.download(), yref, 0.0, 0.0, "add_bias " + what);

        std::vector<float> db0 = rng.uniform_vector(s.c);
        jt_test::DeviceBuffer<float> dDb(db0);
        CHECK_CUDA(bias_grad(dDy, s.n, s.c, s.inner, dDb));
        std::vector<float> db = dDb.download();
        std::vector<double> ref(db0.begin(), db0.end()), mag(s.c, 0.0);
        for (size_t i = 0; i < total; ++i) {
            const int ch = (int)((i / s.inner) % s.c);
            ref[ch] += dy[i];
            mag[ch] += fabs(dy[i]);
        }
        size_t bad = 0;
        // Summed in double and added to the old value in double, rounded once: rtol 6e-8 plus the
        // double summation error (atol 1e-12 sum|dy|).
        for (int ch = 0; ch < s.c; ++ch) bad += !jt_test::close_enough(db[ch], ref[ch], 6e-8, 1e-12 * (mag[ch] + fabs(db0[ch])));
        CHECK_EQ(bad, 0u, "bias_grad (accumulated) " + what);
#ifdef JT_EMU
        // Reproducible bits whatever the thread order.
        std::vector<float> first;
        bool det = true;
        const int previous = jt_emu_set_order(0);
        for (int order : {0, 1, 2}) {
            jt_emu_set_order(order);
            dDb.upload(db0);
            CHECK_CUDA(bias_grad(dDy, s.n, s.c, s.inner, dDb));
            std::vector<float> v = dDb.download();
            if (first.empty()) first = v;
            det = det && memcmp(v.data(), first.data(), v.size() * sizeof(float)) == 0;
        }
        jt_emu_set_order(previous);
        CHECK(det, "bias_grad " + what + ": reproducible bits");
#endif
    }
}

void test_invalid() {
    jt_test::DeviceBuffer<float> b(16);
    jt_test::DeviceBuffer<int64_t> l(4);
    jt_test::DeviceBuffer<unsigned char> ws(jt_reduce_workspace_bytes());
    CHECK_STATUS(jt_reduce_sum(b, -1, b, ws, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum(nullptr, 4, b, ws, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum(b, 4, nullptr, ws, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_argmax_rows(b, 2, 0, l, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_elementwise_add_channel_bias(b, b, 2, 0, 1, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad(b, 2, 2, 1, nullptr, ws, ws.n, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_count_equal(nullptr, l, 4, b, ws, 0), cudaErrorInvalidValue);
    // The workspace is required, whatever n (a null one used to mean one block for any n): an error to the
    // caller, out[0] untouched.
    b.upload(std::vector<float>(16, 7.f));
    CHECK_STATUS(jt_reduce_sum(b, 4, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum(b, 0, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum_squares(b, 4, b, 1, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum_abs(b, 4, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_count_equal(l, l, 4, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_sum(b, 4, b, ws.get() + 4, 0), cudaErrorInvalidValue);  // misaligned workspace
    CHECK_EQ(b.download()[0] == 7.f, true, "a refused sum leaves out[0] alone");
    // n == 0: the sum is 0 (and accumulate leaves out[0] alone)
    CHECK_CUDA(jt_reduce_sum(nullptr, 0, b, ws, 0));
    CHECK_CUDA(jt_reduce_sum_squares(nullptr, 0, b.get() + 1, 1, ws, 0));
    std::vector<float> v = b.download();
    CHECK_EQ(v[0] == 0.f && v[1] == 7.f, true, "empty sums");
    // The first-pass grid is a function of n alone (launch_config.h): 8 Ki items per block, 1..2048 blocks.
    CHECK_EQ(jt_reduce_pass1_blocks(0), 1u, "pass-1 blocks, n = 0");
    CHECK_EQ(jt_reduce_pass1_blocks(8192), 1u, "pass-1 blocks, n = 8192");
    CHECK_EQ(jt_reduce_pass1_blocks(8193), 2u, "pass-1 blocks, n = 8193");
    CHECK_EQ(jt_reduce_pass1_blocks((int64_t)1 << 40), (unsigned)JT_REDUCE_MAX_PARTIALS, "pass-1 blocks capped");
    CHECK_EQ(jt_reduce_workspace_bytes(), (size_t)JT_REDUCE_MAX_PARTIALS * 8, "workspace: one double per partial");
}

// Review item 6: argmax_rows walked a row with int k += 32, which wrapped for cols near INT_MAX
// (negative index). One row of INT_MAX elements, in a MAP_NORESERVE mapping (unwritten pages read
// as zero and are never backed); the maximum sits at the last element.
void test_argmax_huge_row() {
#ifdef JT_EMU
    // The row is host memory (mmap), not a device allocation: the emu's memory checker (JTRAIN_EMU_RACECHECK=1)
    // rightly refuses it, and 2^31 checked reads would take minutes anyway.
    if (jt_emu_checks() & JT_EMU_CHECK_MEMORY) {
        fprintf(stderr, "test_argmax_huge_row: skipped under the emu's memory checker (the row is host memory)\n");
        return;
    }
#endif
    const int cols = 0x7FFFFFFF;
    const size_t bytes = (size_t)cols * sizeof(float);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "test_argmax_huge_row: mmap of %zu bytes failed, skipped\n", bytes);
        return;
    }
    float* x = static_cast<float*>(m);
    x[cols - 1] = 1.0f;
    jt_test::DeviceBuffer<int64_t> out(1);
    CHECK_CUDA(jt_reduce_argmax_rows(x, 1, cols, out, 0));
    CHECK_CUDA(cudaDeviceSynchronize());
    CHECK_EQ(out.download()[0], (int64_t)cols - 1, "argmax of a row of INT_MAX elements");
    munmap(m, bytes);
}

}  // namespace

// Row norms and the max-norm constraint against a float64 reference. The kernel sums in double in a
// different order than the reference, so the float results may differ by 1 ulp (rtol 2^-23).
void test_row_norms(jt_test::Rng& rng) {
    struct Case { int rows; int64_t cols; };
    for (const Case& c : {Case{1, 1}, Case{7, 3}, Case{10, 784}, Case{33, 127}, Case{3, 4099}, Case{200, 1}}) {
        const std::string what = "rows=" + std::to_string(c.rows) + " cols=" + std::to_string(c.cols);
        const std::vector<float> w = rng.uniform_vector((size_t)c.rows * c.cols, -1.f, 1.f);
        std::vector<double> norm(c.rows);
        for (int r = 0; r < c.rows; ++r) {
            double s = 0;
            for (int64_t k = 0; k < c.cols; ++k) s += (double)w[r * c.cols + k] * w[r * c.cols + k];
            norm[r] = sqrt(s);
        }
        jt_test::DeviceBuffer<float> W(w), N(c.rows);
        CHECK_CUDA(jt_reduce_row_norms(W, c.rows, c.cols, N, 0));
        std::vector<float> ref(c.rows);
        for (int r = 0; r < c.rows; ++r) ref[r] = (float)norm[r];
        CHECK_ALL_CLOSE(N.download(), ref, 0x1p-23, 0.0, "row_norms " + what);

        // c = the median norm: about half the rows are scaled to norm c, the rest untouched (bit-exact).
        std::vector<double> sorted(norm);
        std::sort(sorted.begin(), sorted.end());
        const float cap = (float)sorted[c.rows / 2];
        CHECK_CUDA(jt_reduce_max_norm_rows(W, c.rows, c.cols, cap, 0));
        const std::vector<float> got = W.download();
        std::vector<float> expect(w);
        for (int r = 0; r < c.rows; ++r) {
            if (norm[r] > cap) {
                for (int64_t k = 0; k < c.cols; ++k) expect[r * c.cols + k] = (float)(w[r * c.cols + k] * (cap / norm[r]));
            }
        }
        CHECK_ALL_CLOSE(got, expect, 0x1p-22, 0.0, "max_norm_rows " + what);
    }
    jt_test::DeviceBuffer<float> b(4);
    CHECK_STATUS(jt_reduce_row_norms(nullptr, 2, 2, b, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_max_norm_rows(b, -1, 2, 1.f, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_reduce_max_norm_rows(nullptr, 0, 5, 1.f, 0));  // no rows: a no-op
}

// Partials beyond the float range: every input is a finite float, the double sums are finite, and only
// the final rounding to float overflows. The warp trees shuffle whole doubles, so the result is the
// correctly signed infinity (a float hi + lo split of a partial above FLT_MAX gave inf - inf = NaN), and
// partials that cancel exactly give exactly 0. Partials below the float range (squares of 1e-30) are
// not flushed: the row norms see all of them.
void test_extreme_magnitudes() {
    jt_test::DeviceBuffer<unsigned char> ws(jt_reduce_workspace_bytes());
    const float big = 3e38f;
    for (int64_t n : {1, 2, 7, 33, 1000, 100003}) {
        jt_test::DeviceBuffer<float> out(1);
        {
            void* w = ws.get();
            const std::string what = " n=" + std::to_string(n);
            // All equal: every partial k * 3e38 is exact in double; the float result is 3e38 for n = 1.
            jt_test::DeviceBuffer<float> pos(std::vector<float>(n, big)), neg(std::vector<float>(n, -big));
            const float want = n == 1 ? big : INFINITY;
            CHECK(same_bits(run_sum(kSum, pos, n, out, 0, w), want), "sum of 3e38" + what + ": +inf (or 3e38), not NaN");
            CHECK(same_bits(run_sum(kSum, neg, n, out, 0, w), -want), "sum of -3e38" + what + ": -inf (or -3e38)");
            CHECK(same_bits(run_sum(kSumAbs, neg, n, out, 0, w), want), "sum_abs of -3e38" + what);
            CHECK(same_bits(run_sum(kSumSquares, pos, n, out, 0, w), INFINITY), "sum_squares of 3e38" + what + ": +inf");
            // Alternating signs: every partial is an integer multiple of 3e38, exact in double; they cancel.
            std::vector<float> alt(n);
            for (int64_t i = 0; i < n; ++i) alt[i] = i % 2 ? -big : big;
            jt_test::DeviceBuffer<float> dalt(alt);
            CHECK(same_bits(run_sum(kSum, dalt, n, out, 0, w), n % 2 ? big : 0.0f), "sum of +-3e38" + what + ": exact");
            // Tiny values: summed as in double (half an ulp of the float result, as test_sums).
            std::vector<float> tiny(n);
            for (int64_t i = 0; i < n; ++i) tiny[i] = 1e-30f * (float)(1 + i % 13);
            double ref = 0;
            for (float v : tiny) ref += v;
            jt_test::DeviceBuffer<float> dtiny(tiny);
            CHECK_CLOSE(run_sum(kSum, dtiny, n, out, 0, w), ref, 6e-8, 0.0, "sum of ~1e-30" + what);
            // Subnormal floats (k * 2^-149, k < 2^24 in all): every partial and the total are exact in double and
            // the total is exactly a float, so the result is exact; a flush to zero anywhere (input, shuffle,
            // result) would lose it.
            std::vector<float> sub(n);
            double sref = 0;
            for (int64_t i = 0; i < n; ++i) {
                sub[i] = -0x1p-149f * (float)(1 + i % 5);
                sref += sub[i];
            }
            jt_test::DeviceBuffer<float> dsub(sub);
            CHECK(same_bits(run_sum(kSum, dsub, n, out, 0, w), (float)sref) && (float)sref != 0.f,
                  "sum of subnormals" + what + ": exact, not flushed");
            CHECK(same_bits(run_sum(kSumAbs, dsub, n, out, 0, w), -(float)sref), "sum_abs of subnormals" + what + ": exact");
        }
    }
    // Bias gradient over planes (double partials): 3e38 everywhere gives +inf, not NaN.
    {
        const int n = 4, c = 2, inner = 100;
        jt_test::DeviceBuffer<float> dy(std::vector<float>((size_t)n * c * inner, big)), db(std::vector<float>(c, 0.f));
        CHECK_CUDA(bias_grad(dy, n, c, inner, db));
        const std::vector<float> g = db.download();
        CHECK(same_bits(g[0], INFINITY) && same_bits(g[1], INFINITY), "bias_grad of 3e38: +inf");
    }
    // Row norms whose squares leave the float range in both directions; the norms themselves are floats.
    for (float scale : {1e20f, 1e-30f}) {
        const int rows = 3;
        const int64_t cols = 1000;
        std::vector<float> w((size_t)rows * cols);
        for (size_t i = 0; i < w.size(); ++i) w[i] = scale * (float)(1 + i % 7) * (i % 2 ? -1.f : 1.f);
        std::vector<float> ref(rows);
        std::vector<double> norm(rows);
        for (int r = 0; r < rows; ++r) {
            double s = 0;
            for (int64_t k = 0; k < cols; ++k) s += (double)w[r * cols + k] * w[r * cols + k];
            norm[r] = sqrt(s);
            ref[r] = (float)norm[r];
        }
        const std::string what = scale > 1 ? " of rows of ~1e20" : " of rows of ~1e-30";
        jt_test::DeviceBuffer<float> W(w), N(rows);
        CHECK_CUDA(jt_reduce_row_norms(W, rows, cols, N, 0));
        CHECK_ALL_CLOSE(N.download(), ref, 0x1p-23, 0.0, "row_norms" + what);
        // Every row's norm exceeds the cap: every row is scaled (a NaN norm would leave it untouched).
        const float cap = (float)(norm[0] / 4);
        CHECK_CUDA(jt_reduce_max_norm_rows(W, rows, cols, cap, 0));
        std::vector<float> expect(w);
        for (int r = 0; r < rows; ++r)
            for (int64_t k = 0; k < cols; ++k) expect[r * cols + k] = (float)(w[r * cols + k] * (cap / norm[r]));
        CHECK_ALL_CLOSE(W.download(), expect, 0x1p-22, 0.0, "max_norm_rows" + what);
    }
}

int main() {
    jt_test::Rng rng(17);
    test_invalid();
    test_argmax_huge_row();
    test_sums(rng);
    test_count_equal(rng);
    test_argmax();
    test_bias(rng);
    test_row_norms(rng);
    test_extreme_magnitudes();
    return jt_test::finish("test_reduce");
}
