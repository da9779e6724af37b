// kernels/softmax_xent.cu: softmax cross-entropy with label smoothing (FORMAT.md items 21-22), BCE with
// logits (item 23) and squared error (item 24) against float64 references written here.
#include <math.h>
#include <stdio.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "softmax_xent.h"
#include "test_util.h"

namespace {

void test_softmax_xent(jt_test::Rng& rng) {
    struct Case {
        int n, c;
        float eps;
    };
    const Case cases[] = {{1, 1, 0.f},    {1, 7, 0.f},    {7, 10, 0.f},  {7, 10, 0.1f}, {33, 3, 0.25f},
                          {127, 1000, 0.f}, {127, 1000, 0.1f}, {5, 33, 1.f}, {300, 65, 0.05f}, {2, 2049, 0.3f}};
    for (const Case& cs : cases) {
        const int n = cs.n, c = cs.c;
        const double eps = cs.eps;
        const std::string what = "softmax_xent n=" + std::to_string(n) + " c=" + std::to_string(c) + " eps=" + std::to_string(cs.eps);
        std::vector<float> x = rng.uniform_vector((size_t)n * c, -4.f, 4.f);
        // Row 0 (when c >= 4): logits of +-50 and +-20, which need log-sum-exp (item 21).
        if (c >= 4) {
            x[0] = 50.f;
            x[1] = -50.f;
            x[2] = 20.f;
            x[3] = -20.f;
        }
        std::vector<int64_t> y(n);
        for (int r = 0; r < n; ++r) y[r] = r == 0 ? 0 : (r == 1 ? c - 1 : (int64_t)(rng.uniform() * c));
        jt_test::DeviceBuffer<float> dX(x), dP((size_t)n * c), dL(n), dG((size_t)n * c);
        jt_test::DeviceBuffer<int64_t> dY(y);
        CHECK_CUDA(jt_softmax_xent_forward(dX, dY, n, c, cs.eps, dP, dL, nullptr, 0));
        std::vector<float> p = dP.download(), loss = dL.download();

        std::vector<double> pref((size_t)n * c), lref(n);
        for (int r = 0; r < n; ++r) {
            const float* xr = &x[(size_t)r * c];
            double m = xr[0];
            for (int k = 1; k < c; ++k) m = fmax(m, xr[k]);
            double s = 0;
            for (int k = 0; k < c; ++k) s += exp(xr[k] - m);
            const double lse = m + log(s);
            double qx = 0;
            for (int k = 0; k < c; ++k) {
                pref[(size_t)r * c + k] = exp(xr[k] - lse);
                qx += ((k == y[r] ? 1.0 - eps : 0.0) + eps / c) * xr[k];
            }
            lref[r] = lse - qx;  // = -sum_k q_k log p_k
        }
        // probs = expf(x - m) / s: the float32 difference x - m is rounded (|x - m| 2^-24 relative,
        // |x - m| <= 100 here) and exp turns that into a relative error: rtol 1e-5.
        CHECK_ALL_CLOSE(p, pref, 1e-5, 1e-30, what + " probs");
        // loss = log(sum) + (1-eps)(m - x_y) + eps/c sum(m - x): float32 sums of c terms, each term
        // >= 0 (no cancellation): rtol 1e-5 of the loss plus atol 1e-6 for losses near 0.
        CHECK_ALL_CLOSE(loss, lref, 1e-5, 1e-6, what + " loss");

        const float scale = 1.f / n;
        CHECK_CUDA(jt_softmax_xent_backward(dP, dY, n, c, cs.eps, scale, dG, nullptr, 0));
        std::vector<float> g = dG.download();
        std::vector<double> gref((size_t)n * c);
        for (int r = 0; r < n; ++r)
            for (int k = 0; k < c; ++k) {
                const double q = (k == y[r] ? 1.0 - eps : 0.0) + eps / c;
                gref[(size_t)r * c + k] = (double)scale * (p[(size_t)r * c + k] - q);
            }
        // From the float32 probs: q rounded to float32 and one subtraction, one product: 2 ulp of
        // max(p, q) scaled, i.e. atol 2.4e-7 * scale, rtol 2.4e-7.
        CHECK_ALL_CLOSE(g, gref, 2.4e-7, 2.4e-7 * scale, what + " dlogits");
        // In place: dlogits may alias probs.
        CHECK_CUDA(jt_softmax_xent_backward(dP, dY, n, c, cs.eps, scale, dP, nullptr, 0));
        CHECK_ALL_CLOSE(dP.download(), gref, 2.4e-7, 2.4e-7 * scale, what + " dlogits in place");
    }
}

void test_smoothing_convention() {
    // Item 22: q = (1 - eps) onehot + eps / C over all C classes: with equal logits (p = 1/4) and
    // eps = 0.2, C = 4: the true class gets 0.85, the others 0.05; dlogits = p - q.
    std::vector<float> x(4, 1.5f);
    jt_test::DeviceBuffer<float> dX(x), dP(4), dL(1), dG(4);
    jt_test::DeviceBuffer<int64_t> dY(std::vector<int64_t>{2});
    CHECK_CUDA(jt_softmax_xent_forward(dX, dY, 1, 4, 0.2f, dP, dL, nullptr, 0));
    CHECK_CUDA(jt_softmax_xent_backward(dP, dY, 1, 4, 0.2f, 1.f, dG, nullptr, 0));
    std::vector<float> g = dG.download();
    const double want[] = {0.25 - 0.05, 0.25 - 0.05, 0.25 - 0.85, 0.25 - 0.05};
    // float32 of the exact value: 2 ulp
    for (int k = 0; k < 4; ++k) CHECK_CLOSE(g[k], want[k], 2.4e-7, 1e-8, "smoothing eps/C on every class, k=" + std::to_string(k));
    CHECK_CLOSE(dL.download()[0], log(4.0), 2.4e-7, 0, "uniform logits: loss = log C whatever eps");
}

void test_bad_labels() {
    // A label outside [0, c) cannot raise from a kernel: its row's loss and dlogits are NaN, the
    // other rows are unaffected.
    std::vector<float> x = {0.f, 1.f, 2.f, 3.f, 4.f, 5.f, 6.f, 7.f, 8.f};
    jt_test::DeviceBuffer<float> dX(x), dP(9), dL(3), dG(9);
    jt_test::DeviceBuffer<int64_t> dY(std::vector<int64_t>{3, 1, -1});
    CHECK_CUDA(jt_softmax_xent_forward(dX, dY, 3, 3, 0.f, dP, dL, nullptr, 0));
    std::vector<float> l = dL.download();
    CHECK_EQ(isnan(l[0]) && !isnan(l[1]) && isnan(l[2]), true, "loss NaN exactly for the rows with bad labels");
    CHECK_CUDA(jt_softmax_xent_backward(dP, dY, 3, 3, 0.f, 1.f, dG, nullptr, 0));
    std::vector<float> g = dG.download();
    CHECK_EQ(isnan(g[0]) && isnan(g[2]) && !isnan(g[3]) && !isnan(g[5]) && isnan(g[6]) && isnan(g[8]), true,
             "dlogits NaN exactly for the rows with bad labels");
}

// Bad labels are recorded in the device error record (kernels/device_error.h): the smallest bad row with its
// value (clamped to int32), how many, and c; good labels record nothing and give the same bits as no record.
void test_device_error(jt_test::Rng& rng) {
    struct Case {
        int n, c;
    };
    const Case cases[] = {{1, 1}, {7, 10}, {33, 3}, {127, 1000}, {1000, 7}, {2, 2049}};
    for (const Case& cs : cases) {
        const int n = cs.n, c = cs.c;
        const std::string what = "device error n=" + std::to_string(n) + " c=" + std::to_string(c);
        const std::vector<float> x = rng.uniform_vector((size_t)n * c, -4.f, 4.f);
        std::vector<int64_t> y(n);
        for (auto& v : y) v = (int64_t)(rng.uniform() * c);
        jt_test::DeviceBuffer<float> dX(x), dP(x.size()), dL(n), dG(x.size()), dP0(x.size()), dL0(n), dG0(x.size());
        jt_test::DeviceBuffer<int64_t> dY(y);
        jt_test::ErrorRecord rec;

        // Good labels: nothing recorded; the results are those of a launch without a record (bit for bit).
        CHECK_CUDA(jt_softmax_xent_forward(dX, dY, n, c, 0.1f, dP, dL, rec, 0));
        CHECK_CUDA(jt_softmax_xent_backward(dP, dY, n, c, 0.1f, 0.5f, dG, rec, 0));
        CHECK_NO_DEVICE_ERROR(rec, what + " good labels");
        CHECK_CUDA(jt_softmax_xent_forward(dX, dY, n, c, 0.1f, dP0, dL0, nullptr, 0));
        CHECK_CUDA(jt_softmax_xent_backward(dP0, dY, n, c, 0.1f, 0.5f, dG0, nullptr, 0));
        CHECK_ALL_CLOSE(dL.download(), dL0.download(), 0.0, 0.0, what + " loss with and without a record");
        CHECK_ALL_CLOSE(dG.download(), dG0.download(), 0.0, 0.0, what + " dlogits with and without a record");

        // Bad labels: c at the last row, -1 in the middle (n > 2), 2^40 (clamped to INT32_MAX) at row 0 (n > 1).
        std::vector<int64_t> bad = y;
        bad[n - 1] = c;
        uint64_t count = 1;
        int64_t first = n - 1;
        int32_t value = c;
        if (n > 2) {
            bad[n / 2] = -1;
            ++count;
            first = n / 2;
            value = -1;
        }
        if (n > 1) {
            bad[0] = (int64_t)1 << 40;
            ++count;
            first = 0;
            value = INT32_MAX;
        }
        dY.upload(bad);
        CHECK_CUDA(jt_softmax_xent_forward(dX, dY, n, c, 0.f, dP, dL, rec, 0));
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_SOFTMAX_XENT_FORWARD_LABEL, first, value, count, c, what + " forward");
        const std::vector<float> l = dL.download();
        size_t wrong = 0;
        for (int r = 0; r < n; ++r) wrong += (bool)isnan(l[r]) != (bad[r] < 0 || bad[r] >= c);
        CHECK_EQ(wrong, 0u, what + " loss NaN exactly for the bad rows");
        // First launch wins: a later failing launch (another op, or the same op again) leaves the record alone.
        CHECK_CUDA(jt_softmax_xent_backward(dP, dY, n, c, 0.f, 1.f, dG, rec, 0));
        CHECK_CUDA(jt_softmax_xent_forward(dX, dY, n, c, 0.f, dP, dL, rec, 0));
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_SOFTMAX_XENT_FORWARD_LABEL, first, value, count, c,
                           what + " forward, then later failing launches");
        rec.clear();
        CHECK_CUDA(jt_softmax_xent_backward(dP, dY, n, c, 0.f, 1.f, dG, rec, 0));
        // Once per bad row, although c elements of the row see the label.
        CHECK_DEVICE_ERROR(rec, JT_DEVERR_SOFTMAX_XENT_BACKWARD_LABEL, first, value, count, c, what + " backward");
    }
}

