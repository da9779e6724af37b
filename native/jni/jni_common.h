// Shared by every JNI file of the native library (native/README.md, "JNI"):
//   - the method tables each kernel family registers on JT_JNI_CLASS from JNI_OnLoad, with the JNI
//     signature derived from the C++ function type (no hand-written "(JIF)V" strings to get wrong);
//   - exception helpers: IllegalArgumentException naming the op and the argument, and
//     dev.jtrain.backend.jni.CudaException(call, statusCode, statusName, statusString, op, detail);
//   - argument checks: null pointers, negative sizes, size overflow, and device ranges checked against
//     the allocations this library made (strict on emu, where device memory is host memory and a
//     kernel writing past an allocation would corrupt the JVM's heap).
// Every check returns false after throwing, so entry points read
//   if (!jt::require_ptr(env, op, "x", x)) return;
// and return at once with the Java exception pending. Nothing here throws C++ exceptions.
#pragma once

#include <jni.h>
#include <stddef.h>
#include <stdint.h>

#include <exception>
#include <initializer_list>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "common.cuh"  // the CUDA runtime: real under nvcc, emulated (native/emu/cuda_emu.h) otherwise
#include "device_error.h"

// Which build this translation unit belongs to. The CUDA library compiles its JNI sources with the host
// compiler and JT_CUDA_REAL defined (cmake/JtrainCuda.cmake), so common.cuh -> cuda_emu.h hands them the
// real <cuda_runtime.h>; the emu library compiles them against the emulation.
#if defined(__CUDACC__) || defined(JT_CUDA_REAL)
#define JT_JNI_REAL_CUDA 1
#define JT_JNI_BUILD_KIND "cuda"
#else
#define JT_JNI_EMU 1
#define JT_JNI_BUILD_KIND "emu"
#endif

// The Java class whose static natives this library registers (set by CMake per library, so the emu and
// CUDA libraries load side by side in one JVM). Defaults follow the build kind.
#ifndef JT_JNI_CLASS
#ifdef JT_JNI_REAL_CUDA
#define JT_JNI_CLASS "dev/jtrain/backend/jni/CudaNative"
#else
#define JT_JNI_CLASS "dev/jtrain/backend/jni/EmuNative"
#endif
#endif

