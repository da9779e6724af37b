// The emu device: __syncthreads and shared memory. Correct kernels must pass in every fiber order;
// kernels with a missing barrier must give wrong results in every order (the emu runs the fibers of a
// block one after another until each blocks, so a missing barrier reads stale data deterministically);
// barriers reached by part of a block, or that can never complete, must fail the launch with
// cudaErrorLaunchFailure and a message, the process going on and later launches working.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common.cuh"
#include "test_util.h"

static const char* kOrderNames[3] = {"forward", "reversed", "rotated"};

// The deliberately racy kernels below show what each fiber order makes of a race, so they run with the
// race checker off (under JTRAIN_EMU_RACECHECK=1 it would stop them; test_emu_racecheck tests that), and
// with it on they must be reported.
struct RaceCheckOff {
    int previous = jt_emu_set_checks(jt_emu_checks() & ~JT_EMU_CHECK_RACE);
    ~RaceCheckOff() { jt_emu_set_checks(previous); }
};
static bool race_checking() { return (jt_emu_checks() & JT_EMU_CHECK_RACE) != 0; }
static void expect_reported_race(const char* what) {
    CHECK_STATUS(cudaGetLastError(), cudaErrorLaunchFailure);
    CHECK(strstr(jt_emu_last_error_detail(), "shared-memory race") != nullptr, std::string(what) + ": race reported");
}

// ---- block reduction ------------------------------------------------------------------------------

template <int B>
__global__ void block_sum(const float* x, float* out, int n) {
    __shared__ float s[B];
    const int t = threadIdx.x;
    float v = 0;
    for (int i = blockIdx.x * B + t; i < n; i += B * gridDim.x) v += x[i];
    s[t] = v;
    __syncthreads();
    for (int stride = B / 2; stride > 0; stride >>= 1) {
        if (t < stride) s[t] += s[t + stride];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = s[0];
}

// The classic warp-synchronous tail WITHOUT __syncwarp: relies on lockstep, wrong on Volta+ and on emu.
__global__ void block_sum_warp_unsafe(const float* x, float* out, int n) {
    __shared__ float s[128];
    const int t = threadIdx.x;
    s[t] = t < n ? x[t] : 0.0f;
    __syncthreads();
    if (t < 64) s[t] += s[t + 64];
    __syncthreads();
    if (t < 32) {
        volatile float* vs = s;
        vs[t] = vs[t] + vs[t + 32];
        vs[t] = vs[t] + vs[t + 16];
        vs[t] = vs[t] + vs[t + 8];
        vs[t] = vs[t] + vs[t + 4];
        vs[t] = vs[t] + vs[t + 2];
        vs[t] = vs[t] + vs[t + 1];
    }
    if (t == 0) out[0] = s[0];
}

// The same with __syncwarp between the read and the write of every step: correct.
__global__ void block_sum_warp_safe(const float* x, float* out, int n) {
    __shared__ float s[128];
    const int t = threadIdx.x;
    s[t] = t < n ? x[t] : 0.0f;
    __syncthreads();
    if (t < 64) s[t] += s[t + 64];
    __syncthreads();
    if (t < 32) {
        for (int off = 32; off > 0; off >>= 1) {
            const float v = s[t] + s[t + off];
            __syncwarp();
            s[t] = v;
            __syncwarp();
        }
    }
    if (t == 0) out[0] = s[0];
}

static void test_reduction() {
    jt_test::Rng rng(3);
    for (int n : {1, 7, 33, 127, 1000, 65537}) {
        std::vector<float> x = rng.uniform_vector(n);
        const int blocks = std::min(8, (n + 255) / 256);
        jt_test::DeviceBuffer<float> dx(x), dout(blocks);
        LAUNCH(block_sum<256>, blocks, 256, 0, 0)(dx.get(), dout.get(), n);
        CHECK_CUDA(cudaGetLastError());
        double s = 0;
        for (float v : dout.download()) s += v;
        // float partial sums of up to 65537 values in [-1, 1): error well below 1e-4 * sqrt(n)
        CHECK_CLOSE(s, jt_test::sum_ref(x), 0, 1e-4 * sqrt(double(n)), "block_sum n=" + std::to_string(n));
    }
    std::vector<float> x = rng.uniform_vector(128);
    jt_test::DeviceBuffer<float> dx(x), dout(1);
    LAUNCH(block_sum_warp_safe, 1, 128, 0, 0)(dx.get(), dout.get(), 128);
    CHECK_CUDA(cudaGetLastError());
    CHECK_CLOSE(dout.download()[0], jt_test::sum_ref(x), 0, 1e-4, "warp tail with __syncwarp");
    if (race_checking()) {
        LAUNCH(block_sum_warp_unsafe, 1, 128, 0, 0)(dx.get(), dout.get(), 128);
        expect_reported_race("warp tail without __syncwarp");
    }
    RaceCheckOff off;
    LAUNCH(block_sum_warp_unsafe, 1, 128, 0, 0)(dx.get(), dout.get(), 128);
    CHECK_CUDA(cudaGetLastError());
    CHECK(!jt_test::close_enough(dout.download()[0], jt_test::sum_ref(x), 0, 1e-3),
          "warp tail without __syncwarp gives a wrong sum on emu (it relies on lockstep)");
}

// ---- tiled GEMM with and without its barriers -------------------------------------------------------

// C[M x N] = A[M x K] B[K x N], row-major; TILE x TILE threads per block, one output each.
// Variant 0: correct; 1: no barrier after the compute (the next load overwrites a tile in use);
// 2: no barrier after the load (the compute reads a tile not yet loaded).
template <int TILE, int VARIANT>
__global__ void gemm_tiled(const float* A, const float* B, float* C, int M, int N, int K) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
    float acc = 0;
    for (int k0 = 0; k0 < K; k0 += TILE) {
        As[ty][tx] = (row < M && k0 + tx < K) ? A[row * K + k0 + tx] : 0.0f;
        Bs[ty][tx] = (k0 + ty < K && col < N) ? B[(k0 + ty) * N + col] : 0.0f;
        if (VARIANT != 2) __syncthreads();
        for (int k = 0; k < TILE; ++k) acc += As[ty][k] * Bs[k][tx];
        if (VARIANT != 1) __syncthreads();
    }
    if (row < M && col < N) C[row * N + col] = acc;
}

