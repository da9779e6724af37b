// The emu's shared-memory race checker (JT_EMU_CHECK_RACE, JTRAIN_EMU_RACECHECK=1): deliberately racy
// kernels must fail with cudaErrorLaunchFailure and a detail that names the kernel, the shared array,
// the index and both threads; correct kernels (barriers, __syncwarp, atomics, shuffles) must pass; a
// detected race must not affect later launches. The checks are switched on here whatever the
// environment; a build without the checker's instrumentation (ASan) only runs the correct kernels.
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "test_util.h"

static bool g_checking = false;

// Expects the last launch to have failed as a race whose detail contains every one of `parts`.
static void expect_race(const std::string& what, std::initializer_list<const char*> parts) {
    const cudaError_t e = cudaGetLastError();
    if (!g_checking) {
        CHECK(true, what);  // without instrumentation nothing is checked
        return;
    }
    CHECK_STATUS(e, cudaErrorLaunchFailure);
    const char* d = jt_emu_last_error_detail();
    bool all = strstr(d, "shared-memory race") != nullptr;
    for (const char* p : parts) all = all && strstr(d, p) != nullptr;
    if (!CHECK(all, what + ": the detail names the race")) fprintf(stderr, "  detail: %s\n", d);
    if (getenv("JT_TEST_VERBOSE")) printf("%s -> %s\n", what.c_str(), d);
}

// ---- write-write: every thread stores to s[0] -----------------------------------------------------------

__global__ void all_write_one(int* out) {
    __shared__ int s[4];
    s[0] = static_cast<int>(threadIdx.x);  // BUG: 64 writers, no order
    __syncthreads();
    if (threadIdx.x == 0) out[0] = s[0];
}

// ---- read-after-write without a barrier ------------------------------------------------------------------

__global__ void shift_no_barrier(const int* in, int* out) {
    __shared__ int s[64];
    const int t = threadIdx.x;
    s[t] = in[t];
    out[t] = t > 0 ? s[t - 1] : 0;  // BUG: needs __syncthreads() between the write and the read
}

// ---- a race both fiber orders hide ----------------------------------------------------------------------
// Threads 0 and n-1 both store 7 to s[0]; thread n/2 reads it without a barrier. Forward, thread 0 has
// written before n/2 reads; reversed, thread n-1 has. On a GPU thread n/2 may read before either.
__global__ void hidden_race(int* out) {
    __shared__ int s[2];
    const int t = threadIdx.x, n = blockDim.x;
    if (t == 0) s[1] = 0;
    __syncthreads();
    if (t == 0 || t == n - 1) s[1] = 7;
    if (t == n / 2) out[0] = s[1];  // BUG: no barrier after the writes
}

// ---- warp-synchronous reduction: with and without __syncwarp -------------------------------------------

template <bool SYNC>
__global__ void warp_tail(const float* x, float* out) {
    __shared__ float s[64];
    const int t = threadIdx.x;
    s[t] = x[t];
    __syncthreads();
    if (t < 32) {
        for (int off = 32; off > 0; off >>= 1) {
            const float v = s[t] + (t + off < 64 ? s[t + off] : 0.0f);
            if (SYNC) __syncwarp();
            s[t] = v;
            if (SYNC) __syncwarp();
        }
    }
    __syncthreads();
    if (t == 0) out[0] = s[0];
}

// __syncwarp orders the lanes of one warp only: warp 1 reading what warp 0 wrote needs __syncthreads.
__global__ void syncwarp_across_warps(float* out) {
    __shared__ float s[64];
    const int t = threadIdx.x;
    s[t] = static_cast<float>(t);
    __syncwarp();
    out[t] = s[(t + 32) % 64];  // BUG: the other warp's element
}

// Lanes 0..15 synchronise among themselves (a partial mask): their exchange is ordered.
__global__ void half_warp_sync(float* out) {
    __shared__ float s[32];
    const int t = threadIdx.x;
    if (t < 16) {
        s[t] = static_cast<float>(t);
        __syncwarp(0x0000ffffu);
        out[t] = s[15 - t];
    }
}

// ---- atomics ------------------------------------------------------------------------------------------

__global__ void atomic_count(int* out) {
    __shared__ int count;
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    atomicAdd(&count, 1);  // atomics on one word: not a race
    __syncthreads();
    if (threadIdx.x == 0) out[0] = count;
}

