// kernels/activations.cu: every activation forward/backward against float64 formulas written here
// (PyTorch's conventions, tests/conformance/FORMAT.md items 1-6), PReLU with its dalpha reduction
// (item 2) and maxout with ties (item 7), at awkward sizes, aligned and misaligned, in place.
#include <math.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "activations.h"
#include "common.cuh"
#include "test_util.h"

namespace {

const double kSeluAlpha = 1.6732632423543772848, kSeluScale = 1.0507009873554804934;
const char* kNames[] = {"relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "gelu_erf", "gelu_tanh", "silu",
                        "softplus", "identity"};

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x)); }

// f(x) in double.
double ref_forward(int kind, double x, double a, double b) {
    switch (kind) {
        case JT_ACT_RELU: return x > 0 ? x : 0.0;
        case JT_ACT_LEAKY_RELU: return x > 0 ? x : a * x;
        case JT_ACT_ELU: return x > 0 ? x : a * (exp(x) - 1.0);
        case JT_ACT_SELU: return kSeluScale * (x > 0 ? x : kSeluAlpha * (exp(x) - 1.0));
        case JT_ACT_SIGMOID: return sigmoid(x);
        case JT_ACT_TANH: return tanh(x);
        // The textbook forms, with 1 + erf(-z) = erfc(z), 1 + tanh(u) = 2 / (1 + e^-2u) and log1p so
        // that the float64 reference itself does not cancel for x << 0.
        case JT_ACT_GELU_ERF: return 0.5 * x * erfc(-x / sqrt(2.0));
        case JT_ACT_GELU_TANH: return 0.5 * x * (2.0 / (1.0 + exp(-2.0 * sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))));
        case JT_ACT_SILU: return x * sigmoid(x);
        case JT_ACT_SOFTPLUS: return a * x > b ? x : log1p(exp(a * x)) / a;
        default: return x;
    }
}

// f'(x) in double; sigmoid and tanh from the (float32) forward output y, like PyTorch.
double ref_derivative(int kind, double x, double y, double a, double b) {
    switch (kind) {
        case JT_ACT_RELU: return x > 0 ? 1.0 : 0.0;
        case JT_ACT_LEAKY_RELU: return x > 0 ? 1.0 : a;
        case JT_ACT_ELU: return x > 0 ? 1.0 : a * exp(x);
        case JT_ACT_SELU: return x > 0 ? kSeluScale : kSeluScale * kSeluAlpha * exp(x);
        case JT_ACT_SIGMOID: return y * (1.0 - y);
        case JT_ACT_TANH: return 1.0 - y * y;
        case JT_ACT_GELU_ERF: return 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
        case JT_ACT_GELU_TANH: {
            const double c = sqrt(2.0 / M_PI), t = tanh(c * (x + 0.044715 * x * x * x));
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x);
        }
        case JT_ACT_SILU: return sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)));
        case JT_ACT_SOFTPLUS: return a * x > b ? 1.0 : sigmoid(a * x);
        default: return 1.0;
    }
}

// Inputs: the conformance specials (0, +-20, near 0, the GELU-tanh cancellation zone near -5),
// then uniform values in [-8, 8].
std::vector<float> make_inputs(size_t n, jt_test::Rng& rng) {
    const float specials[] = {0.f, 20.f, -20.f, 1e-3f, -1e-3f, -5.f, 5.f, 0.5f, -0.5f, 2.5f, 2.5000002f, -30.f, 15.f};
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = i < sizeof specials / sizeof specials[0] ? specials[i] : rng.uniform(-8.f, 8.f);
    return x;
}

