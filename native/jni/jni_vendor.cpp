// cuBLAS/cuDNN through native/vendor: the capability report, cuBLAS SGEMM (row-major, for parity and
// benchmarks against our GEMM), a cuDNN handle check, and the cuDNN convolution, BatchNorm, activation and
// pooling calls (native/vendor/vendor_ops.h: jt_vendor_*). On emu the report says "not applicable on emu"
// and the calls throw UnsupportedOperationException; so they do where a library or the group of functions
// a call needs was not found (the message says what was tried).
#include "jni_common.h"
#include "../vendor/vendor.h"
#include "../vendor/vendor_ops.h"

namespace {

// "name\tstate\tpath\tversion\tdetail" per library (state: found, missing or n/a).
jstring JNICALL vendorReport(JNIEnv* env, jclass) { return env->NewStringUTF(jt::vendor::report().c_str()); }

void JNICALL cublasSgemm(JNIEnv* env, jclass, jboolean transA, jboolean transB, jint m, jint n, jint k, jfloat alpha,
                         jlong a, jint lda, jlong b, jint ldb, jfloat beta, jlong c, jint ldc, jboolean pedantic,
                         jlong stream) {
    const char* op = "cublasSgemm";
    if (!jt::require_stream(env, op, "stream", stream)) return;
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


// ------------------------------------------------------------------ cuDNN ops (vendor_ops.h)

// cuDNN is applicable and loaded; else UnsupportedOperationException saying why (before any argument check:
// the missing library is the useful message).
bool cudnn_ready(JNIEnv* env, const char* op) {
    const jt::vendor::LibraryInfo& info = jt::vendor::cudnn_info();
    if (!info.applicable) return jt::throw_unsupported(env, op, "cuDNN is not applicable on emu");
    if (!info.found) return jt::throw_unsupported(env, op, "%s", info.detail.c_str());
    return true;
}

// Maps a jt_vendor_status to the Java exception of the JNI contract; true when it is OK.
bool vendor_ok(JNIEnv* env, const char* op, const jt_vendor_status& st) {
    switch (st.code) {
        case JT_VENDOR_OK:
            return true;
        case JT_VENDOR_INVALID:
            return jt::throw_iae(env, op, "%s", st.message);
        case JT_VENDOR_UNAVAILABLE:
        case JT_VENDOR_UNSUPPORTED:
            return jt::throw_unsupported(env, op, "%s", st.message);
        case JT_VENDOR_CUDA_ERROR:
            return jt::throw_cuda(env, st.call, (cudaError_t)st.library_status, op);
        default:
            return jt::throw_vendor(env, st.call, st.library_status, st.name, st.message, op);
    }
}

// The convolution geometry: sizes >= 1, padding >= 0, output >= 1; element counts of x, weights and y.
struct ConvShape {
    int64_t x = 0, wt = 0, y = 0;
    int oh = 0, ow = 0;
};

bool conv_shape(jt::Check& ck, jint n, jint c, jint h, jint w, jint k, jint kh, jint kw, jint sh, jint sw, jint ph,
                jint pw, ConvShape* s) {
    ck.positive("n", n).positive("c", c).positive("h", h).positive("w", w).positive("k", k).positive("kh", kh);
    ck.positive("kw", kw).positive("sh", sh).positive("sw", sw).nonneg("ph", ph).nonneg("pw", pw);
    ck.that((int64_t)h + 2 * (int64_t)ph >= kh, "the padded height h + 2 ph is smaller than the kernel height kh");
    ck.that((int64_t)w + 2 * (int64_t)pw >= kw, "the padded width w + 2 pw is smaller than the kernel width kw");
    if (!ck) return false;
    s->oh = (int)(((int64_t)h + 2 * (int64_t)ph - kh) / sh + 1);
    s->ow = (int)(((int64_t)w + 2 * (int64_t)pw - kw) / sw + 1);
    return (bool)ck.product("n * c * h * w", {n, c, h, w}, &s->x)
        .product("k * c * kh * kw", {k, c, kh, kw}, &s->wt)
        .product("n * k * oh * ow", {n, k, s->oh, s->ow}, &s->y);
}

void JNICALL cudnnConv2dForward(JNIEnv* env, jclass, jlong x, jlong weights, jlong bias, jlong y, jint n, jint c,
                                jint h, jint w, jint k, jint kh, jint kw, jint sh, jint sw, jint ph, jint pw,
                                jlong stream) {
    const char* op = "cudnnConv2dForward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    ConvShape s;
    if (!conv_shape(ck, n, c, h, w, k, kh, kw, sh, sw, ph, pw, &s)) return;
    if (!ck.f32("x", x, s.x).f32("weights", weights, s.wt).f32("bias", bias, k, true).f32("y", y, s.y)) return;
    jt_vendor_status st;
    jt_vendor_conv2d_forward(jt::dptr<const float>(x), jt::dptr<const float>(weights), jt::dptr<const float>(bias),
                             jt::dptr<float>(y), n, c, h, w, k, kh, kw, sh, sw, ph, pw, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnConv2dBackwardData(JNIEnv* env, jclass, jlong weights, jlong dy, jlong dx, jint n, jint c, jint h,
                                     jint w, jint k, jint kh, jint kw, jint sh, jint sw, jint ph, jint pw,
                                     jlong stream) {
    const char* op = "cudnnConv2dBackwardData";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    ConvShape s;
    if (!conv_shape(ck, n, c, h, w, k, kh, kw, sh, sw, ph, pw, &s)) return;
    if (!ck.f32("weights", weights, s.wt).f32("dy", dy, s.y).f32("dx", dx, s.x)) return;
    jt_vendor_status st;
    jt_vendor_conv2d_backward_data(jt::dptr<const float>(weights), jt::dptr<const float>(dy), jt::dptr<float>(dx), n, c,
                                   h, w, k, kh, kw, sh, sw, ph, pw, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnConv2dBackwardFilter(JNIEnv* env, jclass, jlong x, jlong dy, jlong dweights, jint n, jint c, jint h,
                                       jint w, jint k, jint kh, jint kw, jint sh, jint sw, jint ph, jint pw,
                                       jboolean accumulate, jlong stream) {
    const char* op = "cudnnConv2dBackwardFilter";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    ConvShape s;
    if (!conv_shape(ck, n, c, h, w, k, kh, kw, sh, sw, ph, pw, &s)) return;
    if (!ck.f32("x", x, s.x).f32("dy", dy, s.y).f32("dweights", dweights, s.wt)) return;
    jt_vendor_status st;
    jt_vendor_conv2d_backward_filter(jt::dptr<const float>(x), jt::dptr<const float>(dy), jt::dptr<float>(dweights), n,
                                     c, h, w, k, kh, kw, sh, sw, ph, pw, accumulate ? 1 : 0, jt::stream_of(stream),
                                     &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnConv2dBackwardBias(JNIEnv* env, jclass, jlong dy, jlong dbias, jint n, jint k, jint oh, jint ow,
                                     jboolean accumulate, jlong stream) {
    const char* op = "cudnnConv2dBackwardBias";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    int64_t total = 0;
    if (!ck.positive("n", n).positive("k", k).positive("oh", oh).positive("ow", ow)
             .product("n * k * oh * ow", {n, k, oh, ow}, &total)
             .f32("dy", dy, total)
             .f32("dbias", dbias, k)) {
        return;
    }
    jt_vendor_status st;
    jt_vendor_conv2d_backward_bias(jt::dptr<const float>(dy), jt::dptr<float>(dbias), n, k, oh, ow, accumulate ? 1 : 0,
                                   jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

bool bn_shape(jt::Check& ck, jint n, jint c, jint h, jint w, int64_t* total) {
    return (bool)ck.positive("n", n).positive("c", c).positive("h", h).positive("w", w).product("n * c * h * w",
                                                                                                 {n, c, h, w}, total);
}

void JNICALL cudnnBatchnormForwardTrain(JNIEnv* env, jclass, jlong x, jlong gamma, jlong beta, jfloat eps,
                                        jfloat momentum, jlong runningMean, jlong runningVar, jlong y, jlong saveMean,
                                        jlong saveInvStd, jint n, jint c, jint h, jint w, jlong stream) {
    const char* op = "cudnnBatchnormForwardTrain";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    int64_t total = 0;
    if (!bn_shape(ck, n, c, h, w, &total)) return;
    if (!ck.that((runningMean == 0) == (runningVar == 0), "runningMean and runningVar must be both set or both 0")
             .that((saveMean == 0) == (saveInvStd == 0), "saveMean and saveInvStd must be both set or both 0")
             .that(x != y, "y must not alias x")
             .f32("x", x, total)
             .f32("y", y, total)
             .f32("gamma", gamma, c, true)
             .f32("beta", beta, c, true)
             .f32("runningMean", runningMean, c, true)
             .f32("runningVar", runningVar, c, true)
             .f32("saveMean", saveMean, c, true)
             .f32("saveInvStd", saveInvStd, c, true)) {
        return;
    }
    jt_vendor_status st;
    jt_vendor_batchnorm_forward_train(jt::dptr<const float>(x), jt::dptr<const float>(gamma),
                                      jt::dptr<const float>(beta), eps, momentum, jt::dptr<float>(runningMean),
                                      jt::dptr<float>(runningVar), jt::dptr<float>(y), jt::dptr<float>(saveMean),
                                      jt::dptr<float>(saveInvStd), n, c, h, w, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnBatchnormForwardInference(JNIEnv* env, jclass, jlong x, jlong gamma, jlong beta, jlong runningMean,
                                            jlong runningVar, jfloat eps, jlong y, jint n, jint c, jint h, jint w,
                                            jlong stream) {
    const char* op = "cudnnBatchnormForwardInference";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    int64_t total = 0;
    if (!bn_shape(ck, n, c, h, w, &total)) return;
    if (!ck.f32("x", x, total)
             .f32("y", y, total)
             .f32("gamma", gamma, c, true)
             .f32("beta", beta, c, true)
             .f32("runningMean", runningMean, c)
             .f32("runningVar", runningVar, c)) {
        return;
    }
    jt_vendor_status st;
    jt_vendor_batchnorm_forward_inference(jt::dptr<const float>(x), jt::dptr<const float>(gamma),
                                          jt::dptr<const float>(beta), jt::dptr<const float>(runningMean),
                                          jt::dptr<const float>(runningVar), eps, jt::dptr<float>(y), n, c, h, w,
                                          jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnBatchnormBackward(JNIEnv* env, jclass, jlong x, jlong dy, jlong gamma, jlong saveMean,
                                    jlong saveInvStd, jfloat eps, jlong dx, jlong dgamma, jlong dbeta, jint n, jint c,
                                    jint h, jint w, jlong stream) {
    const char* op = "cudnnBatchnormBackward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    int64_t total = 0;
    if (!bn_shape(ck, n, c, h, w, &total)) return;
    if (!ck.that((saveMean == 0) == (saveInvStd == 0), "saveMean and saveInvStd must be both set or both 0")
             .that(dx != x && dx != dy, "dx must not alias x or dy")
             .f32("x", x, total)
             .f32("dy", dy, total)
             .f32("dx", dx, total)
             .f32("gamma", gamma, c, true)
             .f32("saveMean", saveMean, c, true)
             .f32("saveInvStd", saveInvStd, c, true)
             .f32("dgamma", dgamma, c, true)
             .f32("dbeta", dbeta, c, true)) {
        return;
    }
    jt_vendor_status st;
    jt_vendor_batchnorm_backward(jt::dptr<const float>(x), jt::dptr<const float>(dy), jt::dptr<const float>(gamma),
                                 jt::dptr<const float>(saveMean), jt::dptr<const float>(saveInvStd), eps,
                                 jt::dptr<float>(dx), jt::dptr<float>(dgamma), jt::dptr<float>(dbeta), n, c, h, w,
                                 jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnActivationForward(JNIEnv* env, jclass, jint kind, jlong x, jlong y, jlong n, jfloat a,
                                    jlong stream) {
    const char* op = "cudnnActivationForward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    if (!ck.nonneg("n", n).f32("x", x, n).f32("y", y, n)) return;
    jt_vendor_status st;
    jt_vendor_activation_forward(kind, jt::dptr<const float>(x), jt::dptr<float>(y), n, a, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnActivationBackward(JNIEnv* env, jclass, jint kind, jlong x, jlong y, jlong dy, jlong dx, jlong n,
                                     jfloat a, jlong stream) {
    const char* op = "cudnnActivationBackward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    if (!ck.nonneg("n", n).f32("x", x, n, true).f32("y", y, n, true).f32("dy", dy, n).f32("dx", dx, n)) return;
    jt_vendor_status st;
    jt_vendor_activation_backward(kind, jt::dptr<const float>(x), jt::dptr<const float>(y), jt::dptr<const float>(dy),
                                  jt::dptr<float>(dx), n, a, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnPoolForward(JNIEnv* env, jclass, jboolean max, jlong x, jlong y, jint n, jint c, jint h, jint w,
                              jint kh, jint kw, jint sh, jint sw, jint ph, jint pw, jlong stream) {
    const char* op = "cudnnPoolForward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    jt::Window win;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &win)) return;
    if (!ck.f32("x", x, win.x_elems).f32("y", y, win.y_elems)) return;
    jt_vendor_status st;
    jt_vendor_pool_forward(max ? 1 : 0, jt::dptr<const float>(x), jt::dptr<float>(y), n, c, h, w, kh, kw, sh, sw, ph,
                           pw, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

void JNICALL cudnnPoolBackward(JNIEnv* env, jclass, jboolean max, jlong x, jlong y, jlong dy, jlong dx, jint n, jint c,
                               jint h, jint w, jint kh, jint kw, jint sh, jint sw, jint ph, jint pw, jlong stream) {
    const char* op = "cudnnPoolBackward";
    if (!jt::require_stream(env, op, "stream", stream)) return;
    if (!cudnn_ready(env, op)) return;
    jt::Check ck(env, op);
    jt::Window win;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &win)) return;
    if (!ck.f32("x", x, win.x_elems, !max).f32("y", y, win.y_elems, !max).f32("dy", dy, win.y_elems)
             .f32("dx", dx, win.x_elems)) {
        return;
    }
    jt_vendor_status st;
    jt_vendor_pool_backward(max ? 1 : 0, jt::dptr<const float>(x), jt::dptr<const float>(y), jt::dptr<const float>(dy),
                            jt::dptr<float>(dx), n, c, h, w, kh, kw, sh, sw, ph, pw, jt::stream_of(stream), &st);
    vendor_ok(env, op, st);
}

}  // namespace

bool jt::register_vendor(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "vendor",
                            {
                                method<vendorReport>("vendorReport"),
                                method<cublasSgemm>("cublasSgemm"),
                                method<cudnnHandleCheck>("cudnnHandleCheck"),
                                method<cudnnConv2dForward>("cudnnConv2dForward"),
                                method<cudnnConv2dBackwardData>("cudnnConv2dBackwardData"),
                                method<cudnnConv2dBackwardFilter>("cudnnConv2dBackwardFilter"),
                                method<cudnnConv2dBackwardBias>("cudnnConv2dBackwardBias"),
                                method<cudnnBatchnormForwardTrain>("cudnnBatchnormForwardTrain"),
                                method<cudnnBatchnormForwardInference>("cudnnBatchnormForwardInference"),
                                method<cudnnBatchnormBackward>("cudnnBatchnormBackward"),
                                method<cudnnActivationForward>("cudnnActivationForward"),
                                method<cudnnActivationBackward>("cudnnActivationBackward"),
                                method<cudnnPoolForward>("cudnnPoolForward"),
                                method<cudnnPoolBackward>("cudnnPoolBackward"),
                            });
}
