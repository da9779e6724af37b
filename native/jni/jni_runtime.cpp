// Device memory and runtime calls through this library's own CUDA runtime (the real one in
// libjtrain_cuda.so, the emulation in libjtrain_emu.so): malloc/free (recorded in the allocation
// registry that the kernel entry points check pointers against), copies between device memory and
// Java float[]/long[] arrays, device-to-device copies, memset, synchronisation, streams, device queries,
// the emu's last error detail and what this library is (emu or cuda, CUDA version compiled against).
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "jni_common.h"
#include "launch_config.h"

namespace {

using jt::require_array_range;
using jt::require_device;

// ------------------------------------------------------------------ what this library is

jstring JNICALL buildKind(JNIEnv* env, jclass) { return env->NewStringUTF(JT_JNI_BUILD_KIND); }

jstring JNICALL buildInfo(JNIEnv* env, jclass) {
    char buf[512];
#ifdef JT_JNI_REAL_CUDA
#ifdef JT_CUDA_ARCHITECTURES
    const char* archs = JT_CUDA_ARCHITECTURES;
#else
    const char* archs = "(not recorded)";
#endif
    snprintf(buf, sizeof buf, "cuda: libjtrain_cuda, CUDA runtime %d.%d (static), architectures %s, JNI class %s",
             CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10, archs, JT_JNI_CLASS);
#else
    snprintf(buf, sizeof buf,
             "emu: libjtrain_emu, kernels compiled for the host (%s) with the CUDA emulation (native/emu), "
             "JNI class %s",
#if defined(__clang__)
             "clang " __clang_version__,
#elif defined(__GNUC__)
             "g++ " __VERSION__,
#else
             "unknown compiler",
#endif
             JT_JNI_CLASS);
#endif
    return env->NewStringUTF(buf);
}

// CUDART_VERSION this library was compiled against (e.g. 13000), 0 on emu.
jint JNICALL cudaRuntimeVersion(JNIEnv*, jclass) {
#ifdef JT_JNI_REAL_CUDA
    return CUDART_VERSION;
#else
    return 0;
#endif
}

// The driver's CUDA version (cudaDriverGetVersion; 0 when no driver is installed), 0 on emu.
jint JNICALL driverVersion(JNIEnv* env, jclass) {
#ifdef JT_JNI_REAL_CUDA
    int v = 0;
    cudaError_t e = cudaDriverGetVersion(&v);
    if (!jt::check_cuda(env, e, "cudaDriverGetVersion", "driverVersion")) return 0;
    return v;
#else
    (void)env;
    return 0;
#endif
}

jstring JNICALL methodTable(JNIEnv* env, jclass) { return env->NewStringUTF(jt::method_table().c_str()); }

jstring JNICALL lastErrorDetail(JNIEnv* env, jclass) { return env->NewStringUTF(jt::emu_last_error_detail()); }

// ------------------------------------------------------------------ devices

jint JNICALL deviceCount(JNIEnv* env, jclass) {
#ifdef JT_JNI_REAL_CUDA
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) {
        // No GPU or no driver: zero devices, not an error (the capability report says why).
        cudaGetLastError();  // not sticky: clear it so later calls do not see it
        return 0;
    }
    if (!jt::check_cuda(env, e, "cudaGetDeviceCount", "deviceCount")) return 0;
    return n;
#else
    (void)env;
    return 1;  // the emulated device
#endif
}

bool check_device_index(JNIEnv* env, const char* op, jint device) {
    if (device < 0) return jt::throw_iae(env, op, "device must be >= 0, got %d", (int)device);
    jint n = deviceCount(env, nullptr);
    if (env->ExceptionCheck()) return false;
    if (device >= n) return jt::throw_iae(env, op, "device %d does not exist (%d device(s))", (int)device, (int)n);
    return true;
}

jstring JNICALL deviceName(JNIEnv* env, jclass, jint device) {
    if (!check_device_index(env, "deviceName", device)) return nullptr;
#ifdef JT_JNI_REAL_CUDA
    cudaDeviceProp prop;
    if (!jt::check_cuda(env, cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties", "deviceName")) {
        return nullptr;
    }
    return env->NewStringUTF(prop.name);
#else
    char buf[128];
    snprintf(buf, sizeof buf, "emu (CUDA model emulated on the host, %ld CPUs)", sysconf(_SC_NPROCESSORS_ONLN));
    return env->NewStringUTF(buf);
#endif
}

// major * 10 + minor (e.g. 90 for sm_90); 0 on emu.
jint JNICALL deviceComputeCapability(JNIEnv* env, jclass, jint device) {
    if (!check_device_index(env, "deviceComputeCapability", device)) return 0;
#ifdef JT_JNI_REAL_CUDA
    int major = 0, minor = 0;
    if (!jt::check_cuda(env, cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device),
                        "cudaDeviceGetAttribute", "deviceComputeCapability") ||
        !jt::check_cuda(env, cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device),
                        "cudaDeviceGetAttribute", "deviceComputeCapability")) {
        return 0;
    }
    return major * 10 + minor;
