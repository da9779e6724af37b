// Dropout and the random fills (kernels/dropout.cu) on emu against float64 references written here:
// keep = (u >= p) with u from the Philox bits (philox.h, checked against Random123 in test_philox),
// y = x / (1 - p), uniform = lo + (hi - lo) u, normal = Box-Muller; awkward sizes (tails of the
// four-element Philox blocks and of the grid-stride loop), p = 0 and p = 1 exactly, in place.
#include <math.h>
#include <stdint.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common.cuh"
#include "dropout.h"
#include "philox.h"
#include "test_util.h"

static const int64_t kSizes[] = {1, 2, 3, 5, 7, 33, 127, 1000, 100003};

static void test_forward() {
    jt_test::Rng rng(11);
    const float ps[] = {0.1f, 0.25f, 0.5f, 0.9f, 0.999f};
    for (int64_t n : kSizes) {
        for (float p : ps) {
            const uint64_t seed = 1000 + (uint64_t)n, offset = (uint64_t)(p * 100);
            const std::string tag = "dropout n=" + std::to_string(n) + " p=" + std::to_string(p);
            const std::vector<float> x = rng.uniform_vector((size_t)n, -3.0f, 3.0f);
            jt_test::DeviceBuffer<float> dx(x), dy((size_t)n), dm((size_t)n);
            CHECK_CUDA(jt_dropout_forward(dx, dy, dm, n, p, seed, offset, 0));
            const std::vector<float> y = dy.download(), m = dm.download();
            std::vector<double> yref((size_t)n), mref((size_t)n);
            int64_t keep_mismatch = 0;
            for (int64_t i = 0; i < n; ++i) {
                const double u = (double)(jt_philox_block(seed, offset, (uint64_t)i / 4).w[i % 4] >> 8) / 16777216.0;
                const bool keep = u >= (double)p;
                yref[i] = keep ? (double)x[i] / (1.0 - (double)p) : 0.0;
                mref[i] = keep ? 1.0 / (1.0 - (double)p) : 0.0;
                if ((m[i] != 0.0f) != keep) ++keep_mismatch;
            }
            CHECK_EQ(keep_mismatch, 0, tag + " keep pattern (exact)");
            // The device multiplies by the float scale (float)(1/(1-p)): two float roundings,
            // |rel err| <= 2 * 2^-24 ~ 1.2e-7 against x/(1-p) in double.
            CHECK_ALL_CLOSE(y, yref, 1.3e-7, 0.0, tag + " y (two float roundings)");
            CHECK_ALL_CLOSE(m, mref, 6.0e-8, 0.0, tag + " mask = 1/(1-p) (one float rounding)");
            // Kept fraction: binomial, within 5 standard deviations (only meaningful for large n).
            if (n >= 1000) {
                int64_t kept = 0;
                for (float v : m) kept += v != 0.0f;
                const double sd = sqrt((double)n * p * (1.0 - p));
                CHECK_CLOSE((double)kept, (double)n * (1.0 - p), 0.0, 5.0 * sd + 1.0, tag + " kept fraction (5 sd)");
            }
            // mask may be null; y may alias x (in place); same bits as the out-of-place call.
            jt_test::DeviceBuffer<float> inplace(x);
            CHECK_CUDA(jt_dropout_forward(inplace, inplace, nullptr, n, p, seed, offset, 0));
            const std::vector<float> yi = inplace.download();
            CHECK(yi == y, tag + " in place, no mask: identical bits");
        }
    }
}

