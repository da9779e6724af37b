// cuda_emu.h — the CUDA subset that kernels/ may use, emulated on the host (the `emu` device).
//
// Kernel sources include kernels/common.cuh, which includes this header when the compiler is not
// nvcc. Every CUDA thread runs as a fiber on one of the library's worker threads; a worker runs one
// block at a time. See native/emu/README.md for how it works, what it cannot emulate and the
// environment switches (JTRAIN_EMU_WORKERS, JTRAIN_EMU_SHUFFLE).
//
// Host .cpp files of the real CUDA library (JNI, vendor) define JT_CUDA_REAL and get the real
// <cuda_runtime.h> from this header instead.
#pragma once

#if defined(JT_CUDA_REAL) || defined(__CUDACC__)
#include <cuda_runtime.h>
#else

#define JT_EMU 1

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

#if !defined(__x86_64__)
#error "the jtrain emu device needs x86-64 (its fiber switch is x86-64 assembly)"
#endif

#define JT_EMU_API extern "C" __attribute__((visibility("default")))

// ---------------------------------------------------------------------------------------------
// Qualifiers
// ---------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// A worker thread runs one block at a time, so a block's static shared memory is thread_local
// (in a -fPIC library that is the general-dynamic TLS model; never initial-exec, see README).
#define __shared__ static thread_local

// ---------------------------------------------------------------------------------------------
// Vector and index types
// ---------------------------------------------------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    constexpr operator uint3() const { return uint3{x, y, z}; }
};
struct __align__(8) float2 { float x, y; };
struct __align__(16) float4 { float x, y, z, w; };
struct __align__(8) int2 { int x, y; };
struct __align__(16) int4 { int x, y, z, w; };
struct __align__(8) uint2 { unsigned int x, y; };
struct __align__(16) uint4 { unsigned int x, y, z, w; };
struct __align__(16) double2 { double x, y; };
struct float3 { float x, y, z; };
struct int3 { int x, y, z; };

static __forceinline__ float2 make_float2(float x, float y) { return float2{x, y}; }
static __forceinline__ float3 make_float3(float x, float y, float z) { return float3{x, y, z}; }
static __forceinline__ float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
static __forceinline__ int2 make_int2(int x, int y) { return int2{x, y}; }
static __forceinline__ int3 make_int3(int x, int y, int z) { return int3{x, y, z}; }
static __forceinline__ int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
static __forceinline__ uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
static __forceinline__ uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }
static __forceinline__ uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
static __forceinline__ double2 make_double2(double x, double y) { return double2{x, y}; }

// ---------------------------------------------------------------------------------------------
// Runtime API: errors, memory, streams, device queries
// ---------------------------------------------------------------------------------------------
enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInitializationError = 3,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInvalidDevicePointer = 17,
    cudaErrorInvalidMemcpyDirection = 21,
    cudaErrorInvalidDevice = 101,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidResourceHandle = 400,
    cudaErrorNotReady = 600,
    cudaErrorIllegalAddress = 700,
    cudaErrorLaunchOutOfResources = 701,
    cudaErrorLaunchFailure = 719,
    cudaErrorNotSupported = 801,
    cudaErrorUnknown = 999,
};
typedef cudaError_t cudaError;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4,
};

enum cudaDeviceAttr {
    cudaDevAttrMaxThreadsPerBlock = 1,
    cudaDevAttrMaxBlockDimX = 2,
    cudaDevAttrMaxBlockDimY = 3,
    cudaDevAttrMaxBlockDimZ = 4,
    cudaDevAttrMaxGridDimX = 5,
    cudaDevAttrMaxGridDimY = 6,
    cudaDevAttrMaxGridDimZ = 7,
    cudaDevAttrMaxSharedMemoryPerBlock = 8,
    cudaDevAttrWarpSize = 10,
    cudaDevAttrMultiProcessorCount = 16,
    cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};

enum cudaFuncAttribute {
    cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
};

struct jt_emu_stream;
struct jt_emu_event;
typedef jt_emu_stream* cudaStream_t;  // opaque; 0 is the default stream
typedef jt_emu_event* cudaEvent_t;

#define cudaStreamDefault 0x0u
#define cudaStreamNonBlocking 0x1u
#define cudaEventDefault 0x0u
#define cudaEventBlockingSync 0x1u
#define cudaEventDisableTiming 0x2u

