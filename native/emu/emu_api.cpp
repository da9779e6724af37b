// The host side of the emulated CUDA runtime: errors, memory, streams, events, device queries.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include "emu_internal.h"

namespace jt_emu {
namespace {

// Per host thread: the last error and its detail. A pthread key, not thread_local: the module's TLS
// block holds every kernel's __shared__ arrays (100+ KiB), and a JVM thread touching any TLS
// variable of the module would get a copy of all of it.
struct ThreadState {
    cudaError_t last_error;
    char detail[1024];
};
pthread_key_t g_state_key;
pthread_once_t g_state_once = PTHREAD_ONCE_INIT;
ThreadState g_fallback_state;  // only if calloc fails

ThreadState* thread_state() {
    pthread_once(&g_state_once, [] { pthread_key_create(&g_state_key, free); });
    void* p = pthread_getspecific(g_state_key);
    if (!p) {
        p = calloc(1, sizeof(ThreadState));
        if (!p || pthread_setspecific(g_state_key, p) != 0) {
            free(p);
            return &g_fallback_state;
        }
    }
    return static_cast<ThreadState*>(p);
}

// "64m", "1g", "512k", "1048576" -> bytes; 0 when unset or unreadable (then: no limit).
size_t parse_memory_size(const char* text) {
    if (!text || !*text) return 0;
    char* end = nullptr;
    const unsigned long long v = strtoull(text, &end, 10);
    if (end == text) return 0;
    unsigned shift = 0;
    switch (*end) {
        case 'k': case 'K': shift = 10; ++end; break;
        case 'm': case 'M': shift = 20; ++end; break;
        case 'g': case 'G': shift = 30; ++end; break;
        default: break;
    }
    if (*end == 'b' || *end == 'B') ++end;
    if (*end != '\0' || v > (~0ull >> shift)) return 0;
    return (size_t)(v << shift);
}

// The registry of live allocations, ordered by address so that the memory checker can find the
// allocation around (or nearest to) any address. Every change bumps `generation`; the checker's
// snapshot (allocation_snapshot) is rebuilt only when it changed.
struct Allocations {
    std::mutex mu;
    struct Entry {
        size_t bytes;
        bool device;  // cudaMalloc (counts against the limit), not cudaMallocHost
    };
    std::map<uintptr_t, Entry> live;
    std::deque<AllocRange> freed;  // the most recent frees, newest first (for the checker's messages)
    uint64_t generation = 0;
    std::shared_ptr<const AllocSnapshot> snapshot;
    uint64_t snapshot_generation = ~uint64_t(0);
    size_t device_bytes = 0;
    size_t limit = parse_memory_size(getenv("JTRAIN_EMU_MEMORY"));
};
constexpr size_t kFreedRemembered = 64;
Allocations& allocations() {
    static Allocations* a = new Allocations();  // never destroyed: workers may outlive main()
    return *a;
}

struct KernelAttributes {
    std::mutex mu;
    std::unordered_map<const void*, size_t> max_dynamic_smem;
};
KernelAttributes& kernel_attributes() {
    static KernelAttributes* a = new KernelAttributes();
    return *a;
}

constexpr size_t kDefaultSmem = 48 * 1024;
constexpr size_t kOptinSmem = 227 * 1024;
constexpr size_t kAlign = 256;
// Bytes after every allocation that belong to none: an overflow of up to this much can never land in a
// neighbouring allocation, so the memory checker sees it (it checks against the requested size).
constexpr size_t kRedzone = 256;
constexpr uint32_t kStreamMagic = 0x5354524du;
constexpr uint32_t kEventMagic = 0x4556454eu;

}  // namespace

cudaError_t set_error(cudaError_t err, const char* fmt, ...) {
    ThreadState* ts = thread_state();
    if (err != cudaSuccess) ts->last_error = err;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ts->detail, sizeof ts->detail, fmt, ap);
        va_end(ap);
    }
    return err;
}

