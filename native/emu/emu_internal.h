// Internal to native/emu: shared between the runtime files, not for kernels or JNI.
#pragma once

#include "cuda_emu.h"

#include <stdarg.h>

#include <memory>
#include <vector>

namespace jt_emu {

// Records err as this host thread's last error (like CUDA, a success does not clear it) and,
// when fmt is given, the detail returned by jt_emu_last_error_detail(). Returns err.
cudaError_t set_error(cudaError_t err, const char* fmt = nullptr, ...) __attribute__((format(printf, 2, 3)));
// Sets the detail text only.
void set_detail(const char* text);

int worker_count();

// An allocation: [begin, end) as requested (without the alignment slack and redzone behind it).
struct AllocRange {
    uintptr_t begin;
    uintptr_t end;
    bool device;  // cudaMalloc; false: cudaMallocHost (pinned host memory, which kernels may access too)
};
// The live allocations sorted by address, and the most recently freed ones (newest first), as of the
// call; immutable and shared (rebuilt only after an allocation or a free). nullptr when out of memory.
struct AllocSnapshot {
    std::vector<AllocRange> live;
    std::vector<AllocRange> freed;
};
std::shared_ptr<const AllocSnapshot> allocation_snapshot();
// Largest dynamic shared memory a kernel may use (48 KiB unless cudaFuncSetAttribute raised it).
size_t max_dynamic_smem(const void* kernel);
// Whether s is the default stream (0) or a stream created and not yet destroyed (a mutex-guarded
// registry: an unknown or destroyed handle is never dereferenced).
bool stream_is_live(cudaStream_t s);

}  // namespace jt_emu