JT_EMU_API cudaError_t cudaGetLastError(void);
JT_EMU_API cudaError_t cudaPeekAtLastError(void);
JT_EMU_API const char* cudaGetErrorString(cudaError_t err);
JT_EMU_API const char* cudaGetErrorName(cudaError_t err);

JT_EMU_API cudaError_t cudaMalloc(void** ptr, size_t bytes);
JT_EMU_API cudaError_t cudaFree(void* ptr);
JT_EMU_API cudaError_t cudaMallocHost(void** ptr, size_t bytes);
JT_EMU_API cudaError_t cudaFreeHost(void* ptr);
JT_EMU_API cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
JT_EMU_API cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                                       cudaStream_t stream);
JT_EMU_API cudaError_t cudaMemset(void* dst, int value, size_t bytes);
JT_EMU_API cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream);

JT_EMU_API cudaError_t cudaStreamCreate(cudaStream_t* stream);
JT_EMU_API cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags);
JT_EMU_API cudaError_t cudaStreamDestroy(cudaStream_t stream);
JT_EMU_API cudaError_t cudaStreamSynchronize(cudaStream_t stream);
JT_EMU_API cudaError_t cudaDeviceSynchronize(void);

JT_EMU_API cudaError_t cudaEventCreate(cudaEvent_t* event);
JT_EMU_API cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags);
JT_EMU_API cudaError_t cudaEventQuery(cudaEvent_t event);
JT_EMU_API cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags);
JT_EMU_API cudaError_t cudaEventDestroy(cudaEvent_t event);
JT_EMU_API cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream);
JT_EMU_API cudaError_t cudaEventSynchronize(cudaEvent_t event);
JT_EMU_API cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

JT_EMU_API cudaError_t cudaGetDeviceCount(int* count);
JT_EMU_API cudaError_t cudaGetDevice(int* device);
JT_EMU_API cudaError_t cudaSetDevice(int device);
JT_EMU_API cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
JT_EMU_API cudaError_t jt_emu_func_set_attribute(const void* kernel, cudaFuncAttribute attr, int value);
template <class F>
static inline cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
    return jt_emu_func_set_attribute(reinterpret_cast<const void*>(kernel), attr, value);
}

// Resident blocks per multiprocessor for a launch of `kernel` at block_size threads: the warp and block
// limits of an sm_90 SM (64 warps, 32 blocks) and its 228 KiB of shared memory for the dynamic part (1 KiB
// reserved per block). The emu has no registers and does not know a kernel's static shared memory, so
// kernels whose occupancy those limit get a larger answer here than on a GPU (the grid rule is the same).
JT_EMU_API cudaError_t jt_emu_occupancy_blocks_per_sm(int* blocks, const void* kernel, int block_size,
                                                      size_t dynamic_smem);
template <class F>
static inline cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, F* kernel, int block_size,
                                                                        size_t dynamic_smem) {
    return jt_emu_occupancy_blocks_per_sm(blocks, reinterpret_cast<const void*>(kernel), block_size, dynamic_smem);
}

// __constant__ and __device__ variables are plain globals: copying to a symbol is a memcpy.
template <class T>
static inline cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t count, size_t offset = 0,
                                             cudaMemcpyKind kind = cudaMemcpyHostToDevice) {
    if (offset + count > sizeof(T) || (count && !src) || static_cast<unsigned>(kind) > cudaMemcpyDefault)
        return cudaErrorInvalidValue;
    memcpy(reinterpret_cast<char*>(&symbol) + offset, src, count);
    return cudaSuccess;
}
template <class T>
static inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t count, size_t offset = 0,
                                               cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
    if (offset + count > sizeof(T) || (count && !dst) || static_cast<unsigned>(kind) > cudaMemcpyDefault)
        return cudaErrorInvalidValue;
    memcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, count);
    return cudaSuccess;
}

// ---- emu-only API (guard uses with #ifdef JT_EMU) --------------------------------------------
// Why the last failed launch or call on this host thread failed (kernel, block, threads, barrier
// site); "" when there is nothing to tell. Valid until the next runtime call on this thread.
JT_EMU_API const char* jt_emu_last_error_detail(void);

