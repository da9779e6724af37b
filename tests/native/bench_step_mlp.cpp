// Not a test (CTest does not run bench_*): the kernels of ONE training step of the MLP 784-512-512-10
// at batch 128 — forward GEMM + bias + ReLU x3, softmax cross-entropy, backward GEMMs, bias grads,
// ReLU backward, SGD-momentum update — timed on the device it is built for (emu here).
//
//   bench_step_mlp [steps]      prints the mean and best step time and a per-kernel breakdown
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "activations.h"
#include "common.cuh"
#include "elementwise.h"
#include "gemm.h"
#include "reduce.h"
#include "softmax_xent.h"
#include "test_util.h"

namespace {

// SGD with momentum (PyTorch rule, dampening 0, after the first step): buf = mu buf + g; p -= lr buf.
// A stand-in for the optimizer kernels of kernels/optim.cu, inline so the bench does not depend on them.
__global__ void sgd_momentum_kernel(float* p, const float* g, float* buf, int64_t n, float lr, float mu) {
    // Each block walks its own contiguous chunk with a block-wide stride: coalesced on a GPU, and on
    // emu (where one fiber runs its whole loop before the next) each fiber stays inside one chunk
    // instead of striding over the whole array (a grid stride misses the cache on every access there).
    const int64_t chunk = jt_ceil_div(jt_ceil_div(n, gridDim.x), blockDim.x) * blockDim.x;
    const int64_t begin = (int64_t)blockIdx.x * chunk;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
        const float b = mu * buf[i] + g[i];
        buf[i] = b;
        p[i] -= lr * b;
    }
}

cudaError_t sgd_momentum(float* p, const float* g, float* buf, int64_t n, float lr, float mu) {
    LAUNCH(sgd_momentum_kernel, jt_grid_1d(n, 256), 256, 0, 0)(p, g, buf, n, lr, mu);
    return cudaGetLastError();
}

using Clock = std::chrono::steady_clock;

// CPU time of the whole process (every worker): a load-independent measure on a shared machine.
double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

struct Timer {
    std::vector<std::pair<std::string, double>> parts;  // name, seconds summed over steps
    void add(const char* name, double s) {
        for (auto& p : parts)
            if (p.first == name) {
                p.second += s;
                return;
            }
        parts.emplace_back(name, s);
    }
};

bool g_ok = true;

// Runs one call, times it (emu launches are synchronous; on a GPU this would need events) and
// records any failure.
template <class F>
void timed(Timer& t, const char* name, F&& f) {
    const auto t0 = Clock::now();
    const cudaError_t st = f();
    const auto t1 = Clock::now();
    if (st != cudaSuccess) {
        fprintf(stderr, "%s failed: %s\n", name, cudaGetErrorString(st));
        g_ok = false;
    }
    t.add(name, std::chrono::duration<double>(t1 - t0).count());
}

}  // namespace

