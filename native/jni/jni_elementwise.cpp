// JNI for kernels/elementwise.h: fill, copy (32-bit words), scale, axpy, add, mul, sqrt, add-sign, strided row copy,
// channel bias add.
#include "elementwise.h"
#include "jni_common.h"

namespace {

void JNICALL elementwiseFill(JNIEnv* env, jclass, jlong x, jlong n, jfloat value, jlong stream) {
    jt::Check ck(env, "elementwiseFill");
    if (!jt::require_stream(env, "elementwiseFill", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n)) return;
    JT_LAUNCH(ck, jt_elementwise_fill, jt::dptr<float>(x), n, value, jt::stream_of(stream));
}

// dst = src for n 32-bit words (an int64 tensor of m elements is n = 2m).
void JNICALL elementwiseCopy(JNIEnv* env, jclass, jlong src, jlong dst, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseCopy");
    if (!jt::require_stream(env, "elementwiseCopy", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("src", src, n).f32("dst", dst, n)) return;
    JT_LAUNCH(ck, jt_elementwise_copy, jt::dptr<const float>(src), jt::dptr<float>(dst), n, jt::stream_of(stream));
}

void JNICALL elementwiseScale(JNIEnv* env, jclass, jlong x, jlong n, jfloat alpha, jlong stream) {
    jt::Check ck(env, "elementwiseScale");
    if (!jt::require_stream(env, "elementwiseScale", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n)) return;
    JT_LAUNCH(ck, jt_elementwise_scale, jt::dptr<float>(x), n, alpha, jt::stream_of(stream));
}

void JNICALL elementwiseAxpy(JNIEnv* env, jclass, jfloat alpha, jlong x, jlong y, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseAxpy");
    if (!jt::require_stream(env, "elementwiseAxpy", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("y", y, n)) return;
    JT_LAUNCH(ck, jt_elementwise_axpy, alpha, jt::dptr<const float>(x), jt::dptr<float>(y), n, jt::stream_of(stream));
}

void JNICALL elementwiseAdd(JNIEnv* env, jclass, jlong a, jlong b, jlong out, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseAdd");
    if (!jt::require_stream(env, "elementwiseAdd", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("a", a, n).f32("b", b, n).f32("out", out, n)) return;
    JT_LAUNCH(ck, jt_elementwise_add, jt::dptr<const float>(a), jt::dptr<const float>(b), jt::dptr<float>(out), n,
              jt::stream_of(stream));
}

void JNICALL elementwiseMul(JNIEnv* env, jclass, jlong a, jlong b, jlong out, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseMul");
    if (!jt::require_stream(env, "elementwiseMul", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("a", a, n).f32("b", b, n).f32("out", out, n)) return;
    JT_LAUNCH(ck, jt_elementwise_mul, jt::dptr<const float>(a), jt::dptr<const float>(b), jt::dptr<float>(out), n,
              jt::stream_of(stream));
}

void JNICALL elementwiseSqrt(JNIEnv* env, jclass, jlong x, jlong out, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseSqrt");
    if (!jt::require_stream(env, "elementwiseSqrt", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, n)) return;
    JT_LAUNCH(ck, jt_elementwise_sqrt, jt::dptr<const float>(x), jt::dptr<float>(out), n, jt::stream_of(stream));
}

void JNICALL elementwiseAddSign(JNIEnv* env, jclass, jfloat lambda, jlong w, jlong grad, jlong n, jlong stream) {
    jt::Check ck(env, "elementwiseAddSign");
    if (!jt::require_stream(env, "elementwiseAddSign", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("w", w, n).f32("grad", grad, n)) return;
    JT_LAUNCH(ck, jt_elementwise_add_sign, lambda, jt::dptr<const float>(w), jt::dptr<float>(grad), n,
              jt::stream_of(stream));
}

void JNICALL elementwiseCopyRows(JNIEnv* env, jclass, jlong src, jlong srcRowStride, jlong dst, jlong dstRowStride,
                                 jint rows, jlong cols, jlong stream) {
    jt::Check ck(env, "elementwiseCopyRows");
    if (!jt::require_stream(env, "elementwiseCopyRows", "stream", stream)) return;
    if (!ck.nonneg("rows", rows).nonneg("cols", cols)) return;
    if (!ck.at_least("srcRowStride", srcRowStride, cols, "cols").at_least("dstRowStride", dstRowStride, cols, "cols")) {
        return;
    }
    // Extent of each side: (rows - 1) full strides plus the last row's cols.
    int64_t src_span = 0, dst_span = 0;
    if (rows > 0 && cols > 0) {
        if (!ck.product("(rows - 1) * srcRowStride", {rows - 1, srcRowStride}, &src_span)
                 .product("(rows - 1) * dstRowStride", {rows - 1, dstRowStride}, &dst_span)) {
            return;
        }
        src_span += cols;
        dst_span += cols;
    }
    if (!ck.f32("src", src, src_span).f32("dst", dst, dst_span)) return;
    JT_LAUNCH(ck, jt_elementwise_copy_rows, jt::dptr<const float>(src), srcRowStride, jt::dptr<float>(dst),
              dstRowStride, rows, cols, jt::stream_of(stream));
}

// y [n, c, inner] += bias [c] (a broadcast add, not a reduction).
void JNICALL elementwiseAddChannelBias(JNIEnv* env, jclass, jlong y, jlong bias, jint n, jint c, jint inner,
                                       jlong stream) {
    jt::Check ck(env, "elementwiseAddChannelBias");
    if (!jt::require_stream(env, "elementwiseAddChannelBias", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("n", n).positive("c", c).nonneg("inner", inner).product("n * c * inner", {n, c, inner}, &total)) {
        return;
    }
    if (!ck.f32("y", y, total).f32("bias", bias, c)) return;
    JT_LAUNCH(ck, jt_elementwise_add_channel_bias, jt::dptr<float>(y), jt::dptr<const float>(bias), n, c, inner,
              jt::stream_of(stream));
}

}  // namespace

bool jt::register_elementwise(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "elementwise",
                            {
                                method<elementwiseFill>("elementwiseFill"),
                                method<elementwiseCopy>("elementwiseCopy"),
                                method<elementwiseScale>("elementwiseScale"),
                                method<elementwiseAxpy>("elementwiseAxpy"),
                                method<elementwiseAdd>("elementwiseAdd"),
                                method<elementwiseMul>("elementwiseMul"),
                                method<elementwiseSqrt>("elementwiseSqrt"),
                                method<elementwiseAddSign>("elementwiseAddSign"),
                                method<elementwiseCopyRows>("elementwiseCopyRows"),
                                method<elementwiseAddChannelBias>("elementwiseAddChannelBias"),
                            });
}