// The emulated device's memory limit in bytes (0 = none): cudaMalloc fails with
// cudaErrorMemoryAllocation once the live device allocations would exceed it, so out-of-memory paths
// can be tested without a GPU. Starts from the environment variable JTRAIN_EMU_MEMORY ("64m", "1g",
// "512k" or bytes). Pinned host memory (cudaMallocHost) does not count.
JT_EMU_API void jt_emu_set_memory_limit(size_t bytes);
JT_EMU_API size_t jt_emu_memory_limit(void);
// Bytes of live device allocations (cudaMalloc, as requested).
JT_EMU_API size_t jt_emu_memory_in_use(void);
// Number of worker threads (JTRAIN_EMU_WORKERS, default: hardware threads; fewer when the system
// would not start them all; at least 1 is reported even while none could start).
JT_EMU_API int jt_emu_worker_count(void);
// FOR TESTS OF THE ERROR PATHS ONLY: makes the emulator's own resource acquisition fail as if the
// system had refused it, until called again with 0. Bits: JT_EMU_FAIL_WORKER_STATE (a worker cannot
// allocate its block state or reserve its fiber stacks: launches fail with cudaErrorMemoryAllocation),
// JT_EMU_FAIL_THREAD_START (pthread_create of the workers fails: while no worker runs, launches fail
// with cudaErrorLaunchFailure). Returns the previous bits.
#define JT_EMU_FAIL_WORKER_STATE 1
#define JT_EMU_FAIL_THREAD_START 2
JT_EMU_API int jt_emu_test_inject_failures(int bits);
// Checks of what a GPU would refuse (native/emu/README.md, "Checking"): JT_EMU_CHECK_RACE reports a
// shared-memory race (two threads, no barrier between, at least one writes) as cudaErrorLaunchFailure;
// JT_EMU_CHECK_MEMORY reports an access outside every live device allocation as cudaErrorIllegalAddress.
// The detail names the kernel, block, threads, the array or address. Only kernels compiled with the
// checking instrumentation are checked (the CTest executables; libjtrain_emu.so when built with
// -DJTRAIN_EMU_CHECKED_LIB=ON). Default from JTRAIN_EMU_RACECHECK=1 (both) or JTRAIN_EMU_MEMCHECK=1
// (memory only). jt_emu_set_checks returns the previous bits; jt_emu_checks the bits in force (0 when
// nothing is instrumented); jt_emu_checks_available whether this build's kernels are instrumented.
#define JT_EMU_CHECK_RACE 1
#define JT_EMU_CHECK_MEMORY 2
JT_EMU_API int jt_emu_set_checks(int bits);
JT_EMU_API int jt_emu_checks(void);
JT_EMU_API int jt_emu_checks_available(void);
// Order in which the fibers of a block run between barriers: 0 forward (thread 0 first),
// 1 reversed, 2 rotated (a different start per block and phase). Default from JTRAIN_EMU_SHUFFLE.
// Returns the previous order. Process-wide; meant for tests.
JT_EMU_API int jt_emu_set_order(int order);

// ---------------------------------------------------------------------------------------------
// The fiber context: threadIdx, blockIdx, blockDim, gridDim
// ---------------------------------------------------------------------------------------------
namespace jt_emu {

// Every fiber stack is a power-of-two slot aligned to its size; the fiber's context sits at the
// slot's top, so the running fiber finds it from its stack pointer (no TLS look-up; the value is
// constant for a fiber, so the compiler may keep it in a register across barriers).
#if defined(__SANITIZE_ADDRESS__)
constexpr unsigned kSlotShift = 18;  // 256 KiB: ASan's frames are large
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr unsigned kSlotShift = 18;
#else
constexpr unsigned kSlotShift = 16;  // 64 KiB
#endif
#else
constexpr unsigned kSlotShift = 16;  // 64 KiB
#endif
constexpr uintptr_t kSlotBytes = uintptr_t(1) << kSlotShift;
constexpr uintptr_t kContextBytes = 256;  // top of the slot; the stack starts below it

struct FiberIds {
    uint3 thread_idx;
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
};

static __forceinline__ const FiberIds* ids() {
    uintptr_t sp;
    asm("mov %%rsp, %0" : "=r"(sp));
    return reinterpret_cast<const FiberIds*>((sp | (kSlotBytes - 1)) + 1 - kContextBytes);
}

// ---- runtime entry points used by the device functions below (native/emu/emu_runtime.cpp) ----
void syncthreads(const char* site);
int syncthreads_count(const char* site, int pred);  // number of threads with pred != 0
enum WarpOp : unsigned { kShfl = 0, kBallot = 1, kSync = 2 };
// One warp-exchange: waits for every live lane in mask; returns the value of lane `src` for
// kShfl (poison when that lane did not take part), the ballot of `value != 0` for kBallot.
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int src);
unsigned active_mask();
void* dynamic_smem();