void set_detail(const char* text) {
    ThreadState* ts = thread_state();
    snprintf(ts->detail, sizeof ts->detail, "%s", text);
}

std::shared_ptr<const AllocSnapshot> allocation_snapshot() {
    Allocations& a = allocations();
    std::lock_guard<std::mutex> lock(a.mu);
    if (a.snapshot && a.snapshot_generation == a.generation) return a.snapshot;
    try {
        auto s = std::make_shared<AllocSnapshot>();
        s->live.reserve(a.live.size());
        for (const auto& [begin, e] : a.live) s->live.push_back(AllocRange{begin, begin + e.bytes, e.device});
        s->freed.assign(a.freed.begin(), a.freed.end());
        a.snapshot = std::move(s);
        a.snapshot_generation = a.generation;
        return a.snapshot;
    } catch (...) {
        return nullptr;
    }
}

size_t max_dynamic_smem(const void* kernel) {
    KernelAttributes& a = kernel_attributes();
    std::lock_guard<std::mutex> lock(a.mu);
    auto it = a.max_dynamic_smem.find(kernel);
    return it == a.max_dynamic_smem.end() ? kDefaultSmem : it->second;
}

}  // namespace jt_emu

using jt_emu::set_error;

struct jt_emu_stream {
    uint32_t magic;
    unsigned flags;
};
struct jt_emu_event {
    uint32_t magic;
    bool recorded;
    std::chrono::steady_clock::time_point when;
};

JT_EMU_API cudaError_t cudaGetLastError(void) {
    jt_emu::ThreadState* ts = jt_emu::thread_state();
    cudaError_t e = ts->last_error;
    ts->last_error = cudaSuccess;
    return e;
}

JT_EMU_API cudaError_t cudaPeekAtLastError(void) { return jt_emu::thread_state()->last_error; }

JT_EMU_API const char* jt_emu_last_error_detail(void) { return jt_emu::thread_state()->detail; }

JT_EMU_API const char* cudaGetErrorName(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInitializationError: return "cudaErrorInitializationError";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
        case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorNotReady: return "cudaErrorNotReady";
        case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
        case cudaErrorLaunchOutOfResources: return "cudaErrorLaunchOutOfResources";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
        case cudaErrorNotSupported: return "cudaErrorNotSupported";
        case cudaErrorUnknown: return "cudaErrorUnknown";
    }
    return "cudaErrorUnknown";
}

JT_EMU_API const char* cudaGetErrorString(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInitializationError: return "initialization error";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInvalidDevicePointer: return "invalid device pointer";
        case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
        case cudaErrorInvalidDevice: return "invalid device ordinal";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorNotReady: return "device not ready";
        case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
        case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
        case cudaErrorNotSupported: return "operation not supported";
        case cudaErrorUnknown: return "unknown error";
    }
    return "unrecognized error code";
}

// ---- memory: host memory, 256-byte aligned like cudaMalloc --------------------------------------

static cudaError_t emu_alloc(void** ptr, size_t bytes, const char* what, bool device) {
    if (!ptr) return set_error(cudaErrorInvalidValue, "%s: ptr is NULL", what);
    *ptr = nullptr;
    if (bytes == 0) return cudaSuccess;
    if (bytes > (size_t(1) << 46)) return set_error(cudaErrorMemoryAllocation, "%s: %zu bytes is too large", what, bytes);
    jt_emu::Allocations& a = jt_emu::allocations();
    std::lock_guard<std::mutex> lock(a.mu);
    if (device && a.limit != 0 && bytes > a.limit - std::min(a.limit, a.device_bytes)) {
        return set_error(cudaErrorMemoryAllocation, "%s: %zu bytes would exceed the emu memory limit (%zu of %zu bytes in use)",
                         what, bytes, a.device_bytes, a.limit);
    }
    size_t rounded = (bytes + jt_emu::kRedzone + jt_emu::kAlign - 1) / jt_emu::kAlign * jt_emu::kAlign;
    void* p = aligned_alloc(jt_emu::kAlign, rounded);
    if (!p) return set_error(cudaErrorMemoryAllocation, "%s: cannot allocate %zu bytes", what, bytes);
    try {  // the tracking map may not grow (bad_alloc): an allocation failure, not an exception into the caller
        a.live[reinterpret_cast<uintptr_t>(p)] = jt_emu::Allocations::Entry{bytes, device};
    } catch (...) {
        free(p);
        return set_error(cudaErrorMemoryAllocation, "%s: cannot record an allocation of %zu bytes", what, bytes);
    }
    if (device) a.device_bytes += bytes;
    ++a.generation;
    *ptr = p;
    return cudaSuccess;
}

