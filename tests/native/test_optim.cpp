// Optimizer updates and global-norm clipping (kernels/optim.cu) on emu against float64 references
// written here from PyTorch's rules (FORMAT.md items 27-35): six steps with the gradient scales of
// the conformance case (1, 0.5, 1.5, 0.01, 0.02, 1; element 0 always has a zero gradient), every
// state stored in float32 between steps like the parameters themselves. Also: the multi-tensor
// launchers give the same bits as one launch per tensor (more tensors than fit one launch, a tensor
// split across launches), sum of squares over many tensors, clipping with and without effect; the
// float4 path (every pointer 16-byte aligned) gives the bits of the scalar path (pointers misaligned by
// 1-3 floats, or one list misaligned) at odd sizes, and the sum of squares does not depend on alignment.
#include <math.h>
#include <string.h>
#include <sys/mman.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "optim.h"
#include "test_util.h"

namespace {

const int64_t kSizes[] = {1, 3, 5, 7, 33, 1000, 1023, 4097, 65537};
const double kStepScale[] = {1.0, 0.5, 1.5, 0.01, 0.02, 1.0};
constexpr int kSteps = 6;

std::vector<float> grad_at(jt_test::Rng& rng, int64_t n, int step) {
    std::vector<float> g = rng.uniform_vector((size_t)n, -1.0f, 1.0f);
    for (auto& v : g) v = (float)(v * kStepScale[step]);
    g[0] = 0.0f;
    return g;
}

// Each step is checked from the device's own state: the reference reads the float state back, applies
// the rule in double and also sums the magnitudes of the terms that make up each stored value (mag).
// The device computes in float32 with about ten roundings along each chain, each at most 2^-24 of the
// magnitudes involved, so |device - reference| <= kUlps 2^-24 mag (cancellation, e.g. m b1 + g c1
// of opposite signs, is covered because mag sums absolute values). Checking each step from the
// device's state keeps errors from compounding over the six steps.
constexpr double kUlps = 16.0;

void check_bound(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& mag,
                 const std::string& what, int line) {
    ++jt_test::counters().checks;
    size_t bad = 0, worst = 0;
    double worst_ratio = 0.0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double err = fabs((double)got[i] - want[i]), bound = kUlps * 0x1.0p-24 * mag[i];
        const double ratio = err == 0.0 ? 0.0 : (bound > 0.0 ? err / bound : INFINITY);
        if (!(ratio <= 1.0)) ++bad;
        if (!(ratio <= worst_ratio)) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    if (bad > 0)
        jt_test::report_failure(__FILE__, line, "%s: %zu of %zu elements beyond %g ulps of their magnitude; worst [%zu]: got %.9g, expected %.9g, mag %.3g",
                                what.c_str(), bad, got.size(), kUlps, worst, (double)got[worst], want[worst], mag[worst]);
}
#define CHECK_BOUND(got, want, mag, what) check_bound((got), (want), (mag), (what), __LINE__)

struct SgdCfg {
    float lr, momentum, dampening, wd;
    bool nesterov;
};

void test_sgd(int64_t n, const SgdCfg& c) {
    const std::string tag = "sgd n=" + std::to_string(n) + " mom=" + std::to_string(c.momentum) + " damp=" +
                            std::to_string(c.dampening) + " wd=" + std::to_string(c.wd) + (c.nesterov ? " nesterov" : "");
    jt_test::Rng rng(1 + (uint64_t)n);
    jt_test::DeviceBuffer<float> dp(rng.uniform_vector((size_t)n)), db(std::vector<float>((size_t)n, 0.0f)), dg((size_t)n);
    const size_t un = (size_t)n;
    for (int t = 0; t < kSteps; ++t) {
        const std::vector<float> g = grad_at(rng, n, t), p = dp.download(), buf = db.download();
        dg.upload(g);
        CHECK_CUDA(jt_optim_sgd(dp, dg, c.momentum != 0.0f ? db.get() : nullptr, n, c.lr, c.momentum, c.dampening, c.wd,
                                c.nesterov, t == 0, 0));
        std::vector<double> pr(un), pm(un), br(un), bm(un);
        for (size_t i = 0; i < un; ++i) {
            double d = (double)g[i] + (double)c.wd * p[i];  // L2-coupled decay first (item 27)
            double dm = fabs(g[i]) + fabs((double)c.wd * p[i]);
            if (c.momentum != 0.0f) {
                // buf_1 = g (no dampening factor); then mu buf + (1 - dampening) g (item 28)
                br[i] = t == 0 ? d : c.momentum * (double)buf[i] + (1.0 - c.dampening) * d;
                bm[i] = t == 0 ? dm : fabs(c.momentum * (double)buf[i]) + (1.0 - c.dampening) * dm;
                dm = c.nesterov ? dm + c.momentum * bm[i] : bm[i];  // Nesterov: g + mu buf (item 29)
                d = c.nesterov ? d + c.momentum * br[i] : br[i];
            }
            pr[i] = p[i] - (double)c.lr * d;
            pm[i] = fabs(p[i]) + c.lr * dm;
        }
        const std::string st = " step " + std::to_string(t + 1);
        CHECK_BOUND(dp.download(), pr, pm, tag + " param" + st);
        if (c.momentum != 0.0f) CHECK_BOUND(db.download(), br, bm, tag + " momentum_buffer" + st);
    }
}

void test_adagrad(int64_t n, float wd) {
    const std::string tag = "adagrad n=" + std::to_string(n) + " wd=" + std::to_string(wd);
    jt_test::Rng rng(2 + (uint64_t)n);
    const double lr = 0.1, lr_decay = 0.01, eps = 1e-10;
    const size_t un = (size_t)n;
    jt_test::DeviceBuffer<float> dp(rng.uniform_vector(un)), ds(std::vector<float>(un, 0.0f)), dg(un);
    for (int t = 0; t < kSteps; ++t) {
        const std::vector<float> g = grad_at(rng, n, t), p = dp.download(), sum = ds.download();
        dg.upload(g);
        const float clr = (float)(lr / (1.0 + t * lr_decay));  // clr = lr / (1 + (step - 1) lr_decay), step = t + 1
        CHECK_CUDA(jt_optim_adagrad(dp, dg, ds, n, clr, wd, (float)eps, 0));
        std::vector<double> pr(un), pm(un), sr(un), sm(un);
        for (size_t i = 0; i < un; ++i) {
            const double gi = (double)g[i] + (double)wd * p[i], gm = fabs(g[i]) + fabs((double)wd * p[i]);
            sr[i] = sum[i] + gi * gi;  // starts at 0
            sm[i] = sum[i] + gm * gm;
            const double den = sqrt(sr[i]) + (double)(float)eps;  // eps outside the sqrt (item 30)
            pr[i] = p[i] - clr * gi / den;
            pm[i] = fabs(p[i]) + clr * gm / den;
        }
        const std::string st = " step " + std::to_string(t + 1);
        CHECK_BOUND(dp.download(), pr, pm, tag + " param" + st);
        CHECK_BOUND(ds.download(), sr, sm, tag + " sum" + st);
    }
}

void test_rmsprop(int64_t n, float wd, float momentum) {
    const std::string tag = "rmsprop n=" + std::to_string(n) + " wd=" + std::to_string(wd) + " mom=" + std::to_string(momentum);
    jt_test::Rng rng(3 + (uint64_t)n);
    const float lr = 0.01f, alpha = 0.99f, eps = 1e-8f;
    const size_t un = (size_t)n;
    const std::vector<float> zeros(un, 0.0f);
    jt_test::DeviceBuffer<float> dp(rng.uniform_vector(un)), dsq(zeros), db(zeros), dg(un);
    for (int t = 0; t < kSteps; ++t) {
        const std::vector<float> g = grad_at(rng, n, t), p = dp.download(), sq = dsq.download(), buf = db.download();
        dg.upload(g);
        CHECK_CUDA(jt_optim_rmsprop(dp, dg, dsq, momentum != 0.0f ? db.get() : nullptr, n, lr, alpha, eps, wd, momentum, 0));
        std::vector<double> pr(un), pm(un), vr(un), vm(un), br(un), bm(un);
        for (size_t i = 0; i < un; ++i) {
            const double gi = (double)g[i] + (double)wd * p[i], gm = fabs(g[i]) + fabs((double)wd * p[i]);
            vr[i] = (double)alpha * sq[i] + (1.0 - (double)alpha) * gi * gi;  // starts at 0, no bias correction (item 31)
            vm[i] = (double)alpha * sq[i] + (1.0 - (double)alpha) * gm * gm;
            const double den = sqrt(vr[i]) + (double)eps;
            if (momentum != 0.0f) {
                br[i] = (double)momentum * buf[i] + gi / den;
                bm[i] = fabs((double)momentum * buf[i]) + gm / den;
                pr[i] = p[i] - (double)lr * br[i];
                pm[i] = fabs(p[i]) + lr * bm[i];
            } else {
                pr[i] = p[i] - (double)lr * gi / den;
                pm[i] = fabs(p[i]) + lr * gm / den;
            }
        }
        const std::string st = " step " + std::to_string(t + 1);
        CHECK_BOUND(dp.download(), pr, pm, tag + " param" + st);
        CHECK_BOUND(dsq.download(), vr, vm, tag + " square_avg" + st);
        if (momentum != 0.0f) CHECK_BOUND(db.download(), br, bm, tag + " momentum_buffer" + st);
    }
}

enum class AdamKind { kAdam, kAmsgrad, kAdamW };

void test_adam(int64_t n, AdamKind kind, float wd) {
    const char* names[] = {"adam", "amsgrad", "adamw"};
    const std::string tag = std::string(names[(int)kind]) + " n=" + std::to_string(n) + " wd=" + std::to_string(wd);
    jt_test::Rng rng(4 + (uint64_t)n);
    const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const size_t un = (size_t)n;
    const std::vector<float> zeros(un, 0.0f);
    jt_test::DeviceBuffer<float> dp(rng.uniform_vector(un)), dm(zeros), dv(zeros), dvmax(zeros), dg(un);
    for (int t = 0; t < kSteps; ++t) {
        const int step = t + 1;
        const std::vector<float> g = grad_at(rng, n, t), p = dp.download(), m = dm.download(), v = dv.download(),
                                 vmax = dvmax.download();
        dg.upload(g);
        CHECK_CUDA(jt_optim_adam(dp, dg, dm, dv, kind == AdamKind::kAmsgrad ? dvmax.get() : nullptr, n, lr, b1, b2, eps, wd,
                                 kind == AdamKind::kAdamW, step, 0));
        const double bc1 = 1.0 - pow((double)b1, step), bc2 = 1.0 - pow((double)b2, step);
        std::vector<double> pr(un), pm(un), mr(un), mm(un), vr(un), vm(un), xr(un);
        for (size_t i = 0; i < un; ++i) {
            double pi = p[i], gi = g[i], gm = fabs(g[i]);
            if (kind == AdamKind::kAdamW) {
                pi *= 1.0 - (double)lr * wd;  // decoupled, first (item 34)
            } else {
                gi += (double)wd * pi;  // L2-coupled (item 27)
                gm += fabs((double)wd * pi);
            }
            mr[i] = (double)b1 * m[i] + (1.0 - (double)b1) * gi;
            mm[i] = fabs((double)b1 * m[i]) + (1.0 - (double)b1) * gm;
            vr[i] = (double)b2 * v[i] + (1.0 - (double)b2) * gi * gi;
            vm[i] = (double)b2 * v[i] + (1.0 - (double)b2) * gm * gm;
            double vu = vr[i];
            if (kind == AdamKind::kAmsgrad) vu = xr[i] = std::max((double)vmax[i], vr[i]);  // raw v (item 33)
            const double den = sqrt(vu / bc2) + (double)eps;  // eps after the bias correction (item 32)
            pr[i] = pi - (double)lr * (mr[i] / bc1) / den;
            pm[i] = fabs(pi) + lr * (mm[i] / bc1) / den;
        }
        const std::string st = " step " + std::to_string(step);
        CHECK_BOUND(dp.download(), pr, pm, tag + " param" + st);
        CHECK_BOUND(dm.download(), mr, mm, tag + " exp_avg" + st);
        CHECK_BOUND(dv.download(), vr, vm, tag + " exp_avg_sq" + st);
        if (kind == AdamKind::kAmsgrad) CHECK_BOUND(dvmax.download(), xr, vm, tag + " max_exp_avg_sq" + st);
    }
}

// The multi-tensor launchers update every tensor exactly like one launch per tensor: 45 tensors
// (more than the 32 slots of one launch) of awkward sizes, including empty ones and one of 17 chunks.
void test_multi_matches_single() {
    std::vector<int64_t> sizes;
    for (int k = 0; k < 45; ++k) sizes.push_back(k % 9 == 4 ? 0 : (k * 37) % 101 + 1);
    sizes[10] = 2 * 65536 + 5;
    jt_test::Rng rng(77);
    const int count = (int)sizes.size();
    struct Set {
        std::vector<jt_test::DeviceBuffer<float>> p, g, s1, s2, s3;
    };
    auto make = [&](uint64_t seed) {
        jt_test::Rng r(seed);
        Set s;
        for (int64_t n : sizes) {
            const size_t m = (size_t)std::max<int64_t>(n, 1);
            s.p.emplace_back(r.uniform_vector(m));
            s.g.emplace_back(r.uniform_vector(m));
            s.s1.emplace_back(r.uniform_vector(m, 0.0f, 1.0f));
            s.s2.emplace_back(r.uniform_vector(m, 0.0f, 1.0f));
            s.s3.emplace_back(r.uniform_vector(m, 0.0f, 1.0f));
        }
        return s;
    };
    auto ptrs = [](std::vector<jt_test::DeviceBuffer<float>>& v) {
        std::vector<float*> out;
        for (auto& b : v) out.push_back(b.get());
        return out;
    };
    auto same = [&](Set& a, Set& b, const std::string& tag) {
        bool ok = true;
        for (int k = 0; k < count; ++k)
            ok = ok && a.p[k].download() == b.p[k].download() && a.s1[k].download() == b.s1[k].download() &&
                 a.s2[k].download() == b.s2[k].download() && a.s3[k].download() == b.s3[k].download();
        CHECK(ok, tag + ": multi-tensor launch gives the same bits as one launch per tensor");
    };
    for (int rule = 0; rule < 4; ++rule) {
        Set single = make(5), multi = make(5);
        std::vector<float*> mp = ptrs(multi.p), mg = ptrs(multi.g), m1 = ptrs(multi.s1), m2 = ptrs(multi.s2), m3 = ptrs(multi.s3);
        std::vector<const float*> mgc(mg.begin(), mg.end());
        for (int step = 1; step <= 2; ++step) {
            for (int k = 0; k < count; ++k) {
                const int64_t n = sizes[k];
                float *p = single.p[k], *g = single.g[k], *a = single.s1[k], *b = single.s2[k], *c = single.s3[k];
                switch (rule) {
                    case 0: CHECK_CUDA(jt_optim_sgd(p, g, a, n, 0.1f, 0.9f, 0.0f, 0.01f, 1, step == 1, 0)); break;
                    case 1: CHECK_CUDA(jt_optim_adagrad(p, g, a, n, 0.1f, 0.01f, 1e-10f, 0)); break;
                    case 2: CHECK_CUDA(jt_optim_rmsprop(p, g, a, b, n, 0.01f, 0.99f, 1e-8f, 0.01f, 0.9f, 0)); break;
                    default: CHECK_CUDA(jt_optim_adam(p, g, a, b, c, n, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, step, 0)); break;
                }
            }
            switch (rule) {
                case 0: CHECK_CUDA(jt_optim_sgd_multi(count, mp.data(), mgc.data(), m1.data(), sizes.data(), 0.1f, 0.9f, 0.0f, 0.01f, 1, step == 1, 0)); break;
                case 1: CHECK_CUDA(jt_optim_adagrad_multi(count, mp.data(), mgc.data(), m1.data(), sizes.data(), 0.1f, 0.01f, 1e-10f, 0)); break;
                case 2: CHECK_CUDA(jt_optim_rmsprop_multi(count, mp.data(), mgc.data(), m1.data(), m2.data(), sizes.data(), 0.01f, 0.99f, 1e-8f, 0.01f, 0.9f, 0)); break;
                default: CHECK_CUDA(jt_optim_adam_multi(count, mp.data(), mgc.data(), m1.data(), m2.data(), m3.data(), sizes.data(), 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, step, 0)); break;
            }
        }
        const char* names[] = {"sgd", "adagrad", "rmsprop", "amsgrad+adamw"};
        same(single, multi, names[rule]);
    }
}

// Sum of squares over many tensors into a device scalar, then clipping, without a host sync. The
// list holds 40 one-chunk tensors and one of 2400 chunks (19.7M elements, many chunks per block), so
// the 32 tensor slots of a launch run out in the middle of the list.
void test_sum_squares_and_clip(bool big) {
    std::vector<int64_t> sizes;
    for (int k = 0; k < 40; ++k) sizes.push_back((k * 53) % 997 + 1);
    sizes.push_back(0);
    if (big) sizes.push_back(300 * 65536 - 3);
    sizes.push_back(12345);
    jt_test::Rng rng(31);
    std::vector<std::vector<float>> host;
    std::vector<jt_test::DeviceBuffer<float>> dev;
    double ref = 0.0;
    for (int64_t n : sizes) {
        host.push_back(rng.uniform_vector((size_t)std::max<int64_t>(n, 1), -0.5f, 0.5f));
        for (int64_t i = 0; i < n; ++i) ref += (double)host.back()[i] * host.back()[i];
        dev.emplace_back(host.back());
    }
    std::vector<float*> ptrs;
    for (auto& d : dev) ptrs.push_back(d.get());
    std::vector<const float*> cptrs(ptrs.begin(), ptrs.end());
    const int count = (int)sizes.size();
    const std::string tag = std::string("sum of squares, ") + std::to_string(count) + " tensors" + (big ? " incl. 19.7M" : "");
    jt_test::DeviceBuffer<float> total(std::vector<float>{5.0f});
    jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
    // Double partials and a double total, rounded once to float: rtol 1.2e-7.
    CHECK_CUDA(jt_optim_sum_squares_multi(count, cptrs.data(), sizes.data(), total, 1, ws, 0));
    CHECK_CLOSE(total.download()[0], 5.0 + ref, 1.2e-7, 0.0, tag + " (accumulate onto 5)");
    CHECK_CUDA(jt_optim_sum_squares_multi(count, cptrs.data(), sizes.data(), total, 0, ws, 0));
    CHECK_CLOSE(total.download()[0], ref, 1.2e-7, 0.0, tag);
    const float total_f = total.download()[0];
    // No effect when the norm is below max_norm: the same bits.
    CHECK_CUDA(jt_optim_clip_scale_multi(count, ptrs.data(), sizes.data(), total, (float)(2.0 * sqrt(ref)), 0));
    bool unchanged = true;
    for (int k = 0; k < count; ++k) unchanged = unchanged && dev[k].download() == host[k];
    CHECK(unchanged, tag + ": clip with max_norm above the norm leaves grads unchanged");
    // Clipping to max_norm = 1: coef = 1 / (sqrt(total) + 1e-6) from the float total (item 35); the
    // grads are multiplied by the float coef: one float multiply, exact.
    const float max_norm = 1.0f;
    CHECK_CUDA(jt_optim_clip_scale_multi(count, ptrs.data(), sizes.data(), total, max_norm, 0));
    const float coef = (float)(max_norm / (sqrt((double)total_f) + 1e-6));
    bool exact = true;
    double norm2 = 0.0;
    for (int k = 0; k < count; ++k) {
        const std::vector<float> got = dev[k].download();
        for (int64_t i = 0; i < sizes[k]; ++i) {
            exact = exact && got[i] == host[k][i] * coef;
            norm2 += (double)got[i] * got[i];
        }
    }
    CHECK(exact, tag + ": clipped grads = grad * (float) coef exactly");
    CHECK_CLOSE(sqrt(norm2), 1.0, 1e-6, 0.0, tag + ": clipped global norm is max_norm (coef rounding, 1e-6 term)");
}

void test_single_tensor_sum_squares() {
    for (int64_t n : {1, 7, 33, 1000, 65537, 200003}) {
        jt_test::Rng rng(8 + (uint64_t)n);
        const std::vector<float> x = rng.uniform_vector((size_t)n, -2.0f, 2.0f);
        double ref = 0;
        for (float v : x) ref += (double)v * v;
        jt_test::DeviceBuffer<float> dx(x), out(1);
        jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
        CHECK_CUDA(jt_optim_sum_squares(dx, n, out, 0, ws, 0));
        CHECK_CLOSE(out.download()[0], ref, 1.2e-7, 0.0, "sum of squares n=" + std::to_string(n) + " (one float rounding)");
        // Single-tensor clip: coef < 1 scales, exactly grad * (float) coef.
        CHECK_CUDA(jt_optim_clip_scale(dx, n, out, 0.5f, 0));
        const float coef = (float)(0.5 / (sqrt((double)out.download()[0]) + 1e-6));
        std::vector<float> want(x);
        if (coef < 1.0f)
            for (auto& v : want) v *= coef;
        CHECK(dx.download() == want, "clip n=" + std::to_string(n) + " exact");
    }
    // No tensors: out = 0, or unchanged when accumulating.
    jt_test::DeviceBuffer<float> out(std::vector<float>{3.0f});
    jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
    CHECK_CUDA(jt_optim_sum_squares_multi(0, nullptr, nullptr, out, 1, ws, 0));
    CHECK_CLOSE(out.download()[0], 3.0, 0.0, 0.0, "no tensors, accumulate: unchanged");
    CHECK_CUDA(jt_optim_sum_squares_multi(0, nullptr, nullptr, out, 0, ws, 0));
    CHECK_CLOSE(out.download()[0], 0.0, 0.0, 0.0, "no tensors: 0");
}

// ------------------------------------------------------------------ float4 path == scalar path

// n floats placed `offset` floats past a 256-byte aligned allocation: offset 0 takes the float4 path,
// 1..3 the scalar one.
struct OffsetBuffer {
    jt_test::DeviceBuffer<float> buf;
    int offset;
    size_t n;
    OffsetBuffer(const std::vector<float>& host, int off) : buf(host.size() + 4), offset(off), n(host.size()) {
        buf.fill_bytes(0xFF);  // NaN around the data: a stray read or write shows
        CHECK_CUDA(cudaMemcpy(get(), host.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    }
    float* get() const { return buf.get() + offset; }
    std::vector<float> download() const {
        std::vector<float> host(n);
        cudaMemcpy(host.data(), get(), n * sizeof(float), cudaMemcpyDeviceToHost);
        return host;
    }
    // The floats outside [offset, offset + n) are still the 0xFF fill.
    bool margins_untouched() const {
        const std::vector<float> all = buf.download();
        for (size_t i = 0; i < all.size(); ++i) {
            if (i >= (size_t)offset && i < (size_t)offset + n) continue;
            uint32_t bits;
            memcpy(&bits, &all[i], 4);
            if (bits != 0xFFFFFFFFu) return false;
        }
        return true;
    }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && (a.empty() || memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

enum Rule { kSgd, kSgdNesterovWd, kAdagrad, kRmspropMomentum, kAmsgrad, kAdamW, kClip, kRules };
const char* const kRuleNames[] = {"sgd", "sgd nesterov wd", "adagrad wd", "rmsprop momentum wd", "amsgrad wd", "adamw", "clip"};

// Two steps of `rule` on lists whose offsets (in floats) are offs[l]; returns every list afterwards.
std::vector<std::vector<float>> run_rule(Rule rule, int64_t n, const int offs[5], jt_test::DeviceBuffer<float>& total) {
    const size_t un = (size_t)n;
    jt_test::Rng rng(100 + (uint64_t)n);
    std::vector<OffsetBuffer> b;
    for (int l = 0; l < 5; ++l) b.emplace_back(rng.uniform_vector(un, l >= 2 ? 0.0f : -1.0f, 1.0f), offs[l]);
    float *p = b[0].get(), *g = b[1].get(), *s1 = b[2].get(), *s2 = b[3].get(), *s3 = b[4].get();
    for (int step = 1; step <= 2; ++step) {
        switch (rule) {
            case kSgd: CHECK_CUDA(jt_optim_sgd(p, g, nullptr, n, 0.1f, 0.0f, 0.0f, 0.0f, 0, step == 1, 0)); break;
            case kSgdNesterovWd: CHECK_CUDA(jt_optim_sgd(p, g, s1, n, 0.1f, 0.9f, 0.0f, 0.01f, 1, step == 1, 0)); break;
            case kAdagrad: CHECK_CUDA(jt_optim_adagrad(p, g, s1, n, 0.1f, 0.01f, 1e-10f, 0)); break;
            case kRmspropMomentum: CHECK_CUDA(jt_optim_rmsprop(p, g, s1, s2, n, 0.01f, 0.99f, 1e-8f, 0.01f, 0.9f, 0)); break;
            case kAmsgrad: CHECK_CUDA(jt_optim_adam(p, g, s1, s2, s3, n, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 0, step, 0)); break;
            case kAdamW: CHECK_CUDA(jt_optim_adam(p, g, s1, s2, nullptr, n, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, step, 0)); break;
            default: CHECK_CUDA(jt_optim_clip_scale(g, n, total, 1.0f, 0)); break;
        }
    }
    std::vector<std::vector<float>> out;
    bool margins = true;
    for (auto& x : b) {
        out.push_back(x.download());
        margins = margins && x.margins_untouched();
    }
    CHECK(margins, std::string(kRuleNames[rule]) + " n=" + std::to_string(n) + ": nothing outside the tensors written");
    return out;
}

// The float4 path (all lists aligned) and the scalar path (all misaligned by 1 or 3 floats; only the
// gradient misaligned, which sends the whole tensor down the scalar path) give the same bits, at sizes
// that are not multiples of 4 or of a chunk and at one of many chunks per block (grid stride).
void test_vector_matches_scalar() {
    jt_test::DeviceBuffer<float> total(std::vector<float>{16.0f});  // norm 4: clip coef 1 / (4 + 1e-6)
    const int layouts[][5] = {{0, 0, 0, 0, 0}, {1, 1, 1, 1, 1}, {3, 3, 3, 3, 3}, {0, 1, 0, 0, 0}, {0, 0, 2, 0, 0}};
    for (int64_t n : {(int64_t)1, (int64_t)3, (int64_t)5, (int64_t)8, (int64_t)1023, (int64_t)4097, 3 * (int64_t)JT_OPTIM_CHUNK + 5, (int64_t)300001}) {
        for (int r = 0; r < kRules; ++r) {
            const Rule rule = (Rule)r;
            const std::vector<std::vector<float>> want = run_rule(rule, n, layouts[0], total);
            for (int k = 1; k < 5; ++k) {
                const std::vector<std::vector<float>> got = run_rule(rule, n, layouts[k], total);
                bool same = true;
                for (int l = 0; l < 5; ++l) same = same && same_bits(got[l], want[l]);
                CHECK(same, std::string(kRuleNames[r]) + " n=" + std::to_string(n) + " layout " + std::to_string(k) +
                                ": scalar path gives the float4 path's bits");
            }
        }
    }
}

// The sum of squares has the same bits whatever the alignment (the scalar path loads the same groups).
void test_sum_squares_alignment() {
    jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
    jt_test::DeviceBuffer<float> out(1);
    for (int64_t n : {(int64_t)1, (int64_t)3, (int64_t)5, (int64_t)1023, (int64_t)4097, 3 * (int64_t)JT_OPTIM_CHUNK + 5, (int64_t)300001}) {
        jt_test::Rng rng(200 + (uint64_t)n);
        const std::vector<float> x = rng.uniform_vector((size_t)n, -3.0f, 3.0f);
        double ref = 0;
        for (float v : x) ref += (double)v * v;
        float first = 0;
        for (int off = 0; off < 4; ++off) {
            OffsetBuffer b(x, off);
            CHECK_CUDA(jt_optim_sum_squares(b.get(), n, out, 0, ws, 0));
            const float got = out.download()[0];
            if (off == 0) {
                first = got;
                CHECK_CLOSE(got, ref, 1.2e-7, 0.0, "sum of squares n=" + std::to_string(n));
            } else {
                CHECK(memcmp(&got, &first, 4) == 0, "sum of squares n=" + std::to_string(n) + " offset " + std::to_string(off) + ": same bits");
            }
        }
    }
}

// Values whose squares are subnormal floats (and a partial beyond FLT_MAX): the partials are doubles, so
// nothing is flushed and the float total is the correctly rounded double sum; a total beyond FLT_MAX
// is +inf (then clipping scales by 0), never NaN.
void test_sum_squares_extremes() {
    jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
    jt_test::DeviceBuffer<float> out(1);
    const int64_t n = 20001;
    std::vector<float> tiny((size_t)n);
    for (int64_t i = 0; i < n; ++i) tiny[i] = 1e-23f * (float)(1 + i % 7);  // squares ~1e-46..5e-45: subnormal
    double ref = 0;
    for (float v : tiny) ref += (double)v * v;
    jt_test::DeviceBuffer<float> dt(tiny);
    CHECK_CUDA(jt_optim_sum_squares(dt, n, out, 0, ws, 0));
    CHECK(out.download()[0] == (float)ref && ref > 0, "sum of subnormal squares: the rounded double sum, not flushed");
    jt_test::DeviceBuffer<float> big(std::vector<float>((size_t)n, 2e19f));  // squares 4e38 > FLT_MAX
    CHECK_CUDA(jt_optim_sum_squares(big, n, out, 0, ws, 0));
    CHECK(out.download()[0] == INFINITY, "sum of squares beyond FLT_MAX: +inf");
    CHECK_CUDA(jt_optim_clip_scale(dt, n, out, 1.0f, 0));  // coef = 1 / (inf + 1e-6) = 0
    bool zero = true;
    for (float v : dt.download()) zero = zero && v == 0.0f;
    CHECK(zero, "clip by an infinite norm: every grad becomes 0");
}

// A tensor split across sum-of-squares launches (more chunks than JT_OPTIM_SUMSQ_MAX_CHUNKS): a small
// tensor first, then one of 8192 chunks + 5 elements in a zero mapping (MAP_NORESERVE: unwritten pages
// read as zero and are never backed) with values written around the launch boundary and at its ends.
void test_sum_squares_split() {
#ifdef JT_EMU
    // The big tensor is host memory (mmap), not a device allocation: the emu's memory checker
    // (JTRAIN_EMU_RACECHECK=1) rightly refuses it.
    if (jt_emu_checks() & JT_EMU_CHECK_MEMORY) {
        fprintf(stderr, "test_sum_squares_split: skipped under the emu's memory checker (the tensor is host memory)\n");
        return;
    }
#endif
    const int64_t big = JT_OPTIM_SUMSQ_MAX_CHUNKS * (int64_t)JT_OPTIM_CHUNK + 5;
    const size_t bytes = (size_t)big * sizeof(float);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "test_sum_squares_split: mmap of %zu bytes failed, skipped\n", bytes);
        return;
    }
    float* x = static_cast<float*>(m);
    double ref = 0;
    // The first launch holds the small tensor's one chunk and the big one's first 8191: the split is at
    // element 8191 * 8192 of the big tensor.
    const int64_t split = (int64_t)(JT_OPTIM_SUMSQ_MAX_CHUNKS - 1) * JT_OPTIM_CHUNK;
    for (int64_t i : {(int64_t)0, (int64_t)1, split - 3, split - 1, split, split + 2, split + JT_OPTIM_CHUNK - 1, big - 5, big - 1}) {
        x[i] = 0.5f + (float)(i % 7);
        ref += (double)x[i] * x[i];
    }
    const std::vector<float> small = {1.0f, 2.0f, 3.0f};
    ref += 14.0;
    jt_test::DeviceBuffer<float> ds(small), out(std::vector<float>{1.0f});
    jt_test::DeviceBuffer<unsigned char> ws(jt_optim_sum_squares_workspace_bytes());
    const float* tensors[2] = {ds.get(), x};
    const int64_t sizes[2] = {3, big};
    CHECK_CUDA(jt_optim_sum_squares_multi(2, tensors, sizes, out, 1, ws, 0));
    CHECK_CLOSE(out.download()[0], 1.0 + ref, 1.2e-7, 0.0, "sum of squares split across two launches (accumulate onto 1)");
    munmap(m, bytes);
}

void test_bad_arguments() {
    jt_test::DeviceBuffer<float> a(4), b(4), c(4), d(4);
    CHECK_STATUS(jt_optim_adam(a, b, c, d, nullptr, 4, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, 0, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_optim_sgd(a, b, nullptr, 4, 0.1f, 0.9f, 0.0f, 0.0f, 0, 1, 0), cudaErrorInvalidValue);  // momentum, no buffer
    CHECK_CUDA(jt_optim_sgd(a, b, nullptr, 4, 0.1f, 0.0f, 0.0f, 0.0f, 0, 1, 0));                          // plain SGD needs none
    CHECK_STATUS(jt_optim_sgd(a, nullptr, nullptr, 4, 0.1f, 0.0f, 0.0f, 0.0f, 0, 1, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_optim_adagrad(a, b, c, -1, 0.1f, 0.0f, 1e-10f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_optim_rmsprop(a, b, c, nullptr, 4, 0.1f, 0.99f, 1e-8f, 0.0f, 0.9f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_optim_clip_scale(a, 4, nullptr, 1.0f, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_optim_sum_squares(a, 4, b, 0, nullptr, 0), cudaErrorInvalidValue);  // the workspace is required
    CHECK_STATUS(jt_optim_sgd_multi(-1, nullptr, nullptr, nullptr, nullptr, 0.1f, 0.0f, 0.0f, 0.0f, 0, 1, 0), cudaErrorInvalidValue);
}

}  // namespace

int main() {
    for (int64_t n : kSizes) {
        const SgdCfg sgd[] = {{0.1f, 0.0f, 0.0f, 0.0f, false}, {0.1f, 0.0f, 0.0f, 0.01f, false}, {0.05f, 0.9f, 0.0f, 0.0f, false},
                              {0.05f, 0.9f, 0.1f, 0.01f, false}, {0.05f, 0.9f, 0.0f, 0.01f, true}};
        for (const SgdCfg& c : sgd) test_sgd(n, c);
        for (float wd : {0.0f, 0.01f}) {
            test_adagrad(n, wd);
            test_rmsprop(n, wd, 0.0f);
            test_rmsprop(n, wd, 0.9f);
            test_adam(n, AdamKind::kAdam, wd);
            test_adam(n, AdamKind::kAmsgrad, wd);
        }
        test_adam(n, AdamKind::kAdamW, 0.01f);
    }
    test_multi_matches_single();
    test_single_tensor_sum_squares();
    test_sum_squares_and_clip(false);
    test_sum_squares_and_clip(true);
    test_vector_matches_scalar();
    test_sum_squares_alignment();
    test_sum_squares_extremes();
    test_sum_squares_split();
    test_bad_arguments();
    return jt_test::finish("test_optim");
}
