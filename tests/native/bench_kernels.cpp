// Not a test (CTest never runs bench_*): our kernels against the vendor libraries and against the device's
// copy bandwidth, measured in one run (docs/architecture.md, section 8 "How correctness and speed are shown"):
//
//   SGEMM 4096^3 FP32            ours vs cuBLAS (TF32 off)        GFLOP/s, ratio      target >= 0.90
//   SGEMM training shapes 128x784x512, 128x512x512 (NN, NT, TN)   GFLOP/s, ratio      target >= 0.80
//   (each SGEMM kernel version its own row: v1 baseline, v2, v2 with split-K)
//   BatchNorm fwd+bwd [128, 64, 56, 56]  ours vs cuDNN (SPATIAL)  time, ratio         target >= 1.00
//   bias grad [128, 64, 56, 56], [128, 512]  ours vs cuDNN (conv backward bias)  time, ratio  target >= 1.00
//   Adam on 4 x 64 Mi floats     vs a device-to-device cudaMemcpy of the same bytes   target >= 0.85
//   ReLU forward, dropout forward on 64 Mi floats (same)                              target >= 0.90
//   (ReLU also against cuDNN's activation)
//
// Bandwidth counts bytes read plus bytes written: a copy of B bytes moves 2B; Adam moves 7 arrays (reads
// param, grad, m, v; writes param, m, v); ReLU and dropout (no mask) move 2. Times: CUDA events around each
// repetition on one stream, after warm-up; the median is reported.
//
// Built twice: `bench_kernels` against the emu (tests/native glob; small sizes by default; "emu: correctness
// only, speeds meaningless": the vendor libraries are not applicable there) and `cuda_bench_kernels` against
// the real CUDA runtime (cmake -DJTRAIN_CUDA_BENCH=ON; full sizes by default). Besides speed it checks that
// the results agree (ours vs float64 on samples, ours vs cuBLAS/cuDNN in full) and whether cuDNN's running
// variance is the unbiased one, as ours (PyTorch's convention).
//
//   bench_kernels [--sizes small|full] [--reps N] [--warmup N] [--json FILE] [--only sgemm,bn,bias,adam,relu,dropout]
// Exit status: 0 when every measurement ran and every check passed (speed targets are reported, not
// enforced), 1 when a check failed or a measurement could not run, 2 for bad usage or no device.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "activations.h"
#include "batchnorm.h"
#include "common.cuh"
#include "dropout.h"
#include "gemm.h"
#include "launch_config.h"
#include "optim.h"
#include "reduce.h"
#include "vendor.h"
#include "vendor_ops.h"

namespace {

#ifdef JT_EMU
constexpr bool kEmu = true;
#else
constexpr bool kEmu = false;
#endif

// ------------------------------------------------------------------ options and sizes

struct Sizes {
    const char* name;
    int gemm;                          // m = n = k
    int bn_n, bn_c, bn_h, bn_w;        // BatchNorm input
    int64_t adam;                      // elements per tensor (4 tensors)
    int64_t elementwise;               // ReLU, dropout
};

const Sizes kFull = {"full", 4096, 128, 64, 56, 56, int64_t(64) << 20, int64_t(64) << 20};
const Sizes kSmall = {"small", 256, 4, 16, 14, 14, int64_t(256) << 10, int64_t(1) << 20};

struct Options {
    Sizes sizes = kEmu ? kSmall : kFull;
    int reps = kEmu ? 3 : 20;
    int warmup = kEmu ? 1 : 3;
    std::string json;
    std::string only;  // "" = all
    bool wants(const char* what) const {
        if (only.empty()) return true;
        std::string list = "," + only + ",";
        return list.find(std::string(",") + what + ",") != std::string::npos;
    }
};

// ------------------------------------------------------------------ results

struct Row {
    std::string op, size;
    std::string ours_what, ref_what;  // e.g. "ours" / "cuBLAS"; "ours" / "copy"
    double ours_ms = NAN, ref_ms = NAN;
    double ours_rate = NAN, ref_rate = NAN;  // GFLOP/s or GB/s
    std::string unit;                        // "GFLOP/s" or "GB/s"
    double ratio = NAN;                      // speed of ours relative to the reference (>= 1: ours faster)
    double target = NAN;
    std::string note;                        // why the reference is missing, or check results
    bool failed = false;                     // a check failed or ours could not run
};

std::vector<Row> g_rows;
std::vector<std::string> g_checks;  // "name: value (ok|FAILED)"
bool g_failed = false;

void check(const std::string& what, double value, double limit, const char* unit = "") {
    const bool ok = value <= limit;  // NaN fails
    char buf[256];
    snprintf(buf, sizeof buf, "%s = %.3g%s (limit %.3g%s) %s", what.c_str(), value, unit, limit, unit,
             ok ? "ok" : "FAILED");
    g_checks.push_back(buf);
    printf("  check %s\n", buf);
    if (!ok) g_failed = true;
}

void note_check(const std::string& text, bool ok) {
    g_checks.push_back(text + (ok ? " ok" : " FAILED"));
    printf("  check %s %s\n", text.c_str(), ok ? "ok" : "FAILED");
    if (!ok) g_failed = true;
}

// ------------------------------------------------------------------ device memory and timing

std::string cuda_msg(const char* call, cudaError_t e) {
    return std::string(call) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

template <class T>
struct Buf {
    T* p = nullptr;
    size_t n = 0;
    std::string error;
    explicit Buf(size_t count) : n(count) {
        cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&p), std::max<size_t>(count, 1) * sizeof(T));
        if (e != cudaSuccess) {
            error = cuda_msg("cudaMalloc", e) + " of " + std::to_string(count * sizeof(T)) + " bytes";
            p = nullptr;
        }
    }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() {
        if (p != nullptr) cudaFree(p);
    }
    bool ok() const { return p != nullptr; }
    std::vector<T> get(size_t count = SIZE_MAX) const {
        std::vector<T> h(std::min(count, n));
        if (!h.empty()) cudaMemcpy(h.data(), p, h.size() * sizeof(T), cudaMemcpyDeviceToHost);
        return h;
    }
};