#else
    return 0;
#endif
}

// Total device memory in bytes (emu: the host's physical memory).
jlong JNICALL deviceTotalMemory(JNIEnv* env, jclass, jint device) {
    if (!check_device_index(env, "deviceTotalMemory", device)) return 0;
#ifdef JT_JNI_REAL_CUDA
    cudaDeviceProp prop;
    if (!jt::check_cuda(env, cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties",
                        "deviceTotalMemory")) {
        return 0;
    }
    return (jlong)prop.totalGlobalMem;
#else
    const size_t limit = jt_emu_memory_limit();  // the emu's memory limit when one is set, else host memory
    return limit != 0 ? (jlong)limit : (jlong)sysconf(_SC_PHYS_PAGES) * (jlong)sysconf(_SC_PAGESIZE);
#endif
}

// ------------------------------------------------------------------ memory

jlong JNICALL malloc_(JNIEnv* env, jclass, jlong bytes) {
    const char* op = "malloc";
    if (!jt::require_positive(env, op, "bytes", bytes)) return 0;
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, (size_t)bytes);
    if (e != cudaSuccess) {
        jt::throw_cuda(env, "cudaMalloc", e, op);
        if (e == cudaErrorMemoryAllocation) cudaGetLastError();  // not sticky: later calls still work
        return 0;
    }
    if (!jt::registry_add((uintptr_t)p, (size_t)bytes)) {
        cudaFree(p);
        jt::throw_oom(env, op, "cannot record a %" PRId64 "-byte allocation", (int64_t)bytes);
        return 0;
    }
    return (jlong)(uintptr_t)p;
}

void JNICALL free_(JNIEnv* env, jclass, jlong ptr) {
    const char* op = "free";
    if (ptr == 0) return;  // like cudaFree(nullptr)
    bool was_freed = false;
    if (!jt::registry_remove((uintptr_t)ptr, &was_freed)) {
        if (was_freed) {
            jt::throw_iae(env, op, "ptr = 0x%" PRIxPTR " was already freed (double free)", (uintptr_t)ptr);
        } else {
            jt::throw_iae(env, op, "ptr = 0x%" PRIxPTR " is not the start of an allocation made by malloc",
                          (uintptr_t)ptr);
        }
        return;
    }
    jt::check_cuda(env, cudaFree(jt::dptr<void>(ptr)), "cudaFree", op);
}

jlong JNICALL allocationCount(JNIEnv*, jclass) {
    int64_t count = 0, bytes = 0;
    jt::registry_stats(&count, &bytes);
    return count;
}

jlong JNICALL allocatedBytes(JNIEnv*, jclass) {
    int64_t count = 0, bytes = 0;
    jt::registry_stats(&count, &bytes);
    return bytes;
}

// Host array <-> device copies through pageable memory: the array is copied in bounded chunks into a
// malloc'd bounce buffer (Get/Set<Type>ArrayRegion) around each synchronous cudaMemcpy, so no JNI
// critical section (which would stall the GC) is held across a copy. The fast path is the pinned
// stager of jni_transfer.cpp; these stay for callers without a stager and as the pageable baseline.
constexpr int64_t kBounceBytes = 1 << 20;