template <int VARIANT>
static bool run_gemm(int M, int N, int K, int order, const char* what) {
    constexpr int TILE = 8;
    jt_test::Rng rng(M * 1000 + N * 10 + K);
    std::vector<float> a = rng.uniform_vector(size_t(M) * K), b = rng.uniform_vector(size_t(K) * N);
    jt_test::DeviceBuffer<float> da(a), db(b), dc(size_t(M) * N);
    dim3 grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    if (VARIANT != 0 && race_checking()) {
        LAUNCH((gemm_tiled<TILE, VARIANT>), grid, dim3(TILE, TILE), 0, 0)(da.get(), db.get(), dc.get(), M, N, K);
        expect_reported_race(what);
    }
    RaceCheckOff off;
    LAUNCH((gemm_tiled<TILE, VARIANT>), grid, dim3(TILE, TILE), 0, 0)(da.get(), db.get(), dc.get(), M, N, K);
    CHECK_CUDA(cudaGetLastError());
    std::vector<double> ref = jt_test::gemm_ref(a, b, M, N, K);
    std::vector<float> c = dc.download();
    const std::string label = std::string(what) + " " + std::to_string(M) + "x" + std::to_string(N) + "x" +
                              std::to_string(K) + " (" + kOrderNames[order] + ")";
    if (VARIANT == 0) {
        // K float products summed in float: |err| <= ~K * 2^-24 * sum|a||b|; with |a|,|b| < 1, 1e-5*K is generous
        return CHECK_ALL_CLOSE(c, ref, 0, 1e-5 * K, label);
    }
    size_t wrong = 0;
    for (size_t i = 0; i < c.size(); ++i) wrong += !jt_test::close_enough(c[i], ref[i], 0, 1e-3);
    return CHECK(wrong > c.size() / 4, label + ": a missing __syncthreads must give wrong results (" +
                                           std::to_string(wrong) + " of " + std::to_string(c.size()) + " wrong)");
}

static void test_gemm_barriers() {
    const int shapes[][3] = {{8, 8, 16}, {37, 29, 45}, {64, 64, 64}, {1, 33, 17}};
    for (int order = 0; order < 3; ++order) {
        const int previous = jt_emu_set_order(order);
        for (auto& s : shapes) {
            run_gemm<0>(s[0], s[1], s[2], order, "tiled gemm");
            run_gemm<1>(s[0], s[1], s[2], order, "tiled gemm without the barrier after the compute");
            run_gemm<2>(s[0], s[1], s[2], order, "tiled gemm without the barrier after the load");
        }
        jt_emu_set_order(previous);
    }
}

// ---- a race that only one fiber order hides -----------------------------------------------------------

// Each thread reads its left neighbour's value written in the same phase (no barrier): forward order
// makes it look like a correct shift, reversed order shows the race.
__global__ void shift_race(const int* in, int* out) {
    __shared__ int s[64];
    const int t = threadIdx.x;
    s[t] = in[t];
    out[t] = t > 0 ? s[t - 1] : 0;  // BUG: needs __syncthreads() between the write and the read
}