__global__ void atomic_then_read(int* out) {
    __shared__ int count;
    if (threadIdx.x == 0) count = 0;
    __syncthreads();
    atomicAdd(&count, 1);
    out[threadIdx.x] = count;  // BUG: a plain read of a word other threads update, no barrier
}

// ---- dynamic shared memory ------------------------------------------------------------------------------

__global__ void dynamic_neighbour(float* out) {
    DYNAMIC_SHARED(float, buf);
    const int t = threadIdx.x;
    buf[t] = static_cast<float>(t);
    out[t] = buf[(t + 1) % blockDim.x];  // BUG: no barrier
}

__global__ void dynamic_reverse(float* out) {
    DYNAMIC_SHARED(float, buf);
    const int t = threadIdx.x, n = blockDim.x;
    buf[t] = static_cast<float>(t);
    __syncthreads();
    out[t] = buf[n - 1 - t];
}

// ---- bytes: neighbouring bytes of one word are independent ---------------------------------------------

__global__ void byte_flags(int* out, int same) {
    __shared__ unsigned char flags[64];
    const int t = threadIdx.x;
    flags[same ? 0 : t] = 1;  // same != 0: BUG, every thread writes byte 0
    __syncthreads();
    if (t == 0) {
        int n = 0;
        for (int i = 0; i < 64; ++i) n += flags[i];
        out[0] = n;
    }
}

// A word store by thread 0 and a byte store into that word by thread 1: a race.
__global__ void word_then_byte(int* out) {
    __shared__ int words[2];
    if (threadIdx.x == 0) words[0] = 0;
    if (threadIdx.x == 1) reinterpret_cast<unsigned char*>(words)[2] = 1;  // BUG: no barrier after the word store
    __syncthreads();
    if (threadIdx.x == 0) out[0] = words[0];
}

// ---- shuffles do not touch shared memory ------------------------------------------------------------------

__global__ void shuffle_sum(float* out) {
    float v = static_cast<float>(threadIdx.x);
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    out[threadIdx.x] = v;
}

// ---- a 2-D block that is correct ------------------------------------------------------------------------

__global__ void transpose_tile(const float* in, float* out) {
    __shared__ float tile[16][17];
    const int x = threadIdx.x, y = threadIdx.y;
    tile[y][x] = in[y * 16 + x];
    __syncthreads();
    out[y * 16 + x] = tile[x][y];
}

static void good_launch_still_works(const std::string& what) {
    jt_test::DeviceBuffer<float> in(256), out(256);
    std::vector<float> h(256);
    for (int i = 0; i < 256; ++i) h[i] = static_cast<float>(i);
    in.upload(h);
    LAUNCH(transpose_tile, 1, dim3(16, 16), 0, 0)(in.get(), out.get());
    CHECK_CUDA(cudaGetLastError());
    const std::vector<float> o = out.download();
    long bad = 0;
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) bad += o[y * 16 + x] != h[x * 16 + y];
    CHECK_EQ(bad, 0, "a correct launch after " + what);
}