cudaStream_t g_stream = nullptr;

// The first `count` elements of device memory p.
template <class T>
std::vector<T> Buf_get(const T* p, size_t count) {
    std::vector<T> h(count);
    if (count != 0) cudaMemcpy(h.data(), p, count * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
}

// Uniform fill in [lo, hi) from Philox (the dropout family's generator): no host data for big tensors.
bool fill(float* p, int64_t n, float lo, float hi, uint64_t seed) {
    return jt_random_uniform(p, n, lo, hi, seed, 0, g_stream) == cudaSuccess;
}

struct Timing {
    double median_ms = NAN, min_ms = NAN;
    std::string error;  // "" when it ran
};

// Times op() (which enqueues on g_stream and returns "" or an error) with events around each repetition.
template <class F>
Timing time_op(const Options& o, F op) {
    Timing t;
    cudaEvent_t a = nullptr, b = nullptr;
    cudaError_t e = cudaEventCreate(&a);
    if (e == cudaSuccess) e = cudaEventCreate(&b);
    if (e != cudaSuccess) {
        t.error = cuda_msg("cudaEventCreate", e);
        return t;
    }
    std::vector<double> ms;
    for (int r = 0; r < o.warmup + o.reps && t.error.empty(); ++r) {
        cudaEventRecord(a, g_stream);
        std::string err = op();
        cudaEventRecord(b, g_stream);
        e = cudaEventSynchronize(b);
        if (!err.empty()) {
            t.error = err;
        } else if (e != cudaSuccess) {
            t.error = cuda_msg("cudaEventSynchronize", e);
        } else if (r >= o.warmup) {
            float x = 0;
            cudaEventElapsedTime(&x, a, b);
            ms.push_back(x);
        }
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    if (!t.error.empty() || ms.empty()) return t;
    std::sort(ms.begin(), ms.end());
    t.median_ms = ms[ms.size() / 2];
    t.min_ms = ms.front();
    return t;
}

std::string status_msg(cudaError_t e, const char* what) { return e == cudaSuccess ? "" : cuda_msg(what, e); }

std::string vendor_msg(int code, const jt_vendor_status& st) {
    if (code == JT_VENDOR_OK) return "";
    return std::string(jt_vendor_code_name(code)) + ": " + st.message;
}

// Copy bandwidth for `bytes` (read + written), GB/s, or NaN with *error.
double copy_gbps(const Options& o, size_t bytes, std::string* error) {
    Buf<char> src(bytes), dst(bytes);
    if (!src.ok() || !dst.ok()) {
        *error = src.ok() ? dst.error : src.error;
        return NAN;
    }
    cudaMemset(src.p, 1, bytes);
    Timing t = time_op(o, [&] {
        return status_msg(cudaMemcpyAsync(dst.p, src.p, bytes, cudaMemcpyDeviceToDevice, g_stream), "cudaMemcpyAsync");
    });
    if (!t.error.empty()) {
        *error = t.error;
        return NAN;
    }
    return 2.0 * bytes / (t.median_ms * 1e-3) / 1e9;
}

std::string fmt_size(int64_t n) {
    char buf[64];
    if (n % (int64_t(1) << 20) == 0) snprintf(buf, sizeof buf, "%lld Mi", (long long)(n >> 20));
    else if (n % 1024 == 0) snprintf(buf, sizeof buf, "%lld Ki", (long long)(n >> 10));
    else snprintf(buf, sizeof buf, "%lld", (long long)n);
    return buf;
}

double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, (double)fabsf(x));
    return m;
}

// max |a - b| (NaN when any difference is NaN).
double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (!(x <= d)) d = x;  // NaN wins
    }
    return d;
}

// max |a - b| / max(max |b|, floor).
double rel_diff(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-30) {
    return max_diff(a, b) / std::max(max_abs(b), floor);
}

// ------------------------------------------------------------------ SGEMM

// One row per kernel version and shape, each against cuBLAS (TF32 off) on the same operands in the same run,
// the way siboehm's SGEMM_CUDA compares its kernel steps:
//   v1        gemm_v1_blocktile.cuh, the baseline (its old size rule: 128x128 from 256 tiles, 32x64 for m <= 32)
//   v2        gemm_v2_warptile.cuh with the automatic tile, no split-K (jt_gemm_sgemm, no workspace)
//   v2+split  the same with its workspace: automatic split-K where the output has few tiles (what the
//             training path runs); on 4096^3 the choice does not split, so that row is left out
// Shapes: m = n = k (4096 full, 256 small; target 0.90) and the MLP's training shapes 128x784x512 and
// 128x512x512 (m x n x k) as NN, NT and TN (target 0.80).
struct GemmCase {
    int m, n, k, ta, tb;
    double target;
};

int v1_config(int m, int n) {
    if (jt_ceil_div(m, 128) * jt_ceil_div(n, 128) >= 256) return JT_GEMM_CONFIG_V1_128x128;
    return m <= 32 ? JT_GEMM_CONFIG_V1_32x64 : JT_GEMM_CONFIG_V1_64x64;
}