template <class T, class JArray>
bool bounce_get(JNIEnv* env, JArray a, jint off, jint n, T* to);
template <>
bool bounce_get<float, jfloatArray>(JNIEnv* env, jfloatArray a, jint off, jint n, float* to) {
    env->GetFloatArrayRegion(a, off, n, to);
    return !env->ExceptionCheck();
}
template <>
bool bounce_get<int64_t, jlongArray>(JNIEnv* env, jlongArray a, jint off, jint n, int64_t* to) {
    env->GetLongArrayRegion(a, off, n, reinterpret_cast<jlong*>(to));
    return !env->ExceptionCheck();
}
template <class T, class JArray>
bool bounce_set(JNIEnv* env, JArray a, jint off, jint n, const T* from);
template <>
bool bounce_set<float, jfloatArray>(JNIEnv* env, jfloatArray a, jint off, jint n, const float* from) {
    env->SetFloatArrayRegion(a, off, n, from);
    return !env->ExceptionCheck();
}
template <>
bool bounce_set<int64_t, jlongArray>(JNIEnv* env, jlongArray a, jint off, jint n, const int64_t* from) {
    env->SetLongArrayRegion(a, off, n, reinterpret_cast<const jlong*>(from));
    return !env->ExceptionCheck();
}

template <class T, class JArray>
void copy_to_device(JNIEnv* env, const char* op, JArray src, jint src_offset, jlong dst, jint count) {
    if (!require_array_range(env, op, "src", src, src_offset, count)) return;
    if (!require_device(env, op, "dst", dst, count, sizeof(T))) return;
    if (count == 0) return;
    const int64_t per = kBounceBytes / (int64_t)sizeof(T);
    std::vector<T> bounce((size_t)std::min<int64_t>(per, count));
    for (int64_t done = 0; done < count; done += per) {
        const jint n = (jint)std::min<int64_t>(per, count - done);
        if (!bounce_get<T, JArray>(env, src, src_offset + (jint)done, n, bounce.data())) return;
        if (!jt::check_cuda(env, cudaMemcpy(jt::dptr<T>(dst) + done, bounce.data(), (size_t)n * sizeof(T),
                                            cudaMemcpyHostToDevice),
                            "cudaMemcpy", op)) {
            return;
        }
    }
}

template <class T, class JArray>
void copy_to_host(JNIEnv* env, const char* op, jlong src, JArray dst, jint dst_offset, jint count) {
    if (!require_array_range(env, op, "dst", dst, dst_offset, count)) return;
    if (!require_device(env, op, "src", src, count, sizeof(T))) return;
    if (count == 0) return;
    const int64_t per = kBounceBytes / (int64_t)sizeof(T);
    std::vector<T> bounce((size_t)std::min<int64_t>(per, count));
    for (int64_t done = 0; done < count; done += per) {
        const jint n = (jint)std::min<int64_t>(per, count - done);
        if (!jt::check_cuda(env, cudaMemcpy(bounce.data(), jt::dptr<T>(src) + done, (size_t)n * sizeof(T),
                                            cudaMemcpyDeviceToHost),
                            "cudaMemcpy", op)) {
            return;
        }
        if (!bounce_set<T, JArray>(env, dst, dst_offset + (jint)done, n, bounce.data())) return;
    }
}

void JNICALL copyFloatsToDevice(JNIEnv* env, jclass, jfloatArray src, jint srcOffset, jlong dst, jint count) {
    copy_to_device<float>(env, "copyFloatsToDevice", src, srcOffset, dst, count);
}

void JNICALL copyFloatsToHost(JNIEnv* env, jclass, jlong src, jfloatArray dst, jint dstOffset, jint count) {
    copy_to_host<float>(env, "copyFloatsToHost", src, dst, dstOffset, count);
}

void JNICALL copyLongsToDevice(JNIEnv* env, jclass, jlongArray src, jint srcOffset, jlong dst, jint count) {
    copy_to_device<int64_t>(env, "copyLongsToDevice", src, srcOffset, dst, count);
}

void JNICALL copyLongsToHost(JNIEnv* env, jclass, jlong src, jlongArray dst, jint dstOffset, jint count) {
    copy_to_host<int64_t>(env, "copyLongsToHost", src, dst, dstOffset, count);
}

void JNICALL copyDeviceToDevice(JNIEnv* env, jclass, jlong dst, jlong src, jlong bytes) {
    const char* op = "copyDeviceToDevice";
    if (!jt::require_nonneg(env, op, "bytes", bytes)) return;
    if (!require_device(env, op, "dst", dst, bytes, 1) || !require_device(env, op, "src", src, bytes, 1)) return;
    if (bytes == 0 || dst == src) return;
    jt::check_cuda(env, cudaMemcpy(jt::dptr<void>(dst), jt::dptr<void>(src), (size_t)bytes, cudaMemcpyDeviceToDevice),
                   "cudaMemcpy", op);
}