struct LaunchConfig {
    dim3 grid;
    dim3 block;
    size_t smem;
    cudaStream_t stream;
    const char* name;
    const void* kernel;
};
// Runs the whole grid; returns (and records as the thread's last error) the status. The payload (the
// kernel and its arguments, `payload_bytes` long) is the launch's parameter space: kernels read it.
cudaError_t launch(const LaunchConfig& cfg, void (*run)(const void*), const void* payload, size_t payload_bytes);

template <class... P>
struct Launcher {
    void (*kernel)(P...);
    LaunchConfig cfg;

    template <class... A>
    void operator()(A&&... args) const {
        static_assert(sizeof...(A) == sizeof...(P), "LAUNCH: wrong number of kernel arguments");
        using Args = std::tuple<std::decay_t<P>...>;
        struct Payload {
            void (*kernel)(P...);
            Args args;
        };
        const Payload payload{kernel, Args(static_cast<std::decay_t<P>>(std::forward<A>(args))...)};
        launch(cfg,
               [](const void* p) {
                   const Payload* pl = static_cast<const Payload*>(p);
                   std::apply(pl->kernel, pl->args);  // each fiber gets its own copy of the args
               },
               &payload, sizeof payload);
    }
};

template <class... P>
Launcher<P...> make_launcher(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                             const char* name) {
    return Launcher<P...>{kernel, LaunchConfig{grid, block, smem, stream, name,
                                               reinterpret_cast<const void*>(kernel)}};
}

template <class T>
static __forceinline__ uint64_t to_bits(T v) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "shuffles move 4- or 8-byte values");
    if constexpr (sizeof(T) == 4) {
        uint32_t u;
        memcpy(&u, &v, 4);
        return u;
    } else {
        uint64_t u;
        memcpy(&u, &v, 8);
        return u;
    }
}
template <class T>
static __forceinline__ T from_bits(uint64_t u) {
    T v;
    if constexpr (sizeof(T) == 4) {
        uint32_t w = static_cast<uint32_t>(u);
        memcpy(&v, &w, 4);
    } else {
        memcpy(&v, &u, 8);
    }
    return v;
}

}  // namespace jt_emu

#define threadIdx (::jt_emu::ids()->thread_idx)
#define blockIdx (::jt_emu::ids()->block_idx)
#define blockDim (::jt_emu::ids()->block_dim)
#define gridDim (::jt_emu::ids()->grid_dim)
static constexpr int warpSize = 32;

