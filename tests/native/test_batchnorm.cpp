// BatchNorm over [N, C, inner] (kernels/batchnorm.cu) on emu against float64 references written here
// (two-pass mean and variance, PyTorch's formulas of FORMAT.md items 8-13), at awkward shapes:
// C = 1, C = 3, inner = 1 ([N, D], the columns layout), inner = 7, inner = 4 x odd (float4 loads), N = 1,
// M prime, M below and above the block size, and offset data (mean 1000, std 1) where a naive sum of
// squares loses everything. Each shape runs with this device's plan (emu: its worker count) and with an
// H100's plan (132 SMs: many blocks per channel), aligned and with every x-sized pointer one float off
// 16 bytes (the scalar path). Also: null gamma/beta/dx, the eval-mode paths, accumulation into
// dgamma/dbeta, determinism (run to run and across fiber orders), the plan, bad arguments and workspaces.
#include <math.h>
#include <string.h>

#include <string>
#include <vector>

#include "batchnorm.h"
#include "common.cuh"
#include "launch_config.h"
#include "test_util.h"

namespace {

struct Shape {
    int n, c;
    int64_t inner;
    float offset;  // added to every x (ill-conditioned variance when large)
};

const Shape kShapes[] = {
    {2, 1, 1, 0.0f},       {3, 5, 63, 0.0f},     // [3, 5, 7, 9]
    {7, 3, 1, 0.0f},       {1, 4, 37, 0.0f},     // N = 1
    {129, 6, 1, 0.0f},     {4, 2, 1000, 0.0f},   // M = 4000: many elements per thread
    {2, 3, 5000, 0.0f},    {5, 3, 11, 1000.0f},  {16, 2, 300, 1000.0f},
    {3, 3, 7, 0.0f},       {5, 2, 12, 0.0f},     {3, 3, 20, 0.0f},  // inner 7, 4 x 3, 4 x 5
    {1, 1, 4099, 0.0f},                                           // M prime, N = 1, C = 1
    {1000, 3, 1, 0.0f},    {4100, 40, 1, 0.0f},  // columns: row splits, C not a multiple of 32
    {3, 2, 20004, 0.0f},   {2, 3, 30001, 0.0f},  // large inner (4 x 5001, odd): many blocks per channel
    {7, 2, 4004, 1000.0f},
};

// How a case runs: sm = 0 plans for this device, else for a device of `sm` SMs (the _sm entry points);
// misalign puts x, y, dy and dx one float past a 16-byte boundary (the scalar path where inner % 4 == 0).
struct Run {
    int sm;
    bool misalign;
};
const Run kRuns[] = {{0, false}, {132, false}, {132, true}};

std::string tag_of(const Shape& s, const Run& r) {
    return "[" + std::to_string(s.n) + "," + std::to_string(s.c) + "," + std::to_string(s.inner) + "]" +
           (s.offset != 0.0f ? " offset " + std::to_string((int)s.offset) : "") +
           (r.sm ? " sm " + std::to_string(r.sm) : "") + (r.misalign ? " misaligned" : "");
}

size_t at(const Shape& s, int n, int c, int64_t i) { return ((size_t)n * s.c + c) * (size_t)s.inner + (size_t)i; }

// Device floats at an optional one-float offset from the allocation (16-byte aligned + 4 bytes).
struct Floats {
    jt_test::DeviceBuffer<float> mem;
    size_t n, off;
    Floats(size_t count, bool misalign) : mem(count + 1), n(count), off(misalign ? 1 : 0) {}
    Floats(const std::vector<float>& host, bool misalign) : Floats(host.size(), misalign) {
        CHECK_CUDA(cudaMemcpy(get(), host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    }
    float* get() const { return mem.get() + off; }
    operator float*() const { return get(); }
    std::vector<float> download() const {
        std::vector<float> h(n);
        CHECK_CUDA(cudaMemcpy(h.data(), get(), n * sizeof(float), cudaMemcpyDeviceToHost));
        return h;
    }
};

// The workspace a run needs (the device's size query or the plan's).
struct Workspace {
    size_t bytes;
    jt_test::DeviceBuffer<double> mem;
    Workspace(const Shape& s, const Run& r)
        : bytes(r.sm ? jt_batchnorm_plan(s.n, s.c, s.inner, r.sm).workspace_bytes
                     : jt_batchnorm_workspace_bytes(s.n, s.c, s.inner)),
          mem(bytes / sizeof(double) + 1) {}
};

cudaError_t forward_train(const Run& r, const float* x, const float* g, const float* b, float eps, float momentum,
                          float* rm, float* rv, float* y, float* sm, float* sv, const Shape& s, Workspace& ws) {
    if (r.sm) {
        return jt_batchnorm_forward_train_sm(x, g, b, eps, momentum, rm, rv, y, sm, sv, s.n, s.c, s.inner, ws.mem,
                                             ws.bytes, r.sm, 0);
    }
    return jt_batchnorm_forward_train(x, g, b, eps, momentum, rm, rv, y, sm, sv, s.n, s.c, s.inner, ws.mem, ws.bytes, 0);
}

cudaError_t forward_eval(const Run& r, const float* x, const float* g, const float* b, const float* rm,
                         const float* rv, float eps, float* y, const Shape& s) {
    if (r.sm) return jt_batchnorm_forward_eval_sm(x, g, b, rm, rv, eps, y, s.n, s.c, s.inner, r.sm, 0);
    return jt_batchnorm_forward_eval(x, g, b, rm, rv, eps, y, s.n, s.c, s.inner, 0);
}

cudaError_t backward(const Run& r, const float* x, const float* dy, const float* g, const float* mean,
                     const float* var, float eps, int training, float* dx, float* dg, float* db, const Shape& s,
                     Workspace& ws) {
    if (r.sm) {
        return jt_batchnorm_backward_sm(x, dy, g, mean, var, eps, training, dx, dg, db, s.n, s.c, s.inner, ws.mem,
                                        ws.bytes, r.sm, 0);
    }
    return jt_batchnorm_backward(x, dy, g, mean, var, eps, training, dx, dg, db, s.n, s.c, s.inner, ws.mem, ws.bytes, 0);
}

// Per-channel mean and biased variance by two passes in double.
void stats_ref(const Shape& s, const std::vector<float>& x, std::vector<double>& mean, std::vector<double>& var) {
    const double m = (double)s.n * s.inner;
    mean.assign(s.c, 0.0);
    var.assign(s.c, 0.0);
    for (int c = 0; c < s.c; ++c) {
        double sum = 0;
        for (int n = 0; n < s.n; ++n)
            for (int64_t i = 0; i < s.inner; ++i) sum += x[at(s, n, c, i)];
        mean[c] = sum / m;
        double sq = 0;
        for (int n = 0; n < s.n; ++n)
            for (int64_t i = 0; i < s.inner; ++i) {
                const double d = x[at(s, n, c, i)] - mean[c];
                sq += d * d;
            }
        var[c] = sq / m;
    }
}

void test_forward_train(const Shape& s, const Run& r, bool affine) {
    jt_test::Rng rng(100 + s.n * 7 + s.c);
    const std::string tag = "bn train " + tag_of(s, r) + (affine ? "" : " no affine");
    const size_t total = (size_t)s.n * s.c * s.inner;
    std::vector<float> x(total);
    for (auto& v : x) v = s.offset + (float)rng.normal() * 1.5f;
    const std::vector<float> gamma = rng.uniform_vector(s.c, 0.5f, 1.5f), beta = rng.uniform_vector(s.c, -1.0f, 1.0f);
    const std::vector<float> rm0 = rng.uniform_vector(s.c, -0.5f, 0.5f), rv0 = rng.uniform_vector(s.c, 0.5f, 2.0f);
    const float eps = 1e-5f, momentum = 0.1f;
    jt_test::DeviceBuffer<float> dg(gamma), db(beta), drm(rm0), drv(rv0), dsm(s.c), dsv(s.c);
    Floats dx(x, r.misalign), dy(total, r.misalign);
    Workspace ws(s, r);
    CHECK_CUDA(forward_train(r, dx, affine ? dg.get() : nullptr, affine ? db.get() : nullptr, eps, momentum, drm, drv, dy,
                             dsm, dsv, s, ws));
    std::vector<double> mean, var;
    stats_ref(s, x, mean, var);
    const double m = (double)s.n * s.inner;
    std::vector<double> yref(total), rmref(s.c), rvref(s.c);
    for (int c = 0; c < s.c; ++c) {
        const double inv = 1.0 / sqrt(var[c] + eps);
        for (int n = 0; n < s.n; ++n)
            for (int64_t i = 0; i < s.inner; ++i) {
                const double xh = (x[at(s, n, c, i)] - mean[c]) * inv;
                yref[at(s, n, c, i)] = affine ? gamma[c] * xh + beta[c] : xh;
            }
        rmref[c] = (1.0 - momentum) * rm0[c] + momentum * mean[c];
        rvref[c] = (1.0 - momentum) * rv0[c] + momentum * var[c] * m / (m - 1.0);
    }
    // Mean and variance: sums of d = x - K (K the channel's first value; exact for offset data) in float
    // over groups of 4 or 16 values, then in double. The tolerances are those of the float Welford this
    // replaced (a few ulps of |mean| + std); the sums are well inside them.
    const double scale = fabs(s.offset) + 1.5;
    CHECK_ALL_CLOSE(dsm.download(), mean, 0.0, 2e-6 * scale, tag + " saved mean (~ulps of |mean|+std)");
    // Variance: 5e-6 for centred data, 5e-5 for the offset cases (a naive float sum of squares would be
    // off by ~100 %); the shift keeps d of the order of std, so both are far from the limit.
    const double var_rtol = s.offset != 0.0f ? 5e-5 : 5e-6;
    CHECK_ALL_CLOSE(dsv.download(), var, var_rtol, 0.0, tag + " saved biased var");
    CHECK_ALL_CLOSE(drm.download(), rmref, 1e-6, 2e-7 * scale, tag + " running mean (momentum 0.1)");
    if (m > 1) CHECK_ALL_CLOSE(drv.download(), rvref, var_rtol, 1e-7, tag + " running var (unbiased)");
    // y = (x - mean) inv gamma + beta: the error of the float mean, divided by std (~1.5), dominates
    // for offset data (ulp(1000) = 6e-5); otherwise a few float roundings of O(1) values.
    const double y_atol = s.offset != 0.0f ? 2e-4 : 2e-6;
    CHECK_ALL_CLOSE(dy.download(), yref, 1e-5, y_atol, tag + " y");
}

void test_backward(const Shape& s, const Run& r, bool training, bool affine, bool with_dx, bool with_param_grads) {
    jt_test::Rng rng(500 + s.n * 3 + s.c + (training ? 1 : 0));
    std::string tag = std::string("bn backward ") + (training ? "train " : "eval ") + tag_of(s, r);
    if (!affine) tag += " no gamma";
    if (!with_dx) tag += " no dx";
    if (!with_param_grads) tag += " no dgamma/dbeta";
    const size_t total = (size_t)s.n * s.c * s.inner;
    std::vector<float> x(total), dyv(total);
    for (auto& v : x) v = s.offset + (float)rng.normal() * 1.5f;
    for (auto& v : dyv) v = (float)rng.normal();
    const std::vector<float> gamma = rng.uniform_vector(s.c, 0.5f, 1.5f);
    std::vector<float> mean_f(s.c), var_f(s.c);
    if (training) {  // the saved batch statistics (as the forward would store them, in float)
        std::vector<double> mean, var;
        stats_ref(s, x, mean, var);
        for (int c = 0; c < s.c; ++c) {
            mean_f[c] = (float)mean[c];
            var_f[c] = (float)var[c];
        }
    } else {  // running statistics, unrelated to this batch
        mean_f = rng.uniform_vector(s.c, -0.5f, 0.5f);
        for (auto& v : mean_f) v += s.offset;
        var_f = rng.uniform_vector(s.c, 0.5f, 3.0f);
    }
    const std::vector<float> dg0 = rng.uniform_vector(s.c), db0 = rng.uniform_vector(s.c);  // accumulated into
    const float eps = 1e-5f;
    jt_test::DeviceBuffer<float> dgam(gamma), dmean(mean_f), dvar(var_f), ddg(dg0), ddb(db0);
    Floats dx_(x, r.misalign), ddy(dyv, r.misalign), ddx(total, r.misalign);
    Workspace ws(s, r);
    CHECK_CUDA(backward(r, dx_, ddy, affine ? dgam.get() : nullptr, dmean, dvar, eps, training ? 1 : 0,
                        with_dx ? ddx.get() : nullptr, with_param_grads ? ddg.get() : nullptr,
                        with_param_grads ? ddb.get() : nullptr, s, ws));
    const double m = (double)s.n * s.inner;
    std::vector<double> dxref(total), dgref(s.c), dbref(s.c), abs_dy(s.c), abs_dyxh(s.c);
    for (int c = 0; c < s.c; ++c) {
        const double mu = mean_f[c], inv = 1.0 / sqrt((double)var_f[c] + eps), g = affine ? gamma[c] : 1.0;
        double sdy = 0, sdyxh = 0;
        for (int n = 0; n < s.n; ++n)
            for (int64_t i = 0; i < s.inner; ++i) {
                const size_t k = at(s, n, c, i);
                const double xh = (x[k] - mu) * inv;
                sdy += dyv[k];
                sdyxh += dyv[k] * xh;
                abs_dy[c] += fabs(dyv[k]);
                abs_dyxh[c] += fabs(dyv[k] * xh);
            }
        for (int n = 0; n < s.n; ++n)
            for (int64_t i = 0; i < s.inner; ++i) {
                const size_t k = at(s, n, c, i);
                const double xh = (x[k] - mu) * inv;
                dxref[k] = training ? g * inv / m * (m * dyv[k] - sdy - xh * sdyxh) : dyv[k] * g * inv;
            }
        dgref[c] = dg0[c] + sdyxh;
        dbref[c] = db0[c] + sdy;
    }
    if (with_dx) {
        // Training: per-thread float sums feed dy - mean(dy) - xhat mean(dy xhat), terms of O(|dy|);
        // a few 1e-7-relative errors of those terms, times gamma inv (< 1.2). Offset data: xhat
        // carries the float mean's error (ulp(1000)/std ~ 4e-5) times mean(dy xhat).
        const double atol = s.offset != 0.0f ? 2e-5 : 2e-6;
        CHECK_ALL_CLOSE(ddx.download(), dxref, training ? 1e-5 : 1e-6, training ? atol : 1e-7, tag + " dx");
    } else {
        // dx not written: nothing to check but the status (the buffer is uninitialised).
    }
    if (with_param_grads) {
        const std::vector<float> dg = ddg.download(), db = ddb.download();
        for (int c = 0; c < s.c; ++c) {
            // Float sums over groups of <= 16 terms, then double: error <= ~16 2^-24 sum|terms|, well
            // inside 1e-6 sum|terms|, plus one float rounding of the result.
            CHECK_CLOSE(dg[c], dgref[c], 1e-7, 1e-6 * abs_dyxh[c] + 1e-7, tag + " dgamma[" + std::to_string(c) + "] (+=)");
            CHECK_CLOSE(db[c], dbref[c], 1e-7, 1e-6 * abs_dy[c] + 1e-7, tag + " dbeta[" + std::to_string(c) + "] (+=)");
        }
    } else {
        CHECK(ddg.download() == dg0 && ddb.download() == db0, tag + " dgamma/dbeta untouched");
    }
}

void test_forward_eval(const Shape& s, const Run& r, bool affine) {
    jt_test::Rng rng(900 + s.n + s.c);
    const std::string tag = "bn eval " + tag_of(s, r) + (affine ? "" : " no affine");
    const size_t total = (size_t)s.n * s.c * s.inner;
    std::vector<float> x(total);
    for (auto& v : x) v = s.offset + (float)rng.normal();
    const std::vector<float> gamma = rng.uniform_vector(s.c, 0.5f, 1.5f), beta = rng.uniform_vector(s.c);
    std::vector<float> rm = rng.uniform_vector(s.c, -0.5f, 0.5f);
    for (auto& v : rm) v += s.offset;
    const std::vector<float> rv = rng.uniform_vector(s.c, 0.5f, 3.0f);
    const float eps = 1e-5f;
    jt_test::DeviceBuffer<float> dg(gamma), db(beta), drm(rm), drv(rv);
    Floats dx(x, r.misalign), dy(total, r.misalign);
    CHECK_CUDA(forward_eval(r, dx, affine ? dg.get() : nullptr, affine ? db.get() : nullptr, drm, drv, eps, dy, s));
    std::vector<double> yref(total);
    for (int n = 0; n < s.n; ++n)
        for (int c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < s.inner; ++i) {
                const size_t k = at(s, n, c, i);
                const double xh = (x[k] - (double)rm[c]) / sqrt((double)rv[c] + eps);
                yref[k] = affine ? gamma[c] * xh + beta[c] : xh;
            }
    // Elementwise in float: x - rm is exact or one rounding, inv and the product a few more.
    CHECK_ALL_CLOSE(dy.download(), yref, 1e-6, 1e-6, tag + " y");
    // In place (y aliases x) gives the same bits.
    CHECK_CUDA(forward_eval(r, dx, affine ? dg.get() : nullptr, affine ? db.get() : nullptr, drm, drv, eps, dx, s));
    CHECK(dx.download() == dy.download(), tag + " in place");
}

// M = 1: the batch variance is 0, y = beta, and the unbiased variance 0/0 makes the running variance
// NaN, exactly as the cpu backend computes it (PyTorch refuses such a batch).
void test_single_value() {
    const std::vector<float> x = {3.0f}, g = {2.0f}, b = {0.25f}, rm = {0.0f}, rv = {1.0f};
    jt_test::DeviceBuffer<float> dx(x), dg(g), db(b), drm(rm), drv(rv), dy(1), dsm(1), dsv(1);
    Workspace ws({1, 1, 1, 0.0f}, {0, false});
    CHECK_CUDA(jt_batchnorm_forward_train(dx, dg, db, 1e-5f, 0.1f, drm, drv, dy, dsm, dsv, 1, 1, 1, ws.mem, ws.bytes, 0));
    CHECK_CLOSE(dy.download()[0], 0.25, 0.0, 0.0, "M=1: y = beta exactly");
    CHECK_CLOSE(dsv.download()[0], 0.0, 0.0, 0.0, "M=1: biased var 0");
    CHECK_CLOSE(drm.download()[0], 0.3, 1e-7, 0.0, "M=1: running mean (one float rounding)");
    CHECK(isnan(drv.download()[0]), "M=1: running var NaN like the cpu");
}

// A constant channel: the shifted sums are exactly 0, so var = 0 and y = beta exactly (no negative
// variance from rounding).
void test_constant_channel() {
    const Shape s = {3, 2, 1001, 0.0f};
    const size_t total = (size_t)s.n * s.c * s.inner;
    std::vector<float> x(total, 7.25f);
    jt_test::DeviceBuffer<float> dx(x), dy(total), dsm(s.c), dsv(s.c), db(std::vector<float>{0.5f, -1.0f});
    Workspace ws(s, {0, false});
    CHECK_CUDA(jt_batchnorm_forward_train(dx, nullptr, db, 1e-5f, 0.1f, nullptr, nullptr, dy, dsm, dsv, s.n, s.c, s.inner,
                                          ws.mem, ws.bytes, 0));
    CHECK(dsv.download() == std::vector<float>(s.c, 0.0f), "constant channel: var exactly 0");
    CHECK(dsm.download() == std::vector<float>(s.c, 7.25f), "constant channel: mean exact");
    const std::vector<float> y = dy.download();
    size_t bad = 0;
    for (int n = 0; n < s.n; ++n)
        for (int c = 0; c < s.c; ++c)
            for (int64_t i = 0; i < s.inner; ++i) bad += y[at(s, n, c, i)] != (c == 0 ? 0.5f : -1.0f);
    CHECK_EQ(bad, (size_t)0, "constant channel: y = beta exactly");
}

// The sums are fixed trees and the merge a fixed order: the same bits run to run and whichever order the
// fibers run in (emu), for this device's plan and an H100's.
void test_determinism() {
    for (const Shape& s : {Shape{6, 3, 777, 0.0f}, Shape{2, 2, 40000, 0.0f}, Shape{3000, 5, 1, 0.0f}}) {
        for (const Run& r : {Run{0, false}, Run{132, false}}) {
            const size_t total = (size_t)s.n * s.c * s.inner;
            jt_test::Rng rng(4242);
            std::vector<float> x(total), dyv(total);
            for (auto& v : x) v = (float)rng.normal();
            for (auto& v : dyv) v = (float)rng.normal();
            const std::vector<float> gamma = rng.uniform_vector(s.c, 0.5f, 1.5f), beta = rng.uniform_vector(s.c);
            std::vector<float> y_first, dx_first, dg_first, var_first;
#ifdef JT_EMU
            const int orders = 3;
#else
            const int orders = 2;
#endif
            for (int order = 0; order < orders; ++order) {
#ifdef JT_EMU
                const int previous = jt_emu_set_order(order);
#endif
                jt_test::DeviceBuffer<float> dx(x), ddy(dyv), dg(gamma), db(beta), dy(total), dsm(s.c), dsv(s.c),
                    ddx(total), ddg(std::vector<float>(s.c, 0.0f));
                Workspace ws(s, r);
                CHECK_CUDA(forward_train(r, dx, dg, db, 1e-5f, 0.1f, nullptr, nullptr, dy, dsm, dsv, s, ws));
                CHECK_CUDA(backward(r, dx, ddy, dg, dsm, dsv, 1e-5f, 1, ddx, ddg, nullptr, s, ws));
#ifdef JT_EMU
                jt_emu_set_order(previous);
#endif
                if (order == 0) {
                    y_first = dy.download();
                    dx_first = ddx.download();
                    dg_first = ddg.download();
                    var_first = dsv.download();
                } else {
                    const std::string tag = tag_of(s, r) + " run " + std::to_string(order) + " gives the same bits";
                    CHECK(dy.download() == y_first, tag + " (y)");
                    CHECK(dsv.download() == var_first, tag + " (var)");
                    CHECK(ddx.download() == dx_first, tag + " (dx)");
                    CHECK(ddg.download() == dg_first, tag + " (dgamma)");
                }
            }
        }
    }
}

// The launch plan: about JT_BN_BLOCKS_PER_SM blocks per SM, float4 where inner % 4 == 0, the columns
// layout for inner = 1, every chunk a whole number of float4s, splits covering the channel.
void test_plan() {
    const JtBatchnormPlan big = jt_batchnorm_plan(128, 64, 56 * 56, 132);
    CHECK_EQ(big.layout, JT_BN_PLANES, "[128,64,56,56]: planes");
    CHECK_EQ(big.vec, 4, "[128,64,56,56]: float4");
    CHECK_EQ(big.threads, 256, "[128,64,56,56]: 256 threads");
    CHECK_EQ(big.splits, 8, "[128,64,56,56] on 132 SMs: 8 blocks per channel (512 blocks <= 4 x 132: one wave)");
    CHECK_EQ(big.workspace_bytes, (size_t)64 * 8 * 16, "[128,64,56,56]: one double pair per block");
    CHECK(big.chunk % 4 == 0 && big.chunk * big.splits >= 128 * 3136 && (big.splits - 1) * big.chunk < 128 * 3136,
          "[128,64,56,56]: chunks cover the channel, none empty");
    const JtBatchnormPlan odd = jt_batchnorm_plan(3, 5, 7, 132);
    CHECK(odd.layout == JT_BN_PLANES && odd.vec == 1 && odd.splits == 1 && odd.threads == 32, "[3,5,7]: one warp");
    const JtBatchnormPlan cols = jt_batchnorm_plan(4096, 100, 1, 132);
    CHECK(cols.layout == JT_BN_COLUMNS && cols.threads == 32 * JT_BN_COLUMN_ROWS, "[4096,100]: columns");
    CHECK_EQ(cols.splits, 32, "[4096,100]: 4 tiles x 32 row splits (at least 128 rows each)");
    CHECK_EQ(jt_batchnorm_plan(100000, 100, 1, 132).splits, 132, "[100000,100]: 4 tiles x 132 row splits");
    CHECK_EQ(jt_batchnorm_plan(128, 512, 1, 132).splits, 1, "[128,512]: too few rows to split");
    CHECK(jt_batchnorm_plan(1, 1, 1 << 30, 132).splits == 4 * 132, "one huge channel: 4 blocks per SM");
    CHECK(jt_batchnorm_plan(1, 1, 1 << 30, 1000000).splits == 65535, "splits capped at the grid's y limit");
    CHECK_EQ(jt_batchnorm_workspace_bytes(8, 3, 5), jt_batchnorm_plan(8, 3, 5, jt_device_sm_count()).workspace_bytes,
             "the size query uses this device's SM count");
}

void test_bad_arguments() {
    jt_test::DeviceBuffer<float> a(8), b(8), c(2), d(2);
    Workspace ws({1, 2, 4, 0.0f}, {0, false});
    void* w = ws.mem;
    const size_t wb = ws.bytes;
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, nullptr, nullptr, b, nullptr, nullptr, 0, 2, 4,
                                            w, wb, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, nullptr, nullptr, a, nullptr, nullptr, 1, 2, 4,
                                            w, wb, 0),
                 cudaErrorInvalidValue);  // y aliasing x
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, c, nullptr, b, nullptr, nullptr, 1, 2, 4, w,
                                            wb, 0),
                 cudaErrorInvalidValue);  // running mean without running var
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, nullptr, nullptr, b, nullptr, nullptr, 1, 2, 4,
                                            nullptr, wb, 0),
                 cudaErrorInvalidValue);  // no workspace
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, nullptr, nullptr, b, nullptr, nullptr, 1, 2, 4,
                                            w, wb - 1, 0),
                 cudaErrorInvalidValue);  // too small
    CHECK_STATUS(jt_batchnorm_forward_train(a, nullptr, nullptr, 1e-5f, 0.1f, nullptr, nullptr, b, nullptr, nullptr, 1, 2, 4,
                                            static_cast<char*>(w) + 8, wb, 0),
                 cudaErrorInvalidValue);  // not 16-byte aligned
    CHECK_STATUS(jt_batchnorm_forward_eval(a, nullptr, nullptr, nullptr, d, 1e-5f, b, 1, 2, 4, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_batchnorm_backward(a, b, nullptr, c, d, 1e-5f, 1, a, nullptr, nullptr, 1, 2, 4, w, wb, 0),
                 cudaErrorInvalidValue);  // dx aliasing x
    CHECK_STATUS(jt_batchnorm_backward(a, b, nullptr, c, d, 1e-5f, 1, b, nullptr, nullptr, 1, 2, 0, w, wb, 0),
                 cudaErrorInvalidValue);  // inner = 0
    CHECK_STATUS(jt_batchnorm_backward(a, b, nullptr, c, d, 1e-5f, 1, b, nullptr, nullptr, 1, 2, 4, nullptr, 0, 0),
                 cudaErrorInvalidValue);  // training needs the sums: a workspace
    jt_test::DeviceBuffer<float> dxb(8);
    CHECK_CUDA(jt_batchnorm_backward(a, b, nullptr, c, d, 1e-5f, 0, dxb, nullptr, nullptr, 1, 2, 4, nullptr, 0, 0));
}

}  // namespace