namespace jt {

// ------------------------------------------------------------------ JNI signatures from C++ types

template <class T>
struct JniSig;
template <> struct JniSig<void> { static constexpr const char* s = "V"; };
template <> struct JniSig<jboolean> { static constexpr const char* s = "Z"; };
template <> struct JniSig<jbyte> { static constexpr const char* s = "B"; };
template <> struct JniSig<jchar> { static constexpr const char* s = "C"; };
template <> struct JniSig<jshort> { static constexpr const char* s = "S"; };
template <> struct JniSig<jint> { static constexpr const char* s = "I"; };
template <> struct JniSig<jlong> { static constexpr const char* s = "J"; };
template <> struct JniSig<jfloat> { static constexpr const char* s = "F"; };
template <> struct JniSig<jdouble> { static constexpr const char* s = "D"; };
template <> struct JniSig<jstring> { static constexpr const char* s = "Ljava/lang/String;"; };
template <> struct JniSig<jfloatArray> { static constexpr const char* s = "[F"; };
template <> struct JniSig<jlongArray> { static constexpr const char* s = "[J"; };
template <> struct JniSig<jintArray> { static constexpr const char* s = "[I"; };
template <> struct JniSig<jbyteArray> { static constexpr const char* s = "[B"; };
template <> struct JniSig<jdoubleArray> { static constexpr const char* s = "[D"; };

template <class R, class... A>
std::string jni_signature(R (*)(JNIEnv*, jclass, A...)) {
    std::string s = "(";
    ((s += JniSig<A>::s), ...);
    s += ")";
    s += JniSig<R>::s;
    return s;
}

// One static native method: its Java name, its JNI signature and the C function.
struct Method {
    const char* name;
    std::string signature;
    void* fn;
};

// A C++ exception must never unwind into the JVM (that ends the process): every registered entry point
// runs inside Guarded<F>::call, which turns std::bad_alloc into an OutOfMemoryError and any other
// exception into an IllegalStateException (unless a Java exception is already pending).
void guard_failure(JNIEnv* env, bool out_of_memory, const char* what);

template <auto F>
struct Guarded;

template <class R, class... A, R (*F)(JNIEnv*, jclass, A...)>
struct Guarded<F> {
    static R JNICALL call(JNIEnv* env, jclass cls, A... args) {
        try {
            return F(env, cls, args...);
        } catch (const std::bad_alloc&) {
            guard_failure(env, true, "out of host memory (std::bad_alloc) in native code");
        } catch (const std::exception& e) {
            guard_failure(env, false, e.what());
        } catch (...) {
            guard_failure(env, false, "an unknown C++ exception in native code");
        }
        if constexpr (!std::is_void_v<R>) return R{};
    }
};

// The entry point F registered under `name`, guarded; its JNI signature follows from its C++ types.
template <auto F>
Method method(const char* name) {
    auto* fn = &Guarded<F>::call;
    return Method{name, jni_signature(fn), reinterpret_cast<void*>(fn)};
}

// Registers methods on cls (RegisterNatives); on failure the Java exception (NoSuchMethodError naming
// the method) stays pending and false is returned. Also records them for methodTable().
bool register_methods(JNIEnv* env, jclass cls, const char* family, const std::vector<Method>& methods);

// Each file registers its family's methods (called from JNI_OnLoad in jni_common.cpp).
bool register_runtime(JNIEnv* env, jclass cls);
bool register_vendor(JNIEnv* env, jclass cls);
bool register_gemm(JNIEnv* env, jclass cls);
bool register_activations(JNIEnv* env, jclass cls);
bool register_softmax_xent(JNIEnv* env, jclass cls);
bool register_reduce(JNIEnv* env, jclass cls);
bool register_elementwise(JNIEnv* env, jclass cls);
bool register_batchnorm(JNIEnv* env, jclass cls);
bool register_dropout(JNIEnv* env, jclass cls);
bool register_optim(JNIEnv* env, jclass cls);
bool register_conv_im2col(JNIEnv* env, jclass cls);
bool register_pool(JNIEnv* env, jclass cls);
bool register_transfer(JNIEnv* env, jclass cls);

// "family name signature" lines of every registered method, for the Java test that checks the Java
// declarations and the native tables agree.
std::string method_table();

// ------------------------------------------------------------------ exceptions

// Throws java.lang.IllegalArgumentException("op: message"). Always returns false.
bool throw_iae(JNIEnv* env, const char* op, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
// java.lang.IllegalStateException, same form.
bool throw_ise(JNIEnv* env, const char* op, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
// java.lang.UnsupportedOperationException, same form.
bool throw_unsupported(JNIEnv* env, const char* op, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
// java.lang.OutOfMemoryError, same form (host allocations inside this library).
bool throw_oom(JNIEnv* env, const char* op, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

// Throws CudaException(call, status, name, string, op, detail) where detail is the emu's last error
// detail (barrier divergence, deadlock, ...) or "". Always returns false.
bool throw_cuda(JNIEnv* env, const char* call, cudaError_t status, const char* op);

// true when status is cudaSuccess; else throws CudaException naming call and op and returns false.
inline bool check_cuda(JNIEnv* env, cudaError_t status, const char* call, const char* op) {
    return status == cudaSuccess || throw_cuda(env, call, status, op);
}

// Throws a CudaException for a vendor library status (cuBLAS/cuDNN): call, numeric status, its name
// and description as the vendor library gives them.
bool throw_vendor(JNIEnv* env, const char* call, int status, const char* name, const char* string, const char* op);

// The emu's last error detail ("" on the CUDA build or when there is none).
const char* emu_last_error_detail();

// ------------------------------------------------------------------ argument checks

// p != 0.
bool require_ptr(JNIEnv* env, const char* op, const char* name, jlong p);
// v >= 0.
bool require_nonneg(JNIEnv* env, const char* op, const char* name, jlong v);
// v >= 1.
bool require_positive(JNIEnv* env, const char* op, const char* name, jlong v);
// A stream argument: 0 (the default stream) or a stream created by streamCreate and not yet
// destroyed; else IllegalArgumentException naming it (an unknown handle is never passed to CUDA).
bool require_stream(JNIEnv* env, const char* op, const char* name, jlong stream);
// IllegalArgumentException unless event was made by eventCreate and not destroyed.
bool require_event(JNIEnv* env, const char* op, const char* name, jlong event);
// v >= min (min > 0 typically a leading dimension's lower bound).
bool require_at_least(JNIEnv* env, const char* op, const char* name, jlong v, jlong min, const char* min_what);
// *out = a * b, throwing when it overflows int64 ("size overflow: what = a x b").
bool mul_size(JNIEnv* env, const char* op, const char* what, int64_t a, int64_t b, int64_t* out);
// A Java array is non-null and [offset, offset + count) lies inside it.
bool require_array_range(JNIEnv* env, const char* op, const char* name, jarray array, jint offset, jint count);

// The device range [p, p + elements * elem_size) is usable by a kernel:
//   - p == 0 is an error unless nullable (then the range is not checked); elements == 0 needs no memory;
//   - the byte count must not overflow;
//   - on emu, p must lie inside a live allocation made by this library's malloc with the whole range
//     inside it (a freed allocation is named as freed); on CUDA, pointers from elsewhere (JCuda) are
//     accepted, and those from this library's malloc are checked the same way.
bool require_device(JNIEnv* env, const char* op, const char* name, jlong p, int64_t elements, size_t elem_size,
                    bool nullable = false);

template <class T>
inline bool require_device_of(JNIEnv* env, const char* op, const char* name, jlong p, int64_t elements,
                              bool nullable = false) {
    return require_device(env, op, name, p, elements, sizeof(T), nullable);
}

// Elements spanned by a row-major matrix view of rows x cols with leading dimension ld (ld >= cols):
// (rows - 1) * ld + cols, or 0 when empty. Throws on overflow.
bool matrix_extent(JNIEnv* env, const char* op, const char* name, int64_t rows, int64_t cols, int64_t ld,
                   int64_t* out);

// A chain of checks for one entry point; after the first failure (Java exception pending) the rest are
// skipped and the chain converts to false:
//   jt::Check ck(env, "reduceSum");
//   if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, 1)) return;
class Check {
public:
    Check(JNIEnv* env, const char* op) : env_(env), op_(op) {}
    explicit operator bool() const { return ok_; }
    JNIEnv* env() const { return env_; }
    const char* op() const { return op_; }

    Check& nonneg(const char* name, jlong v) {
        ok_ = ok_ && require_nonneg(env_, op_, name, v);
        return *this;
    }
    Check& positive(const char* name, jlong v) {
        ok_ = ok_ && require_positive(env_, op_, name, v);
        return *this;
    }
    Check& at_least(const char* name, jlong v, jlong min, const char* min_what) {
        ok_ = ok_ && require_at_least(env_, op_, name, v, min, min_what);
        return *this;
    }
    // A condition on the arguments that has no simpler form; message names them.
    Check& that(bool cond, const char* message) {
        if (ok_ && !cond) ok_ = throw_iae(env_, op_, "%s", message);
        return *this;
    }
    // *out = product of the factors (all >= 0), naming `what` on overflow.
    Check& product(const char* what, std::initializer_list<int64_t> factors, int64_t* out) {
        if (!ok_) return *this;
        int64_t p = 1;
        for (int64_t f : factors) {
            if (!(ok_ = mul_size(env_, op_, what, p, f, &p))) return *this;
        }
        *out = p;
        return *this;
    }
    // Device ranges of float / int64 elements; nullable pointers may be 0 (then unchecked). A null pointer
    // is also accepted for an empty range (the kernel touches nothing).
    Check& f32(const char* name, jlong p, int64_t elements, bool nullable = false) {
        return dev(name, p, elements, sizeof(float), nullable);
    }
    Check& i64(const char* name, jlong p, int64_t elements, bool nullable = false) {
        return dev(name, p, elements, sizeof(int64_t), nullable);
    }
    Check& bytes(const char* name, jlong p, int64_t count, bool nullable = false) {
        return dev(name, p, count, 1, nullable);
    }
    // The device error record of a value-checking kernel (kernels/device_error.h): 0 = no checks, else one whole
    // JtDeviceError inside a live allocation, 8-byte aligned (its 64-bit atomics fault on a GPU otherwise).
    Check& err_record(const char* name, jlong p) {
        if (ok_ && p != 0 && (p & 7) != 0) {
            ok_ = throw_iae(env_, op_, "%s (the device error record) must be 8-byte aligned, got 0x%llx", name,
                            (unsigned long long)p);
        }
        return dev(name, p, p == 0 ? 0 : 1, sizeof(JtDeviceError), true);
    }
    Check& dev(const char* name, jlong p, int64_t elements, size_t elem_size, bool nullable) {
        ok_ = ok_ && require_device(env_, op_, name, p, elements, elem_size, nullable || elements == 0);
        return *this;
    }

private:
    JNIEnv* env_;
    const char* op_;
    bool ok_ = true;
};

// The geometry of a convolution or pooling window over NCHW input (conv_im2col.h, pool.h): n, c, h, w,
// kernel and stride >= 1, padding >= 0, the padded input at least as large as the kernel. Gives the
// output size and the element counts of x [n, c, h, w] and of the output planes [n, c, oh, ow].
struct Window {
    int64_t x_elems = 0, y_elems = 0;
    int oh = 0, ow = 0;
};

inline bool window(Check& ck, jint n, jint c, jint h, jint w, jint kh, jint kw, jint sh, jint sw, jint ph, jint pw,
                   Window* out) {
    ck.positive("n", n).positive("c", c).positive("h", h).positive("w", w).positive("kh", kh).positive("kw", kw);
    ck.positive("sh", sh).positive("sw", sw).nonneg("ph", ph).nonneg("pw", pw);
    ck.that((int64_t)h + 2 * (int64_t)ph >= kh, "the padded height h + 2 ph is smaller than the kernel height kh");
    ck.that((int64_t)w + 2 * (int64_t)pw >= kw, "the padded width w + 2 pw is smaller than the kernel width kw");
    if (!ck) return false;
    out->oh = (int)(((int64_t)h + 2 * (int64_t)ph - kh) / sh + 1);
    out->ow = (int)(((int64_t)w + 2 * (int64_t)pw - kw) / sw + 1);
    return (bool)ck.product("n * c * h * w", {n, c, h, w}, &out->x_elems)
        .product("n * c * oh * ow", {n, c, out->oh, out->ow}, &out->y_elems);
}

// Launches a jt_* launcher and maps its status: JT_LAUNCH(ck, jt_reduce_sum, x, n, out, ws, stream);
// evaluates to true on cudaSuccess, else a CudaException naming the launcher and the op is pending.
// The thread's last error is cleared first, so a stale error of an earlier runtime call is not
// reported as this launch's status.
#define JT_LAUNCH(ck, fn, ...) \
    (static_cast<void>(cudaGetLastError()), ::jt::check_cuda((ck).env(), fn(__VA_ARGS__), #fn, (ck).op()))

// ------------------------------------------------------------------ the allocation registry

// Records an allocation made by this library's malloc (device memory: host memory under emu).
// The streams created through streamCreate and not yet destroyed (mutex-guarded).
bool stream_register(jlong stream);
// Forgets a live stream; false when it is not one.
bool stream_unregister(jlong stream);
bool stream_is_live(jlong stream);
// The events created through eventCreate and not yet destroyed (mutex-guarded), as the streams.
bool event_register(jlong event);
bool event_unregister(jlong event);
bool event_is_live(jlong event);

bool registry_add(uintptr_t base, size_t bytes);
// Forgets it; false when base is not a live allocation's base (then *was_freed tells whether it was
// freed before, as far as the recent history shows).
bool registry_remove(uintptr_t base, bool* was_freed);
// Live allocations: count and bytes.
void registry_stats(int64_t* count, int64_t* bytes);

template <class T>
inline T* dptr(jlong p) {
    return reinterpret_cast<T*>(static_cast<uintptr_t>(p));
}

inline cudaStream_t stream_of(jlong s) {
    return reinterpret_cast<cudaStream_t>(static_cast<uintptr_t>(s));
}

inline cudaEvent_t event_of(jlong e) {
    return reinterpret_cast<cudaEvent_t>(static_cast<uintptr_t>(e));
}

}  // namespace jt