static cudaError_t emu_free(void* ptr, const char* what) {
    if (!ptr) return cudaSuccess;
    jt_emu::Allocations& a = jt_emu::allocations();
    {
        std::lock_guard<std::mutex> lock(a.mu);
        const uintptr_t begin = reinterpret_cast<uintptr_t>(ptr);
        auto it = a.live.find(begin);
        if (it == a.live.end())
            return set_error(cudaErrorInvalidDevicePointer, "%s(%p): not an allocation of this device (double free?)", what, ptr);
        if (it->second.device) a.device_bytes -= it->second.bytes;
        try {
            if (a.freed.size() >= jt_emu::kFreedRemembered) a.freed.pop_back();
            a.freed.push_front(jt_emu::AllocRange{begin, begin + it->second.bytes, it->second.device});
        } catch (...) {  // only the checker's message loses this entry
        }
        a.live.erase(it);
        ++a.generation;
    }
    free(ptr);
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaMalloc(void** ptr, size_t bytes) { return emu_alloc(ptr, bytes, "cudaMalloc", true); }
JT_EMU_API cudaError_t cudaFree(void* ptr) { return emu_free(ptr, "cudaFree"); }
JT_EMU_API cudaError_t cudaMallocHost(void** ptr, size_t bytes) { return emu_alloc(ptr, bytes, "cudaMallocHost", false); }

JT_EMU_API void jt_emu_set_memory_limit(size_t bytes) {
    jt_emu::Allocations& a = jt_emu::allocations();
    std::lock_guard<std::mutex> lock(a.mu);
    a.limit = bytes;
}
JT_EMU_API size_t jt_emu_memory_limit(void) {
    jt_emu::Allocations& a = jt_emu::allocations();
    std::lock_guard<std::mutex> lock(a.mu);
    return a.limit;
}
JT_EMU_API size_t jt_emu_memory_in_use(void) {
    jt_emu::Allocations& a = jt_emu::allocations();
    std::lock_guard<std::mutex> lock(a.mu);
    return a.device_bytes;
}
JT_EMU_API cudaError_t cudaFreeHost(void* ptr) { return emu_free(ptr, "cudaFreeHost"); }

// Live streams: handles are checked here before any use, so a bogus or destroyed handle is an
// error (cudaErrorInvalidResourceHandle), never a dereference.
namespace {
struct StreamRegistry {
    std::mutex mu;
    std::unordered_set<cudaStream_t> live;
};
StreamRegistry& streams() {
    static StreamRegistry* r = new StreamRegistry;  // never destroyed: usable during exit
    return *r;
}
}  // namespace

bool jt_emu::stream_is_live(cudaStream_t s) {
    if (s == nullptr) return true;
    StreamRegistry& r = streams();
    std::lock_guard<std::mutex> lock(r.mu);
    return r.live.count(s) != 0;
}

static bool valid_stream(cudaStream_t s) { return jt_emu::stream_is_live(s); }

JT_EMU_API cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                                       cudaStream_t stream) {
    if (static_cast<unsigned>(kind) > cudaMemcpyDefault)
        return set_error(cudaErrorInvalidMemcpyDirection, "cudaMemcpy: kind %d", static_cast<int>(kind));
    if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: bad stream");
    if (bytes == 0) return cudaSuccess;
    if (!dst || !src) return set_error(cudaErrorInvalidValue, "cudaMemcpy: %s is NULL", dst ? "src" : "dst");
    memmove(dst, src, bytes);
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}