void test_bce(jt_test::Rng& rng) {
    for (int n : {1, 7, 33, 127, 1000, 4099}) {
        const std::string what = "bce n=" + std::to_string(n);
        std::vector<float> z = rng.uniform_vector(n, -10.f, 10.f), t = rng.uniform_vector(n, 0.f, 1.f);
        const float specials[][2] = {{0.f, 0.f}, {50.f, 1.f}, {-50.f, 0.f}, {50.f, 0.f}, {-50.f, 1.f}, {20.f, 0.3f}, {-20.f, 1.f}};
        for (int i = 0; i < n && i < 7; ++i) {
            z[i] = specials[i][0];
            t[i] = specials[i][1];
        }
        for (int i = 7; i < n; i += 3) t[i] = (float)(rng.uniform() < 0.5);  // hard targets too
        jt_test::DeviceBuffer<float> dZ(z), dT(t), dL(n), dG(n);
        CHECK_CUDA(jt_loss_bce_with_logits_forward(dZ, dT, n, dL, 0));
        const float scale = 1.f / n;
        CHECK_CUDA(jt_loss_bce_with_logits_backward(dZ, dT, n, scale, dG, 0));
        std::vector<double> lref(n), gref(n);
        std::vector<float> l = dL.download(), g = dG.download();
        size_t bad = 0;
        for (int i = 0; i < n; ++i) {
            const double v = z[i], tt = t[i];
            lref[i] = fmax(v, 0.0) - v * tt + log1p(exp(-fabs(v)));
            gref[i] = scale * (1.0 / (1.0 + exp(-v)) - tt);
            // max(z,0) - z t is fused into one rounding and both terms are nonnegative, so the loss is
            // within a few ulp of the float64 value even where z t nearly cancels max(z, 0) (large |z|,
            // t near 1 or 0): rtol 4 ulp, atol for subnormal results only.
            bad += !jt_test::close_enough(l[i], lref[i], 4 * 0x1p-23, 0x1p-126);
        }
        CHECK_EQ(bad, 0u, what + " loss");
        // sigmoid to a few ulp, then one subtraction and one product: rtol 1e-6, atol 2.4e-7 * scale.
        CHECK_ALL_CLOSE(g, gref, 1e-6, 2.4e-7 * scale, what + " dlogits");
    }
}

