// JNI_OnLoad, exception helpers, argument checks and the allocation registry (see jni_common.h).
#include "jni_common.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <deque>
#include <map>
#include <mutex>
#include <unordered_set>

namespace jt {

namespace {

struct Refs {
    jclass iae = nullptr;
    jclass ise = nullptr;
    jclass unsupported = nullptr;
    jclass oom = nullptr;
    jclass cuda_exception = nullptr;
    jmethodID cuda_exception_ctor = nullptr;
};

Refs g_refs;
std::string g_method_table;

jclass global_class(JNIEnv* env, const char* name) {
    jclass local = env->FindClass(name);
    if (local == nullptr) return nullptr;  // NoClassDefFoundError pending
    jclass global = static_cast<jclass>(env->NewGlobalRef(local));
    env->DeleteLocalRef(local);
    return global;
}

bool throw_formatted(JNIEnv* env, jclass cls, const char* op, const char* fmt, va_list ap) {
    char msg[1024];
    int used = snprintf(msg, sizeof msg, "%s: ", op ? op : "native");
    if (used < 0) used = 0;
    if ((size_t)used < sizeof msg) vsnprintf(msg + used, sizeof msg - (size_t)used, fmt, ap);
    if (env->ExceptionCheck()) return false;  // keep the first exception
    if (cls != nullptr) env->ThrowNew(cls, msg);
    return false;
}

}  // namespace

// ------------------------------------------------------------------ registration

bool register_methods(JNIEnv* env, jclass cls, const char* family, const std::vector<Method>& methods) {
    if (methods.empty()) return true;
    std::vector<JNINativeMethod> table;
    table.reserve(methods.size());
    for (const Method& m : methods) {
        table.push_back(JNINativeMethod{const_cast<char*>(m.name), const_cast<char*>(m.signature.c_str()), m.fn});
    }
    if (env->RegisterNatives(cls, table.data(), (jint)table.size()) != JNI_OK) {
        // RegisterNatives stops at the first method it cannot find; name every one of the family so the
        // mismatch between the Java declarations and this table is easy to find.
        jthrowable cause = env->ExceptionOccurred();
        env->ExceptionClear();
        std::string msg = std::string("jtrain native library: cannot register the ") + family + " methods on " +
                          JT_JNI_CLASS + " (the Java declarations and the native table differ):";
        for (const Method& m : methods) msg += std::string(" ") + m.name + m.signature;
        jclass ule = env->FindClass("java/lang/UnsatisfiedLinkError");
        if (ule != nullptr) env->ThrowNew(ule, msg.c_str());
        if (cause != nullptr) env->DeleteLocalRef(cause);
        return false;
    }
    for (const Method& m : methods) {
        g_method_table += family;
        g_method_table += ' ';
        g_method_table += m.name;
        g_method_table += ' ';
        g_method_table += m.signature;
        g_method_table += '\n';
    }
    return true;
}

std::string method_table() { return g_method_table; }

// ------------------------------------------------------------------ exceptions

bool throw_iae(JNIEnv* env, const char* op, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    throw_formatted(env, g_refs.iae, op, fmt, ap);
    va_end(ap);
    return false;
}

bool throw_ise(JNIEnv* env, const char* op, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    throw_formatted(env, g_refs.ise, op, fmt, ap);
    va_end(ap);
    return false;
}

bool throw_unsupported(JNIEnv* env, const char* op, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    throw_formatted(env, g_refs.unsupported, op, fmt, ap);
    va_end(ap);
    return false;
}

void guard_failure(JNIEnv* env, bool out_of_memory, const char* what) {
    if (env->ExceptionCheck()) return;  // the entry point already threw: keep that one
    if (out_of_memory) {
        throw_oom(env, "native", "%s", what);
    } else {
        throw_ise(env, "native", "%s", what);
    }
}

bool throw_oom(JNIEnv* env, const char* op, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    throw_formatted(env, g_refs.oom, op, fmt, ap);
    va_end(ap);
    return false;
}

const char* emu_last_error_detail() {
#ifdef JT_JNI_EMU
    // The emulation's description of its last failure on this thread (barrier divergence, deadlock, ...).
    const char* d = jt_emu_last_error_detail();
    return d ? d : "";
#else
    return "";
#endif
}

static bool throw_cuda_exception(JNIEnv* env, const char* call, int status, const char* name, const char* string,
                                 const char* op, const char* detail) {
    if (env->ExceptionCheck()) return false;
    if (g_refs.cuda_exception == nullptr || g_refs.cuda_exception_ctor == nullptr) {
        return throw_ise(env, op, "%s failed: %s (%d): %s", call, name, status, string);
    }
    // Each NewStringUTF may fail with an OutOfMemoryError pending: then no further JNI call but
    // cleanup (DeleteLocalRef is allowed with an exception pending).
    jstring jcall = nullptr, jname = nullptr, jstr = nullptr, jop = nullptr, jdetail = nullptr;
    auto cleanup = [&] {
        if (jcall) env->DeleteLocalRef(jcall);
        if (jname) env->DeleteLocalRef(jname);
        if (jstr) env->DeleteLocalRef(jstr);
        if (jop) env->DeleteLocalRef(jop);
        if (jdetail) env->DeleteLocalRef(jdetail);
    };
    if ((jcall = env->NewStringUTF(call ? call : "")) == nullptr || (jname = env->NewStringUTF(name ? name : "")) == nullptr ||
        (jstr = env->NewStringUTF(string ? string : "")) == nullptr || (jop = env->NewStringUTF(op ? op : "")) == nullptr ||
        (jdetail = env->NewStringUTF(detail ? detail : "")) == nullptr) {
        cleanup();
        return false;  // out of memory while building the message: that error is pending
    }
    jobject ex = env->NewObject(g_refs.cuda_exception, g_refs.cuda_exception_ctor, jcall, (jint)status, jname, jstr,
                                jop, jdetail);
    if (ex != nullptr) {
        env->Throw(static_cast<jthrowable>(ex));
        env->DeleteLocalRef(ex);
    }
    cleanup();
    return false;
}

bool throw_cuda(JNIEnv* env, const char* call, cudaError_t status, const char* op) {
    // Copy the detail first: it is valid only until the next runtime call on this thread.
    char detail[2048];
    snprintf(detail, sizeof detail, "%s", emu_last_error_detail());
    const char* name = cudaGetErrorName(status);
    const char* string = cudaGetErrorString(status);
    // The failure becomes this exception: clear the thread's last error so that the next launch's
    // status (cudaGetLastError) does not report it again.
    (void)cudaGetLastError();
    return throw_cuda_exception(env, call, (int)status, name, string, op, detail);
}

bool throw_vendor(JNIEnv* env, const char* call, int status, const char* name, const char* string, const char* op) {
    return throw_cuda_exception(env, call, status, name, string, op, "");
}

// ------------------------------------------------------------------ argument checks

bool require_ptr(JNIEnv* env, const char* op, const char* name, jlong p) {
    return p != 0 || throw_iae(env, op, "%s is a null device pointer (0)", name);
}

bool require_nonneg(JNIEnv* env, const char* op, const char* name, jlong v) {
    return v >= 0 || throw_iae(env, op, "%s must be >= 0, got %" PRId64, name, (int64_t)v);
}

bool require_positive(JNIEnv* env, const char* op, const char* name, jlong v) {
    return v >= 1 || throw_iae(env, op, "%s must be >= 1, got %" PRId64, name, (int64_t)v);
}

bool require_at_least(JNIEnv* env, const char* op, const char* name, jlong v, jlong min, const char* min_what) {
    return v >= min ||
           throw_iae(env, op, "%s must be >= %s (%" PRId64 "), got %" PRId64, name, min_what, (int64_t)min, (int64_t)v);
}

bool mul_size(JNIEnv* env, const char* op, const char* what, int64_t a, int64_t b, int64_t* out) {
    if (a < 0 || b < 0) return throw_iae(env, op, "%s: negative size %" PRId64 " x %" PRId64, what, a, b);
    if (__builtin_mul_overflow(a, b, out)) {
        return throw_iae(env, op, "size overflow: %s = %" PRId64 " x %" PRId64 " does not fit in 64 bits", what, a, b);
    }
    return true;
}

bool require_array_range(JNIEnv* env, const char* op, const char* name, jarray array, jint offset, jint count) {
    if (array == nullptr) return throw_iae(env, op, "%s is a null array", name);
    if (offset < 0) return throw_iae(env, op, "%s offset must be >= 0, got %d", name, (int)offset);
    if (count < 0) return throw_iae(env, op, "%s count must be >= 0, got %d", name, (int)count);
    const jsize length = env->GetArrayLength(array);
    if ((int64_t)offset + (int64_t)count > (int64_t)length) {
        return throw_iae(env, op, "%s has %d elements, too short for offset %d + count %d", name, (int)length,
                         (int)offset, (int)count);
    }
    return true;
}

bool matrix_extent(JNIEnv* env, const char* op, const char* name, int64_t rows, int64_t cols, int64_t ld,
                   int64_t* out) {
    if (rows <= 0 || cols <= 0) {
        *out = 0;
        return true;
    }
    int64_t full = 0;
    if (!mul_size(env, op, name, rows - 1, ld, &full)) return false;
    if (__builtin_add_overflow(full, cols, out)) {
        return throw_iae(env, op, "size overflow: %s spans more than 2^63 elements", name);
    }
    return true;
}

// ------------------------------------------------------------------ the allocation registry

namespace {

struct Registry {
    std::mutex mu;
    std::map<uintptr_t, size_t> live;                     // base -> bytes
    std::deque<std::pair<uintptr_t, size_t>> freed;       // recently freed ranges, newest last
    int64_t live_bytes = 0;
    static constexpr size_t kFreedHistory = 4096;
};

Registry& registry() {
    static Registry* r = new Registry();  // never destroyed: the Cleaner thread may free late at exit
    return *r;
}

enum class Lookup { Inside, PastEnd, Freed, Unknown };

// Finds the live allocation that holds p; reports whether [p, p + bytes) fits.
Lookup lookup(uintptr_t p, size_t bytes, uintptr_t* base, size_t* size) {
    Registry& r = registry();
    auto it = r.live.upper_bound(p);
    if (it != r.live.begin()) {
        --it;
        if (p >= it->first && p - it->first < it->second) {
            *base = it->first;
            *size = it->second;
            size_t off = p - it->first;
            return bytes <= it->second - off ? Lookup::Inside : Lookup::PastEnd;
        }
    }
    for (auto f = r.freed.rbegin(); f != r.freed.rend(); ++f) {
        if (p >= f->first && p - f->first < f->second) {
            *base = f->first;
            *size = f->second;
            return Lookup::Freed;
        }
    }
    return Lookup::Unknown;
}

}  // namespace

namespace {
struct Streams {
    std::mutex mu;
    std::unordered_set<jlong> live;
};
Streams& streams() {
    static Streams* s = new Streams;  // never destroyed
    return *s;
}
}  // namespace

bool stream_register(jlong stream) {
    Streams& s = streams();
    std::lock_guard<std::mutex> lock(s.mu);
    try {
        return s.live.insert(stream).second;
    } catch (...) {
        return false;
    }
}

bool stream_unregister(jlong stream) {
    Streams& s = streams();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.live.erase(stream) != 0;
}

bool stream_is_live(jlong stream) {
    Streams& s = streams();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.live.count(stream) != 0;
}

namespace {
Streams& events() {
    static Streams* s = new Streams;  // the same kind of set; never destroyed
    return *s;
}
}  // namespace

bool event_register(jlong event) {
    Streams& s = events();
    std::lock_guard<std::mutex> lock(s.mu);
    try {
        return s.live.insert(event).second;
    } catch (...) {
        return false;
    }
}

bool event_unregister(jlong event) {
    Streams& s = events();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.live.erase(event) != 0;
}

bool event_is_live(jlong event) {
    Streams& s = events();
    std::lock_guard<std::mutex> lock(s.mu);
    return s.live.count(event) != 0;
}

bool require_event(JNIEnv* env, const char* op, const char* name, jlong event) {
    return (event != 0 && event_is_live(event)) ||
           throw_iae(env, op, "%s (0x%" PRIx64 ") is not a live event: not created by eventCreate, or destroyed",
                     name, (uint64_t)event);
}

bool require_stream(JNIEnv* env, const char* op, const char* name, jlong stream) {
    return stream == 0 || stream_is_live(stream) ||
           throw_iae(env, op, "%s (0x%" PRIx64 ") is not a live stream: not created by streamCreate, or destroyed",
                     name, (uint64_t)stream);
}

bool registry_add(uintptr_t base, size_t bytes) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    try {
        r.live[base] = bytes;
    } catch (...) {
        return false;
    }
    r.live_bytes += (int64_t)bytes;
    // A new allocation at a freed address is live again: drop the stale history entries it overlaps.
    for (auto f = r.freed.begin(); f != r.freed.end();) {
        bool overlap = f->first < base + bytes && base < f->first + f->second;
        f = overlap ? r.freed.erase(f) : f + 1;
    }
    return true;
}

