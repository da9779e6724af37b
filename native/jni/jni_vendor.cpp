// cuBLAS/cuDNN through native/vendor: the capability report, cuBLAS SGEMM (row-major, for parity and
// benchmarks against our GEMM) and a cuDNN handle check. On emu the report says "not applicable on emu"
// and the calls throw UnsupportedOperationException.
#include "jni_common.h"
#include "../vendor/vendor.h"

namespace {

// "name\tstate\tpath\tversion\tdetail" per library (state: found, missing or n/a).
jstring JNICALL vendorReport(JNIEnv* env, jclass) { return env->NewStringUTF(jt::vendor::report().c_str()); }

void JNICALL cublasSgemm(JNIEnv* env, jclass, jboolean transA, jboolean transB, jint m, jint n, jint k, jfloat alpha,
                         jlong a, jint lda, jlong b, jint ldb, jfloat beta, jlong c, jint ldc, jboolean pedantic,
                         jlong stream) {
    const char* op = "cublasSgemm";
    const jt::vendor::LibraryInfo& info = jt::vendor::cublas_info();
    if (!info.applicable) {
        jt::throw_unsupported(env, op, "cuBLAS is not applicable on emu");
        return;
    }
    if (!info.found) {
        jt::throw_unsupported(env, op, "%s", info.detail.c_str());
        return;
    }
    if (!jt::require_positive(env, op, "m", m) || !jt::require_positive(env, op, "n", n) ||
        !jt::require_positive(env, op, "k", k)) {
        return;
    }
    const int64_t a_rows = transA ? k : m, a_cols = transA ? m : k;
    const int64_t b_rows = transB ? n : k, b_cols = transB ? k : n;
    if (!jt::require_at_least(env, op, "lda", lda, a_cols, transA ? "m" : "k") ||
        !jt::require_at_least(env, op, "ldb", ldb, b_cols, transB ? "k" : "n") ||
        !jt::require_at_least(env, op, "ldc", ldc, n, "n")) {
        return;
    }
    int64_t ea = 0, eb = 0, ec = 0;
    if (!jt::matrix_extent(env, op, "a", a_rows, a_cols, lda, &ea) ||
        !jt::matrix_extent(env, op, "b", b_rows, b_cols, ldb, &eb) ||
        !jt::matrix_extent(env, op, "c", m, n, ldc, &ec)) {
        return;
    }
    if (!jt::require_device_of<float>(env, op, "a", a, ea) || !jt::require_device_of<float>(env, op, "b", b, eb) ||
        !jt::require_device_of<float>(env, op, "c", c, ec)) {
        return;
    }
    const char* call = "";
    int s = jt::vendor::cublas_sgemm(transA, transB, m, n, k, alpha, jt::dptr<const float>(a), lda,
                                     jt::dptr<const float>(b), ldb, beta, jt::dptr<float>(c), ldc,
                                     jt::stream_of(stream), pedantic != JNI_FALSE, &call);
    if (s == 0) return;
    if (std::string(call) == "cudaGetDevice") {
        jt::throw_cuda(env, call, (cudaError_t)s, op);
        return;
    }
    jt::throw_vendor(env, call, s, jt::vendor::cublas_status_name(s).c_str(),
                     jt::vendor::cublas_status_string(s).c_str(), op);
}

// Creates and destroys a cuDNN handle: returns normally when cuDNN works on this device.
void JNICALL cudnnHandleCheck(JNIEnv* env, jclass) {
    const char* op = "cudnnHandleCheck";
    const jt::vendor::LibraryInfo& info = jt::vendor::cudnn_info();
    if (!info.applicable) {
        jt::throw_unsupported(env, op, "cuDNN is not applicable on emu");
        return;
    }
    if (!info.found) {
        jt::throw_unsupported(env, op, "%s", info.detail.c_str());
        return;
    }
    const char* call = "";
    int s = jt::vendor::cudnn_handle_check(&call);
    if (s != 0) {
        std::string str = jt::vendor::cudnn_error_string(s);
        jt::throw_vendor(env, call, s, ("CUDNN_STATUS_" + std::to_string(s)).c_str(), str.c_str(), op);
    }
}

}  // namespace

bool jt::register_vendor(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "vendor",
                            {
                                method("vendorReport", vendorReport),
                                method("cublasSgemm", cublasSgemm),
                                method("cudnnHandleCheck", cudnnHandleCheck),
                            });
}