void test_kind(int kind, float a, float b, jt_test::Rng& rng) {
    for (int n : {1, 7, 33, 127, 1000, 4099}) {
        for (int offset : {0, 1}) {  // offset 1: misaligned pointers (scalar path)
            const std::string what = std::string(kNames[kind]) + " n=" + std::to_string(n) + " off=" + std::to_string(offset);
            std::vector<float> x = make_inputs(n + offset, rng), dy = rng.uniform_vector(n + offset, -2.f, 2.f);
            jt_test::DeviceBuffer<float> dX(x), dY(n + offset), dDy(dy), dDx(n + offset);
            CHECK_CUDA(jt_activations_forward(kind, dX.get() + offset, dY.get() + offset, n, a, b, 0));
            std::vector<float> y = dY.download();
            std::vector<double> yref(n);
            for (int i = 0; i < n; ++i) yref[i] = ref_forward(kind, x[offset + i], a, b);
            // Forward: float32 formulas chosen without cancellation (see activation_math.h), a few ulp
            // from float64: rtol 4e-6 (~30 ulp). atol 1e-12: in the far negative tails (x < -6) the
            // values are e^(-big) < 1e-12 and float32 rounding of the exponent's argument costs
            // |arg| 2^-24 relative (up to ~5e-6); also gelu(-20) = -0.0 in float32 like PyTorch.
            CHECK_ALL_CLOSE_N(y.data() + offset, yref.data(), n, 4e-6, 1e-12, what + " forward");

            // Backward from the float32 forward output (what the kernel gets in practice).
            CHECK_CUDA(jt_activations_backward(kind, dX.get() + offset, dY.get() + offset, dDy.get() + offset,
                                               dDx.get() + offset, n, a, b, 0));
            std::vector<float> dx = dDx.download();
            std::vector<double> dxref(n);
            for (int i = 0; i < n; ++i)
                dxref[i] = dy[offset + i] * ref_derivative(kind, x[offset + i], y[offset + i], a, b);
            // Backward: the derivative formulas are a few ulp off float64 and dy*f' adds one rounding;
            // rtol 4e-6. atol 1e-7 covers derivatives that are differences of nearly equal float terms
            // (sigmoid y(1-y) near y = 1, gelu-tanh near x = -5: |f'| < 1e-5 there).
            CHECK_ALL_CLOSE_N(dx.data() + offset, dxref.data(), n, 4e-6, 1e-7, what + " backward");
        }
    }
}

