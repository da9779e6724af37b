// bench_emu — costs of the emu device's execution model (not a test; built beside the tests):
//   launch      an empty kernel of 1 thread, round trip from the host thread through a worker
//   fiber       start + finish of one CUDA thread (empty kernel, 1024-thread blocks)
//   barrier     one __syncthreads per thread (256-thread blocks, a loop of barriers)
//   shuffle     one __shfl_xor_sync per thread
//   smem loop   a barrier-separated shared-memory read/write per thread
// Usage: bench_emu [workers]   (default 1 worker, so the numbers are per core)
// Each cost is given from wall time and from the process's CPU time (user + system, all threads),
// which stays meaningful on a loaded machine; both per thread per worker.
#include <stdio.h>
#include <stdlib.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "common.cuh"

__global__ void empty_kernel() {}

__global__ void barrier_kernel(int rounds, int* sink) {
    for (int r = 0; r < rounds; ++r) __syncthreads();
    if (threadIdx.x == 0 && rounds < 0) *sink = 1;
}

__global__ void shuffle_kernel(int rounds, float* sink) {
    float v = static_cast<float>(threadIdx.x);
    for (int r = 0; r < rounds; ++r) v += __shfl_xor_sync(0xffffffffu, v, r & 31);
    if (v == -1.0f) *sink = v;
}

__global__ void smem_kernel(int rounds, float* sink) {
    __shared__ float s[256];
    const int t = threadIdx.x;
    s[t] = static_cast<float>(t);
    __syncthreads();
    float acc = 0;
    for (int r = 0; r < rounds; ++r) {
        acc += s[(t + r) & 255];
        __syncthreads();
        s[t] = acc;
        __syncthreads();
    }
    if (acc == -1.0f) *sink = acc;
}

static double cpu_now() {
    rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Times {
    double wall, cpu;
};

template <class F>
static Times time_s(F f) {
    const double c0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    f();
    const double w = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return {w, cpu_now() - c0};
}

template <class F>
static Times best_of(int reps, F f) {
    Times best{1e30, 1e30};
    for (int i = 0; i < reps; ++i) {
        Times t = time_s(f);
        best.wall = std::min(best.wall, t.wall);
        best.cpu = std::min(best.cpu, t.cpu);
    }
    return best;
}

static void report(const char* what, Times t, Times t0, double ops, int nw) {
    printf("%-36s: %8.2f ns wall, %8.2f ns cpu\n", what, (t.wall - t0.wall) / ops * 1e9 * nw,
           (t.cpu - t0.cpu) / ops * 1e9);
}

int main(int argc, char** argv) {
    const char* workers = argc > 1 ? argv[1] : "1";
    setenv("JTRAIN_EMU_WORKERS", workers, 1);
    int* isink;
    float* fsink;
    cudaMalloc(reinterpret_cast<void**>(&isink), 4);
    cudaMalloc(reinterpret_cast<void**>(&fsink), 4);
    LAUNCH(empty_kernel, 1, 1, 0, 0)();  // start the pool
    printf("emu workers: %d\n", jt_emu_worker_count());
    const int nw = jt_emu_worker_count();

    const Times zero{0, 0};
    const int launches = 20000;
    Times t = best_of(3, [&] {
        for (int i = 0; i < launches; ++i) LAUNCH(empty_kernel, 1, 1, 0, 0)();
    });
    printf("%-36s: %8.2f us wall, %8.2f us cpu (all threads, incl. spinning)\n", "launch round trip (1 thread)",
           t.wall / launches * 1e6, t.cpu / launches * 1e6);

    const int blocks = 64 * nw;
    t = best_of(3, [&] { LAUNCH(empty_kernel, blocks, 1024, 0, 0)(); });
    report("fiber start+exit, per thread", t, zero, double(blocks) * 1024, nw);

    const int rounds = 2000, bthreads = 256, bblocks = 4 * nw;
    const double ops = double(bblocks) * bthreads * rounds;
    Times t0 = best_of(3, [&] { LAUNCH(barrier_kernel, bblocks, bthreads, 0, 0)(0, isink); });
    t = best_of(3, [&] { LAUNCH(barrier_kernel, bblocks, bthreads, 0, 0)(rounds, isink); });
    report("__syncthreads, per thread (block 256)", t, t0, ops, nw);

    t0 = best_of(3, [&] { LAUNCH(shuffle_kernel, bblocks, bthreads, 0, 0)(0, fsink); });
    t = best_of(3, [&] { LAUNCH(shuffle_kernel, bblocks, bthreads, 0, 0)(rounds, fsink); });
    report("__shfl_xor_sync, per thread", t, t0, ops, nw);

    t0 = best_of(3, [&] { LAUNCH(smem_kernel, bblocks, bthreads, 0, 0)(0, fsink); });
    t = best_of(3, [&] { LAUNCH(smem_kernel, bblocks, bthreads, 0, 0)(rounds, fsink); });
    report("shared read + 2 barriers, per thread", t, t0, ops, nw);

    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) {
        printf("error: %s: %s\n", cudaGetErrorName(e), jt_emu_last_error_detail());
        return 1;
    }
    cudaFree(isink);
    cudaFree(fsink);
    return 0;
}
