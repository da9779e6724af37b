// The per-channel sums (kernels/channel_sum.cuh) through their two users: the bias gradient
// (jt_reduce_bias_grad_sm) and PReLU's backward (jt_activations_prelu_backward_sm, dx and dalpha in one pass).
// Against float64 references at awkward sizes (N = 1; C = 1, 3, 64, 257; inner = 1, 3, 4, 7, 12, 49, 3136 and
// shapes that split), with the plans of devices of 1, 8 and 132 SMs (an H100's split runs here too),
// accumulating onto nonzero outputs; misaligned pointers (the scalar loads) give the aligned run's bits; two
// runs, and every emulated thread order, give the same bits; a missing, short or misaligned workspace is an
// error that leaves the outputs untouched; PReLU's dx is checked element by element, also in place (dx = dy:
// an element visited twice would be scaled twice).
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <string>
#include <vector>

#include "activations.h"
#include "common.cuh"
#include "launch_config.h"
#include "reduce.h"
#include "test_util.h"

namespace {

struct Shape {
    int n, c, inner;
};

std::string name(const Shape& s, int sms) {
    return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.inner) + " (" +
           std::to_string(sms) + " SMs)";
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The sizes under test: every combination of the awkward sizes that stays small, then shapes whose plan splits
// (a channel needs at least 2 x 8 Ki values, or 2 x 128 rows for [N, C], before it is split).
std::vector<Shape> shapes() {
    std::vector<Shape> v;
    for (int n : {1, 3}) {
        for (int c : {1, 3, 64, 257}) {
            for (int inner : {1, 3, 4, 7, 12, 49, 3136}) {
                if ((int64_t)n * c * inner <= (int64_t)1 << 20) v.push_back({n, c, inner});
            }
        }
    }
    const Shape split[] = {
        {16, 3, 3136},   // planes, float4 units: 6 splits of 3 channels on 132 SMs
        {6, 257, 3136},  // C > 2 x 132: 2 splits
        {40, 64, 1024},  // a conv layer's bias: 5 splits of 64 channels
        {9, 3, 12000},   // 13 splits
        {5, 7, 4099},    // odd inner: scalar units, 2 splits
        {64, 1, 1001},   // one channel (PReLU's shared alpha): 7 splits
        {2, 1, 1 << 20}, // 256 splits
        {4096, 3, 1},    // [N, C]: 32 splits of 128 rows
        {1000, 64, 1},   // 2 tiles of 32 channels
        {1000, 257, 1},  // 9 tiles, the last one part-full
        {128, 512, 1},   // a Linear layer's bias: unsplit (one launch)
        {300, 33, 1},
    };
    v.insert(v.end(), std::begin(split), std::end(split));
    return v;
}

constexpr int kSmCounts[] = {1, 8, 132};

// A workspace of exactly the plan's bytes (so the emu checker catches a write past it); null when none is needed.
struct Workspace {
    jt_test::DeviceBuffer<unsigned char> buf;
    size_t bytes;
    explicit Workspace(size_t b) : buf(b == 0 ? 16 : b), bytes(b) {}
    void* get() const { return bytes == 0 ? nullptr : (void*)buf.get(); }
};

// A device copy of `host` starting `offset` floats into its allocation (offset 1: not 16-byte aligned).
struct Shifted {
    jt_test::DeviceBuffer<float> buf;
    int offset;
    Shifted(const std::vector<float>& host, int off) : buf(host.size() + off), offset(off) {
        std::vector<float> padded(off, 0.f);
        padded.insert(padded.end(), host.begin(), host.end());
        buf.upload(padded);
    }
    float* get() const { return buf.get() + offset; }
    std::vector<float> download() const {
        std::vector<float> all = buf.download();
        return std::vector<float>(all.begin() + offset, all.end());
    }
    void upload(const std::vector<float>& host) {
        std::vector<float> padded(offset, 0.f);
        padded.insert(padded.end(), host.begin(), host.end());
        buf.upload(padded);
    }
};

// out[c] + the sum of the channel's terms, in double, and the sum of their magnitudes.
struct ChannelRef {
    std::vector<double> value, magnitude;
};

// Summed in double (per thread, then trees), added to the old value in double, rounded once: within rtol 2^-24
// (6e-8) of the float64 result, plus the double summation error, far below 1e-12 of the magnitudes.
size_t count_bad(const std::vector<float>& got, const ChannelRef& ref) {
    size_t bad = 0;
    for (size_t ch = 0; ch < got.size(); ++ch) {
        bad += !jt_test::close_enough(got[ch], ref.value[ch], 6e-8, 1e-12 * ref.magnitude[ch] + 1e-30);
    }
    return bad;
}

// ------------------------------------------------------------------ the plan

void test_plan() {
    // The shapes on an H100 (132 SMs): [128, 64, 56, 56] runs 64 x 8 blocks of 256 threads (one wave of
    // 4 per SM) over float4 units; [128, 512] is one unsplit launch of 16 tiles.
    JtChannelSumPlan p = jt_channel_sum_plan(128, 64, 3136, 132);
    CHECK(p.layout == JT_CHANSUM_PLANES && p.threads == 256 && p.vec == 4 && p.splits == 8 &&
              p.chunk == 128 * 3136 / 8 && p.workspace_bytes == 64 * 8 * sizeof(double),
          "plan [128, 64, 56, 56] on 132 SMs");
    p = jt_channel_sum_plan(128, 512, 1, 132);
    CHECK(p.layout == JT_CHANSUM_COLUMNS && p.threads == 256 && p.splits == 1 && p.workspace_bytes == 0,
          "plan [128, 512] on 132 SMs");
    // Every plan: whole units per chunk, the chunks cover the channel, one wave when split, workspace c x splits.
    for (const Shape& s : shapes()) {
        for (int sms : kSmCounts) {
            p = jt_channel_sum_plan(s.n, s.c, s.inner, sms);
            const int64_t values = s.inner == 1 ? s.n : (int64_t)s.n * s.inner;
            const int64_t tiles = s.inner == 1 ? (s.c + 31) / 32 : s.c;
            const bool ok = p.splits >= 1 && p.chunk >= 1 && p.chunk % p.vec == 0 && (int64_t)p.splits * p.chunk >= values &&
                            (p.splits == 1 || tiles * p.splits <= (int64_t)JT_CHANSUM_BLOCKS_PER_SM * sms) &&
                            p.workspace_bytes == (p.splits > 1 ? (size_t)s.c * p.splits * sizeof(double) : 0) &&
                            p.threads >= 32 && p.threads <= JT_CHANSUM_MAX_THREADS && p.threads % 32 == 0 &&
                            (s.inner % 4 == 0 && s.inner > 1 ? p.vec == 4 : p.vec == 1);
            CHECK(ok, "plan " + name(s, sms));
        }
    }
}

// ------------------------------------------------------------------ bias gradient

void test_bias_grad(jt_test::Rng& rng, int* split_runs) {
    for (const Shape& s : shapes()) {
        const size_t total = (size_t)s.n * s.c * s.inner;
        std::vector<float> dy = rng.uniform_vector(total), db0 = rng.uniform_vector(s.c, -4.f, 4.f);
        ChannelRef ref{std::vector<double>(db0.begin(), db0.end()), std::vector<double>(s.c)};
        for (size_t i = 0; i < total; ++i) {
            const int ch = (int)((i / s.inner) % s.c);
            ref.value[ch] += dy[i];
            ref.magnitude[ch] += fabs(dy[i]);
        }
        for (size_t ch = 0; ch < (size_t)s.c; ++ch) ref.magnitude[ch] += fabs(db0[ch]);
        Shifted aligned(dy, 0), misaligned(dy, 1);
        for (int sms : kSmCounts) {
            const std::string what = "bias_grad " + name(s, sms);
            const JtChannelSumPlan plan = jt_channel_sum_plan(s.n, s.c, s.inner, sms);
            *split_runs += plan.splits > 1;
            Workspace ws(plan.workspace_bytes);
            jt_test::DeviceBuffer<float> db(db0);
            CHECK_CUDA(jt_reduce_bias_grad_sm(aligned.get(), s.n, s.c, s.inner, db, ws.get(), ws.bytes, sms, 0));
            const std::vector<float> first = db.download();
            CHECK_EQ(count_bad(first, ref), 0u, what + ": accumulated onto dbias vs float64");
            db.upload(db0);
            CHECK_CUDA(jt_reduce_bias_grad_sm(aligned.get(), s.n, s.c, s.inner, db, ws.get(), ws.bytes, sms, 0));
            CHECK(same_bits(db.download(), first), what + ": a second run gives the same bits");
            db.upload(db0);
            CHECK_CUDA(jt_reduce_bias_grad_sm(misaligned.get(), s.n, s.c, s.inner, db, ws.get(), ws.bytes, sms, 0));
            CHECK(same_bits(db.download(), first), what + ": dy 4 bytes off alignment gives the same bits");
#ifdef JT_EMU
            // Whatever order the emulated threads run in (forward is the run above).
            if (total <= 100000) {
                const int previous = jt_emu_set_order(0);
                bool det = true;
                for (int order : {1, 2}) {
                    jt_emu_set_order(order);
                    db.upload(db0);
                    CHECK_CUDA(jt_reduce_bias_grad_sm(aligned.get(), s.n, s.c, s.inner, db, ws.get(), ws.bytes, sms, 0));
                    det = det && same_bits(db.download(), first);
                }
                jt_emu_set_order(previous);
                CHECK(det, what + ": the same bits in every thread order");
            }
#endif
        }
    }
}

// ------------------------------------------------------------------ PReLU backward

void test_prelu_backward(jt_test::Rng& rng, int* split_runs) {
    for (const Shape& s : shapes()) {
        const size_t total = (size_t)s.n * s.c * s.inner;
        std::vector<float> x = rng.uniform_vector(total, -3.f, 3.f), dy = rng.uniform_vector(total);
        for (size_t i = 0; i < total; i += 97) x[i] = 0.f;  // x == 0 takes the alpha branch: dalpha term 0 * dy
        std::vector<float> alpha = rng.uniform_vector(s.c, 0.05f, 0.5f), da0 = rng.uniform_vector(s.c, -4.f, 4.f);
        std::vector<float> dx_ref(total);
        ChannelRef ref{std::vector<double>(da0.begin(), da0.end()), std::vector<double>(s.c)};
        for (size_t i = 0; i < total; ++i) {
            const int ch = (int)((i / s.inner) % s.c);
            dx_ref[i] = x[i] > 0.f ? dy[i] : alpha[ch] * dy[i];  // one float multiply: the kernel's exact bits
            if (!(x[i] > 0.f)) {
                ref.value[ch] += (double)x[i] * dy[i];
                ref.magnitude[ch] += fabs((double)x[i] * dy[i]);
            }
        }
        for (size_t ch = 0; ch < (size_t)s.c; ++ch) ref.magnitude[ch] += fabs(da0[ch]);
        Shifted dX(x, 0), dDy(dy, 0), dDx(std::vector<float>(total), 0);
        Shifted dXoff(x, 1), dDyoff(dy, 1), dDxoff(std::vector<float>(total), 1);
        jt_test::DeviceBuffer<float> dA(alpha);
        for (int sms : kSmCounts) {
            const std::string what = "prelu backward " + name(s, sms);
            const JtChannelSumPlan plan = jt_channel_sum_plan(s.n, s.c, s.inner, sms);
            *split_runs += plan.splits > 1;
            Workspace ws(plan.workspace_bytes);
            jt_test::DeviceBuffer<float> da(da0);
            dDx.buf.fill_bytes(0xff);  // NaN: an element never written shows
            CHECK_CUDA(jt_activations_prelu_backward_sm(dX.get(), dA, dDy.get(), dDx.get(), da, s.n, s.c, s.inner,
                                                        ws.get(), ws.bytes, sms, 0));
            CHECK_ALL_CLOSE(dDx.download(), dx_ref, 0.0, 0.0, what + ": dx, every element");
            const std::vector<float> first = da.download();
            CHECK_EQ(count_bad(first, ref), 0u, what + ": dalpha accumulated vs float64");
            // Unaligned x, dy and dx: the scalar loads and stores, the same bits.
            da.upload(da0);
            dDxoff.buf.fill_bytes(0xff);
            CHECK_CUDA(jt_activations_prelu_backward_sm(dXoff.get(), dA, dDyoff.get(), dDxoff.get(), da, s.n, s.c,
                                                        s.inner, ws.get(), ws.bytes, sms, 0));
            CHECK_ALL_CLOSE(dDxoff.download(), dx_ref, 0.0, 0.0, what + ": dx (misaligned), every element");
            CHECK(same_bits(da.download(), first), what + ": misaligned pointers give the same dalpha bits");
            // In place (dx = dy): each element read once before its one write, or it would be scaled twice.
            Shifted inplace(dy, 0);
            da.upload(da0);
            CHECK_CUDA(jt_activations_prelu_backward_sm(dX.get(), dA, inplace.get(), inplace.get(), da, s.n, s.c,
                                                        s.inner, ws.get(), ws.bytes, sms, 0));
            CHECK_ALL_CLOSE(inplace.download(), dx_ref, 0.0, 0.0, what + ": dx in place over dy");
            CHECK(same_bits(da.download(), first), what + ": in place, the same dalpha bits");
        }
    }
}

// ------------------------------------------------------------------ errors

void test_invalid() {
    // A split plan: [16, 3, 3136] on 132 SMs has 6 blocks per channel, 3 x 6 doubles of workspace.
    const Shape s{16, 3, 3136};
    const int sms = 132;
    const JtChannelSumPlan plan = jt_channel_sum_plan(s.n, s.c, s.inner, sms);
    CHECK(plan.splits > 1 && plan.workspace_bytes == (size_t)s.c * plan.splits * sizeof(double),
          "[16, 3, 3136] splits on 132 SMs");
    const size_t total = (size_t)s.n * s.c * s.inner;
    jt_test::DeviceBuffer<float> x(std::vector<float>(total, -1.f)), dx(total), alpha(std::vector<float>(s.c, 0.5f));
    const std::vector<float> seven(s.c, 7.f);
    jt_test::DeviceBuffer<float> out(seven);
    jt_test::DeviceBuffer<unsigned char> ws(plan.workspace_bytes + 16);
    const size_t need = plan.workspace_bytes;
    // Missing, short, misaligned: cudaErrorInvalidValue, nothing written.
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, s.n, s.c, s.inner, out, nullptr, need, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, s.n, s.c, s.inner, out, ws, need - 8, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, s.n, s.c, s.inner, out, ws.get() + 8, need, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_prelu_backward_sm(x, alpha, x, dx, out, s.n, s.c, s.inner, nullptr, 0, sms, 0),
                 cudaErrorInvalidValue);
    CHECK_STATUS(jt_activations_prelu_backward_sm(x, alpha, x, dx, out, s.n, s.c, s.inner, ws, need - 1, sms, 0),
                 cudaErrorInvalidValue);
    CHECK(same_bits(out.download(), seven), "a refused sum leaves its output untouched");
    // Bad sizes and pointers.
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, 2, 0, 4, out, ws, need, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, -1, 2, 4, out, ws, need, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad_sm(x, 2, 2, 4, nullptr, ws, need, sms, 0), cudaErrorInvalidValue);
    CHECK_STATUS(jt_reduce_bias_grad_sm(nullptr, 2, 2, 4, out, ws, need, sms, 0), cudaErrorInvalidValue);
    // Nothing to add (n or inner 0): success, no workspace needed, output untouched.
    CHECK_CUDA(jt_reduce_bias_grad_sm(nullptr, 0, s.c, 4, out, nullptr, 0, sms, 0));
    CHECK_CUDA(jt_reduce_bias_grad_sm(nullptr, 5, s.c, 0, out, nullptr, 0, sms, 0));
    CHECK_CUDA(jt_activations_prelu_backward_sm(nullptr, nullptr, nullptr, nullptr, out, 0, s.c, 4, nullptr, 0, sms, 0));
    CHECK(same_bits(out.download(), seven), "an empty sum leaves its output untouched");
    // Without dalpha PReLU's backward is elementwise and needs no workspace, whatever the plan.
    CHECK_CUDA(jt_activations_prelu_backward_sm(x, alpha, x, dx, nullptr, s.n, s.c, s.inner, nullptr, 0, sms, 0));
    CHECK_ALL_CLOSE(dx.download(), std::vector<float>(total, -0.5f), 0.0, 0.0, "prelu dx without dalpha");
    // An unsplit plan needs no workspace: null is fine.
    const JtChannelSumPlan small = jt_channel_sum_plan(3, 5, 7, sms);
    CHECK(small.splits == 1 && small.workspace_bytes == 0, "[3, 5, 7] is one unsplit launch");
    jt_test::DeviceBuffer<float> out5(std::vector<float>(5, 1.f));
    CHECK_CUDA(jt_reduce_bias_grad_sm(x, 3, 5, 7, out5, nullptr, 0, sms, 0));
    CHECK_ALL_CLOSE(out5.download(), std::vector<float>(5, 1.f - 21.f), 0.0, 0.0, "unsplit bias_grad of -1s");
    // The current device's entry points agree with their workspace queries.
    const size_t cur = jt_reduce_bias_grad_workspace_bytes(s.n, s.c, s.inner);
    CHECK(cur == jt_activations_prelu_backward_workspace_bytes(s.n, s.c, s.inner) &&
              cur == jt_channel_sum_plan(s.n, s.c, s.inner, jt_device_sm_count()).workspace_bytes,
          "workspace queries follow the current device's plan");
    jt_test::DeviceBuffer<unsigned char> cur_ws(cur + 16);
    out.upload(seven);
    CHECK_CUDA(jt_reduce_bias_grad(x, s.n, s.c, s.inner, out, cur == 0 ? nullptr : cur_ws.get(), cur, 0));
    CHECK_ALL_CLOSE(out.download(), std::vector<float>(s.c, 7.f - (float)(s.n * s.inner)), 0.0, 0.0,
                    "bias_grad on the current device's plan");
}

}  // namespace

int main() {
    jt_test::Rng rng(8);
    int split_runs = 0;
    test_plan();
    test_bias_grad(rng, &split_runs);
    test_prelu_backward(rng, &split_runs);
    // The split path ran: both users, every split shape on 132 SMs at least.
    CHECK(split_runs >= 20, "split plans exercised: " + std::to_string(split_runs));
    test_invalid();
    return jt_test::finish("test_channel_sum");
}
