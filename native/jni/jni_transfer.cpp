// Host <-> device copies of Java arrays through pinned staging buffers (a "stager"), and a native memcpy
// benchmark to compare them with.
//
// Why staging: a Java array can move under the GC, so the DMA engine cannot read it directly; copying it
// into page-locked (pinned) memory first lets cudaMemcpyAsync run at full PCIe/NVLink speed and, for
// host->device, return before the device has the data (the stream orders later kernels after it).
// Nothing here holds a JNI critical section across a CUDA call: arrays are read and written with
// Get/Set<Type>ArrayRegion, which copy while the GC stays free to run.
//
// A stager owns two pinned chunks and an event per chunk, used alternately: while the device copies
// chunk A, the host fills chunk B. Before a chunk is refilled, its event (recorded after its last copy)
// is waited for. A mutex serialises the stager's users (a data loader thread and the training thread
// may share one).
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <new>
#include <vector>

#include "jni_common.h"

namespace {

constexpr uint32_t kStagerMagic = 0x53544147u;  // "STAG"

struct Stager {
    uint32_t magic = kStagerMagic;
    std::mutex mu;
    size_t chunk = 0;
    void* buf[2] = {nullptr, nullptr};
    cudaEvent_t done[2] = {nullptr, nullptr};
    bool pending[2] = {false, false};  // an event recorded after the chunk's last copy, not yet waited for
};

void destroy(Stager* s) {
    for (int k = 0; k < 2; ++k) {
        if (s->done[k]) cudaEventDestroy(s->done[k]);
        if (s->buf[k]) cudaFreeHost(s->buf[k]);
    }
    s->magic = 0;
    delete s;
}

Stager* stager_of(JNIEnv* env, const char* op, jlong handle) {
    Stager* s = reinterpret_cast<Stager*>((uintptr_t)handle);
    if (s == nullptr || s->magic != kStagerMagic) {
        jt::throw_iae(env, op, "stager = 0x%" PRIx64 " is not a live stager (closed twice?)", (uint64_t)handle);
        return nullptr;
    }
    return s;
}

// Waits until chunk k's last copy finished, so it can be refilled.
bool wait_chunk(JNIEnv* env, Stager* s, int k, const char* op) {
    if (!s->pending[k]) return true;
    s->pending[k] = false;
    return jt::check_cuda(env, cudaEventSynchronize(s->done[k]), "cudaEventSynchronize", op);
}

template <class T>
struct ArrayOps;
template <>
struct ArrayOps<float> {
    using Array = jfloatArray;
    static void get(JNIEnv* env, Array a, jint off, jint n, void* to) { env->GetFloatArrayRegion(a, off, n, (jfloat*)to); }
    static void set(JNIEnv* env, Array a, jint off, jint n, const void* from) {
        env->SetFloatArrayRegion(a, off, n, (const jfloat*)from);
    }
};
template <>
struct ArrayOps<int64_t> {
    using Array = jlongArray;
    static void get(JNIEnv* env, Array a, jint off, jint n, void* to) { env->GetLongArrayRegion(a, off, n, (jlong*)to); }
    static void set(JNIEnv* env, Array a, jint off, jint n, const void* from) {
        env->SetLongArrayRegion(a, off, n, (const jlong*)from);
    }
};

// Host -> device: fill a chunk from the array, start its async copy, go on with the other chunk. Returns
// once the array has been read (the copies may still be running; the stream orders later work after them).
template <class T>
void to_device(JNIEnv* env, const char* op, jlong stager, typename ArrayOps<T>::Array src, jint src_offset, jlong dst,
               jint count, jlong stream) {
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!jt::require_array_range(env, op, "src", src, src_offset, count)) return;
    if (!jt::require_device(env, op, "dst", dst, count, sizeof(T))) return;
    Stager* s = stager_of(env, op, stager);
    if (s == nullptr || count == 0) return;
    std::lock_guard<std::mutex> lock(s->mu);
    const int64_t per_chunk = (int64_t)(s->chunk / sizeof(T));
    int k = 0;
    for (int64_t done = 0; done < count; done += per_chunk, k ^= 1) {
        const jint n = (jint)std::min<int64_t>(per_chunk, count - done);
        if (!wait_chunk(env, s, k, op)) return;
        ArrayOps<T>::get(env, src, src_offset + (jint)done, n, s->buf[k]);
        if (env->ExceptionCheck()) return;
        if (!jt::check_cuda(env, cudaMemcpyAsync(jt::dptr<T>(dst) + done, s->buf[k], (size_t)n * sizeof(T),
                                                 cudaMemcpyHostToDevice, jt::stream_of(stream)),
                            "cudaMemcpyAsync", op)) {
            return;
        }
        if (!jt::check_cuda(env, cudaEventRecord(s->done[k], jt::stream_of(stream)), "cudaEventRecord", op)) return;
        s->pending[k] = true;
    }
}