void JNICALL memset_(JNIEnv* env, jclass, jlong dst, jint value, jlong bytes) {
    const char* op = "memset";
    if (!jt::require_nonneg(env, op, "bytes", bytes)) return;
    if (value < 0 || value > 255) {
        jt::throw_iae(env, op, "value must be a byte (0..255), got %d", (int)value);
        return;
    }
    if (!require_device(env, op, "dst", dst, bytes, 1)) return;
    if (bytes == 0) return;
    jt::check_cuda(env, cudaMemset(jt::dptr<void>(dst), value, (size_t)bytes), "cudaMemset", op);
}

void JNICALL synchronize(JNIEnv* env, jclass) {
    jt::check_cuda(env, cudaDeviceSynchronize(), "cudaDeviceSynchronize", "synchronize");
}

// ------------------------------------------------------------------ streams

jlong JNICALL streamCreate(JNIEnv* env, jclass) {
    cudaStream_t s = nullptr;
    if (!jt::check_cuda(env, cudaStreamCreate(&s), "cudaStreamCreate", "streamCreate")) return 0;
    if (!jt::stream_register((jlong)(uintptr_t)s)) {
        cudaStreamDestroy(s);
        jt::throw_oom(env, "streamCreate", "cannot record the new stream");
        return 0;
    }
    return (jlong)(uintptr_t)s;
}

void JNICALL streamDestroy(JNIEnv* env, jclass, jlong stream) {
    if (stream == 0) {
        jt::throw_iae(env, "streamDestroy", "stream 0 is the default stream and cannot be destroyed");
        return;
    }
    // Unregistered first: a second destroy (or one racing it) is an IllegalArgumentException, and
    // a destroyed handle never reaches CUDA again.
    if (!jt::stream_unregister(stream)) {
        jt::require_stream(env, "streamDestroy", "stream", stream);
        return;
    }
    jt::check_cuda(env, cudaStreamDestroy(jt::stream_of(stream)), "cudaStreamDestroy", "streamDestroy");
}

void JNICALL streamSynchronize(JNIEnv* env, jclass, jlong stream) {
    if (!jt::require_stream(env, "streamSynchronize", "stream", stream)) return;
    jt::check_cuda(env, cudaStreamSynchronize(jt::stream_of(stream)), "cudaStreamSynchronize", "streamSynchronize");
}

// ------------------------------------------------------------------ events (stream ordering)

jlong JNICALL eventCreate(JNIEnv* env, jclass) {
    cudaEvent_t e = nullptr;
    if (!jt::check_cuda(env, cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags",
                        "eventCreate"))
        return 0;
    if (!jt::event_register((jlong)(uintptr_t)e)) {
        cudaEventDestroy(e);
        jt::throw_oom(env, "eventCreate", "cannot record the new event");
        return 0;
    }
    return (jlong)(uintptr_t)e;
}

void JNICALL eventDestroy(JNIEnv* env, jclass, jlong event) {
    // Unregistered first, as streams: a second destroy is an IllegalArgumentException, never a CUDA call.
    if (!jt::event_unregister(event)) {
        jt::require_event(env, "eventDestroy", "event", event);
        return;
    }
    jt::check_cuda(env, cudaEventDestroy(jt::event_of(event)), "cudaEventDestroy", "eventDestroy");
}

void JNICALL eventRecord(JNIEnv* env, jclass, jlong event, jlong stream) {
    if (!jt::require_event(env, "eventRecord", "event", event)) return;
    if (!jt::require_stream(env, "eventRecord", "stream", stream)) return;
    jt::check_cuda(env, cudaEventRecord(jt::event_of(event), jt::stream_of(stream)), "cudaEventRecord", "eventRecord");
}

void JNICALL streamWaitEvent(JNIEnv* env, jclass, jlong stream, jlong event) {
    if (!jt::require_stream(env, "streamWaitEvent", "stream", stream)) return;
    if (!jt::require_event(env, "streamWaitEvent", "event", event)) return;
    jt::check_cuda(env, cudaStreamWaitEvent(jt::stream_of(stream), jt::event_of(event), 0), "cudaStreamWaitEvent",
                   "streamWaitEvent");
}

jboolean JNICALL eventQuery(JNIEnv* env, jclass, jlong event) {
    if (!jt::require_event(env, "eventQuery", "event", event)) return JNI_FALSE;
    cudaError_t st = cudaEventQuery(jt::event_of(event));
    if (st == cudaErrorNotReady) {
        static_cast<void>(cudaGetLastError());  // not an error: clear it so the next check does not see it
        return JNI_FALSE;
    }
    return jt::check_cuda(env, st, "cudaEventQuery", "eventQuery") ? JNI_TRUE : JNI_FALSE;
}

