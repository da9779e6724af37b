// The emu device: launch configuration, indexing over 3-D grids and blocks, error codes, memory,
// streams, dynamic shared memory, launches from several host threads at once.
#include <stdlib.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common.cuh"
#include "test_util.h"

// Every thread writes its indices and the launch dimensions at its global linear position.
__global__ void index_kernel(unsigned* out) {
    const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    const unsigned per_block = blockDim.x * blockDim.y * blockDim.z;
    const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    unsigned* o = out + (static_cast<size_t>(block) * per_block + t) * 12;
    o[0] = threadIdx.x; o[1] = threadIdx.y; o[2] = threadIdx.z;
    o[3] = blockIdx.x;  o[4] = blockIdx.y;  o[5] = blockIdx.z;
    o[6] = blockDim.x;  o[7] = blockDim.y;  o[8] = blockDim.z;
    o[9] = gridDim.x;   o[10] = gridDim.y;  o[11] = gridDim.z;
}

static void test_indexing(dim3 grid, dim3 block) {
    const size_t threads = size_t(grid.x) * grid.y * grid.z * block.x * block.y * block.z;
    jt_test::DeviceBuffer<unsigned> out(threads * 12);
    out.fill_bytes(0xff);
    LAUNCH(index_kernel, grid, block, 0, 0)(out.get());
    const std::string what = "indexing grid " + std::to_string(grid.x) + "x" + std::to_string(grid.y) + "x" +
                             std::to_string(grid.z) + " block " + std::to_string(block.x) + "x" + std::to_string(block.y) +
                             "x" + std::to_string(block.z);
    CHECK_CUDA(cudaGetLastError());
    std::vector<unsigned> h = out.download();
    size_t bad = 0, i = 0;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx)
                for (unsigned tz = 0; tz < block.z; ++tz)
                    for (unsigned ty = 0; ty < block.y; ++ty)
                        for (unsigned tx = 0; tx < block.x; ++tx, ++i) {
                            const unsigned want[12] = {tx, ty, tz, bx, by, bz, block.x, block.y, block.z, grid.x, grid.y, grid.z};
                            if (memcmp(&h[i * 12], want, sizeof want) != 0) ++bad;
                        }
    CHECK_EQ(bad, 0u, what + ": threads with wrong indices");
}

// A kernel with a grid-stride loop, like the library's elementwise kernels.
__global__ void saxpy(int n, float a, const float* __restrict__ x, float* __restrict__ y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) y[i] = a * x[i] + y[i];
}

__global__ void noop_kernel() {}

static void test_saxpy() {
    jt_test::Rng rng(7);
    for (int n : {1, 7, 33, 127, 1000, 100003}) {
        std::vector<float> x = rng.uniform_vector(n), y = rng.uniform_vector(n);
        jt_test::DeviceBuffer<float> dx(x), dy(y);
        LAUNCH(saxpy, jt_grid_1d(n, 128), 128, 0, 0)(n, 2.5f, dx.get(), dy.get());
        CHECK_CUDA(cudaGetLastError());
        std::vector<double> ref(n);
        for (int i = 0; i < n; ++i) ref[i] = 2.5 * double(x[i]) + double(y[i]);
        // one multiply and one add in float: 2 roundings
        CHECK_ALL_CLOSE(dy.download(), ref, 2.5e-7, 1e-7, "saxpy n=" + std::to_string(n));
    }
}

static void test_config_errors() {
    cudaGetLastError();
    LAUNCH(noop_kernel, 1, 1025, 0, 0)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    CHECK(strstr(jt_emu_last_error_detail(), "noop_kernel") != nullptr, "the detail names the kernel");
    CHECK_STATUS(cudaGetLastError(), cudaSuccess);  // reading the error resets it
    LAUNCH(noop_kernel, dim3(1, 1, 1), dim3(32, 32, 2), 0, 0)();  // 2048 threads
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    LAUNCH(noop_kernel, dim3(1, 1, 1), dim3(1, 1, 65), 0, 0)();  // z > 64
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    LAUNCH(noop_kernel, 0, 32, 0, 0)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    LAUNCH(noop_kernel, dim3(1, 0, 1), 32, 0, 0)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    LAUNCH(noop_kernel, 1, dim3(0, 1, 1), 0, 0)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    LAUNCH(noop_kernel, dim3(1, 65536, 1), 1, 0, 0)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    // Peek does not reset; a later success does not clear an unread error.
    LAUNCH(noop_kernel, 1, 2000, 0, 0)();
    LAUNCH(noop_kernel, 1, 32, 0, 0)();
    CHECK_STATUS(cudaPeekAtLastError(), cudaErrorInvalidConfiguration);
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidConfiguration);
    CHECK_STATUS(cudaGetLastError(), cudaSuccess);
    // The largest legal shapes work.
    LAUNCH(noop_kernel, dim3(3, 2, 2), dim3(1024, 1, 1), 0, 0)();
    CHECK_CUDA(cudaGetLastError());
    LAUNCH(noop_kernel, dim3(1, 1, 1), dim3(16, 1, 64), 0, 0)();
    CHECK_CUDA(cudaGetLastError());
}