void test_conventions() {
    // f'(0) of FORMAT.md item 1, computed as a backward pass with dy = 1 at x = 0.
    struct Case {
        int kind;
        float a, b;
        double want;
    };
    const Case cases[] = {{JT_ACT_RELU, 0, 0, 0.0},
                          {JT_ACT_LEAKY_RELU, 0.01f, 0, 0.01f},
                          {JT_ACT_LEAKY_RELU, 0.1f, 0, 0.1f},
                          {JT_ACT_ELU, 1.f, 0, 1.0},
                          {JT_ACT_SELU, 0, 0, 1.7580993408473766},
                          {JT_ACT_SIGMOID, 0, 0, 0.25},
                          {JT_ACT_TANH, 0, 0, 1.0},
                          {JT_ACT_GELU_ERF, 0, 0, 0.5},
                          {JT_ACT_GELU_TANH, 0, 0, 0.5},
                          {JT_ACT_SILU, 0, 0, 0.5},
                          {JT_ACT_SOFTPLUS, 1.f, 20.f, 0.5},
                          {JT_ACT_IDENTITY, 0, 0, 1.0}};
    for (const Case& c : cases) {
        jt_test::DeviceBuffer<float> x(std::vector<float>{0.f}), y(1), dy(std::vector<float>{1.f}), dx(1);
        CHECK_CUDA(jt_activations_forward(c.kind, x, y, 1, c.a, c.b, 0));
        CHECK_CUDA(jt_activations_backward(c.kind, x, y, dy, dx, 1, c.a, c.b, 0));
        // float32 of the exact value: 1 ulp
        CHECK_CLOSE(dx.download()[0], c.want, 2e-7, 0.0, std::string("f'(0) of ") + kNames[c.kind]);
    }
    // Saturation (item 6): sigmoid'(20) and tanh'(+-20) from the float32 output are exactly 0.
    {
        jt_test::DeviceBuffer<float> x(std::vector<float>{20.f, -20.f}), y(2), dy(std::vector<float>{1.f, 1.f}), dx(2);
        CHECK_CUDA(jt_activations_forward(JT_ACT_TANH, x, y, 2, 0, 0, 0));
        CHECK_CUDA(jt_activations_backward(JT_ACT_TANH, nullptr, y, dy, dx, 2, 0, 0, 0));
        std::vector<float> d = dx.download();
        CHECK_EQ(d[0] == 0.f && d[1] == 0.f, true, "tanh'(+-20) from y is exactly 0");
        CHECK_CUDA(jt_activations_forward(JT_ACT_SIGMOID, x, y, 1, 0, 0, 0));
        CHECK_CUDA(jt_activations_backward(JT_ACT_SIGMOID, nullptr, y, dy, dx, 1, 0, 0, 0));
        CHECK_EQ(dx.download()[0] == 0.f, true, "sigmoid'(20) from y is exactly 0");
    }
    // Softplus threshold (item 5): beta x > threshold strictly; x = threshold/beta uses the log form.
    {
        const float beta = 2.f, thr = 5.f;
        jt_test::DeviceBuffer<float> x(std::vector<float>{2.5f, 2.5000002f}), y(2), dy(std::vector<float>{1.f, 1.f}), dx(2);
        CHECK_CUDA(jt_activations_forward(JT_ACT_SOFTPLUS, x, y, 2, beta, thr, 0));
        CHECK_CUDA(jt_activations_backward(JT_ACT_SOFTPLUS, x, y, dy, dx, 2, beta, thr, 0));
        std::vector<float> yv = y.download(), d = dx.download();
        CHECK_CLOSE(yv[0], log1p(exp(5.0)) / 2.0, 4e-6, 0, "softplus at beta x == threshold: log form");
        CHECK_CLOSE(d[0], sigmoid(5.0), 4e-6, 0, "softplus' at beta x == threshold: sigmoid");
        CHECK_EQ(yv[1] == 2.5000002f, true, "softplus above threshold is x exactly");
        CHECK_EQ(d[1] == 1.f, true, "softplus' above threshold is 1");
    }
    // GELU erf at -20 underflows to -0.0 like PyTorch (item 4).
    {
        jt_test::DeviceBuffer<float> x(std::vector<float>{-20.f}), y(1);
        CHECK_CUDA(jt_activations_forward(JT_ACT_GELU_ERF, x, y, 1, 0, 0, 0));
        const float v = y.download()[0];
        CHECK_EQ(v == 0.f && signbit(v), true, "gelu(-20) is -0.0");
    }
    // ReLU: NaN propagates forward; backward from y when x is null; in place (y aliases x).
    {
        std::vector<float> xs = {NAN, -1.f, 0.f, 2.f, -0.f, 3.f, -4.f, 5.f, 1e-30f};
        jt_test::DeviceBuffer<float> x(xs), dy(std::vector<float>(xs.size(), 3.f)), dx(xs.size());
        CHECK_CUDA(jt_activations_forward(JT_ACT_RELU, x, x, (int64_t)xs.size(), 0, 0, 0));
        std::vector<float> y = x.download();
        CHECK_EQ(isnan(y[0]), true, "relu(NaN) is NaN");
        const float want[] = {0.f, 0.f, 2.f, 0.f, 3.f, 0.f, 5.f, 1e-30f};
        for (size_t i = 1; i < xs.size(); ++i) CHECK_EQ(y[i] == want[i - 1], true, "relu in place, element " + std::to_string(i));
        CHECK_CUDA(jt_activations_backward(JT_ACT_RELU, nullptr, x, dy, dx, (int64_t)xs.size(), 0, 0, 0));
        std::vector<float> d = dx.download();
        for (size_t i = 1; i < xs.size(); ++i)
            CHECK_EQ(d[i] == (want[i - 1] > 0 ? 3.f : 0.f), true, "relu backward from y, element " + std::to_string(i));
    }
}

