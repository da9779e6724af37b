// JNI for kernels/dropout.h: Philox dropout masks and random fills (docs/architecture.md, section 6,
// "Random numbers").
#include "dropout.h"
#include "jni_common.h"

#include <cmath>

namespace {

// y = x * mask with mask[i] = kept ? 1/(1-p) : 0 for (seed, offset); mask may be 0; y may alias x.
void JNICALL dropoutForward(JNIEnv* env, jclass, jlong x, jlong y, jlong mask, jlong n, jfloat p, jlong seed,
                            jlong offset, jlong stream) {
    jt::Check ck(env, "dropoutForward");
    if (!jt::require_stream(env, "dropoutForward", "stream", stream)) return;
    if (!ck.nonneg("n", n).that(p >= 0.0f && p <= 1.0f, "p must be a probability in [0, 1] (NaN is not)").f32("x", x, n).f32("y", y, n).f32("mask", mask, n, true)) return;
    JT_LAUNCH(ck, jt_dropout_forward, jt::dptr<const float>(x), jt::dptr<float>(y), jt::dptr<float>(mask), n, p,
              (uint64_t)seed, (uint64_t)offset, jt::stream_of(stream));
}

void JNICALL randomUniform(JNIEnv* env, jclass, jlong t, jlong n, jfloat lo, jfloat hi, jlong seed,
                           jlong offset, jlong stream) {
    jt::Check ck(env, "randomUniform");
    if (!jt::require_stream(env, "randomUniform", "stream", stream)) return;
    if (!ck.nonneg("n", n)
             .that(std::isfinite(lo) && std::isfinite(hi), "lo and hi must be finite")
             .that(lo <= hi, "lo must be <= hi")
             .f32("t", t, n)) {
        return;
    }
    JT_LAUNCH(ck, jt_random_uniform, jt::dptr<float>(t), n, lo, hi, (uint64_t)seed, (uint64_t)offset,
              jt::stream_of(stream));
}

void JNICALL randomNormal(JNIEnv* env, jclass, jlong t, jlong n, jfloat mean, jfloat std, jlong seed,
                          jlong offset, jlong stream) {
    jt::Check ck(env, "randomNormal");
    if (!jt::require_stream(env, "randomNormal", "stream", stream)) return;
    if (!ck.nonneg("n", n)
             .that(std::isfinite(mean) && std::isfinite(std), "mean and std must be finite")
             .that(std >= 0.0f, "std must be >= 0")
             .f32("t", t, n)) {
        return;
    }
    JT_LAUNCH(ck, jt_random_normal, jt::dptr<float>(t), n, mean, std, (uint64_t)seed, (uint64_t)offset,
              jt::stream_of(stream));
}

}  // namespace

bool jt::register_dropout(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "dropout",
                            {
                                method<dropoutForward>("dropoutForward"),
                            }) &&
           // Random fills share dropout's Philox stream and live beside it (kernels/dropout.cu).
           register_methods(env, cls, "random",
                            {
                                method<randomUniform>("randomUniform"),
                                method<randomNormal>("randomNormal"),
                            });
}