// Review item 4: stream handles were dereferenced unchecked (cudaStreamSynchronize(1) crashed, a
// second cudaStreamDestroy read freed memory). Now a registry of live streams rejects them.
static void test_stream_handles() {
    cudaStream_t bogus = reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(1));
    CHECK_STATUS(cudaStreamSynchronize(bogus), cudaErrorInvalidResourceHandle);
    CHECK_STATUS(cudaStreamDestroy(bogus), cudaErrorInvalidResourceHandle);
    CHECK_STATUS(cudaMemsetAsync(nullptr, 0, 0, bogus), cudaErrorInvalidResourceHandle);
    LAUNCH(noop_kernel, 1, 32, 0, bogus)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidResourceHandle);
    cudaStream_t s = nullptr;
    CHECK_CUDA(cudaStreamCreate(&s));
    CHECK_CUDA(cudaStreamDestroy(s));
    CHECK_STATUS(cudaStreamDestroy(s), cudaErrorInvalidResourceHandle);  // double destroy
    CHECK_STATUS(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
    LAUNCH(noop_kernel, 1, 32, 0, s)();
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidResourceHandle);
    CHECK_CUDA(cudaGetLastError());
}

static void test_memory_and_api() {
    void* p = nullptr;
    CHECK_CUDA(cudaMalloc(&p, 1000));
    CHECK(p != nullptr && reinterpret_cast<uintptr_t>(p) % 256 == 0, "cudaMalloc is 256-byte aligned");
    CHECK_CUDA(cudaMemset(p, 0x3c, 1000));
    std::vector<unsigned char> h(1000);
    CHECK_CUDA(cudaMemcpy(h.data(), p, 1000, cudaMemcpyDeviceToHost));
    CHECK(h[0] == 0x3c && h[999] == 0x3c, "cudaMemset + cudaMemcpy");
    void* q = nullptr;
    CHECK_CUDA(cudaMalloc(&q, 1000));
    CHECK_CUDA(cudaMemcpy(q, p, 1000, cudaMemcpyDeviceToDevice));
    cudaStream_t s = nullptr;
    CHECK_CUDA(cudaStreamCreate(&s));
    CHECK_CUDA(cudaMemsetAsync(q, 1, 10, s));
    CHECK_CUDA(cudaMemcpyAsync(h.data(), q, 1000, cudaMemcpyDefault, s));
    CHECK_CUDA(cudaStreamSynchronize(s));
    CHECK(h[0] == 1 && h[9] == 1 && h[10] == 0x3c, "async copies on a stream");
    LAUNCH(noop_kernel, 4, 64, 0, s)();
    CHECK_CUDA(cudaGetLastError());
    CHECK_CUDA(cudaStreamDestroy(s));
    CHECK_CUDA(cudaFree(p));
    CHECK_CUDA(cudaFree(q));
    CHECK_CUDA(cudaFree(nullptr));
    CHECK_STATUS(cudaFree(p), cudaErrorInvalidDevicePointer);  // double free is reported, not a crash
    CHECK_STATUS(cudaMalloc(nullptr, 16), cudaErrorInvalidValue);
    CHECK_STATUS(cudaMemcpy(h.data(), h.data(), 4, static_cast<cudaMemcpyKind>(7)), cudaErrorInvalidMemcpyDirection);
    CHECK_STATUS(cudaMemcpy(nullptr, h.data(), 4, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
    CHECK_CUDA(cudaMalloc(&p, 0));
    CHECK(p == nullptr, "cudaMalloc of 0 bytes gives NULL");
    cudaGetLastError();
    CHECK(std::string(cudaGetErrorName(cudaErrorLaunchFailure)) == "cudaErrorLaunchFailure", "error name");
    CHECK(std::string(cudaGetErrorString(cudaErrorInvalidValue)) == "invalid argument", "error string");
    int v = 0;
    CHECK_CUDA(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0));
    CHECK(v == jt_emu_worker_count() && v >= 1, "multiprocessors = workers");
    CHECK_CUDA(cudaDeviceGetAttribute(&v, cudaDevAttrWarpSize, 0));
    CHECK(v == 32, "warp size");
    // Occupancy: an sm_90 SM's limits (64 warps, 32 blocks, 228 KiB shared memory, 1 KiB reserved per block).
    CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 256, 0));
    CHECK(v == 8, "occupancy: 8 blocks of 256 threads");
    CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 1024, 0));
    CHECK(v == 2, "occupancy: 2 blocks of 1024 threads");
    CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 33, 0));
    CHECK(v == 32, "occupancy: at most 32 blocks (33 threads = 2 warps)");
    CHECK_CUDA(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 128, 100 * 1024));
    CHECK(v == 2, "occupancy: 100 KiB of dynamic shared memory each");
    CHECK_STATUS(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 0, 0), cudaErrorInvalidValue);
    CHECK_STATUS(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, saxpy, 1025, 0), cudaErrorInvalidValue);
    cudaGetLastError();
    cudaEvent_t e0, e1;
    CHECK_CUDA(cudaEventCreate(&e0));
    CHECK_CUDA(cudaEventCreate(&e1));
    CHECK_CUDA(cudaEventRecord(e0, 0));
    CHECK_CUDA(cudaEventRecord(e1, 0));
    float ms = -1;
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    CHECK(ms >= 0, "event time");
    CHECK_CUDA(cudaEventDestroy(e0));
    CHECK_CUDA(cudaEventDestroy(e1));
    CHECK_CUDA(cudaDeviceSynchronize());
}