// `kernel` must name one function (write template arguments in parentheses: LAUNCH((k<float, 4>), ...)).
#define LAUNCH(kernel, grid, block, smem, stream) \
    ::jt_emu::make_launcher((kernel), ::dim3(grid), ::dim3(block), (size_t)(smem), (stream), #kernel)
// Per-block buffer of the launch's dynamic shared memory size (filled with 0xFF bytes at block start).
#define DYNAMIC_SHARED(type, name) type* const name = static_cast<type*>(::jt_emu::dynamic_smem())

// ---------------------------------------------------------------------------------------------
// Synchronisation and warp operations
// ---------------------------------------------------------------------------------------------
#define JT_EMU_STR2(x) #x
#define JT_EMU_STR(x) JT_EMU_STR2(x)
#define __syncthreads() ::jt_emu::syncthreads(__FILE__ ":" JT_EMU_STR(__LINE__))
#define __syncthreads_count(pred) ::jt_emu::syncthreads_count(__FILE__ ":" JT_EMU_STR(__LINE__), (pred))
#define __syncthreads_and(pred) \
    (::jt_emu::syncthreads_count(__FILE__ ":" JT_EMU_STR(__LINE__), (pred)) == (int)(blockDim.x * blockDim.y * blockDim.z))
#define __syncthreads_or(pred) (::jt_emu::syncthreads_count(__FILE__ ":" JT_EMU_STR(__LINE__), (pred)) != 0)

static __forceinline__ void __syncwarp(unsigned mask = 0xffffffffu) {
    ::jt_emu::warp_exchange(::jt_emu::kSync, mask, 0, 0);
}
static __forceinline__ unsigned __activemask() { return ::jt_emu::active_mask(); }
static __forceinline__ unsigned __ballot_sync(unsigned mask, int pred) {
    return static_cast<unsigned>(::jt_emu::warp_exchange(::jt_emu::kBallot, mask, pred != 0, 0));
}
static __forceinline__ int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static __forceinline__ int __all_sync(unsigned mask, int pred) {
    // every participating lane voted: compare with the ballot of "true"
    unsigned votes = __ballot_sync(mask, pred);
    unsigned present = __ballot_sync(mask, 1);
    return votes == present;
}

static __forceinline__ unsigned jt_emu_lane() {
    const uint3 t = threadIdx;
    const dim3 b = blockDim;
    return (t.x + b.x * (t.y + b.y * t.z)) & 31u;
}

// The shuffles, with CUDA's overload set (int, unsigned, long, unsigned long, long long, unsigned long
// long, float, double): plain overloads rather than one template, so argument conversions resolve as
// under nvcc (a short promotes to int) and a type CUDA cannot shuffle (float2, a struct) does not
// compile here either. Every value travels through the warp exchange as its bit pattern in a 64-bit
// slot, so 8-byte types are moved whole, bit-exactly (NaN payloads, -0.0, subnormals, values beyond
// the float range), as CUDA moves them (two 32-bit shuffles of the halves).
namespace jt_emu {
static __forceinline__ int shfl_src_idx(int srcLane, int width) {
    const int lane = static_cast<int>(jt_emu_lane());
    return (lane & ~(width - 1)) + (srcLane & (width - 1));
}
static __forceinline__ int shfl_src_up(unsigned delta, int width) {
    const int lane = static_cast<int>(jt_emu_lane());
    return ((lane & (width - 1)) >= static_cast<int>(delta)) ? lane - static_cast<int>(delta) : lane;
}
static __forceinline__ int shfl_src_down(unsigned delta, int width) {
    const int lane = static_cast<int>(jt_emu_lane());
    return ((lane & (width - 1)) + static_cast<int>(delta) < width) ? lane + static_cast<int>(delta) : lane;
}
static __forceinline__ int shfl_src_xor(int laneMask, int width) {
    const int lane = static_cast<int>(jt_emu_lane());
    const int src = lane ^ laneMask;
    return src >= (lane & ~(width - 1)) + width ? lane : src;  // later groups are not reachable
}
template <class T>
static __forceinline__ T shfl(unsigned mask, T var, int src) {
    return from_bits<T>(warp_exchange(kShfl, mask, to_bits(var), src));
}
}  // namespace jt_emu

#define JT_EMU_SHFL_OVERLOADS(T)                                                                          \
    static __forceinline__ T __shfl_sync(unsigned mask, T var, int srcLane, int width = warpSize) {        \
        return ::jt_emu::shfl<T>(mask, var, ::jt_emu::shfl_src_idx(srcLane, width));                      \
    }                                                                                                     \
    static __forceinline__ T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {  \
        return ::jt_emu::shfl<T>(mask, var, ::jt_emu::shfl_src_up(delta, width));                         \
    }                                                                                                     \
    static __forceinline__ T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {\
        return ::jt_emu::shfl<T>(mask, var, ::jt_emu::shfl_src_down(delta, width));                       \
    }                                                                                                     \
    static __forceinline__ T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = warpSize) {   \
        return ::jt_emu::shfl<T>(mask, var, ::jt_emu::shfl_src_xor(laneMask, width));                     \
    }
JT_EMU_SHFL_OVERLOADS(int)
JT_EMU_SHFL_OVERLOADS(unsigned)
JT_EMU_SHFL_OVERLOADS(long)
JT_EMU_SHFL_OVERLOADS(unsigned long)
JT_EMU_SHFL_OVERLOADS(long long)
JT_EMU_SHFL_OVERLOADS(unsigned long long)
JT_EMU_SHFL_OVERLOADS(float)
JT_EMU_SHFL_OVERLOADS(double)
#undef JT_EMU_SHFL_OVERLOADS