// Device -> host: copy chunk i+1 into one buffer while chunk i is written into the array from the other.
// Returns when every element is in the array (after the stream's earlier work, which the copies follow).
template <class T>
void to_host(JNIEnv* env, const char* op, jlong stager, jlong src, typename ArrayOps<T>::Array dst, jint dst_offset,
             jint count, jlong stream) {
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!jt::require_array_range(env, op, "dst", dst, dst_offset, count)) return;
    if (!jt::require_device(env, op, "src", src, count, sizeof(T))) return;
    Stager* s = stager_of(env, op, stager);
    if (s == nullptr || count == 0) return;
    std::lock_guard<std::mutex> lock(s->mu);
    const int64_t per_chunk = (int64_t)(s->chunk / sizeof(T));
    const int64_t chunks = (count + per_chunk - 1) / per_chunk;
    auto issue = [&](int64_t i) {
        const int k = (int)(i & 1);
        const int64_t first = i * per_chunk;
        const size_t n = (size_t)std::min<int64_t>(per_chunk, count - first);
        return wait_chunk(env, s, k, op) &&
               jt::check_cuda(env, cudaMemcpyAsync(s->buf[k], jt::dptr<T>(src) + first, n * sizeof(T),
                                                   cudaMemcpyDeviceToHost, jt::stream_of(stream)),
                              "cudaMemcpyAsync", op) &&
               jt::check_cuda(env, cudaEventRecord(s->done[k], jt::stream_of(stream)), "cudaEventRecord", op) &&
               (s->pending[k] = true);
    };
    if (!issue(0)) return;
    for (int64_t i = 0; i < chunks; ++i) {
        if (i + 1 < chunks && !issue(i + 1)) return;
        const int k = (int)(i & 1);
        if (!wait_chunk(env, s, k, op)) return;
        const int64_t first = i * per_chunk;
        ArrayOps<T>::set(env, dst, dst_offset + (jint)first, (jint)std::min<int64_t>(per_chunk, count - first), s->buf[k]);
        if (env->ExceptionCheck()) return;
    }
}

jlong JNICALL transferStagerCreate(JNIEnv* env, jclass, jlong chunkBytes) {
    const char* op = "transferStagerCreate";
    if (!jt::require_at_least(env, op, "chunkBytes", chunkBytes, 4096, "4096")) return 0;
    if (chunkBytes % 8 != 0) {
        jt::throw_iae(env, op, "chunkBytes must be a multiple of 8, got %" PRId64, (int64_t)chunkBytes);
        return 0;
    }
    Stager* s = new (std::nothrow) Stager();
    if (s == nullptr) {
        jt::throw_oom(env, op, "cannot allocate a stager");
        return 0;
    }
    s->chunk = (size_t)chunkBytes;
    for (int k = 0; k < 2; ++k) {
        if (!jt::check_cuda(env, cudaMallocHost(&s->buf[k], s->chunk), "cudaMallocHost", op) ||
            !jt::check_cuda(env, cudaEventCreate(&s->done[k]), "cudaEventCreate", op)) {
            destroy(s);
            return 0;
        }
    }
    return (jlong)(uintptr_t)s;
}

void JNICALL transferStagerDestroy(JNIEnv* env, jclass, jlong stager) {
    const char* op = "transferStagerDestroy";
    Stager* s = stager_of(env, op, stager);
    if (s == nullptr) return;
    {
        std::lock_guard<std::mutex> lock(s->mu);
        for (int k = 0; k < 2; ++k) {
            if (s->pending[k]) cudaEventSynchronize(s->done[k]);  // a copy may still read the chunk
        }
    }
    destroy(s);
}

