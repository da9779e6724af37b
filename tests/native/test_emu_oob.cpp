// The emu's device-memory checker (JT_EMU_CHECK_MEMORY, on with JTRAIN_EMU_RACECHECK=1): an access
// outside every live cudaMalloc/cudaMallocHost allocation fails the launch with cudaErrorIllegalAddress
// (what a GPU answers) and a detail naming the kernel, block, thread, the address and the nearest
// allocation; legal accesses (inside allocations, pinned host memory, constants, the kernel's own
// arguments and stack) pass; later launches work. Switched on here whatever the environment; without
// the checker's instrumentation (ASan build) only the legal kernels run.
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "test_util.h"

static bool g_checking = false;

static void expect_illegal(const std::string& what, std::initializer_list<const char*> parts) {
    const cudaError_t e = cudaGetLastError();
    if (!g_checking) {
        CHECK(true, what);
        return;
    }
    CHECK_STATUS(e, cudaErrorIllegalAddress);
    const char* d = jt_emu_last_error_detail();
    bool all = strstr(d, "illegal address") != nullptr;
    for (const char* p : parts) all = all && strstr(d, p) != nullptr;
    if (!CHECK(all, what + ": the detail names the access")) fprintf(stderr, "  detail: %s\n", d);
    if (getenv("JT_TEST_VERBOSE")) printf("%s -> %s\n", what.c_str(), d);
}

__global__ void write_at(float* p, long index, float v) {
    if (threadIdx.x == 0 && blockIdx.x == 1) p[index] = v;
}

__global__ void read_at(const float* p, long index, float* out) {
    if (threadIdx.x == 5) out[0] = p[index];
}

__global__ void atomic_at(int* p, long index) {
    if (threadIdx.x == 0) atomicAdd(p + index, 1);
}

// A classic off-by-one: `<=` where `<` belongs.
__global__ void fill_off_by_one(float* p, int n) {
    for (int i = threadIdx.x; i <= n; i += blockDim.x) p[i] = 1.0f;  // BUG: i == n
}

__global__ void dynamic_overflow(float* out) {
    DYNAMIC_SHARED(float, buf);
    buf[threadIdx.x] = 1.0f;  // BUG when blockDim.x * 4 > the dynamic size
    __syncthreads();
    out[threadIdx.x] = buf[threadIdx.x];
}

__constant__ float kTable[4] = {1.0f, 2.0f, 3.0f, 4.0f};
static const float kRodata[4] = {5.0f, 6.0f, 7.0f, 8.0f};

struct Params {
    float scale[8];
};
__global__ void legal_kernel(const float* in, float* pinned, Params p, float* out, int n) {
    float local[16];
    for (int i = 0; i < 16; ++i) local[i] = static_cast<float>(i) * p.scale[i % 8];
    const int t = threadIdx.x;
    if (t < n) {
        out[t] = in[t] + kTable[t % 4] + kRodata[t % 4] + local[t % 16];
        pinned[t] = out[t];
    }
}

static void good_launch_still_works(const std::string& what) {
    const int n = 100;
    std::vector<float> h(n, 1.0f);
    jt_test::DeviceBuffer<float> in(h), out(n);
    float* pinned = nullptr;
    CHECK_CUDA(cudaMallocHost(reinterpret_cast<void**>(&pinned), n * sizeof(float)));
    Params p;
    for (int i = 0; i < 8; ++i) p.scale[i] = 1.0f;
    LAUNCH(legal_kernel, 1, 128, 0, 0)(in.get(), pinned, p, out.get(), n);
    CHECK_CUDA(cudaGetLastError());
    const std::vector<float> o = out.download();
    long bad = 0;
    for (int t = 0; t < n; ++t) bad += o[t] != 1.0f + (1 + t % 4) + (5 + t % 4) + (t % 16) || pinned[t] != o[t];
    CHECK_EQ(bad, 0, "legal accesses (device, pinned host, constants, arguments, stack) " + what);
    cudaFreeHost(pinned);
}

int main() {
    const int previous = jt_emu_set_checks(JT_EMU_CHECK_MEMORY);
    g_checking = jt_emu_checks_available() && (jt_emu_checks() & JT_EMU_CHECK_MEMORY);
    if (!g_checking) printf("test_emu_oob: the kernels are not instrumented here: only legal kernels run\n");
    good_launch_still_works("first");
    if (g_checking) {
        jt_test::DeviceBuffer<float> buf(256), out(4);  // 1024 bytes
        char text[64];

        LAUNCH(write_at, 2, 32, 0, 0)(buf.get(), 256, 1.0f);
        snprintf(text, sizeof text, "of a 1024-byte allocation at %p", static_cast<void*>(buf.get()));
        expect_illegal("one element past the end", {"write_at", "block (1,0,0)", "thread (0,0,0) writes 4 byte(s)",
                                                    "4 byte(s) past its end", text});
        good_launch_still_works("after one past the end");

        LAUNCH(write_at, 2, 32, 0, 0)(buf.get(), 300, 1.0f);
        expect_illegal("44 elements past the end", {"write_at", "offset 1200 of a 1024-byte allocation", "180 byte(s) past its end", text});

        LAUNCH(read_at, 1, 32, 0, 0)(buf.get(), -1, out.get());
        snprintf(text, sizeof text, "4 bytes before the start of a 1024-byte allocation at %p",
                 static_cast<void*>(buf.get()));
        expect_illegal("one element before the start", {"read_at", "thread (5,0,0) reads 4 byte(s)", text});

        LAUNCH(fill_off_by_one, 1, 64, 0, 0)(buf.get(), 256);
        expect_illegal("loop bound <= n", {"fill_off_by_one", "past its end"});

        jt_test::DeviceBuffer<int> counters(8);
        LAUNCH(atomic_at, 1, 32, 0, 0)(counters.get(), 8);
        expect_illegal("atomicAdd one past the end", {"atomic_at", "atomically updates", "past its end"});

        float* freed = nullptr;
        CHECK_CUDA(cudaMalloc(reinterpret_cast<void**>(&freed), 4096));
        CHECK_CUDA(cudaFree(freed));
        LAUNCH(read_at, 1, 32, 0, 0)(freed, 10, out.get());
        snprintf(text, sizeof text, "at %p that was freed (cudaFree)", static_cast<void*>(freed));
        expect_illegal("use after cudaFree", {"read_at", "byte 40 of a 4096-byte allocation", text});

        std::vector<float> pageable(64, 1.0f);
        LAUNCH(read_at, 1, 32, 0, 0)(pageable.data(), 3, out.get());
        expect_illegal("pageable host memory", {"read_at", "reads 4 byte(s)"});
        std::vector<float> big(1 << 16, 1.0f);  // far from the small allocations above
        LAUNCH(read_at, 1, 32, 0, 0)(big.data() + (1 << 15), 0, out.get());
        expect_illegal("pageable host memory, far from any allocation", {"read_at", "not in or near any device allocation"});

        LAUNCH(read_at, 1, 32, 0, 0)(static_cast<const float*>(nullptr), 2, out.get());
        expect_illegal("a null pointer", {"read_at", "a null pointer (+8)"});

        LAUNCH(dynamic_overflow, 1, 64, 32 * sizeof(float), 0)(out.get());
        expect_illegal("dynamic shared memory overflow",
                       {"dynamic_overflow", "beyond the 128 bytes of dynamic shared memory"});

        good_launch_still_works("after every illegal access");
    }
    jt_emu_set_checks(previous);
    return jt_test::finish("test_emu_oob");
}