bool registry_remove(uintptr_t base, bool* was_freed) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    *was_freed = false;
    auto it = r.live.find(base);
    if (it == r.live.end()) {
        for (auto& f : r.freed) {
            if (f.first == base) *was_freed = true;
        }
        return false;
    }
    r.live_bytes -= (int64_t)it->second;
    try {
        r.freed.emplace_back(it->first, it->second);
        if (r.freed.size() > Registry::kFreedHistory) r.freed.pop_front();
    } catch (...) {
    }
    r.live.erase(it);
    return true;
}

void registry_stats(int64_t* count, int64_t* bytes) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    *count = (int64_t)r.live.size();
    *bytes = r.live_bytes;
}

bool require_device(JNIEnv* env, const char* op, const char* name, jlong p, int64_t elements, size_t elem_size,
                    bool nullable) {
    if (p == 0) {
        return nullable || throw_iae(env, op, "%s is a null device pointer (0)", name);
    }
    if (elements < 0) return throw_iae(env, op, "%s: negative element count %" PRId64, name, elements);
    int64_t bytes = 0;
    if (!mul_size(env, op, name, elements, (int64_t)elem_size, &bytes)) return false;
    if (bytes == 0) return true;  // nothing is read or written
    const uintptr_t up = static_cast<uintptr_t>(p);
    if (elem_size > 1 && up % elem_size != 0) {
        return throw_iae(env, op, "%s = 0x%" PRIxPTR " is not aligned to its %zu-byte elements", name, up, elem_size);
    }
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    uintptr_t base = 0;
    size_t size = 0;
    switch (lookup(up, (size_t)bytes, &base, &size)) {
        case Lookup::Inside:
            return true;
        case Lookup::PastEnd:
            return throw_iae(env, op,
                             "%s needs %" PRId64 " bytes at offset %zu of a %zu-byte device allocation (0x%" PRIxPTR
                             "): past its end",
                             name, bytes, (size_t)(up - base), size, base);
        case Lookup::Freed:
            return throw_iae(env, op, "%s = 0x%" PRIxPTR " points into device memory that was freed (allocation 0x%"
                             PRIxPTR ", %zu bytes)", name, up, base, size);
        case Lookup::Unknown:
        default:
#ifdef JT_JNI_EMU
            return throw_iae(env, op, "%s = 0x%" PRIxPTR " is not emu device memory allocated by malloc (or it was "
                             "freed long ago)", name, up);
#else
            return true;  // memory from JCuda or another allocator: not ours to check
#endif
    }
}

}  // namespace jt