static void test_edges() {
    jt_test::Rng rng(12);
    for (int64_t n : {1, 6, 1001}) {
        const std::vector<float> x = rng.uniform_vector((size_t)n, -5.0f, 5.0f);
        jt_test::DeviceBuffer<float> dx(x), dy((size_t)n), dm((size_t)n);
        // p = 0: y = x exactly, mask = 1 (no multiply at all).
        CHECK_CUDA(jt_dropout_forward(dx, dy, dm, n, 0.0f, 5, 0, 0));
        CHECK(dy.download() == x, "p=0 copies x exactly, n=" + std::to_string(n));
        CHECK(dm.download() == std::vector<float>((size_t)n, 1.0f), "p=0 mask is 1");
        // p = 1: everything dropped, no division.
        CHECK_CUDA(jt_dropout_forward(dx, dy, dm, n, 1.0f, 5, 0, 0));
        CHECK(dy.download() == std::vector<float>((size_t)n, 0.0f), "p=1 gives zeros, n=" + std::to_string(n));
        CHECK(dm.download() == std::vector<float>((size_t)n, 0.0f), "p=1 mask is 0");
    }
    // Consecutive offsets give different masks (independent streams), the same offset the same mask.
    const int64_t n = 4096;
    std::vector<float> ones((size_t)n, 1.0f);
    jt_test::DeviceBuffer<float> dx(ones), a((size_t)n), b((size_t)n), c((size_t)n);
    CHECK_CUDA(jt_dropout_forward(dx, a, nullptr, n, 0.5f, 77, 0, 0));
    CHECK_CUDA(jt_dropout_forward(dx, b, nullptr, n, 0.5f, 77, 1, 0));
    CHECK_CUDA(jt_dropout_forward(dx, c, nullptr, n, 0.5f, 77, 0, 0));
    CHECK(a.download() != b.download(), "offsets 0 and 1 differ");
    CHECK(a.download() == c.download(), "the same (seed, offset) repeats");
    // Bad arguments are refused before launching.
    CHECK_STATUS(jt_dropout_forward(dx, a, nullptr, -1, 0.5f, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_dropout_forward(dx, a, nullptr, n, NAN, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_dropout_forward(dx, a, nullptr, n, -0.1f, 1, 0, 0), cudaErrorInvalidValue);  // not a probability
    CHECK_STATUS(jt_dropout_forward(dx, a, nullptr, n, 1.5f, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_random_uniform(a, n, 2.0f, 1.0f, 1, 0, 0), cudaErrorInvalidValue);     // lo > hi
    CHECK_STATUS(jt_random_uniform(a, n, 0.0f, INFINITY, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_random_normal(a, n, 0.0f, -1.0f, 1, 0, 0), cudaErrorInvalidValue);     // std < 0
    CHECK_STATUS(jt_random_normal(a, n, NAN, 1.0f, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_dropout_forward(nullptr, a, nullptr, n, 0.5f, 1, 0, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_dropout_forward(nullptr, nullptr, nullptr, 0, 0.5f, 1, 0, 0));  // n = 0: nothing to do
}

static void test_uniform() {
    struct Range {
        float lo, hi;
    };
    const Range ranges[] = {{0.0f, 1.0f}, {-0.0625f, 0.0625f}, {-3.5f, 10.0f}, {1.0f, nextafterf(1.0f, 2.0f)}};
    for (int64_t n : kSizes) {
        for (const Range& r : ranges) {
            const uint64_t seed = 0xabcdef0123ull + (uint64_t)n, offset = 7;
            const std::string tag = "uniform n=" + std::to_string(n) + " [" + std::to_string(r.lo) + "," +
                                    std::to_string(r.hi) + ")";
            jt_test::DeviceBuffer<float> t((size_t)n);
            CHECK_CUDA(jt_random_uniform(t, n, r.lo, r.hi, seed, offset, 0));
            const std::vector<float> h = t.download();
            std::vector<double> ref((size_t)n);
            int64_t out_of_range = 0;
            for (int64_t i = 0; i < n; ++i) {
                const double u = (double)(jt_philox_block(seed, offset, (uint64_t)i / 4).w[i % 4] >> 8) * 0x1.0p-24;
                ref[i] = (double)r.lo + ((double)r.hi - (double)r.lo) * u;
                if (!(h[i] >= r.lo && h[i] < r.hi)) ++out_of_range;
            }
            CHECK_EQ(out_of_range, 0, tag + " every value in [lo, hi)");
            // One float rounding of the double value (or the step below hi): |err| <= 1 ulp.
            CHECK_ALL_CLOSE(h, ref, 1.2e-7, 1e-45, tag + " value (one float rounding)");
        }
    }
}

static void test_normal() {
    for (int64_t n : kSizes) {
        const uint64_t seed = 99 + (uint64_t)n, offset = 3;
        const float mean = 0.5f, std = 2.0f;
        const std::string tag = "normal n=" + std::to_string(n);
        jt_test::DeviceBuffer<float> t((size_t)n);
        CHECK_CUDA(jt_random_normal(t, n, mean, std, seed, offset, 0));
        const std::vector<float> h = t.download();
        std::vector<double> ref((size_t)n);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t a = i & ~(int64_t)1;  // the pair (2j, 2j + 1); an odd last element still uses it
            const jt_philox_out w = jt_philox_block(seed, offset, (uint64_t)a / 4);
            const double ua = (double)(w.w[a % 4] >> 8) * 0x1.0p-24, ub = (double)(w.w[a % 4 + 1] >> 8) * 0x1.0p-24;
            const double rad = sqrt(-2.0 * log(1.0 - ua)), th = 2.0 * M_PI * ub;
            ref[i] = mean + std * ((i & 1) ? rad * sin(th) : rad * cos(th));
        }
        // One float rounding of a double computed with libm (<= 1 ulp apart from Java's): rtol 2.4e-7;
        // atol covers values that cancel to near zero (mean + std z ~ 0), where ulps are absolute.
        CHECK_ALL_CLOSE(h, ref, 2.4e-7, 1e-7, tag + " values");
        if (n >= 100000) {
            double s = 0, s2 = 0;
            for (float v : h) {
                s += v;
                s2 += (double)v * v;
            }
            const double m = s / n, var = s2 / n - m * m;
            // Sample mean within 5 standard errors; sample variance within 5 of its (normal) s.e.
            CHECK_CLOSE(m, mean, 0.0, 5.0 * std / sqrt((double)n), tag + " sample mean (5 s.e.)");
            CHECK_CLOSE(var, (double)std * std, 0.0, 5.0 * std * std * sqrt(2.0 / n), tag + " sample var (5 s.e.)");
        }
    }
}

// The float4 path (every pointer 16-byte aligned) and the element-by-element path (one pointer a float
// off) give the same bits, tails included.
void test_aligned_and_misaligned_agree(jt_test::Rng& rng) {
    for (int64_t n : {1, 3, 4, 5, 1003, 4096}) {
        const std::vector<float> x = rng.uniform_vector((size_t)n, -2.f, 2.f);
        std::vector<float> padded(x.size() + 1, 0.f);
        std::copy(x.begin(), x.end(), padded.begin() + 1);
        jt_test::DeviceBuffer<float> xa(x), ya((size_t)n), ma((size_t)n);
        jt_test::DeviceBuffer<float> xm(padded), ym((size_t)n + 1), mm((size_t)n + 1);
        CHECK_CUDA(jt_dropout_forward(xa, ya, ma, n, 0.3f, 77, 5, 0));
        CHECK_CUDA(jt_dropout_forward(xm.get() + 1, ym.get() + 1, mm.get() + 1, n, 0.3f, 77, 5, 0));
        const std::vector<float> y1 = ya.download(), m1 = ma.download(), y2 = ym.download(), m2 = mm.download();
        CHECK(std::equal(y1.begin(), y1.end(), y2.begin() + 1), "y aligned == misaligned, n=" + std::to_string(n));
        CHECK(std::equal(m1.begin(), m1.end(), m2.begin() + 1), "mask aligned == misaligned, n=" + std::to_string(n));
    }
}

int main() {
    test_forward();
    test_edges();
    test_uniform();
    test_normal();
    jt_test::Rng rng(13);
    test_aligned_and_misaligned_agree(rng);
    return jt_test::finish("test_dropout");
}
