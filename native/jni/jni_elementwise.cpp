// JNI for kernels/elementwise.h: fill, copy (32-bit words), scale, axpy, add, mul.
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

}  // namespace

bool jt::register_elementwise(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "elementwise",
                            {
                                method("elementwiseFill", elementwiseFill),
                                method("elementwiseCopy", elementwiseCopy),
                                method("elementwiseScale", elementwiseScale),
                                method("elementwiseAxpy", elementwiseAxpy),
                                method("elementwiseAdd", elementwiseAdd),
                                method("elementwiseMul", elementwiseMul),
                            });
}