// Dynamic shared memory: per block, sized by the launch; reversed through shared memory.
__global__ void reverse_kernel(const float* in, float* out, float* first_read) {
    DYNAMIC_SHARED(float, buf);
    const int t = threadIdx.x, n = blockDim.x;
    if (t == 0) first_read[blockIdx.x] = buf[n - 1];  // before anyone wrote: the emu's fill (NaN)
    __syncthreads();
    buf[t] = in[blockIdx.x * n + t];
    __syncthreads();
    out[blockIdx.x * n + t] = buf[n - 1 - t];
}

__global__ void big_smem_kernel(int* out) {
    DYNAMIC_SHARED(int, buf);
    const int n = 64 * 1024 / 4;
    for (int i = threadIdx.x; i < n; i += blockDim.x) buf[i] = i;
    __syncthreads();
    int s = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += buf[n - 1 - i] == n - 1 - i;
    atomicAdd(out, s);
}

static void test_dynamic_shared() {
    for (int n : {1, 32, 100, 1024}) {
        const int blocks = 5;
        jt_test::Rng rng(n);
        std::vector<float> in = rng.uniform_vector(size_t(n) * blocks);
        jt_test::DeviceBuffer<float> din(in), dout(in.size()), dfirst(blocks);
        LAUNCH(reverse_kernel, blocks, n, n * sizeof(float), 0)(din.get(), dout.get(), dfirst.get());
        CHECK_CUDA(cudaGetLastError());
        std::vector<float> out = dout.download(), ref(in.size());
        for (int b = 0; b < blocks; ++b)
            for (int t = 0; t < n; ++t) ref[size_t(b) * n + t] = in[size_t(b) * n + n - 1 - t];
        CHECK_ALL_CLOSE(out, ref, 0.0, 0.0, "dynamic shared reverse n=" + std::to_string(n));  // a copy: exact
        for (float f : dfirst.download()) CHECK(isnan(f), "uninitialised dynamic shared memory reads as NaN");
    }
    jt_test::DeviceBuffer<int> count(1);
    count.fill_bytes(0);
    LAUNCH(big_smem_kernel, 2, 256, 64 * 1024, 0)(count.get());
    CHECK_STATUS(cudaGetLastError(), cudaErrorInvalidValue);  // > 48 KiB needs the opt-in, like on a GPU
    CHECK_CUDA(cudaFuncSetAttribute(big_smem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
    LAUNCH(big_smem_kernel, 2, 256, 64 * 1024, 0)(count.get());
    CHECK_CUDA(cudaGetLastError());
    CHECK_EQ(count.download()[0], 2 * 16384, "64 KiB of dynamic shared memory after cudaFuncSetAttribute");
}

// Static __shared__ arrays are per block (one worker runs one block at a time).
template <int N>
__global__ void static_shared_kernel(const int* in, int* out) {
    __shared__ int tile[N];
    __shared__ int total;
    const int t = threadIdx.x;
    if (t == 0) total = 0;
    tile[t] = in[blockIdx.x * N + t];
    __syncthreads();
    atomicAdd(&total, tile[(t + 1) % N]);
    __syncthreads();
    if (t == 0) out[blockIdx.x] = total;
}

static void test_static_shared() {
    constexpr int N = 96;
    const int blocks = 200;
    std::vector<int> in(size_t(N) * blocks);
    for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i % 1000);
    jt_test::DeviceBuffer<int> din(in), dout(blocks);
    LAUNCH((static_shared_kernel<N>), blocks, N, 0, 0)(din.get(), dout.get());
    CHECK_CUDA(cudaGetLastError());
    std::vector<int> out = dout.download();
    long bad = 0;
    for (int b = 0; b < blocks; ++b) {
        long s = 0;
        for (int t = 0; t < N; ++t) s += in[size_t(b) * N + t];
        bad += out[b] != s;
    }
    CHECK_EQ(bad, 0, "static __shared__ sums per block");
}

// A kernel with a large local array: fiber stacks must hold it.
__global__ void local_array_kernel(float* out) {
    float local[2048];  // 8 KiB per thread
    for (int i = 0; i < 2048; ++i) local[i] = static_cast<float>(i + threadIdx.x);
    float s = 0;
    for (int i = 0; i < 2048; i += 7) s += local[i];
    out[threadIdx.x] = s;
}

static void test_stack() {
    jt_test::DeviceBuffer<float> out(256);
    LAUNCH(local_array_kernel, 1, 256, 0, 0)(out.get());
    CHECK_CUDA(cudaGetLastError());
    std::vector<float> h = out.download();
    double s0 = 0;
    for (int i = 0; i < 2048; i += 7) s0 += i;
    CHECK_CLOSE(h[0], s0, 1e-6, 0, "8 KiB of locals per fiber");  // integers below 2^24: exact sums
    CHECK_CLOSE(h[255], s0 + 255.0 * 293, 1e-6, 0, "8 KiB of locals per fiber, thread 255");
}

// __constant__ memory through cudaMemcpyToSymbol; a few conversion intrinsics.
__constant__ float c_coeffs[4];

__global__ void constant_kernel(float* out, int* conv) {
    const int t = threadIdx.x;
    out[t] = c_coeffs[t % 4] * static_cast<float>(t);
    if (t == 0) {
        conv[0] = __float2int_rn(2.5f);   // round to nearest even: 2
        conv[1] = __float2int_rn(-3.5f);  // -4
        conv[2] = __float2int_rz(-3.7f);  // -3
        conv[3] = __float2int_rd(-3.2f);  // -4
        conv[4] = __float2int_ru(3.2f);   // 4
        conv[5] = static_cast<int>(__umulhi(0x80000000u, 6u));  // 3
        conv[6] = __popc(0xf0f0u) + __clz(1u) * 100 + __ffs(8u) * 10000;  // 8 + 3100 + 40000
    }
}

static void test_constant_and_intrinsics() {
    const float coeffs[4] = {1.0f, -2.0f, 0.5f, 4.0f};
    CHECK_CUDA(cudaMemcpyToSymbol(c_coeffs, coeffs, sizeof coeffs));
    float back[4] = {0};
    CHECK_CUDA(cudaMemcpyFromSymbol(back, c_coeffs, sizeof back));
    CHECK(memcmp(back, coeffs, sizeof back) == 0, "cudaMemcpyFromSymbol");
    CHECK_STATUS(cudaMemcpyToSymbol(c_coeffs, coeffs, sizeof coeffs, 4), cudaErrorInvalidValue);
    jt_test::DeviceBuffer<float> out(64);
    jt_test::DeviceBuffer<int> conv(7);
    LAUNCH(constant_kernel, 1, 64, 0, 0)(out.get(), conv.get());
    CHECK_CUDA(cudaGetLastError());
    std::vector<float> h = out.download();
    long bad = 0;
    for (int t = 0; t < 64; ++t) bad += h[t] != coeffs[t % 4] * static_cast<float>(t);
    CHECK_EQ(bad, 0, "__constant__ coefficients");
    const int want[7] = {2, -4, -3, -4, 4, 3, 8 + 3100 + 40000};
    std::vector<int> c = conv.download();
    for (int i = 0; i < 7; ++i) CHECK_EQ(c[i], want[i], "intrinsic " + std::to_string(i));
}

// Several host threads launch at once: results and last errors stay per thread.
static void test_host_threads() {
    std::atomic<long> bad{0};
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th) {
        threads.emplace_back([th, &bad] {
            jt_test::Rng rng(100 + th);
            for (int it = 0; it < 25; ++it) {
                const int n = 1 + static_cast<int>(rng.next() % 5000);
                std::vector<float> x = rng.uniform_vector(n), y = rng.uniform_vector(n);
                float *dx, *dy;
                cudaMalloc(reinterpret_cast<void**>(&dx), n * 4);
                cudaMalloc(reinterpret_cast<void**>(&dy), n * 4);
                cudaMemcpy(dx, x.data(), n * 4, cudaMemcpyHostToDevice);
                cudaMemcpy(dy, y.data(), n * 4, cudaMemcpyHostToDevice);
                if (th == 3 && it % 5 == 0) LAUNCH(noop_kernel, 1, 4096, 0, 0)();  // an error on this thread only
                LAUNCH(saxpy, jt_grid_1d(n, 64), 64, 0, 0)(n, float(th), dx, dy);
                const cudaError_t e = cudaGetLastError();
                if (e != ((th == 3 && it % 5 == 0) ? cudaErrorInvalidConfiguration : cudaSuccess)) ++bad;
                std::vector<float> out(n);
                cudaMemcpy(out.data(), dy, n * 4, cudaMemcpyDeviceToHost);
                for (int i = 0; i < n; ++i)
                    if (out[i] != float(th) * x[i] + y[i]) ++bad;
                cudaFree(dx);
                cudaFree(dy);
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK_EQ(bad.load(), 0, "launches from 4 host threads at once");
}

// JTRAIN_EMU_MEMORY limits the emulated device's memory (read at the first allocation, so it is set
// before anything else in this process): cudaMalloc beyond it fails with cudaErrorMemoryAllocation
// (not sticky), pinned host memory does not count, and freeing makes room again.
void test_memory_limit_from_environment() {
    setenv("JTRAIN_EMU_MEMORY", "1m", 1);
    CHECK_EQ(jt_emu_memory_limit(), (size_t)1 << 20, "JTRAIN_EMU_MEMORY=1m");
    void* a = nullptr;
    void* b = nullptr;
    void* pinned = nullptr;
    CHECK_CUDA(cudaMalloc(&a, 768 << 10));
    CHECK_STATUS(cudaMalloc(&b, 512 << 10), cudaErrorMemoryAllocation);
    CHECK(b == nullptr, "a refused allocation returns NULL");
    CHECK_STATUS(cudaGetLastError(), cudaErrorMemoryAllocation);  // reported once, then cleared
    CHECK_CUDA(cudaGetLastError());
    CHECK_CUDA(cudaMallocHost(&pinned, 2 << 20));  // host memory: not limited
    CHECK_EQ(jt_emu_memory_in_use(), (size_t)768 << 10, "pinned memory does not count");
    CHECK_CUDA(cudaFree(a));
    CHECK_CUDA(cudaMalloc(&b, 512 << 10));
    CHECK_CUDA(cudaFree(b));
    CHECK_CUDA(cudaFreeHost(pinned));
    jt_emu_set_memory_limit(0);
    CHECK_EQ(jt_emu_memory_in_use(), (size_t)0, "everything freed");
}

int main() {
    test_memory_limit_from_environment();
    test_indexing(dim3(1), dim3(1));
    test_indexing(dim3(3), dim3(7));
    test_indexing(dim3(2, 3, 4), dim3(5, 3, 2));
    test_indexing(dim3(5, 1, 3), dim3(4, 4, 4));
    test_indexing(dim3(1, 2, 1), dim3(1024));
    test_indexing(dim3(2, 2), dim3(3, 1, 64));
    test_saxpy();
    test_config_errors();
    test_memory_and_api();
    test_stream_handles();
    test_dynamic_shared();
    test_static_shared();
    test_stack();
    test_constant_and_intrinsics();
    test_host_threads();
    return jt_test::finish("test_emu_launch");
}