void test_sqerr(jt_test::Rng& rng) {
    for (int n : {1, 7, 33, 127, 1000}) {
        const std::string what = "squared error n=" + std::to_string(n);
        std::vector<float> p = rng.uniform_vector(n, -3.f, 3.f), t = rng.uniform_vector(n, -3.f, 3.f);
        jt_test::DeviceBuffer<float> dP(p), dT(t), dO(n), dG(n);
        const float scale = 1.f / 12;
        CHECK_CUDA(jt_loss_squared_error_forward(dP, dT, n, dO, 0));
        CHECK_CUDA(jt_loss_squared_error_backward(dP, dT, n, scale, dG, 0));
        std::vector<double> oref(n), gref(n);
        for (int i = 0; i < n; ++i) {
            const double d = (double)p[i] - t[i];
            oref[i] = d * d;               // no 1/2 factor (item 24)
            gref[i] = 2.0 * scale * d;
        }
        // (p - t) rounded once, squared once: 3 ulp; the gradient: (p - t), 2 scale, product: 3 ulp.
        CHECK_ALL_CLOSE(dO.download(), oref, 3.6e-7, 0.0, what + " out");
        CHECK_ALL_CLOSE(dG.download(), gref, 3.6e-7, 0.0, what + " dpred");
    }
}

void test_invalid() {
    jt_test::DeviceBuffer<float> b(16);
    jt_test::DeviceBuffer<int64_t> y(4);
    CHECK_STATUS(jt_softmax_xent_forward(b, y, 2, 0, 0.f, b, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_softmax_xent_forward(b, y, -1, 2, 0.f, b, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_softmax_xent_forward(b, y, 2, 2, 1.5f, b, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_softmax_xent_forward(b, nullptr, 2, 2, 0.f, b, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_softmax_xent_backward(b, y, 2, 2, -0.1f, 1.f, b, nullptr, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_loss_bce_with_logits_forward(nullptr, b, 4, b, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_loss_squared_error_backward(b, b, -4, 1.f, b, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_softmax_xent_forward(nullptr, nullptr, 0, 3, 0.f, nullptr, nullptr, nullptr, 0));  // empty batch
}

}  // namespace

int main() {
    jt_test::Rng rng(21);
    test_invalid();
    test_smoothing_convention();
    test_bad_labels();
    test_softmax_xent(rng);
    test_device_error(rng);
    test_bce(rng);
    test_sqerr(rng);
    return jt_test::finish("test_softmax_xent");
}
