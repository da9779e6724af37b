// Philox4x32-10 (kernels/philox.h) against the Random123 known answers, and the dropout
// element mapping (u and keep) against the known answers of docs/architecture.md section 6, on the host and
// through the device launchers (jt_dropout_forward, jt_random_uniform) on emu.
#include <stdint.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "dropout.h"
#include "philox.h"
#include "test_util.h"

static void check_words(jt_philox_out got, const uint32_t want[4], const std::string& what) {
    for (int k = 0; k < 4; ++k) CHECK_EQ(got.w[k], want[k], what + " word " + std::to_string(k));
}

// The three known answers of Random123 (kat_vectors), exact.
static void test_known_answers() {
    const uint32_t a[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
    check_words(jt_philox4x32_10(0, 0, 0, 0, 0, 0), a, "philox zero counter/key");
    const uint32_t b[4] = {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu};
    const uint32_t ones = 0xffffffffu;
    check_words(jt_philox4x32_10(ones, ones, ones, ones, ones, ones), b, "philox all-ones");
    const uint32_t c[4] = {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
    check_words(jt_philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u), c,
                "philox pi digits");
    // The element mapping puts block, offset and seed in the documented words (incl. the high halves).
    const uint64_t seed = 0x0123456789abcdefull, offset = 0xfedcba9876543210ull, block = 0x0000000500000007ull;
    const jt_philox_out m = jt_philox_block(seed, offset, block);
    const jt_philox_out r = jt_philox4x32_10(7u, 5u, 0x76543210u, 0xfedcba98u, 0x89abcdefu, 0x01234567u);
    for (int k = 0; k < 4; ++k) CHECK_EQ(m.w[k], r.w[k], "block mapping word " + std::to_string(k));
}

struct DropoutCase {
    uint64_t seed, offset;
    float p;
    std::vector<double> u;  // known u (8 decimals), empty when only keep is known
    std::vector<int> keep;
};

static void test_dropout_known_answers() {
    const std::vector<DropoutCase> cases = {
        {42, 0, 0.5f, {0.61295986, 0.46858650, 0.07323170, 0.34086150, 0.98771864, 0.32706332, 0.51390612, 0.45431554},
         {1, 0, 0, 0, 1, 0, 1, 0}},
        {42, 1, 0.5f, {}, {0, 0, 0, 1, 0, 1, 0, 0}},
        {(1ull << 40) + 7, 3, 0.25f, {0.90586609, 0.66660058, 0.50380218, 0.42668277, 0.28459579, 0.42963701},
         {1, 1, 1, 1, 1, 1}},
    };
    for (const DropoutCase& dc : cases) {
        const std::string tag = "seed " + std::to_string(dc.seed) + " offset " + std::to_string(dc.offset);
        const int n = (int)dc.keep.size();
        // Host mapping: u is a multiple of 2^-24 and the known answers print it with 8 decimals, so it must
        // match to 5e-9 (half a unit of the last printed digit).
        for (size_t i = 0; i < dc.u.size(); ++i)
            CHECK_CLOSE(jt_philox_uniform(dc.seed, dc.offset, i), dc.u[i], 0.0, 5e-9, tag + " host u[" + std::to_string(i) + "]");
        // Device: x = 1, so y is the mask value; keep must match exactly, the kept value is
        // (float)(1 / (1 - p)) exactly (one correctly rounded division on the host, a float multiply by 1).
        std::vector<float> ones(n, 1.0f);
        jt_test::DeviceBuffer<float> x(ones), y(n), mask(n);
        CHECK_CUDA(jt_dropout_forward(x, y, mask, n, dc.p, dc.seed, dc.offset, 0));
        const std::vector<float> hy = y.download(), hm = mask.download();
        const float scale = (float)(1.0 / (1.0 - (double)dc.p));
        for (int i = 0; i < n; ++i) {
            CHECK_EQ((int)(hm[i] != 0.0f), dc.keep[i], tag + " device keep[" + std::to_string(i) + "]");
            CHECK_EQ(hy[i] == (dc.keep[i] ? scale : 0.0f), true, tag + " device y[" + std::to_string(i) + "] exact");
        }
        // Device uniforms: uniform in [0, 1) gives (float)(0 + 1 * u) = u exactly.
        if (!dc.u.empty()) {
            jt_test::DeviceBuffer<float> t(dc.u.size());
            CHECK_CUDA(jt_random_uniform(t, (int64_t)dc.u.size(), 0.0f, 1.0f, dc.seed, dc.offset, 0));
            CHECK_ALL_CLOSE(t.download(), dc.u, 0.0, 5e-9, tag + " device u (8 printed decimals)");
        }
    }
}

// Device uniforms equal the host mapping bit for bit over many blocks (grid-stride tails included).
static void test_device_matches_host() {
    for (int64_t n : {1, 3, 4, 5, 1001, 70001}) {
        const uint64_t seed = 0x9e3779b97f4a7c15ull, offset = 12345;
        jt_test::DeviceBuffer<float> t((size_t)n);
        CHECK_CUDA(jt_random_uniform(t, n, 0.0f, 1.0f, seed, offset, 0));
        const std::vector<float> h = t.download();
        int64_t bad = 0;
        for (int64_t i = 0; i < n; ++i)
            if (h[i] != jt_philox_uniform(seed, offset, (uint64_t)i)) ++bad;
        CHECK_EQ(bad, 0, "device u == host u, n = " + std::to_string(n));
    }
}

int main() {
    test_known_answers();
    test_dropout_known_answers();
    test_device_matches_host();
    return jt_test::finish("test_philox");
}