void JNICALL eventSynchronize(JNIEnv* env, jclass, jlong event) {
    if (!jt::require_event(env, "eventSynchronize", "event", event)) return;
    jt::check_cuda(env, cudaEventSynchronize(jt::event_of(event)), "cudaEventSynchronize", "eventSynchronize");
}

// ------------------------------------------------------------------ emu memory limit

// Sets the emulated device's memory limit (0 = none; JTRAIN_EMU_MEMORY sets it at start). Emu only:
// a real GPU's memory is what it is.
void JNICALL emuSetMemoryLimit(JNIEnv* env, jclass, jlong bytes) {
    const char* op = "emuSetMemoryLimit";
    if (!jt::require_nonneg(env, op, "bytes", bytes)) return;
#ifdef JT_JNI_EMU
    jt_emu_set_memory_limit((size_t)bytes);
#else
    jt::throw_unsupported(env, op, "a memory limit exists on emu only");
#endif
}

jlong JNICALL emuMemoryLimit(JNIEnv* env, jclass) {
#ifdef JT_JNI_EMU
    (void)env;
    return (jlong)jt_emu_memory_limit();
#else
    jt::throw_unsupported(env, "emuMemoryLimit", "a memory limit exists on emu only");
    return 0;
#endif
}

// ------------------------------------------------------------------ self-test of the error path

#ifdef JT_JNI_EMU
// __syncthreads reached by only half of the block: a GPU bug the emulation reports as a launch failure.
__global__ void divergent_barrier_kernel() {
    if (threadIdx.x < 16) __syncthreads();
}
#endif

// Launches a kernel with a divergent barrier (emu only): must throw CudaException (cudaErrorLaunchFailure)
// whose detail names the kernel and the barrier; checks that launch failures reach Java intact.
void JNICALL selfTestDivergentBarrier(JNIEnv* env, jclass) {
    const char* op = "selfTestDivergentBarrier";
#ifdef JT_JNI_EMU
    LAUNCH(divergent_barrier_kernel, 1, 32, 0, 0)();
    jt::check_cuda(env, cudaGetLastError(), "divergent_barrier_kernel", op);
#else
    jt::throw_unsupported(env, op, "the divergent-barrier self-test runs on emu only");
#endif
}

// The launch decisions of this library (kernels/launch_config.h), for the test that emu and CUDA agree:
// kind 0: blocks of a 1-D launch (a = items, b = threads); 1 and 5: BatchNorm threads per block and blocks per
// channel for [n = a, channels = low 32 bits of b, inner = c] on a device of (b >> 32) SMs; 2: the automatic
// GEMM tile (a = m, b = n, c = batch); 3: blocks of a device-filling grid-stride launch (a = work items,
// b = multiprocessors, c = resident blocks per multiprocessor); 4: blocks of the first pass of the two-pass
// sums (a = items); 6: the automatic split-K slices of an m x n x k SGEMM (a = m, b = n, c = k); 7: the
// per-channel sums' blocks per channel (bias gradient, PReLU dalpha) for [n = a, channels = low 32 bits of b,
// inner = c] on a device of (b >> 32) SMs.
jint JNICALL launchConfig(JNIEnv* env, jclass, jint kind, jlong a, jlong b, jlong c) {
    const char* op = "launchConfig";
    if (!jt::require_nonneg(env, op, "a", a) || !jt::require_nonneg(env, op, "b", b) ||
        !jt::require_nonneg(env, op, "c", c)) {
        return 0;
    }
    switch (kind) {
        case 0:
            if (b < 1 || b > 1024) {
                jt::throw_iae(env, op, "threads must be in [1, 1024], got %lld", (long long)b);
                return 0;
            }
            return (jint)jt_launch_grid_1d(a, (int)b);
        case 1:
        case 5:
        case 7: {
            const int64_t channels = b & 0xffffffffLL, sms = b >> 32;
            if (a < 1 || channels < 1 || c < 1 || sms < 1 || a > INT32_MAX || channels > INT32_MAX || sms > INT32_MAX) {
                jt::throw_iae(env, op, "n, channels, inner and SMs must be positive (n, channels, SMs < 2^31), got "
                              "%lld, %lld, %lld, %lld", (long long)a, (long long)channels, (long long)c, (long long)sms);
                return 0;
            }
            if (kind == 7) return jt_channel_sum_plan((int)a, (int)channels, c, (int)sms).splits;
            const JtBatchnormPlan p = jt_batchnorm_plan((int)a, (int)channels, c, (int)sms);
            return kind == 1 ? p.threads : p.splits;
        }
        case 2:
            if (a < 1 || b < 1 || c < 1 || a > INT32_MAX || b > INT32_MAX || c > INT32_MAX) {
                jt::throw_iae(env, op, "m, n and batch must be in [1, 2^31), got %lld, %lld, %lld", (long long)a,
                              (long long)b, (long long)c);
                return 0;
            }
            return jt_gemm_auto_config((int)a, (int)b, (int)c);
        case 3:
            if (b > INT32_MAX || c > INT32_MAX) {
                jt::throw_iae(env, op, "multiprocessors and blocks per multiprocessor must be below 2^31, got %lld, %lld",
                              (long long)b, (long long)c);
                return 0;
            }
            return (jint)jt_launch_grid_fill(a, (int)b, (int)c);
        case 4:
            return (jint)jt_reduce_pass1_blocks(a);
        case 6:
            if (a < 1 || b < 1 || c < 1 || a > INT32_MAX || b > INT32_MAX || c > INT32_MAX) {
                jt::throw_iae(env, op, "m, n and k must be in [1, 2^31), got %lld, %lld, %lld", (long long)a,
                              (long long)b, (long long)c);
                return 0;
            }
            return jt_gemm_auto_splits(jt_gemm_auto_config((int)a, (int)b, 1), (int)a, (int)b, (int)c, 1);
        default:
            jt::throw_iae(env, op,
                          "kind must be 0 (grid), 1 (batchnorm threads), 2 (gemm tile), 3 (device-filling grid), 4 "
                          "(reduction pass-1 blocks), 5 (batchnorm splits), 6 (gemm split-K slices) or 7 (channel-sum "
                          "splits), got %d", (int)kind);
            return 0;
    }
}