void bench_sgemm_case(const Options& o, const GemmCase& gc, float* A, float* B, float* C, float* Cv, void* ws) {
    const int m = gc.m, n = gc.n, k = gc.k;
    const int lda = gc.ta ? m : k, ldb = gc.tb ? k : n;
    char shape[64];
    snprintf(shape, sizeof shape, "%dx%dx%d %c%c", m, n, k, gc.ta ? 'T' : 'N', gc.tb ? 'T' : 'N');
    const double flop = 2.0 * m * (double)n * k;
    jt_vendor_status st;
    Timing ref = time_op(o, [&] {
        return vendor_msg(jt_vendor_sgemm(gc.ta, gc.tb, m, n, k, 1.f, A, lda, B, ldb, 0.f, Cv, n, 0, g_stream, &st), st);
    });
    struct Version {
        const char* name;
        int config, splits;
        void* ws;
    };
    const int autoCfg = jt_gemm_auto_config(m, n, 1);
    const bool splits = jt_gemm_auto_splits(autoCfg, m, n, k, 1) > 1;
    std::vector<Version> versions = {{"v1", v1_config(m, n), 1, nullptr}, {"v2", JT_GEMM_CONFIG_AUTO, 1, nullptr}};
    if (splits) versions.push_back({"v2+split", JT_GEMM_CONFIG_AUTO, 0, ws});
    for (const Version& v : versions) {
        Row row;
        row.op = std::string("sgemm ") + v.name;
        row.size = shape;
        row.ours_what = v.name;
        row.ref_what = "cuBLAS";
        row.unit = "GFLOP/s";
        row.target = gc.target;
        Timing ours = time_op(o, [&] {
            return status_msg(jt_gemm_sgemm_ex(v.config, v.splits, gc.ta, gc.tb, m, n, k, 1.f, A, lda, B, ldb, 0.f, C, n,
                                               nullptr, 0, v.ws, v.ws ? JT_GEMM_WORKSPACE_BYTES : 0, g_stream),
                              "jt_gemm_sgemm_ex");
        });
        if (!ours.error.empty()) {
            row.note = ours.error;
            row.failed = g_failed = true;
            g_rows.push_back(row);
            continue;
        }
        row.ours_ms = ours.median_ms;
        row.ours_rate = flop / (ours.median_ms * 1e-3) / 1e9;
        if (ref.error.empty()) {
            row.ref_ms = ref.median_ms;
            row.ref_rate = flop / (ref.median_ms * 1e-3) / 1e9;
            row.ratio = row.ours_rate / row.ref_rate;
        } else {
            row.note = "cuBLAS: " + ref.error;
        }
        // Checks: 64 sampled entries against float64; the whole matrix against cuBLAS.
        std::vector<float> a = Buf_get(A, (size_t)m * k), b = Buf_get(B, (size_t)k * n), c = Buf_get(C, (size_t)m * n);
        auto opA = [&](int i, int p) { return (double)(gc.ta ? a[(size_t)p * m + i] : a[(size_t)i * k + p]); };
        auto opB = [&](int p, int j) { return (double)(gc.tb ? b[(size_t)j * k + p] : b[(size_t)p * n + j]); };
        double worst = 0, scale = 0;
        for (int t = 0; t < 64; ++t) {
            const int i = (int)((t * 2654435761u) % (unsigned)m), j = (int)((t * 40503u + 7) % (unsigned)n);
            double ref64 = 0, absum = 0;
            for (int p = 0; p < k; ++p) {
                ref64 += opA(i, p) * opB(p, j);
                absum += fabs(opA(i, p) * opB(p, j));
            }
            worst = std::max(worst, fabs(c[(size_t)i * n + j] - ref64));
            scale = std::max(scale, absum);
        }
        // FP32 accumulation over k terms: error ~ k 2^-24 sum |a b| in the worst case; sqrt(k) typically.
        const std::string what = std::string("sgemm ") + v.name + " " + shape;
        check(what + " vs float64, max |err| / max sum|a b| (64 samples)", worst / scale, 1e-5 * sqrt((double)k / 256));
        if (ref.error.empty()) {
            check(what + " vs cuBLAS, max |diff| / max |C|", rel_diff(c, Buf_get(Cv, (size_t)m * n)),
                  1e-5 * sqrt((double)k / 256));
        }
        g_rows.push_back(row);
    }
}

void bench_sgemm(const Options& o) {
    const int s = o.sizes.gemm;
    std::vector<GemmCase> cases = {{s, s, s, 0, 0, 0.90}};
    const int training[][3] = {{128, 784, 512}, {128, 512, 512}};
    for (const auto& t : training) {
        cases.push_back({t[0], t[1], t[2], 0, 0, 0.80});  // NN
        cases.push_back({t[0], t[1], t[2], 0, 1, 0.80});  // NT
        cases.push_back({t[0], t[1], t[2], 1, 0, 0.80});  // TN
    }
    size_t most = 0;
    for (const GemmCase& gc : cases) most = std::max({most, (size_t)gc.m * gc.k, (size_t)gc.k * gc.n, (size_t)gc.m * gc.n});
    Buf<float> A(most), Bm(most), C(most), Cv(most);
    Buf<char> ws(JT_GEMM_WORKSPACE_BYTES);
    if (!A.ok() || !Bm.ok() || !C.ok() || !Cv.ok() || !ws.ok()) {
        Row row;
        row.op = "sgemm";
        row.note = "allocation failed: " +
                   (A.ok() ? (Bm.ok() ? (C.ok() ? (Cv.ok() ? ws.error : Cv.error) : C.error) : Bm.error) : A.error);
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    fill(A.p, (int64_t)most, -1.f, 1.f, 11);
    fill(Bm.p, (int64_t)most, -1.f, 1.f, 12);
    for (const GemmCase& gc : cases) bench_sgemm_case(o, gc, A.p, Bm.p, C.p, Cv.p, ws.p);
}

// ------------------------------------------------------------------ BatchNorm

// Is cuDNN's running variance the unbiased one (ours, PyTorch's)? At M = N H W in the hundreds of thousands the
// two differ by less than float rounding, so this asks on a batch of M = 18 values per channel.
void check_cudnn_running_var() {
    const int n = 2, c = 3, h = 3, w = 3, m = n * h * w;
    const float momentum = 0.5f, eps = 1e-5f;
    std::vector<float> hx(n * c * h * w);
    for (size_t i = 0; i < hx.size(); ++i) hx[i] = (float)((i * 37 % 17) - 8) * 0.25f;
    Buf<float> x(hx.size()), y(hx.size()), stats(2 * c);
    if (!x.ok() || !y.ok() || !stats.ok()) return;
    cudaMemcpy(x.p, hx.data(), sizeof(float) * hx.size(), cudaMemcpyHostToDevice);
    std::vector<float> init(2 * c, 0.f);
    for (int ch = 0; ch < c; ++ch) init[c + ch] = 1.f;
    cudaMemcpy(stats.p, init.data(), sizeof(float) * init.size(), cudaMemcpyHostToDevice);
    jt_vendor_status st;
    int code = jt_vendor_batchnorm_forward_train(x.p, nullptr, nullptr, eps, momentum, stats.p, stats.p + c, y.p,
                                                 nullptr, nullptr, n, c, h, w, g_stream, &st);
    cudaStreamSynchronize(g_stream);
    if (code != JT_VENDOR_OK) {
        printf("  (cuDNN running-variance convention not checked: %s)\n", vendor_msg(code, st).c_str());
        return;
    }
    std::vector<float> got = stats.get();
    double d_unbiased = 0, d_biased = 0;
    for (int ch = 0; ch < c; ++ch) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < h * w; ++k) s += hx[((size_t)i * c + ch) * h * w + k];
        const double mean = s / m;
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < h * w; ++k) s2 += pow(hx[((size_t)i * c + ch) * h * w + k] - mean, 2);
        const double unbiased = (1 - momentum) + momentum * s2 / (m - 1), biased = (1 - momentum) + momentum * s2 / m;
        d_unbiased = std::max(d_unbiased, fabs(got[c + ch] - unbiased) / unbiased);
        d_biased = std::max(d_biased, fabs(got[c + ch] - biased) / biased);
    }
    char buf[220];
    snprintf(buf, sizeof buf, "batchnorm cuDNN running var is the unbiased one (M = %d: rel diff %.2g to unbiased, "
             "%.2g to biased)", m, d_unbiased, d_biased);
    note_check(buf, d_unbiased <= 1e-5 && d_unbiased < d_biased);
}