void JNICALL transferFloatsToDevice(JNIEnv* env, jclass, jlong stager, jfloatArray src, jint srcOffset, jlong dst,
                                    jint count, jlong stream) {
    to_device<float>(env, "transferFloatsToDevice", stager, src, srcOffset, dst, count, stream);
}

void JNICALL transferFloatsToHost(JNIEnv* env, jclass, jlong stager, jlong src, jfloatArray dst, jint dstOffset,
                                  jint count, jlong stream) {
    to_host<float>(env, "transferFloatsToHost", stager, src, dst, dstOffset, count, stream);
}

void JNICALL transferLongsToDevice(JNIEnv* env, jclass, jlong stager, jlongArray src, jint srcOffset, jlong dst,
                                   jint count, jlong stream) {
    to_device<int64_t>(env, "transferLongsToDevice", stager, src, srcOffset, dst, count, stream);
}

void JNICALL transferLongsToHost(JNIEnv* env, jclass, jlong stager, jlong src, jlongArray dst, jint dstOffset,
                                 jint count, jlong stream) {
    to_host<int64_t>(env, "transferLongsToHost", stager, src, dst, dstOffset, count, stream);
}

// The reference the Java transfers are measured against: `reps` plain cudaMemcpy calls of `bytes` between
// a device buffer and a pinned (cudaMallocHost) or pageable (malloc) host buffer, each timed on the host
// around the synchronous call. Returns {best seconds, median seconds}.
jdoubleArray JNICALL transferBenchMemcpy(JNIEnv* env, jclass, jlong bytes, jboolean h2d, jboolean pinned, jint reps) {
    const char* op = "transferBenchMemcpy";
    if (!jt::require_positive(env, op, "bytes", bytes) || !jt::require_positive(env, op, "reps", reps)) return nullptr;
    void* dev = nullptr;
    void* host = nullptr;
    if (!jt::check_cuda(env, cudaMalloc(&dev, (size_t)bytes), "cudaMalloc", op)) {
        cudaGetLastError();
        return nullptr;
    }
    if (pinned) {
        if (!jt::check_cuda(env, cudaMallocHost(&host, (size_t)bytes), "cudaMallocHost", op)) {
            cudaFree(dev);
            return nullptr;
        }
    } else {
        host = malloc((size_t)bytes);
        if (host == nullptr) {
            cudaFree(dev);
            jt::throw_oom(env, op, "cannot allocate %" PRId64 " pageable bytes", (int64_t)bytes);
            return nullptr;
        }
    }
    memset(host, 1, (size_t)bytes);  // touch every page, so the first copy does not pay for page faults
    std::vector<double> seconds;
    cudaError_t e = cudaSuccess;
    for (int r = 0; r < reps + 1 && e == cudaSuccess; ++r) {  // one warm-up copy
        const auto t0 = std::chrono::steady_clock::now();
        e = h2d ? cudaMemcpy(dev, host, (size_t)bytes, cudaMemcpyHostToDevice)
                : cudaMemcpy(host, dev, (size_t)bytes, cudaMemcpyDeviceToHost);
        const auto t1 = std::chrono::steady_clock::now();
        if (r > 0) seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    if (pinned) {
        cudaFreeHost(host);
    } else {
        free(host);
    }
    cudaFree(dev);
    if (!jt::check_cuda(env, e, "cudaMemcpy", op)) return nullptr;
    std::sort(seconds.begin(), seconds.end());
    const jdouble out[2] = {seconds.front(), seconds[seconds.size() / 2]};
    jdoubleArray result = env->NewDoubleArray(2);
    if (result == nullptr) return nullptr;  // OutOfMemoryError pending
    env->SetDoubleArrayRegion(result, 0, 2, out);
    return result;
}

}  // namespace

bool jt::register_transfer(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "transfer",
                            {
                                method<transferStagerCreate>("transferStagerCreate"),
                                method<transferStagerDestroy>("transferStagerDestroy"),
                                method<transferFloatsToDevice>("transferFloatsToDevice"),
                                method<transferFloatsToHost>("transferFloatsToHost"),
                                method<transferLongsToDevice>("transferLongsToDevice"),
                                method<transferLongsToHost>("transferLongsToHost"),
                                method<transferBenchMemcpy>("transferBenchMemcpy"),
                            });
}