// The saved-statistic conversions of the vendor path, against float64: var -> invstd -> var returns the
// variance to within a few ulp of (var + eps) (the float invstd carries one rounding, squared).
void test_stat_conversions() {
    const float eps = 1e-5f;
    for (int c : {1, 7, 257}) {
        std::vector<float> var(c);
        for (int i = 0; i < c; ++i) var[i] = (i % 3 == 0) ? 0.f : 0.01f * (float)(i * i) + 1e-3f;  // zero included
        jt_test::DeviceBuffer<float> V(var), I(c);
        CHECK_CUDA(jt_batchnorm_var_to_invstd(V, I, c, eps, 0));
        std::vector<float> inv = I.download(), want(c);
        for (int i = 0; i < c; ++i) want[i] = (float)(1.0 / sqrt((double)var[i] + eps));
        CHECK_ALL_CLOSE(inv, want, 0x1p-23, 0.0, "var_to_invstd c=" + std::to_string(c));
        CHECK_CUDA(jt_batchnorm_invstd_to_var(I, c, eps, 0));
        std::vector<float> back = I.download();
        size_t bad = 0;
        for (int i = 0; i < c; ++i) bad += fabs((double)back[i] - var[i]) > 4 * 0x1p-24 * ((double)var[i] + eps);
        CHECK_EQ(bad, (size_t)0, "invstd_to_var round trip c=" + std::to_string(c));
    }
    CHECK_STATUS(jt_batchnorm_var_to_invstd(nullptr, nullptr, 3, 1e-5f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_batchnorm_invstd_to_var(nullptr, -1, 1e-5f, 0), cudaErrorInvalidValue);
    CHECK_CUDA(jt_batchnorm_invstd_to_var(nullptr, 0, 1e-5f, 0));
}

int main() {
    test_stat_conversions();
    test_plan();
    for (const Run& r : kRuns) {
        for (const Shape& s : kShapes) {
            if (r.misalign && (s.inner == 1 || s.inner % 4 != 0)) continue;  // scalar loads anyway: nothing new
            test_forward_train(s, r, true);
            test_forward_eval(s, r, true);
            for (int training = 0; training < 2; ++training) test_backward(s, r, training, true, true, true);
        }
        const Shape small = {3, 5, 64, 0.0f};  // float4 unless misaligned
        const Shape cols = {300, 33, 1, 0.0f};
        for (const Shape& s : {small, cols}) {
            test_forward_train(s, r, false);
            test_forward_eval(s, r, false);
            test_backward(s, r, true, false, true, true);
            test_backward(s, r, true, true, false, true);   // dx null: only the parameter gradients
            test_backward(s, r, true, true, true, false);   // no parameter gradients
            test_backward(s, r, false, true, true, false);  // eval, dx only: no sums, no workspace needed
            test_backward(s, r, false, false, true, false);
            test_backward(s, r, false, true, false, true);  // eval, parameter gradients only
        }
    }
    test_single_value();
    test_constant_channel();
    test_determinism();
    test_bad_arguments();
    return jt_test::finish("test_batchnorm");
}