static __forceinline__ void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static __forceinline__ void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static __forceinline__ void __threadfence_system() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---------------------------------------------------------------------------------------------
// Atomics: real atomics (blocks run concurrently on the workers)
// ---------------------------------------------------------------------------------------------
namespace jt_emu {
template <class T, class F>
static __forceinline__ T atomic_update(T* addr, F f) {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "4- or 8-byte atomics");
    using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    U* p = reinterpret_cast<U*>(addr);
    U old_bits = __atomic_load_n(p, __ATOMIC_RELAXED);
    for (;;) {
        T old_val;
        memcpy(&old_val, &old_bits, sizeof(T));
        T new_val = f(old_val);
        U new_bits;
        memcpy(&new_bits, &new_val, sizeof(T));
        if (__atomic_compare_exchange_n(p, &old_bits, new_bits, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return old_val;
    }
}
}  // namespace jt_emu

#define JT_EMU_INT_ATOMICS(T)                                                                          \
    static __forceinline__ T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); }   \
    static __forceinline__ T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); } \
    static __forceinline__ T atomicCAS(T* a, T compare, T v) {                                         \
        __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);         \
        return compare;                                                                                \
    }                                                                                                  \
    static __forceinline__ T atomicMax(T* a, T v) {                                                    \
        return ::jt_emu::atomic_update(a, [v](T o) { return o < v ? v : o; });                          \
    }                                                                                                  \
    static __forceinline__ T atomicMin(T* a, T v) {                                                    \
        return ::jt_emu::atomic_update(a, [v](T o) { return v < o ? v : o; });                          \
    }
JT_EMU_INT_ATOMICS(int)
JT_EMU_INT_ATOMICS(unsigned int)
JT_EMU_INT_ATOMICS(unsigned long long)
JT_EMU_INT_ATOMICS(long long)
#undef JT_EMU_INT_ATOMICS

static __forceinline__ float atomicAdd(float* a, float v) {
    return ::jt_emu::atomic_update(a, [v](float o) { return o + v; });
}
static __forceinline__ double atomicAdd(double* a, double v) {
    return ::jt_emu::atomic_update(a, [v](double o) { return o + v; });
}
static __forceinline__ float atomicExch(float* a, float v) {
    return ::jt_emu::atomic_update(a, [v](float) { return v; });
}
static __forceinline__ unsigned int atomicInc(unsigned int* a, unsigned int limit) {
    return ::jt_emu::atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1u; });
}
static __forceinline__ unsigned int atomicDec(unsigned int* a, unsigned int limit) {
    return ::jt_emu::atomic_update(a, [limit](unsigned o) { return (o == 0u || o > limit) ? limit : o - 1u; });
}

// ---------------------------------------------------------------------------------------------
// Loads, intrinsics, math
// ---------------------------------------------------------------------------------------------
template <class T>
static __forceinline__ T __ldg(const T* p) { return *p; }

static __forceinline__ unsigned int __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
static __forceinline__ float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
static __forceinline__ int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static __forceinline__ float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static __forceinline__ long long __double_as_longlong(double d) { long long i; memcpy(&i, &d, 8); return i; }
static __forceinline__ double __longlong_as_double(long long i) { double d; memcpy(&d, &i, 8); return d; }

static __forceinline__ unsigned int __umulhi(unsigned int a, unsigned int b) {
    return static_cast<unsigned>((static_cast<uint64_t>(a) * b) >> 32);
}
static __forceinline__ int __mulhi(int a, int b) { return static_cast<int>((static_cast<int64_t>(a) * b) >> 32); }
static __forceinline__ unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
static __forceinline__ int __popc(unsigned int x) { return __builtin_popcount(x); }
static __forceinline__ int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static __forceinline__ int __clz(unsigned int x) { return x ? __builtin_clz(x) : 32; }
static __forceinline__ int __clzll(unsigned long long x) { return x ? __builtin_clzll(x) : 64; }
static __forceinline__ int __ffs(unsigned int x) { return __builtin_ffs(static_cast<int>(x)); }
static __forceinline__ int __ffsll(unsigned long long x) { return __builtin_ffsll(static_cast<long long>(x)); }
static __forceinline__ unsigned int __brev(unsigned int x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    return __builtin_bswap32(x);
}