JT_EMU_API cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
    if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: bad stream");
    if (bytes == 0) return cudaSuccess;
    if (!dst) return set_error(cudaErrorInvalidValue, "cudaMemset: dst is NULL");
    memset(dst, value, bytes);
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaMemset(void* dst, int value, size_t bytes) { return cudaMemsetAsync(dst, value, bytes, nullptr); }

// ---- streams and events: launches and copies are synchronous, so streams only need to exist -----

JT_EMU_API cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
    if (!stream) return set_error(cudaErrorInvalidValue, "cudaStreamCreate: stream is NULL");
    jt_emu_stream* s = new (std::nothrow) jt_emu_stream{jt_emu::kStreamMagic, flags};
    if (!s) return set_error(cudaErrorMemoryAllocation, "cudaStreamCreate: out of memory");
    try {
        StreamRegistry& r = streams();
        std::lock_guard<std::mutex> lock(r.mu);
        r.live.insert(s);
    } catch (...) {
        delete s;
        return set_error(cudaErrorMemoryAllocation, "cudaStreamCreate: out of memory");
    }
    *stream = s;
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }

JT_EMU_API cudaError_t cudaStreamDestroy(cudaStream_t stream) {
    {
        StreamRegistry& r = streams();
        std::lock_guard<std::mutex> lock(r.mu);
        if (!stream || r.live.erase(stream) == 0)
            return set_error(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: not a live stream");
    }
    stream->magic = 0;
    delete stream;
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
    if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: bad stream");
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

JT_EMU_API cudaError_t cudaEventCreate(cudaEvent_t* event) {
    if (!event) return set_error(cudaErrorInvalidValue, "cudaEventCreate: event is NULL");
    *event = new (std::nothrow) jt_emu_event{jt_emu::kEventMagic, false, {}};
    return *event ? cudaSuccess : set_error(cudaErrorMemoryAllocation, "cudaEventCreate: out of memory");
}

JT_EMU_API cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
    if (flags & ~(cudaEventBlockingSync | cudaEventDisableTiming))
        return set_error(cudaErrorInvalidValue, "cudaEventCreateWithFlags: unknown flags 0x%x", flags);
    return cudaEventCreate(event);
}

// Every emu op completes before its call returns, so an event is complete once recorded, and a stream
// never has to wait for one: the calls only check their handles.
JT_EMU_API cudaError_t cudaEventQuery(cudaEvent_t event) {
    if (!event || event->magic != jt_emu::kEventMagic)
        return set_error(cudaErrorInvalidResourceHandle, "cudaEventQuery: not an event");
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
    if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: bad stream");
    if (!event || event->magic != jt_emu::kEventMagic)
        return set_error(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: not an event");
    if (flags != 0) return set_error(cudaErrorInvalidValue, "cudaStreamWaitEvent: flags must be 0, got 0x%x", flags);
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaEventDestroy(cudaEvent_t event) {
    if (!event || event->magic != jt_emu::kEventMagic)
        return set_error(cudaErrorInvalidResourceHandle, "cudaEventDestroy: not an event");
    event->magic = 0;
    delete event;
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
    if (!event || event->magic != jt_emu::kEventMagic || !valid_stream(stream))
        return set_error(cudaErrorInvalidResourceHandle, "cudaEventRecord: bad event or stream");
    event->recorded = true;
    event->when = std::chrono::steady_clock::now();
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaEventSynchronize(cudaEvent_t event) {
    if (!event || event->magic != jt_emu::kEventMagic)
        return set_error(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: not an event");
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!ms) return set_error(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is NULL");
    if (!start || !end || start->magic != jt_emu::kEventMagic || end->magic != jt_emu::kEventMagic)
        return set_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: not an event");
    if (!start->recorded || !end->recorded) return set_error(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: event not recorded");
    *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
    return cudaSuccess;
}

// ---- device queries: one device; its "multiprocessors" are the worker threads -------------------

JT_EMU_API cudaError_t cudaGetDeviceCount(int* count) {
    if (!count) return set_error(cudaErrorInvalidValue, "cudaGetDeviceCount: count is NULL");
    *count = 1;
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaGetDevice(int* device) {
    if (!device) return set_error(cudaErrorInvalidValue, "cudaGetDevice: device is NULL");
    *device = 0;
    return cudaSuccess;
}

JT_EMU_API cudaError_t cudaSetDevice(int device) {
    return device == 0 ? cudaSuccess : set_error(cudaErrorInvalidDevice, "cudaSetDevice(%d): the emu has device 0 only", device);
}

JT_EMU_API cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (!value) return set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is NULL");
    if (device != 0) return set_error(cudaErrorInvalidDevice, "cudaDeviceGetAttribute: device %d", device);
    switch (attr) {
        case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
        case cudaDevAttrMaxBlockDimX: *value = 1024; break;
        case cudaDevAttrMaxBlockDimY: *value = 1024; break;
        case cudaDevAttrMaxBlockDimZ: *value = 64; break;
        case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
        case cudaDevAttrMaxGridDimY: *value = 65535; break;
        case cudaDevAttrMaxGridDimZ: *value = 65535; break;
        case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(jt_emu::kDefaultSmem); break;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(jt_emu::kOptinSmem); break;
        case cudaDevAttrWarpSize: *value = 32; break;
        case cudaDevAttrMultiProcessorCount: *value = jt_emu::worker_count(); break;
        default: return set_error(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute %d not emulated", static_cast<int>(attr));
    }
    return cudaSuccess;
}

JT_EMU_API cudaError_t jt_emu_occupancy_blocks_per_sm(int* blocks, const void* kernel, int block_size,
                                                      size_t dynamic_smem) {
    if (!blocks || !kernel) return set_error(cudaErrorInvalidValue, "cudaOccupancyMaxActiveBlocksPerMultiprocessor: NULL argument");
    if (block_size < 1 || block_size > 1024)
        return set_error(cudaErrorInvalidValue, "cudaOccupancyMaxActiveBlocksPerMultiprocessor: block size %d", block_size);
    constexpr int kWarpsPerSm = 64, kBlocksPerSm = 32;
    constexpr size_t kSmemPerSm = 228 * 1024, kSmemReservedPerBlock = 1024;
    int n = std::min(kWarpsPerSm / ((block_size + 31) / 32), kBlocksPerSm);
    if (dynamic_smem > 0) n = (int)std::min<size_t>((size_t)n, kSmemPerSm / (dynamic_smem + kSmemReservedPerBlock));
    *blocks = n;
    return cudaSuccess;
}

JT_EMU_API cudaError_t jt_emu_func_set_attribute(const void* kernel, cudaFuncAttribute attr, int value) {
    if (!kernel) return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: kernel is NULL");
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
        return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute %d not emulated", static_cast<int>(attr));
    if (value < 0 || static_cast<size_t>(value) > jt_emu::kOptinSmem)
        return set_error(cudaErrorInvalidValue, "cudaFuncSetAttribute: %d bytes of dynamic shared memory (max %zu)", value, jt_emu::kOptinSmem);
    jt_emu::KernelAttributes& a = jt_emu::kernel_attributes();
    std::lock_guard<std::mutex> lock(a.mu);
    try {
        a.max_dynamic_smem[kernel] = static_cast<size_t>(value);
    } catch (...) {
        return set_error(cudaErrorMemoryAllocation, "cudaFuncSetAttribute: cannot record the attribute");
    }
    return cudaSuccess;
}
