// JNI for kernels/softmax_xent.h: softmax cross-entropy (label smoothing), BCE with logits, squared error.
#include "jni_common.h"
#include "softmax_xent.h"

namespace {

// logits, probs [n, c]; labels int64 [n]; loss [n]. Labels are not range-checked here (that needs a device
// read): an invalid label gives NaN for its row, as softmax_xent.h says, and is recorded in the device error
// record err (kernels/device_error.h; 0 = not recorded), which the backend reads at its next sync.
void JNICALL softmaxXentForward(JNIEnv* env, jclass, jlong logits, jlong labels, jint n, jint c, jfloat eps,
                                jlong probs, jlong loss, jlong err, jlong stream) {
    jt::Check ck(env, "softmaxXentForward");
    if (!jt::require_stream(env, "softmaxXentForward", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("n", n).positive("c", c).product("n * c", {n, c}, &total)) return;
    if (!ck.that(eps >= 0.0f && eps <= 1.0f, "eps (label smoothing) must be in [0, 1] (NaN is not)")) return;
    if (!ck.f32("logits", logits, total).i64("labels", labels, n).f32("probs", probs, total).f32("loss", loss, n)
             .err_record("err", err)) {
        return;
    }
    JT_LAUNCH(ck, jt_softmax_xent_forward, jt::dptr<const float>(logits), jt::dptr<const int64_t>(labels), n, c, eps,
              jt::dptr<float>(probs), jt::dptr<float>(loss), jt::dptr<JtDeviceError>(err), jt::stream_of(stream));
}

void JNICALL softmaxXentBackward(JNIEnv* env, jclass, jlong probs, jlong labels, jint n, jint c, jfloat eps,
                                 jfloat scale, jlong dlogits, jlong err, jlong stream) {
    jt::Check ck(env, "softmaxXentBackward");
    if (!jt::require_stream(env, "softmaxXentBackward", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("n", n).positive("c", c).product("n * c", {n, c}, &total)) return;
    if (!ck.that(eps >= 0.0f && eps <= 1.0f, "eps (label smoothing) must be in [0, 1] (NaN is not)")) return;
    if (!ck.f32("probs", probs, total).i64("labels", labels, n).f32("dlogits", dlogits, total).err_record("err", err)) {
        return;
    }
    JT_LAUNCH(ck, jt_softmax_xent_backward, jt::dptr<const float>(probs), jt::dptr<const int64_t>(labels), n, c, eps,
              scale, jt::dptr<float>(dlogits), jt::dptr<JtDeviceError>(err), jt::stream_of(stream));
}

void JNICALL lossBceWithLogitsForward(JNIEnv* env, jclass, jlong logits, jlong targets, jlong n, jlong loss,
                                      jlong stream) {
    jt::Check ck(env, "lossBceWithLogitsForward");
    if (!jt::require_stream(env, "lossBceWithLogitsForward", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("logits", logits, n).f32("targets", targets, n).f32("loss", loss, n)) return;
    JT_LAUNCH(ck, jt_loss_bce_with_logits_forward, jt::dptr<const float>(logits), jt::dptr<const float>(targets), n,
              jt::dptr<float>(loss), jt::stream_of(stream));
}

void JNICALL lossBceWithLogitsBackward(JNIEnv* env, jclass, jlong logits, jlong targets, jlong n, jfloat scale,
                                       jlong dlogits, jlong stream) {
    jt::Check ck(env, "lossBceWithLogitsBackward");
    if (!jt::require_stream(env, "lossBceWithLogitsBackward", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("logits", logits, n).f32("targets", targets, n).f32("dlogits", dlogits, n)) return;
    JT_LAUNCH(ck, jt_loss_bce_with_logits_backward, jt::dptr<const float>(logits), jt::dptr<const float>(targets), n,
              scale, jt::dptr<float>(dlogits), jt::stream_of(stream));
}

void JNICALL lossSquaredErrorForward(JNIEnv* env, jclass, jlong pred, jlong target, jlong n, jlong out,
                                     jlong stream) {
    jt::Check ck(env, "lossSquaredErrorForward");
    if (!jt::require_stream(env, "lossSquaredErrorForward", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("pred", pred, n).f32("target", target, n).f32("out", out, n)) return;
    JT_LAUNCH(ck, jt_loss_squared_error_forward, jt::dptr<const float>(pred), jt::dptr<const float>(target), n,
              jt::dptr<float>(out), jt::stream_of(stream));
}

void JNICALL lossSquaredErrorBackward(JNIEnv* env, jclass, jlong pred, jlong target, jlong n, jfloat scale,
                                      jlong dpred, jlong stream) {
    jt::Check ck(env, "lossSquaredErrorBackward");
    if (!jt::require_stream(env, "lossSquaredErrorBackward", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("pred", pred, n).f32("target", target, n).f32("dpred", dpred, n)) return;
    JT_LAUNCH(ck, jt_loss_squared_error_backward, jt::dptr<const float>(pred), jt::dptr<const float>(target), n,
              scale, jt::dptr<float>(dpred), jt::stream_of(stream));
}

}  // namespace

bool jt::register_softmax_xent(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "softmax_xent",
                            {
                                method<softmaxXentForward>("softmaxXentForward"),
                                method<softmaxXentBackward>("softmaxXentBackward"),
                            }) &&
           // The other losses' element-wise kernels live beside softmax cross-entropy (kernels/softmax_xent.cu).
           register_methods(env, cls, "loss",
                            {
                                method<lossBceWithLogitsForward>("lossBceWithLogitsForward"),
                                method<lossBceWithLogitsBackward>("lossBceWithLogitsBackward"),
                                method<lossSquaredErrorForward>("lossSquaredErrorForward"),
                                method<lossSquaredErrorBackward>("lossSquaredErrorBackward"),
                            });
}