static void test_order_shows_races() {
    int mismatches[3];
    for (int order = 0; order < 3; ++order) {
        // New values each time: static __shared__ memory keeps what an earlier block left there.
        std::vector<int> in(64);
        for (int i = 0; i < 64; ++i) in[i] = 1000 * (order + 1) + i;
        jt_test::DeviceBuffer<int> din(in), dout(64);
        const int previous = jt_emu_set_order(order);
        if (race_checking()) {
            LAUNCH(shift_race, 1, 64, 0, 0)(din.get(), dout.get());
            expect_reported_race("shift_race");
        }
        RaceCheckOff off;
        LAUNCH(shift_race, 1, 64, 0, 0)(din.get(), dout.get());
        CHECK_CUDA(cudaGetLastError());
        std::vector<int> out = dout.download();
        mismatches[order] = 0;
        for (int i = 1; i < 64; ++i) mismatches[order] += out[i] != in[i - 1];
        jt_emu_set_order(previous);
    }
    CHECK(mismatches[0] == 0, "forward order: a left-neighbour race looks correct");
    CHECK(mismatches[1] > 0, "reversed order: the race shows");
}

// ---- __syncthreads_count / _and / _or ----------------------------------------------------------------

__global__ void sync_count_kernel(int* out) {
    const int t = threadIdx.x + blockDim.x * threadIdx.y;
    const int c = __syncthreads_count(t % 3 == 0);
    const int a = __syncthreads_and(t < 1000);
    const int o = __syncthreads_or(t == 5);
    const int none = __syncthreads_or(0);
    if (t == 0) {
        out[0] = c;
        out[1] = a;
        out[2] = o;
        out[3] = none;
    }
}

static void test_sync_count() {
    jt_test::DeviceBuffer<int> out(4);
    LAUNCH(sync_count_kernel, 2, dim3(20, 5), 0, 0)(out.get());
    CHECK_CUDA(cudaGetLastError());
    std::vector<int> h = out.download();
    CHECK_EQ(h[0], 34, "__syncthreads_count over 100 threads");
    CHECK_EQ(h[1], 1, "__syncthreads_and");
    CHECK_EQ(h[2], 1, "__syncthreads_or");
    CHECK_EQ(h[3], 0, "__syncthreads_or(0)");
}

// ---- barriers that cannot complete ------------------------------------------------------------------

__global__ void divergent_barrier(int* out) {
    if (threadIdx.x < 16) __syncthreads();  // BUG: half of the block never arrives
    out[threadIdx.x] = 1;
}

__global__ void exit_before_barrier(int* out, int n) {
    const int t = threadIdx.x;
    if (t >= n) return;  // BUG: the others wait at the barrier below forever
    out[t] = t;
    __syncthreads();
    out[t] += out[(t + 1) % n];
}

__global__ void two_barriers(int* out) {
    if (threadIdx.x % 2)
        __syncthreads();
    else
        __syncthreads();  // BUG: a different barrier
    out[threadIdx.x] = 1;
}

__global__ void loop_trip_counts(int* out) {
    for (int i = 0; i <= static_cast<int>(threadIdx.x % 3); ++i) __syncthreads();  // BUG: 1, 2 or 3 barriers
    out[threadIdx.x] = 1;
}

__global__ void warp_op_vs_barrier(float* out) {
    float v = static_cast<float>(threadIdx.x);
    if (threadIdx.x % 32 < 16)
        v = __shfl_sync(0xffffffffu, v, 31);  // waits for lanes 16..31
    else
        __syncthreads();                      // ... which wait here for lanes 0..15: deadlock
    out[threadIdx.x] = v;
}