void test_invalid() {
    jt_test::DeviceBuffer<float> b(8);
    CHECK_STATUS(jt_activations_forward(JT_ACT_COUNT, b, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_forward(-1, b, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_forward(JT_ACT_RELU, nullptr, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_forward(JT_ACT_RELU, b, b, -1, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_forward(JT_ACT_SOFTPLUS, b, b, 8, 0.f, 20.f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_backward(JT_ACT_SIGMOID, b, nullptr, b, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_backward(JT_ACT_GELU_ERF, nullptr, b, b, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_backward(JT_ACT_RELU, nullptr, nullptr, b, b, 8, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_activations_backward(JT_ACT_IDENTITY, nullptr, nullptr, b, b, 8, 0, 0, 0));
    CHECK_CUDA(jt_activations_forward(JT_ACT_RELU, nullptr, nullptr, 0, 0, 0, 0));  // empty is a no-op
    CHECK_STATUS(jt_activations_prelu_forward(b, b, b, 2, 0, 4, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_prelu_backward(b, nullptr, b, b, b, 2, 1, 4, nullptr, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_maxout_forward(b, 2, 0, 4, b, nullptr, 0), cudaErrorInvalidValue);
}

void test_prelu(jt_test::Rng& rng) {
    struct Shape {
        int n, c, inner;
    };
    // c = 1 with inner = numel / n is the shared alpha ([1]); inner = 1 is [N, C].
    const Shape shapes[] = {{1, 1, 1}, {7, 3, 5}, {33, 1, 1}, {127, 10, 1}, {4, 17, 33}, {5, 1, 999}, {300, 70, 1}, {2, 3, 1000}};
    for (const Shape& s : shapes) {
        const size_t total = (size_t)s.n * s.c * s.inner;
        const std::string what = "prelu " + std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.inner);
        std::vector<float> x = rng.uniform_vector(total, -3.f, 3.f), dy = rng.uniform_vector(total, -1.f, 1.f);
        x[0] = 0.f;  // x == 0 takes the alpha branch (dalpha term 0 * dy, dx = alpha dy)
        std::vector<float> alpha = rng.uniform_vector(s.c, 0.f, 0.5f), dalpha0 = rng.uniform_vector(s.c, -1.f, 1.f);
        jt_test::DeviceBuffer<float> dX(x), dA(alpha), dY(total), dDy(dy), dDx(total), dDa(dalpha0);
        CHECK_CUDA(jt_activations_prelu_forward(dX, dA, dY, s.n, s.c, s.inner, 0));
        std::vector<double> yref(total), dxref(total), daref(dalpha0.begin(), dalpha0.end()), damag(s.c, 0.0);
        for (size_t i = 0; i < total; ++i) {
            const int ch = (int)((i / s.inner) % s.c);
            yref[i] = x[i] > 0 ? x[i] : (double)alpha[ch] * x[i];
            dxref[i] = x[i] > 0 ? dy[i] : (double)alpha[ch] * dy[i];
            if (!(x[i] > 0)) {
                daref[ch] += (double)x[i] * dy[i];
                damag[ch] += fabs((double)x[i] * dy[i]);
            }
        }
        // alpha * x is one float32 rounding: rtol 1.2e-7 (1 ulp); exact where x > 0.
        CHECK_ALL_CLOSE(dY.download(), yref, 1.2e-7, 0.0, what + " forward");
        const size_t ws_bytes = jt_activations_prelu_backward_workspace_bytes(s.n, s.c, s.inner);
        jt_test::DeviceBuffer<unsigned char> ws(ws_bytes + 16);
        CHECK_CUDA(jt_activations_prelu_backward(dX, dA, dDy, dDx, dDa, s.n, s.c, s.inner, ws, ws_bytes, 0));
        CHECK_ALL_CLOSE(dDx.download(), dxref, 1.2e-7, 0.0, what + " dx");
        std::vector<float> da = dDa.download();
        for (int ch = 0; ch < s.c; ++ch) {
            // dalpha: products x*dy exact in double, summed in double, then rounded once: half an ulp of the
            // result plus the double summation error; kept loose (1e-7 sum|..| + rtol 1.2e-7): test_channel_sum.cpp
            // checks the sums tightly.
            CHECK_CLOSE(da[ch], daref[ch], 1.2e-7, 1e-7 * damag[ch] + 1e-30, what + " dalpha[" + std::to_string(ch) + "] (accumulated)");
        }
        // Without dalpha: dx only, dalpha untouched.
        dDx.fill_bytes(0xff);
        CHECK_CUDA(jt_activations_prelu_backward(dX, dA, dDy, dDx, nullptr, s.n, s.c, s.inner, nullptr, 0, 0));
        CHECK_ALL_CLOSE(dDx.download(), dxref, 1.2e-7, 0.0, what + " dx without dalpha");
    }
}

void test_maxout(jt_test::Rng& rng) {
    struct Shape {
        int n, pieces, d;
    };
    const Shape shapes[] = {{1, 1, 1}, {7, 2, 5}, {33, 3, 17}, {128, 2, 100}, {3, 5, 1}, {127, 4, 33}};
    for (const Shape& s : shapes) {
        const std::string what = "maxout n=" + std::to_string(s.n) + " pieces=" + std::to_string(s.pieces) + " d=" + std::to_string(s.d);
        const size_t width = (size_t)s.pieces * s.d;
        std::vector<float> z = rng.uniform_vector((size_t)s.n * width);
        // Unit 0 of every row: every piece equal (a tie: the first piece wins, item 7); unit 1: the
        // last two pieces tie for the maximum.
        for (int r = 0; r < s.n; ++r) {
            for (int p = 1; p < s.pieces; ++p) z[r * width + (size_t)p * s.d] = z[r * width];
            if (s.d > 1 && s.pieces >= 2) {
                z[r * width + (size_t)(s.pieces - 1) * s.d + 1] = 5.f;
                z[r * width + (size_t)(s.pieces - 2) * s.d + 1] = 5.f;
            }
        }
        std::vector<float> yref((size_t)s.n * s.d);
        std::vector<int64_t> pref((size_t)s.n * s.d);
        for (int r = 0; r < s.n; ++r)
            for (int j = 0; j < s.d; ++j) {
                int best = 0;
                for (int p = 1; p < s.pieces; ++p)
                    if (z[r * width + (size_t)p * s.d + j] > z[r * width + (size_t)best * s.d + j]) best = p;
                pref[(size_t)r * s.d + j] = best;
                yref[(size_t)r * s.d + j] = z[r * width + (size_t)best * s.d + j];
            }
        jt_test::DeviceBuffer<float> dZ(z), dY(yref.size()), dDy(rng.uniform_vector(yref.size())), dDz(z.size());
        jt_test::DeviceBuffer<int64_t> dP(pref.size());
        dDz.fill_bytes(0x7f);  // overwritten everywhere
        CHECK_CUDA(jt_activations_maxout_forward(dZ, s.n, s.pieces, s.d, dY, dP, 0));
        // selection only: exact
        CHECK_ALL_CLOSE(dY.download(), yref, 0.0, 0.0, what + " y");
        std::vector<int64_t> piece = dP.download();
        size_t wrong = 0;
        for (size_t i = 0; i < piece.size(); ++i) wrong += piece[i] != pref[i];
        CHECK_EQ(wrong, 0u, what + " piece indices (first maximum wins)");
        CHECK_CUDA(jt_activations_maxout_backward(dDy, dP, s.n, s.pieces, s.d, dDz, nullptr, 0));
        std::vector<float> dy = dDy.download(), dz = dDz.download(), dzref(z.size(), 0.f);
        for (int r = 0; r < s.n; ++r)
            for (int j = 0; j < s.d; ++j)
                dzref[r * width + (size_t)pref[(size_t)r * s.d + j] * s.d + j] = dy[(size_t)r * s.d + j];
        // routing only: exact
        CHECK_ALL_CLOSE(dz, dzref, 0.0, 0.0, what + " dz");

        // With a device error record: good pieces record nothing and route the same.
        jt_test::ErrorRecord rec;
        dDz.fill_bytes(0x7f);
        CHECK_CUDA(jt_activations_maxout_backward(dDy, dP, s.n, s.pieces, s.d, dDz, rec, 0));
        CHECK_NO_DEVICE_ERROR(rec, what + " good pieces");
        CHECK_ALL_CLOSE(dDz.download(), dzref, 0.0, 0.0, what + " dz with a record");
        // Bad pieces: `pieces` at the last unit, -1 in the middle, -2^40 (clamped to INT32_MIN) at unit 0.
        std::vector<int64_t> bad = pref;
        const size_t last = bad.size() - 1, mid = bad.size() / 2;
        bad[last] = s.pieces;
        if (mid != last && mid != 0) bad[mid] = -1;
        if (last != 0) bad[0] = -((int64_t)1 << 40);
        uint64_t count = 0;
        int64_t first = -1;
        for (size_t i = 0; i < bad.size(); ++i) {
            if (bad[i] >= 0 && bad[i] < s.pieces) continue;
            if (first < 0) first = (int64_t)i;
            ++count;
        }
        const int32_t value = first == 0 && last != 0 ? INT32_MIN : (first == (int64_t)last ? s.pieces : -1);
        dP.upload(bad);
        CHECK_CUDA(jt_activations_maxout_backward(dDy, dP, s.n, s.pieces, s.d, dDz, rec, 0));
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_MAXOUT_BACKWARD_PIECE, first, value, count, s.pieces, what + " bad pieces");
        // A bad piece routes nothing: its unit's dz is 0 in every piece.
        for (size_t i = 0; i < bad.size(); ++i) {
            if (bad[i] >= 0 && bad[i] < s.pieces) continue;
            const size_t r = i / s.d, j = i % s.d;
            for (int p = 0; p < s.pieces; ++p) dzref[r * width + (size_t)p * s.d + j] = 0.f;
        }
        CHECK_ALL_CLOSE(dDz.download(), dzref, 0.0, 0.0, what + " dz with bad pieces");
    }
}

}  // namespace

int main() {
    jt_test::Rng rng(3);
    test_invalid();
    test_conventions();
    test_kind(JT_ACT_RELU, 0, 0, rng);
    test_kind(JT_ACT_LEAKY_RELU, 0.01f, 0, rng);
    test_kind(JT_ACT_LEAKY_RELU, 0.1f, 0, rng);
    test_kind(JT_ACT_ELU, 1.f, 0, rng);
    test_kind(JT_ACT_ELU, 0.5f, 0, rng);
    test_kind(JT_ACT_SELU, 0, 0, rng);
    test_kind(JT_ACT_SIGMOID, 0, 0, rng);
    test_kind(JT_ACT_TANH, 0, 0, rng);
    test_kind(JT_ACT_GELU_ERF, 0, 0, rng);
    test_kind(JT_ACT_GELU_TANH, 0, 0, rng);
    test_kind(JT_ACT_SILU, 0, 0, rng);
    test_kind(JT_ACT_SOFTPLUS, 1.f, 20.f, rng);
    test_kind(JT_ACT_SOFTPLUS, 2.f, 5.f, rng);
    test_kind(JT_ACT_IDENTITY, 0, 0, rng);
    test_prelu(rng);
    test_maxout(rng);
    return jt_test::finish("test_activations");
}
