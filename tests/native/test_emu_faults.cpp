// The emu device when the system refuses the emulator's own resources (simulated with
// jt_emu_test_inject_failures): the launch fails with a status and a detail instead of ending the process
// (a JVM hosts the library), and the runtime works again once the resources come back. Its own executable:
// the worker threads start, and allocate their state, at the first launch of the process.
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "test_util.h"

__global__ void iota_kernel(int* out, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = i;
}

static bool detail_has(const char* text) { return strstr(jt_emu_last_error_detail(), text) != nullptr; }

static void check_launch_works(const std::string& what) {
    const int n = 1000;
    jt_test::DeviceBuffer<int> out(n);
    out.fill_bytes(0xff);
    LAUNCH(iota_kernel, 8, 128, 0, 0)(out.get(), n);
    CHECK_CUDA(cudaGetLastError());
    const std::vector<int> h = out.download();
    long bad = 0;
    for (int i = 0; i < n; ++i) bad += h[i] != i;
    CHECK_EQ(bad, 0, what);
}

int main() {
    jt_test::DeviceBuffer<int> out(16);

    // No worker thread can start: the launch fails (no process abort) and so does the next one while the
    // system refuses; once it does not, the pool starts.
    jt_emu_test_inject_failures(JT_EMU_FAIL_THREAD_START);
    for (int attempt = 0; attempt < 2; ++attempt) {
        LAUNCH(iota_kernel, 1, 16, 0, 0)(out.get(), 16);
        CHECK_STATUS(cudaGetLastError(), cudaErrorLaunchFailure);
        CHECK(detail_has("cannot start an emu worker thread"), std::string("thread start refused: detail: ") +
                                                                   jt_emu_last_error_detail());
    }
    CHECK_EQ(jt_emu_worker_count(), 1, "no worker started: the device still reports one multiprocessor");

    // The workers start but cannot allocate their block state or stacks: cudaErrorMemoryAllocation, every
    // launch while it lasts (each worker tries again at its next launch).
    jt_emu_test_inject_failures(JT_EMU_FAIL_WORKER_STATE);
    for (int attempt = 0; attempt < 2; ++attempt) {
        LAUNCH(iota_kernel, 4, 16, 0, 0)(out.get(), 16);
        CHECK_STATUS(cudaGetLastError(), cudaErrorMemoryAllocation);
        CHECK(detail_has("iota_kernel") && detail_has("cannot allocate its block state"),
              std::string("worker state refused: detail: ") + jt_emu_last_error_detail());
    }
    CHECK(jt_emu_worker_count() >= 1, "the workers started");

    // Resources back: launches run again.
    jt_emu_test_inject_failures(0);
    check_launch_works("a launch after the refusals ended");
    check_launch_works("launches keep working");
    CHECK_EQ(jt_emu_test_inject_failures(0), 0, "the injection returns the previous bits");
    return jt_test::finish("test_emu_faults");
}