// Throws a C++ exception inside a native call (std::bad_alloc when outOfMemory): the entry-point guard must
// turn it into OutOfMemoryError / IllegalStateException instead of letting it unwind into the JVM.
void JNICALL selfTestCppException(JNIEnv*, jclass, jboolean outOfMemory) {
    if (outOfMemory) throw std::bad_alloc();
    throw std::runtime_error("jtrain self-test: a C++ exception inside a native call");
}

}  // namespace

bool jt::register_runtime(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "runtime",
                            {
                                method<buildKind>("buildKind"),
                                method<buildInfo>("buildInfo"),
                                method<cudaRuntimeVersion>("cudaRuntimeVersion"),
                                method<driverVersion>("driverVersion"),
                                method<methodTable>("methodTable"),
                                method<lastErrorDetail>("lastErrorDetail"),
                                method<emuSetMemoryLimit>("emuSetMemoryLimit"),
                                method<emuMemoryLimit>("emuMemoryLimit"),
                                method<deviceCount>("deviceCount"),
                                method<deviceName>("deviceName"),
                                method<deviceComputeCapability>("deviceComputeCapability"),
                                method<deviceTotalMemory>("deviceTotalMemory"),
                                method<malloc_>("malloc"),
                                method<free_>("free"),
                                method<allocationCount>("allocationCount"),
                                method<allocatedBytes>("allocatedBytes"),
                                method<copyFloatsToDevice>("copyFloatsToDevice"),
                                method<copyFloatsToHost>("copyFloatsToHost"),
                                method<copyLongsToDevice>("copyLongsToDevice"),
                                method<copyLongsToHost>("copyLongsToHost"),
                                method<copyDeviceToDevice>("copyDeviceToDevice"),
                                method<memset_>("memset"),
                                method<synchronize>("synchronize"),
                                method<streamCreate>("streamCreate"),
                                method<streamDestroy>("streamDestroy"),
                                method<streamSynchronize>("streamSynchronize"),
                                method<eventCreate>("eventCreate"),
                                method<eventDestroy>("eventDestroy"),
                                method<eventRecord>("eventRecord"),
                                method<streamWaitEvent>("streamWaitEvent"),
                                method<eventQuery>("eventQuery"),
                                method<eventSynchronize>("eventSynchronize"),
                                method<selfTestDivergentBarrier>("selfTestDivergentBarrier"),
                                method<selfTestCppException>("selfTestCppException"),
                                method<launchConfig>("launchConfig"),
                            });
}