void bench_batchnorm(const Options& o) {
    const int n = o.sizes.bn_n, c = o.sizes.bn_c, h = o.sizes.bn_h, w = o.sizes.bn_w;
    const int64_t inner = (int64_t)h * w, total = (int64_t)n * c * inner;
    const float eps = 1e-5f, momentum = 0.1f;
    Row row;
    row.op = "batchnorm fwd+bwd";
    row.size = "[" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w) + "]";
    row.ours_what = "ours";
    row.ref_what = "cuDNN";
    row.unit = "GB/s";  // 5 tensor passes: fwd reads x, writes y; bwd reads x, dy, writes dx
    row.target = 1.00;
    Buf<float> x(total), dy(total), y(total), dx(total), yv(total), dxv(total);
    Buf<float> params(16 * (size_t)c);  // gamma beta rm rv smean svar dg db | same for cuDNN
    if (!x.ok() || !dy.ok() || !y.ok() || !dx.ok() || !yv.ok() || !dxv.ok() || !params.ok()) {
        row.note = "allocation failed";
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    float* P = params.p;
    float *gamma = P, *beta = P + c, *rm = P + 2 * c, *rv = P + 3 * c, *smean = P + 4 * c, *svar = P + 5 * c,
          *dg = P + 6 * c, *db = P + 7 * c;
    float *rm2 = P + 10 * c, *rv2 = P + 11 * c, *smean2 = P + 12 * c, *sinv2 = P + 13 * c, *dg2 = P + 14 * c,
          *db2 = P + 15 * c;
    fill(x.p, total, -2.f, 3.f, 21);
    fill(dy.p, total, -1.f, 1.f, 22);
    fill(gamma, c, 0.5f, 1.5f, 23);
    fill(beta, c, -0.5f, 0.5f, 24);
    std::vector<float> zeros(c, 0.f), ones(c, 1.f);
    auto reset = [&] {
        for (float* p : {rm, rm2, dg, db, dg2, db2}) cudaMemcpy(p, zeros.data(), sizeof(float) * c, cudaMemcpyHostToDevice);
        for (float* p : {rv, rv2}) cudaMemcpy(p, ones.data(), sizeof(float) * c, cudaMemcpyHostToDevice);
    };
    const size_t ws_bytes = jt_batchnorm_workspace_bytes(n, c, inner);  // the partial sums of the split channels
    Buf<double> ws(ws_bytes / sizeof(double) + 1);
    if (!ws.ok()) {
        row.note = "allocation failed";
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    auto ours_step = [&] {
        cudaError_t e = jt_batchnorm_forward_train(x.p, gamma, beta, eps, momentum, rm, rv, y.p, smean, svar, n, c,
                                                   inner, ws.p, ws_bytes, g_stream);
        if (e != cudaSuccess) return cuda_msg("jt_batchnorm_forward_train", e);
        e = jt_batchnorm_backward(x.p, dy.p, gamma, smean, svar, eps, 1, dx.p, dg, db, n, c, inner, ws.p, ws_bytes,
                                  g_stream);
        return status_msg(e, "jt_batchnorm_backward");
    };
    jt_vendor_status st;
    auto vendor_step = [&] {
        int code = jt_vendor_batchnorm_forward_train(x.p, gamma, beta, eps, momentum, rm2, rv2, yv.p, smean2, sinv2, n,
                                                     c, h, w, g_stream, &st);
        if (code != JT_VENDOR_OK) return vendor_msg(code, st);
        code = jt_vendor_batchnorm_backward(x.p, dy.p, gamma, smean2, sinv2, eps, dxv.p, dg2, db2, n, c, h, w, g_stream,
                                            &st);
        return vendor_msg(code, st);
    };
    // One step each from the same state, for the checks.
    reset();
    std::string ours_err = ours_step();
    cudaStreamSynchronize(g_stream);
    std::string vendor_err = vendor_step();
    cudaStreamSynchronize(g_stream);
    if (!ours_err.empty()) {
        row.note = ours_err;
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    // Ours against float64 on two channels (mean, biased var, y, running var).
    {
        std::vector<float> hx = x.get(), hy = y.get();
        std::vector<float> hP = params.get();
        const int64_t m = (int64_t)n * inner;
        double worst_y = 0, worst_rv = 0;
        for (int ch : {0, c - 1}) {
            double s = 0, s2 = 0;
            for (int i = 0; i < n; ++i)
                for (int64_t k = 0; k < inner; ++k) s += hx[((size_t)i * c + ch) * inner + k];
            const double mean = s / m;
            for (int i = 0; i < n; ++i)
                for (int64_t k = 0; k < inner; ++k) {
                    const double d = hx[((size_t)i * c + ch) * inner + k] - mean;
                    s2 += d * d;
                }
            const double var = s2 / m, inv = 1.0 / sqrt(var + eps);
            for (int i = 0; i < n; ++i)
                for (int64_t k = 0; k < inner; k += std::max<int64_t>(1, inner / 7)) {
                    const size_t at = ((size_t)i * c + ch) * inner + k;
                    const double ref = hP[ch] * (hx[at] - mean) * inv + hP[c + ch];
                    worst_y = std::max(worst_y, fabs(hy[at] - ref));
                }
            const double rv_ref = (1 - momentum) * 1.0 + momentum * var * m / (m - 1);
            worst_rv = std::max(worst_rv, fabs(hP[3 * c + ch] - rv_ref) / rv_ref);
        }
        check("batchnorm ours y vs float64, max |err|", worst_y, 1e-4);
        check("batchnorm ours running var vs float64 (unbiased), rel err", worst_rv, 1e-5);
    }
    if (vendor_err.empty()) {
        std::vector<float> hP = params.get();
        auto slice = [&](int k) { return std::vector<float>(hP.begin() + (size_t)k * c, hP.begin() + (size_t)(k + 1) * c); };
        check("batchnorm y ours vs cuDNN, max |diff| / max |y|", rel_diff(y.get(), yv.get()), 1e-5);
        check("batchnorm dx ours vs cuDNN, max |diff| / max |dx|", rel_diff(dx.get(), dxv.get()), 1e-4);
        // dgamma, dbeta and the statistics are sums over M = n h w terms in a different order (cuDNN's may be
        // float): the limits allow for float accumulation over M.
        check("batchnorm dgamma ours vs cuDNN, rel", rel_diff(slice(6), slice(14)), 1e-3);
        check("batchnorm dbeta ours vs cuDNN, rel", rel_diff(slice(7), slice(15)), 1e-3);
        check("batchnorm running mean ours vs cuDNN, rel", rel_diff(slice(2), slice(10), 1e-3), 1e-4);
        check("batchnorm running var ours vs cuDNN, rel", rel_diff(slice(11), slice(3)), 1e-4);
        check_cudnn_running_var();
        std::vector<float> svar_ours = slice(5);
        // cuDNN's saved inverse std against our saved biased variance.
        std::vector<float> var_from_inv(c), sinv = slice(13);
        for (int ch = 0; ch < c; ++ch) var_from_inv[ch] = 1.f / (sinv[ch] * sinv[ch]) - eps;
        check("batchnorm saved var ours vs cuDNN's 1/inv_std^2 - eps, rel", rel_diff(var_from_inv, svar_ours), 1e-4);
    } else {
        row.note = "cuDNN: " + vendor_err;
    }
    reset();
    Timing ours = time_op(o, ours_step);
    if (!ours.error.empty()) {
        row.note = ours.error;
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    const double bytes = 5.0 * total * sizeof(float);
    row.ours_ms = ours.median_ms;
    row.ours_rate = bytes / (ours.median_ms * 1e-3) / 1e9;
    if (vendor_err.empty()) {
        Timing ref = time_op(o, vendor_step);
        if (ref.error.empty()) {
            row.ref_ms = ref.median_ms;
            row.ref_rate = bytes / (ref.median_ms * 1e-3) / 1e9;
            row.ratio = ref.median_ms / ours.median_ms;
        } else {
            row.note = "cuDNN: " + ref.error;
        }
    }
    g_rows.push_back(row);
}

// ------------------------------------------------------------------ bias gradient (per-channel sums)

// dbias += the sums of dy [n, c, h, w] over n, h, w: ours (split channels, channel_sum.cuh) against cuDNN's
// convolution backward bias on the same dy in the same run; [n, c] is h = w = 1 (ours: the columns layout).
// Bytes: dy read once, plus the split's double partials written and read and dbias read and written (the
// minimum an HBM roofline counts).
void bench_bias_grad_case(const Options& o, int n, int c, int h, int w) {
    const int inner = h * w;
    const int64_t total = (int64_t)n * c * inner;
    Row row;
    row.op = "bias grad";
    row.size = "[" + std::to_string(n) + "," + std::to_string(c) +
               (inner == 1 ? "" : "," + std::to_string(h) + "," + std::to_string(w)) + "]";
    row.ours_what = "ours";
    row.ref_what = "cuDNN";
    row.unit = "GB/s";
    row.target = 1.00;
    const size_t ws_bytes = jt_reduce_bias_grad_workspace_bytes(n, c, inner);
    Buf<float> dy(total), db(c), dbv(c);
    Buf<double> ws(ws_bytes / sizeof(double) + 2);
    if (!dy.ok() || !db.ok() || !dbv.ok() || !ws.ok()) {
        row.note = "allocation failed";
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    const double bytes = (double)total * sizeof(float) + 2.0 * ws_bytes + 2.0 * c * sizeof(float);
    const JtChannelSumPlan plan = jt_channel_sum_plan(n, c, inner, jt_device_sm_count());
    printf("  bias grad %s: %d x %d blocks of %d threads%s, moves %.3g MB: %.3g us at 3.35 TB/s\n", row.size.c_str(),
           plan.layout == JT_CHANSUM_COLUMNS ? (c + 31) / 32 : c, plan.splits, plan.threads,
           plan.splits > 1 ? " + merge" : "", bytes / 1e6, bytes / 3.35e12 * 1e6);
    fill(dy.p, total, -1.f, 1.f, 61);
    cudaMemset(db.p, 0, c * sizeof(float));
    cudaMemset(dbv.p, 0, c * sizeof(float));
    auto ours = [&] {
        return status_msg(jt_reduce_bias_grad(dy.p, n, c, inner, db.p, ws.p, ws_bytes, g_stream), "jt_reduce_bias_grad");
    };
    jt_vendor_status st;
    auto vendor = [&] { return vendor_msg(jt_vendor_conv2d_backward_bias(dy.p, dbv.p, n, c, h, w, 0, g_stream, &st), st); };
    // Checks: one accumulation onto zero against float64, and against cuDNN (which overwrites).
    std::string err = ours();
    cudaStreamSynchronize(g_stream);
    if (err.empty()) {
        std::vector<float> hdy = dy.get(), got = db.get();
        double worst = 0, mag = 0;
        for (int ch = 0; ch < c; ++ch) {
            double ref = 0, m = 0;
            for (int i = 0; i < n; ++i)
                for (int k = 0; k < inner; ++k) {
                    const double v = hdy[((size_t)i * c + ch) * inner + k];
                    ref += v;
                    m += fabs(v);
                }
            worst = std::max(worst, fabs(got[ch] - ref));
            mag = std::max(mag, m);
        }
        // Summed in double, rounded once: ~2^-24 of the result; relative to the largest sum of |dy|.
        check("bias grad " + row.size + " ours vs float64, max |err| / max sum|dy|", worst / mag, 1e-7);
        const std::string verr = vendor();
        cudaStreamSynchronize(g_stream);
        if (verr.empty()) {
            check("bias grad " + row.size + " ours vs cuDNN, max |diff| / max sum|dy|",
                  max_diff(got, dbv.get()) / mag, 1e-5);
        }
    }
    Timing t = time_op(o, ours);
    if (!t.error.empty()) {
        row.note = t.error;
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    row.ours_ms = t.median_ms;
    row.ours_rate = bytes / (t.median_ms * 1e-3) / 1e9;
    Timing ref = time_op(o, vendor);
    if (ref.error.empty()) {
        row.ref_ms = ref.median_ms;
        row.ref_rate = bytes / (ref.median_ms * 1e-3) / 1e9;
        row.ratio = ref.median_ms / t.median_ms;
    } else {
        row.note = "cuDNN: " + ref.error;
    }
    g_rows.push_back(row);
}

void bench_bias_grad(const Options& o) {
    bench_bias_grad_case(o, o.sizes.bn_n, o.sizes.bn_c, o.sizes.bn_h, o.sizes.bn_w);  // a conv layer's (BatchNorm's shape)
    bench_bias_grad_case(o, 128, 512, 1, 1);                                          // a Linear layer's at batch 128
}

// ------------------------------------------------------------------ bandwidth-bound kernels vs copy

// One row: ours moving `moved` bytes per call, against a copy of `copy_bytes` (2 copy_bytes moved).
void bandwidth_row(const Options& o, Row row, const Timing& ours, double moved, size_t copy_bytes) {
    if (!ours.error.empty()) {
        row.note = ours.error;
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    row.ours_ms = ours.median_ms;
    row.ours_rate = moved / (ours.median_ms * 1e-3) / 1e9;
    std::string err;
    const double copy = copy_gbps(o, copy_bytes, &err);
    if (err.empty()) {
        row.ref_rate = copy;
        row.ref_ms = 2.0 * copy_bytes / (copy * 1e9) * 1e3;
        row.ratio = row.ours_rate / copy;
    } else {
        row.note = "copy: " + err;
    }
    g_rows.push_back(row);
}

void bench_adam(const Options& o) {
    const int64_t n = o.sizes.adam;
    Row row;
    row.op = "adam";
    row.size = "4 x " + fmt_size(n);
    row.ours_what = "ours";
    row.ref_what = "copy";
    row.unit = "GB/s";
    row.target = 0.85;
    Buf<float> p(n), g(n), m(n), v(n);
    if (!p.ok() || !g.ok() || !m.ok() || !v.ok()) {
        row.note = "allocation failed: " + (p.ok() ? (g.ok() ? (m.ok() ? v.error : m.error) : g.error) : p.error);
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    fill(p.p, n, -1.f, 1.f, 31);
    fill(g.p, n, -1.f, 1.f, 32);
    cudaMemset(m.p, 0, n * sizeof(float));
    cudaMemset(v.p, 0, n * sizeof(float));
    std::vector<float> p0 = p.get(16), g0 = g.get(16);
    int step = 0;
    auto adam = [&] {
        return status_msg(jt_optim_adam(p.p, g.p, m.p, v.p, nullptr, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.f, 0, ++step,
                                        g_stream),
                          "jt_optim_adam");
    };
    // Check: after the first step from m = v = 0, p = p0 - lr * g / (|g| + eps) (bias-corrected), i.e. -lr sign(g).
    std::string err = adam();
    cudaStreamSynchronize(g_stream);
    if (err.empty()) {
        std::vector<float> p1 = p.get(16);
        double worst = 0;
        for (int i = 0; i < 16; ++i) {
            const double ref = p0[i] - 1e-3 * g0[i] / (fabs((double)g0[i]) + 1e-8);
            worst = std::max(worst, fabs(p1[i] - ref));
        }
        check("adam first step vs formula, max |err|", worst, 1e-6);
    }
    Timing ours = time_op(o, adam);
    bandwidth_row(o, row, ours, 7.0 * n * sizeof(float), 4 * (size_t)n * sizeof(float));
}

void bench_relu(const Options& o) {
    const int64_t n = o.sizes.elementwise;
    Row row;
    row.op = "relu fwd";
    row.size = fmt_size(n);
    row.ours_what = "ours";
    row.ref_what = "copy";
    row.unit = "GB/s";
    row.target = 0.90;
    Buf<float> x(n), y(n), yv(n);
    if (!x.ok() || !y.ok() || !yv.ok()) {
        row.note = "allocation failed";
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    fill(x.p, n, -1.f, 1.f, 41);
    auto relu = [&] {
        return status_msg(jt_activations_forward(JT_ACT_RELU, x.p, y.p, n, 0.f, 0.f, g_stream), "jt_activations_forward");
    };
    Timing ours = time_op(o, relu);
    if (ours.error.empty()) {
        std::vector<float> hx = x.get(4096), hy = y.get(4096);
        double worst = 0;
        for (size_t i = 0; i < hx.size(); ++i) worst = std::max(worst, (double)fabsf(hy[i] - std::max(hx[i], 0.f)));
        check("relu ours vs max(x, 0), max |err| (4096 samples)", worst, 0.0);
    }
    bandwidth_row(o, row, ours, 2.0 * n * sizeof(float), (size_t)n * sizeof(float));
    // cuDNN's ReLU in the same run (a second row: ratio = its time / ours).
    Row vr;
    vr.op = "relu fwd";
    vr.size = fmt_size(n);
    vr.ours_what = "ours";
    vr.ref_what = "cuDNN";
    vr.unit = "GB/s";
    jt_vendor_status st;
    Timing ref = time_op(o, [&] { return vendor_msg(jt_vendor_activation_forward(JT_ACT_RELU, x.p, yv.p, n, 0.f, g_stream, &st), st); });
    vr.ours_ms = ours.median_ms;
    vr.ours_rate = 2.0 * n * sizeof(float) / (ours.median_ms * 1e-3) / 1e9;
    if (ref.error.empty() && ours.error.empty()) {
        vr.ref_ms = ref.median_ms;
        vr.ref_rate = 2.0 * n * sizeof(float) / (ref.median_ms * 1e-3) / 1e9;
        vr.ratio = ref.median_ms / ours.median_ms;
        check("relu ours vs cuDNN, max |diff|", max_diff(y.get(), yv.get()), 0.0);
    } else {
        vr.note = "cuDNN: " + ref.error;
    }
    g_rows.push_back(vr);
}

void bench_dropout(const Options& o) {
    const int64_t n = o.sizes.elementwise;
    Row row;
    row.op = "dropout fwd";
    row.size = fmt_size(n) + ", p 0.5";
    row.ours_what = "ours";
    row.ref_what = "copy";
    row.unit = "GB/s";
    row.target = 0.90;
    Buf<float> x(n), y(n);
    if (!x.ok() || !y.ok()) {
        row.note = "allocation failed";
        row.failed = g_failed = true;
        g_rows.push_back(row);
        return;
    }
    fill(x.p, n, -1.f, 1.f, 51);
    uint64_t offset = 0;
    Timing ours = time_op(o, [&] {
        return status_msg(jt_dropout_forward(x.p, y.p, nullptr, n, 0.5f, 42, offset++, g_stream), "jt_dropout_forward");
    });
    if (ours.error.empty()) {
        std::vector<float> hx = x.get(4096), hy = y.get(4096);
        size_t kept = 0, bad = 0;
        for (size_t i = 0; i < hx.size(); ++i) {
            if (hy[i] == 0.f) continue;
            ++kept;
            if (hy[i] != hx[i] * 2.f) ++bad;
        }
        check("dropout kept elements equal to 2 x (4096 samples), mismatches", (double)bad, 0.0);
        check("dropout keep fraction |kept/4096 - 0.5|", fabs(kept / 4096.0 - 0.5), 0.05);
    }
    bandwidth_row(o, row, ours, 2.0 * n * sizeof(float), (size_t)n * sizeof(float));
}

// ------------------------------------------------------------------ output

std::string fmt(double v, const char* f = "%.3g") {
    if (std::isnan(v)) return "-";
    char buf[64];
    snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string json_str(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if ((unsigned char)ch < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string json_num(double v) {
    if (std::isnan(v) || std::isinf(v)) return "null";
    char buf[64];
    snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string verdict(const Row& r) {
    if (kEmu) return "not measured (emu)";
    if (std::isnan(r.target)) return "";
    if (std::isnan(r.ratio)) return "not measured";
    return r.ratio >= r.target ? "meets" : "below";
}

void usage() {
    fprintf(stderr,
            "usage: bench_kernels [--sizes small|full] [--reps N] [--warmup N] [--json FILE] "
            "[--only sgemm,bn,bias,adam,relu,dropout]\n");
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* name) -> const char* {
            if (i + 1 >= argc) {
                fprintf(stderr, "bench_kernels: %s needs a value\n", name);
                usage();
                exit(2);
            }
            return argv[++i];
        };
        if (a == "--sizes") {
            std::string v = value("--sizes");
            if (v == "small") o.sizes = kSmall;
            else if (v == "full") o.sizes = kFull;
            else {
                fprintf(stderr, "bench_kernels: --sizes must be small or full, got '%s'\n", v.c_str());
                return 2;
            }
        } else if (a == "--reps") {
            o.reps = atoi(value("--reps"));
        } else if (a == "--warmup") {
            o.warmup = atoi(value("--warmup"));
        } else if (a == "--json") {
            o.json = value("--json");
        } else if (a == "--only") {
            o.only = value("--only");
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else {
            fprintf(stderr, "bench_kernels: unknown argument '%s'\n", a.c_str());
            usage();
            return 2;
        }
    }
    if (o.reps < 1 || o.warmup < 0) {
        fprintf(stderr, "bench_kernels: --reps must be >= 1 and --warmup >= 0\n");
        return 2;
    }

    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count < 1) {
        fprintf(stderr, "bench_kernels: no CUDA device (%s)\n",
                e != cudaSuccess ? cuda_msg("cudaGetDeviceCount", e).c_str() : "cudaGetDeviceCount = 0");
        return 2;
    }
    std::string device;
#ifdef JT_EMU
    device = "emu (host emulation of CUDA, " + std::to_string(jt_emu_worker_count()) + " workers)";
#else
    {
        cudaDeviceProp prop;
        int dev = 0, rt = 0, drv = 0;
        cudaGetDevice(&dev);
        cudaGetDeviceProperties(&prop, dev);
        cudaRuntimeGetVersion(&rt);
        cudaDriverGetVersion(&drv);
        char buf[512];
        snprintf(buf, sizeof buf, "%s (sm_%d%d, %.1f GiB, %d SMs; CUDA runtime %d, driver %d)", prop.name, prop.major,
                 prop.minor, prop.totalGlobalMem / 1073741824.0, prop.multiProcessorCount, rt, drv);
        device = buf;
    }
#endif
    e = cudaStreamCreate(&g_stream);
    if (e != cudaSuccess) {
        fprintf(stderr, "bench_kernels: %s\n", cuda_msg("cudaStreamCreate", e).c_str());
        return 2;
    }
    const std::string vendor = jt::vendor::report();
    printf("bench_kernels: %s, sizes %s, median of %d after %d warm-up\n", device.c_str(), o.sizes.name, o.reps,
           o.warmup);
    if (kEmu) printf("emu: correctness only, speeds meaningless\n");
    printf("vendor libraries:\n");
    {
        size_t start = 0;
        while (start < vendor.size()) {
            size_t end = vendor.find('\n', start);
            if (end == std::string::npos) end = vendor.size();
            std::string line = vendor.substr(start, end - start);
            for (char& ch : line) {
                if (ch == '\t') ch = ' ';
            }
            printf("  %s\n", line.c_str());
            start = end + 1;
        }
    }
    if (o.wants("sgemm")) bench_sgemm(o);
    if (o.wants("bn")) bench_batchnorm(o);
    if (o.wants("bias")) bench_bias_grad(o);
    if (o.wants("adam")) bench_adam(o);
    if (o.wants("relu")) bench_relu(o);
    if (o.wants("dropout")) bench_dropout(o);

    printf("\n%-18s %-17s %-7s %10s %10s %-6s %10s %10s %7s %6s  %s\n", "op", "size", "unit", "ours ms", "ours rate",
           "vs", "ref ms", "ref rate", "ratio", "target", "verdict / note");
    for (const Row& r : g_rows) {
        std::string tail = verdict(r);
        if (!r.note.empty()) tail += (tail.empty() ? "" : "; ") + r.note;
        printf("%-18s %-17s %-7s %10s %10s %-6s %10s %10s %7s %6s  %s\n", r.op.c_str(), r.size.c_str(), r.unit.c_str(),
               fmt(r.ours_ms, "%.3f").c_str(), fmt(r.ours_rate, "%.1f").c_str(), r.ref_what.c_str(),
               fmt(r.ref_ms, "%.3f").c_str(), fmt(r.ref_rate, "%.1f").c_str(), fmt(r.ratio, "%.3f").c_str(),
               fmt(r.target, "%.2f").c_str(), tail.c_str());
    }
    printf("ratio: sgemm = ours GFLOP/s / cuBLAS; batchnorm, bias grad and relu-vs-cuDNN = cuDNN time / ours; adam, relu, "
           "dropout vs copy = ours GB/s / copy GB/s (read + write counted)\n");
    if (kEmu) printf("emu: correctness only, speeds meaningless\n");

    if (!o.json.empty()) {
        std::string j = "{\n  \"tool\": \"bench_kernels\",\n  \"mode\": " + json_str(kEmu ? "emu" : "cuda") +
                        ",\n  \"device\": " + json_str(device) + ",\n  \"sizes\": " + json_str(o.sizes.name) +
                        ",\n  \"reps\": " + std::to_string(o.reps) + ",\n  \"warmup\": " + std::to_string(o.warmup) +
                        ",\n  \"speeds_meaningful\": " + (kEmu ? "false" : "true") +
                        ",\n  \"vendor\": " + json_str(vendor) + ",\n  \"results\": [\n";
        for (size_t i = 0; i < g_rows.size(); ++i) {
            const Row& r = g_rows[i];
            j += "    {\"op\": " + json_str(r.op) + ", \"size\": " + json_str(r.size) + ", \"unit\": " +
                 json_str(r.unit) + ", \"ours_ms\": " + json_num(r.ours_ms) + ", \"ours_rate\": " +
                 json_num(r.ours_rate) + ", \"reference\": " + json_str(r.ref_what) + ", \"ref_ms\": " +
                 json_num(r.ref_ms) + ", \"ref_rate\": " + json_num(r.ref_rate) + ", \"ratio\": " + json_num(r.ratio) +
                 ", \"target\": " + json_num(r.target) + ", \"verdict\": " + json_str(verdict(r)) + ", \"note\": " +
                 json_str(r.note) + ", \"failed\": " + (r.failed ? "true" : "false") + "}" +
                 (i + 1 < g_rows.size() ? ",\n" : "\n");
        }
        j += "  ],\n  \"checks\": [\n";
        for (size_t i = 0; i < g_checks.size(); ++i) {
            j += "    " + json_str(g_checks[i]) + (i + 1 < g_checks.size() ? ",\n" : "\n");
        }
        j += std::string("  ],\n  \"ok\": ") + (g_failed ? "false" : "true") + "\n}\n";
        FILE* f = fopen(o.json.c_str(), "w");
        if (f == nullptr || fwrite(j.data(), 1, j.size(), f) != j.size() || fclose(f) != 0) {
            fprintf(stderr, "bench_kernels: cannot write %s\n", o.json.c_str());
            return 1;
        }
        printf("wrote %s\n", o.json.c_str());
    }
    cudaStreamDestroy(g_stream);
    return g_failed ? 1 : 0;
}