// Fast-math intrinsics: the accurate host function (a GPU's are less accurate; tests need tolerances).
// glibc declares some of these names itself, so they are macros onto jt_emu_* functions.
static __forceinline__ float jt_emu_expf(float x) { return expf(x); }
static __forceinline__ float jt_emu_logf(float x) { return logf(x); }
static __forceinline__ float jt_emu_log2f(float x) { return log2f(x); }
static __forceinline__ float jt_emu_powf(float x, float y) { return powf(x, y); }
static __forceinline__ float jt_emu_sinf(float x) { return sinf(x); }
static __forceinline__ float jt_emu_cosf(float x) { return cosf(x); }
static __forceinline__ float jt_emu_tanf(float x) { return tanf(x); }
static __forceinline__ float jt_emu_exp10f(float x) { return powf(10.0f, x); }
#define __expf jt_emu_expf
#define __logf jt_emu_logf
#define __log2f jt_emu_log2f
#define __powf jt_emu_powf
#define __sinf jt_emu_sinf
#define __cosf jt_emu_cosf
#define __tanf jt_emu_tanf
#define exp10f jt_emu_exp10f
static __forceinline__ float __fdividef(float a, float b) { return a / b; }
static __forceinline__ float __frcp_rn(float x) { return 1.0f / x; }
static __forceinline__ float __fsqrt_rn(float x) { return sqrtf(x); }
static __forceinline__ float __fadd_rn(float a, float b) { return a + b; }
static __forceinline__ float __fmul_rn(float a, float b) { return a * b; }
static __forceinline__ float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static __forceinline__ float __fsub_rn(float a, float b) { return a - b; }
static __forceinline__ double __dadd_rn(double a, double b) { return a + b; }
static __forceinline__ double __dsub_rn(double a, double b) { return a - b; }
static __forceinline__ double __dmul_rn(double a, double b) { return a * b; }
static __forceinline__ void jt_emu_sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
#define __sincosf jt_emu_sincosf
static __forceinline__ int __float2int_rn(float x) { return static_cast<int>(nearbyintf(x)); }
static __forceinline__ int __float2int_rz(float x) { return static_cast<int>(x); }
static __forceinline__ int __float2int_rd(float x) { return static_cast<int>(floorf(x)); }
static __forceinline__ int __float2int_ru(float x) { return static_cast<int>(ceilf(x)); }
static __forceinline__ unsigned __float2uint_rn(float x) { return static_cast<unsigned>(nearbyintf(x)); }
static __forceinline__ float __int2float_rn(int i) { return static_cast<float>(i); }
static __forceinline__ float __uint2float_rn(unsigned u) { return static_cast<float>(u); }
static __forceinline__ float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
static __forceinline__ float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static __forceinline__ double rsqrt(double x) { return 1.0 / sqrt(x); }

// min/max overloads like CUDA's (same-type pairs, and the signed/unsigned mixes it defines).
#define JT_EMU_MINMAX(T)                                                      \
    static __forceinline__ T min(T a, T b) { return b < a ? b : a; }          \
    static __forceinline__ T max(T a, T b) { return a < b ? b : a; }
JT_EMU_MINMAX(int)
JT_EMU_MINMAX(unsigned int)
JT_EMU_MINMAX(long)
JT_EMU_MINMAX(unsigned long)
JT_EMU_MINMAX(long long)
JT_EMU_MINMAX(unsigned long long)
#undef JT_EMU_MINMAX
static __forceinline__ float min(float a, float b) { return fminf(a, b); }
static __forceinline__ float max(float a, float b) { return fmaxf(a, b); }
static __forceinline__ double min(double a, double b) { return fmin(a, b); }
static __forceinline__ double max(double a, double b) { return fmax(a, b); }
static __forceinline__ unsigned int min(int a, unsigned int b) { return min(static_cast<unsigned>(a), b); }
static __forceinline__ unsigned int min(unsigned int a, int b) { return min(a, static_cast<unsigned>(b)); }
static __forceinline__ unsigned int max(int a, unsigned int b) { return max(static_cast<unsigned>(a), b); }
static __forceinline__ unsigned int max(unsigned int a, int b) { return max(a, static_cast<unsigned>(b)); }

#endif  // !JT_CUDA_REAL && !__CUDACC__