__global__ void one_bad_block(int* out) {
    if (blockIdx.x == 3 && threadIdx.x == 0) return;  // one block loses a thread before the barrier
    __syncthreads();
    out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

static void expect_failure(const char* what, const char* detail_part) {
    const cudaError_t e = cudaGetLastError();
    CHECK_STATUS(e, cudaErrorLaunchFailure);
    const char* d = jt_emu_last_error_detail();
    if (!CHECK(strstr(d, detail_part) != nullptr, std::string(what) + ": detail mentions '" + detail_part + "'"))
        fprintf(stderr, "  detail: %s\n", d);
    if (getenv("JT_TEST_VERBOSE")) printf("%s -> %s\n", what, d);
}

static void good_launch_still_works() {
    std::vector<float> x(1000, 1.0f);
    jt_test::DeviceBuffer<float> dx(x), dout(4);
    LAUNCH(block_sum<256>, 4, 256, 0, 0)(dx.get(), dout.get(), 1000);
    CHECK_CUDA(cudaGetLastError());
    double s = 0;
    for (float v : dout.download()) s += v;
    CHECK_CLOSE(s, 1000.0, 0, 0, "a good launch after a failed one");  // sums of ones: exact
}

static void test_barrier_failures() {
    jt_test::DeviceBuffer<int> out(4096);
    jt_test::DeviceBuffer<float> fout(4096);
    for (int order = 0; order < 3; ++order) {
        const int previous = jt_emu_set_order(order);
        LAUNCH(divergent_barrier, 2, 32, 0, 0)(out.get());
        expect_failure("if (threadIdx.x < 16) __syncthreads()", "__syncthreads");
        good_launch_still_works();
        LAUNCH(exit_before_barrier, 1, 64, 0, 0)(out.get(), 40);
        expect_failure("return before __syncthreads", "part of the block");
        LAUNCH(exit_before_barrier, 1, 64, 0, 0)(out.get(), 64);  // every thread takes part: fine
        CHECK_CUDA(cudaGetLastError());
        LAUNCH(two_barriers, 1, 32, 0, 0)(out.get());
        expect_failure("different __syncthreads in if/else", "different __syncthreads");
        LAUNCH(loop_trip_counts, 1, 48, 0, 0)(out.get());
        expect_failure("different trip counts around __syncthreads", "__syncthreads");
        LAUNCH(warp_op_vs_barrier, 1, 64, 0, 0)(fout.get());
        expect_failure("shuffle waiting for lanes at a barrier", "deadlock");
        LAUNCH(one_bad_block, 16, 128, 0, 0)(out.get());
        expect_failure("one block of 16 fails", "block (3,0,0)");
        good_launch_still_works();
        jt_emu_set_order(previous);
    }
}

// ---- the largest block, 3-D blocks, many barriers ---------------------------------------------------

__global__ void many_barriers(int* out, int rounds) {
    __shared__ int s[1024];
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int n = blockDim.x * blockDim.y * blockDim.z;
    s[t] = t;
    __syncthreads();
    for (int r = 0; r < rounds; ++r) {
        const int v = s[(t + 1) % n];
        __syncthreads();
        s[t] = v;
        __syncthreads();
    }
    out[blockIdx.x * n + t] = s[t];
}

static void test_many_barriers() {
    for (dim3 block : {dim3(1024), dim3(8, 4, 3), dim3(1), dim3(33)}) {
        const int n = static_cast<int>(block.x * block.y * block.z), rounds = 37, blocks = 3;
        jt_test::DeviceBuffer<int> out(size_t(n) * blocks);
        LAUNCH(many_barriers, blocks, block, 0, 0)(out.get(), rounds);
        CHECK_CUDA(cudaGetLastError());
        std::vector<int> h = out.download();
        long bad = 0;
        for (int b = 0; b < blocks; ++b)
            for (int t = 0; t < n; ++t) bad += h[size_t(b) * n + t] != (t + rounds) % n;
        CHECK_EQ(bad, 0, "rotation through shared memory with " + std::to_string(2 * rounds + 1) +
                             " barriers, block of " + std::to_string(n));
    }
}

// Failing and good launches from several host threads at once: each gets its own status.
static void test_failures_from_threads() {
    std::atomic<long> bad{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th) {
        threads.emplace_back([th, &bad] {
            std::vector<float> x(3000, 0.5f);
            float *dx, *dout;
            int* iout;
            cudaMalloc(reinterpret_cast<void**>(&dx), x.size() * 4);
            cudaMalloc(reinterpret_cast<void**>(&dout), 8 * 4);
            cudaMalloc(reinterpret_cast<void**>(&iout), 64 * 4);
            cudaMemcpy(dx, x.data(), x.size() * 4, cudaMemcpyHostToDevice);
            for (int it = 0; it < 40; ++it) {
                if (th % 2 == 1 && it % 3 == 0) {
                    LAUNCH(divergent_barrier, 8, 32, 0, 0)(iout);
                    if (cudaGetLastError() != cudaErrorLaunchFailure) ++bad;
                    if (!strstr(jt_emu_last_error_detail(), "divergent_barrier")) ++bad;
                    continue;
                }
                LAUNCH(block_sum<256>, 8, 256, 0, 0)(dx, dout, 3000);
                if (cudaGetLastError() != cudaSuccess) ++bad;
                float h[8];
                cudaMemcpy(h, dout, sizeof h, cudaMemcpyDeviceToHost);
                double s = 0;
                for (float v : h) s += v;
                if (s != 1500.0) ++bad;  // halves: exact
            }
            cudaFree(dx);
            cudaFree(dout);
            cudaFree(iout);
        });
    }
    for (auto& t : threads) t.join();
    CHECK_EQ(bad.load(), 0, "failing and good launches from 4 host threads at once");
}

int main() {
    test_reduction();
    test_gemm_barriers();
    test_order_shows_races();
    test_sync_count();
    test_barrier_failures();
    test_many_barriers();
    test_failures_from_threads();
    return jt_test::finish("test_emu_sync");
}