int main() {
    const int previous = jt_emu_set_checks(JT_EMU_CHECK_RACE | JT_EMU_CHECK_MEMORY);
    g_checking = jt_emu_checks_available() && (jt_emu_checks() & JT_EMU_CHECK_RACE);
    if (!g_checking) printf("test_emu_racecheck: the kernels are not instrumented here: only correct kernels run\n");
    jt_test::DeviceBuffer<int> iout(1024);
    jt_test::DeviceBuffer<float> fout(1024);

    for (int order = 0; order < 3; ++order) {
        const int prev_order = jt_emu_set_order(order);
        const std::string o = std::string(" (order ") + std::to_string(order) + ")";

        if (g_checking) {
            LAUNCH(all_write_one, 2, 64, 0, 0)(iout.get());
            expect_race("every thread writes s[0]" + o, {"write-after-write", "all_write_one", "::s[0]", "thread ("});
            good_launch_still_works("a write-write race");

            std::vector<int> in(64);
            for (int i = 0; i < 64; ++i) in[i] = i + 1;
            jt_test::DeviceBuffer<int> din(in);
            LAUNCH(shift_no_barrier, 1, 64, 0, 0)(din.get(), iout.get());
            expect_race("read of a neighbour's write, no barrier" + o,
                        {order == 0 ? "read-after-write" : "-after-", "shift_no_barrier", "::s[", "block (0,0,0)"});
            if (order == 0) {
                const char* d = jt_emu_last_error_detail();
                // forward: thread 1 reads s[0], written by thread 0
                CHECK(strstr(d, "thread (1,0,0) reads shift_no_barrier::s[0]") != nullptr &&
                          strstr(d, "thread (0,0,0) wrote") != nullptr,
                      "the detail names both threads and the element");
            }

            LAUNCH(warp_tail<false>, 1, 64, 0, 0)(fout.get(), fout.get() + 64);
            expect_race("warp-synchronous tail without __syncwarp" + o, {"warp_tail<false>", "::s["});
            LAUNCH(syncwarp_across_warps, 1, 64, 0, 0)(fout.get());
            expect_race("__syncwarp does not order two warps" + o, {"syncwarp_across_warps", "::s["});
            LAUNCH(atomic_then_read, 1, 64, 0, 0)(iout.get());
            expect_race("plain read of an atomically updated word" + o, {"atomic_then_read", "count"});
            LAUNCH(dynamic_neighbour, 3, 32, 32 * sizeof(float), 0)(fout.get());
            expect_race("dynamic shared memory without a barrier" + o, {"dynamic_neighbour", "dynamic shared["});
            LAUNCH(byte_flags, 1, 64, 0, 0)(iout.get(), 1);
            expect_race("64 threads write one byte" + o, {"write-after-write", "byte_flags::flags[0]"});
            LAUNCH(word_then_byte, 1, 64, 0, 0)(iout.get());
            expect_race("a byte store into a word another thread stored" + o, {"word_then_byte::words"});
            good_launch_still_works("several races");
        }

        // The race both orders hide: correct output forward and reversed without the checker ...
        jt_emu_set_checks(0);
        for (int ord : {0, 1}) {
            jt_emu_set_order(ord);
            iout.fill_bytes(0);
            LAUNCH(hidden_race, 1, 128, 0, 0)(iout.get());
            CHECK_CUDA(cudaGetLastError());
            CHECK_EQ(iout.download()[0], 7, "hidden race: looks correct in fiber order " + std::to_string(ord));
        }
        jt_emu_set_order(order);
        jt_emu_set_checks(JT_EMU_CHECK_RACE | JT_EMU_CHECK_MEMORY);
        // ... and found with it, in every order
        LAUNCH(hidden_race, 1, 128, 0, 0)(iout.get());
        expect_race("a race both fiber orders hide" + o, {"hidden_race", "::s[1]"});

        // Correct kernels pass, with the right results.
        std::vector<float> x(64);
        double ref = 0;
        for (int i = 0; i < 64; ++i) ref += x[i] = 0.25f * static_cast<float>(i % 7);
        jt_test::DeviceBuffer<float> dx(x);
        LAUNCH(warp_tail<true>, 1, 64, 0, 0)(dx.get(), fout.get());
        CHECK_CUDA(cudaGetLastError());
        CHECK_CLOSE(fout.download()[0], ref, 0, 0, "warp tail with __syncwarp" + o);  // quarters: exact
        LAUNCH(half_warp_sync, 1, 32, 0, 0)(fout.get());
        CHECK_CUDA(cudaGetLastError());
        CHECK_EQ(fout.download()[3], 12.0f, "__syncwarp over lanes 0..15" + o);
        LAUNCH(atomic_count, 4, 96, 0, 0)(iout.get());
        CHECK_CUDA(cudaGetLastError());
        CHECK_EQ(iout.download()[0], 96, "shared atomics are not races" + o);
        LAUNCH(dynamic_reverse, 2, 48, 48 * sizeof(float), 0)(fout.get());
        CHECK_CUDA(cudaGetLastError());
        CHECK_EQ(fout.download()[5], 42.0f, "dynamic shared memory with a barrier" + o);
        LAUNCH(byte_flags, 1, 64, 0, 0)(iout.get(), 0);
        CHECK_CUDA(cudaGetLastError());
        CHECK_EQ(iout.download()[0], 64, "one byte per thread: not a race" + o);
        LAUNCH(shuffle_sum, 1, 64, 0, 0)(fout.get());
        CHECK_CUDA(cudaGetLastError());
        CHECK_EQ(fout.download()[40], 1520.0f, "shuffles only (32 + ... + 63)" + o);
        good_launch_still_works("the correct kernels");
        jt_emu_set_order(prev_order);
    }
    jt_emu_set_checks(previous);
    return jt_test::finish("test_emu_racecheck");
}