int main(int argc, char** argv) {
    const int steps = argc > 1 ? std::max(1, atoi(argv[1])) : 10;
    const int B = 128, D0 = 784, D1 = 512, D2 = 512, D3 = 10;
    jt_test::Rng rng(42);

    auto init = [&](size_t n, float scale) {
        std::vector<float> v(n);
        for (auto& x : v) x = rng.uniform(-scale, scale);
        return v;
    };
    std::vector<int64_t> labels(B);
    for (auto& l : labels) l = (int64_t)(rng.uniform() * D3);

    jt_test::DeviceBuffer<float> x(init((size_t)B * D0, 1.f));
    jt_test::DeviceBuffer<int64_t> y(labels);
    jt_test::DeviceBuffer<float> W1(init((size_t)D1 * D0, 0.05f)), b1(init(D1, 0.05f));
    jt_test::DeviceBuffer<float> W2(init((size_t)D2 * D1, 0.05f)), b2(init(D2, 0.05f));
    jt_test::DeviceBuffer<float> W3(init((size_t)D3 * D2, 0.05f)), b3(init(D3, 0.05f));
    jt_test::DeviceBuffer<float> dW1((size_t)D1 * D0), db1(D1), dW2((size_t)D2 * D1), db2(D2), dW3((size_t)D3 * D2),
        db3(D3);
    jt_test::DeviceBuffer<float> mW1((size_t)D1 * D0), mb1(D1), mW2((size_t)D2 * D1), mb2(D2), mW3((size_t)D3 * D2),
        mb3(D3);
    jt_test::DeviceBuffer<float> h1((size_t)B * D1), h2((size_t)B * D2), logits((size_t)B * D3), probs((size_t)B * D3),
        loss(B), lossSum(1);
    jt_test::DeviceBuffer<float> dlogits((size_t)B * D3), dh2((size_t)B * D2), dh1((size_t)B * D1);
    jt_test::DeviceBuffer<unsigned char> ws(jt_reduce_workspace_bytes());
    // The bias gradients' split partials (the largest of the three layers' plans; often 0: unsplit).
    const size_t bias_ws_bytes = std::max({jt_reduce_bias_grad_workspace_bytes(B, D1, 1),
                                           jt_reduce_bias_grad_workspace_bytes(B, D2, 1),
                                           jt_reduce_bias_grad_workspace_bytes(B, D3, 1), (size_t)16});
    jt_test::DeviceBuffer<unsigned char> bias_ws(bias_ws_bytes);
    for (auto* m : {&mW1, &mb1, &mW2, &mb2, &mW3, &mb3}) m->fill_bytes(0);

    struct Param {
        float *p, *g, *m;
        int64_t n;
    };
    const Param params[] = {{W1, dW1, mW1, (int64_t)D1 * D0}, {b1, db1, mb1, D1}, {W2, dW2, mW2, (int64_t)D2 * D1},
                            {b2, db2, mb2, D2},               {W3, dW3, mW3, (int64_t)D3 * D2}, {b3, db3, mb3, D3}};

    Timer timer;
    std::vector<double> stepTimes;
    double cpu0 = 0;
    std::vector<float> losses;
    for (int s = -1; s < steps; ++s) {  // step -1 warms up
        Timer t;
        if (s == 0) cpu0 = cpu_seconds();
        const auto t0 = Clock::now();
        // zero the accumulated gradients
        for (const Param& p : params) timed(t, "fill (zero grads)", [&] { return jt_elementwise_fill(p.g, p.n, 0.f, 0); });
        // forward: Linear weights are [out, in], y = x W^T + b (NT)
        timed(t, "gemm fwd 128x512x784", [&] { return jt_gemm_sgemm(0, 1, B, D1, D0, 1.f, x, D0, W1, D0, 0.f, h1, D1, b1, 1, 0); });
        timed(t, "gemm fwd 128x512x512", [&] { return jt_gemm_sgemm(0, 1, B, D2, D1, 1.f, h1, D1, W2, D1, 0.f, h2, D2, b2, 1, 0); });
        timed(t, "gemm fwd 128x10x512", [&] { return jt_gemm_sgemm(0, 1, B, D3, D2, 1.f, h2, D2, W3, D2, 0.f, logits, D3, b3, 0, 0); });
        timed(t, "softmax-xent fwd",
              [&] { return jt_softmax_xent_forward(logits, y, B, D3, 0.f, probs, loss, nullptr, 0); });
        timed(t, "sum (loss)", [&] { return jt_reduce_sum(loss, B, lossSum, ws.get(), 0); });
        // backward
        timed(t, "softmax-xent bwd",
              [&] { return jt_softmax_xent_backward(probs, y, B, D3, 0.f, 1.f / B, dlogits, nullptr, 0); });
        timed(t, "gemm dW 10x512x128 (TN)", [&] { return jt_gemm_sgemm(1, 0, D3, D2, B, 1.f, dlogits, D3, h2, D2, 1.f, dW3, D2, nullptr, 0, 0); });
        timed(t, "bias grad", [&] { return jt_reduce_bias_grad(dlogits, B, D3, 1, db3, bias_ws.get(), bias_ws_bytes, 0); });
        timed(t, "gemm dx 128x512x10 (NN)", [&] { return jt_gemm_sgemm(0, 0, B, D2, D3, 1.f, dlogits, D3, W3, D2, 0.f, dh2, D2, nullptr, 0, 0); });
        timed(t, "relu bwd", [&] { return jt_activations_backward(JT_ACT_RELU, nullptr, h2, dh2, dh2, (int64_t)B * D2, 0.f, 0.f, 0); });
        timed(t, "gemm dW 512x512x128 (TN)", [&] { return jt_gemm_sgemm(1, 0, D2, D1, B, 1.f, dh2, D2, h1, D1, 1.f, dW2, D1, nullptr, 0, 0); });
        timed(t, "bias grad", [&] { return jt_reduce_bias_grad(dh2, B, D2, 1, db2, bias_ws.get(), bias_ws_bytes, 0); });
        timed(t, "gemm dx 128x512x512 (NN)", [&] { return jt_gemm_sgemm(0, 0, B, D1, D2, 1.f, dh2, D2, W2, D1, 0.f, dh1, D1, nullptr, 0, 0); });
        timed(t, "relu bwd", [&] { return jt_activations_backward(JT_ACT_RELU, nullptr, h1, dh1, dh1, (int64_t)B * D1, 0.f, 0.f, 0); });
        timed(t, "gemm dW 512x784x128 (TN)", [&] { return jt_gemm_sgemm(1, 0, D1, D0, B, 1.f, dh1, D1, x, D0, 1.f, dW1, D0, nullptr, 0, 0); });
        timed(t, "bias grad", [&] { return jt_reduce_bias_grad(dh1, B, D1, 1, db1, bias_ws.get(), bias_ws_bytes, 0); });
        // update
        for (const Param& p : params) timed(t, "sgd momentum", [&] { return sgd_momentum(p.p, p.g, p.m, p.n, 0.01f, 0.9f); });
        const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
        if (s >= 0) {
            stepTimes.push_back(dt);
            for (auto& p : t.parts) timer.add(p.first.c_str(), p.second);
        }
        losses.push_back(lossSum.download()[0] / B);
    }
    const double cpuPerStep = (cpu_seconds() - cpu0) / steps;
    if (!g_ok) return 1;

    double mean = 0;
    for (double d : stepTimes) mean += d;
    mean /= stepTimes.size();
    const double best = *std::min_element(stepTimes.begin(), stepTimes.end());
#ifdef JT_EMU
    printf("device: emu, %d workers\n", jt_emu_worker_count());
#endif
    printf("MLP 784-512-512-10, batch 128: %d steps, mean %.4f s/step, best %.4f s/step (wall clock)\n", steps, mean,
           best);
    printf("CPU time %.4f s/step over all workers (wall clock on an idle machine >= this / workers)\n", cpuPerStep);
    printf("loss: first %.5f, last %.5f\n", losses.front(), losses.back());
    std::sort(timer.parts.begin(), timer.parts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& p : timer.parts) printf("  %-28s %8.3f ms/step\n", p.first.c_str(), 1e3 * p.second / steps);
    return 0;
}