// ------------------------------------------------------------------ JNI_OnLoad

extern "C" JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM* vm, void*) {
    JNIEnv* env = nullptr;
    if (vm->GetEnv(reinterpret_cast<void**>(&env), JNI_VERSION_1_8) != JNI_OK || env == nullptr) return JNI_ERR;

    jt::Refs& r = jt::g_refs;
    r.iae = jt::global_class(env, "java/lang/IllegalArgumentException");
    r.ise = jt::global_class(env, "java/lang/IllegalStateException");
    r.unsupported = jt::global_class(env, "java/lang/UnsupportedOperationException");
    r.oom = jt::global_class(env, "java/lang/OutOfMemoryError");
    if (env->ExceptionCheck()) return JNI_ERR;
    r.cuda_exception = jt::global_class(env, "dev/jtrain/backend/jni/CudaException");
    if (r.cuda_exception == nullptr) return JNI_ERR;  // NoClassDefFoundError pending: reaches System.load's caller
    r.cuda_exception_ctor = env->GetMethodID(
        r.cuda_exception, "<init>",
        "(Ljava/lang/String;ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V");
    if (r.cuda_exception_ctor == nullptr) return JNI_ERR;

    jclass cls = env->FindClass(JT_JNI_CLASS);
    if (cls == nullptr) return JNI_ERR;
    jt::g_method_table.clear();
    bool ok = jt::register_runtime(env, cls) && jt::register_vendor(env, cls) && jt::register_gemm(env, cls) &&
              jt::register_activations(env, cls) && jt::register_softmax_xent(env, cls) &&
              jt::register_reduce(env, cls) && jt::register_elementwise(env, cls) &&
              jt::register_batchnorm(env, cls) && jt::register_dropout(env, cls) && jt::register_optim(env, cls) &&
              jt::register_conv_im2col(env, cls) && jt::register_pool(env, cls) &&
              jt::register_transfer(env, cls);
    env->DeleteLocalRef(cls);
    return ok ? JNI_VERSION_1_8 : JNI_ERR;
}
