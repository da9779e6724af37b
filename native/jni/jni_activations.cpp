// JNI for kernels/activations.h: elementwise activations (kind = Activation.Kind ordinal = JtActKind),
// PReLU and maxout.
#include "activations.h"
#include "jni_common.h"

namespace {

bool kind_ok(jt::Check& ck, jint kind, jfloat a) {
    return (bool)ck.that(kind >= 0 && kind < JT_ACT_COUNT, "kind must be an Activation.Kind ordinal (0..10)")
        .that(kind != JT_ACT_SOFTPLUS || (a > 0.0f && a <= 3.4e38f), "softplus beta (a) must be > 0 and finite");
}

void JNICALL activationsForward(JNIEnv* env, jclass, jint kind, jlong x, jlong y, jlong n, jfloat a, jfloat b,
                                jlong stream) {
    jt::Check ck(env, "activationsForward");
    if (!jt::require_stream(env, "activationsForward", "stream", stream)) return;
    if (!kind_ok(ck, kind, a) || !ck.nonneg("n", n).f32("x", x, n).f32("y", y, n)) return;
    JT_LAUNCH(ck, jt_activations_forward, kind, jt::dptr<const float>(x), jt::dptr<float>(y), n, a, b,
              jt::stream_of(stream));
}

// Which of x and y the backward of `kind` reads (activations.h): sigmoid/tanh read y; relu reads x, or y
// when x is 0; identity reads neither; the others read x.
void JNICALL activationsBackward(JNIEnv* env, jclass, jint kind, jlong x, jlong y, jlong dy, jlong dx, jlong n,
                                 jfloat a, jfloat b, jlong stream) {
    jt::Check ck(env, "activationsBackward");
    if (!jt::require_stream(env, "activationsBackward", "stream", stream)) return;
    if (!kind_ok(ck, kind, a) || !ck.nonneg("n", n)) return;
    const bool needs_y = kind == JT_ACT_SIGMOID || kind == JT_ACT_TANH || (kind == JT_ACT_RELU && x == 0);
    const bool needs_x = !needs_y && kind != JT_ACT_IDENTITY;
    if (!ck.f32("x", x, n, !needs_x).f32("y", y, n, !needs_y).f32("dy", dy, n).f32("dx", dx, n)) return;
    JT_LAUNCH(ck, jt_activations_backward, kind, jt::dptr<const float>(x), jt::dptr<const float>(y),
              jt::dptr<const float>(dy), jt::dptr<float>(dx), n, a, b, jt::stream_of(stream));
}

// x [n, c, inner]; alpha [c] (c = 1: one shared alpha).
bool prelu_shape(jt::Check& ck, jint n, jint c, jint inner, int64_t* total) {
    return (bool)ck.nonneg("n", n).positive("c", c).nonneg("inner", inner).product("n * c * inner", {n, c, inner},
                                                                                   total);
}

void JNICALL activationsPreluForward(JNIEnv* env, jclass, jlong x, jlong alpha, jlong y, jint n, jint c, jint inner,
                                     jlong stream) {
    jt::Check ck(env, "activationsPreluForward");
    if (!jt::require_stream(env, "activationsPreluForward", "stream", stream)) return;
    int64_t total = 0;
    if (!prelu_shape(ck, n, c, inner, &total) || !ck.f32("x", x, total).f32("alpha", alpha, c).f32("y", y, total)) {
        return;
    }
    JT_LAUNCH(ck, jt_activations_prelu_forward, jt::dptr<const float>(x), jt::dptr<const float>(alpha),
              jt::dptr<float>(y), n, c, inner, jt::stream_of(stream));
}

jlong JNICALL activationsPreluBackwardWorkspaceBytes(JNIEnv* env, jclass, jint n, jint c, jint inner) {
    jt::Check ck(env, "activationsPreluBackwardWorkspaceBytes");
    int64_t total = 0;
    if (!prelu_shape(ck, n, c, inner, &total)) return 0;
    return (jlong)jt_activations_prelu_backward_workspace_bytes(n, c, inner);
}

void JNICALL activationsPreluBackward(JNIEnv* env, jclass, jlong x, jlong alpha, jlong dy, jlong dx, jlong dalpha,
                                      jint n, jint c, jint inner, jlong workspace, jlong stream) {
    jt::Check ck(env, "activationsPreluBackward");
    if (!jt::require_stream(env, "activationsPreluBackward", "stream", stream)) return;
    int64_t total = 0;
    if (!prelu_shape(ck, n, c, inner, &total) || !ck.f32("x", x, total)
                                                       .f32("alpha", alpha, c)
                                                       .f32("dy", dy, total)
                                                       .f32("dx", dx, total)
                                                       .f32("dalpha", dalpha, c, true)) {
        return;
    }
    // dalpha's split partial sums: jt_activations_prelu_backward_workspace_bytes (0 without dalpha or for an
    // unsplit plan: may be 0).
    const size_t bytes = total == 0 || dalpha == 0 ? 0 : jt_activations_prelu_backward_workspace_bytes(n, c, inner);
    if (!ck.that(bytes == 0 || workspace != 0, "workspace must be set (activationsPreluBackwardWorkspaceBytes bytes)")
             .that(workspace % 16 == 0, "workspace must be 16-byte aligned")
             .bytes("workspace", workspace, (int64_t)bytes, true)) {
        return;
    }
    JT_LAUNCH(ck, jt_activations_prelu_backward, jt::dptr<const float>(x), jt::dptr<const float>(alpha),
              jt::dptr<const float>(dy), jt::dptr<float>(dx), jt::dptr<float>(dalpha), n, c, inner,
              jt::dptr<void>(workspace), bytes, jt::stream_of(stream));
}

// z [n, pieces * d]; y, piece [n, d].
bool maxout_shape(jt::Check& ck, jint n, jint pieces, jint d, int64_t* zn, int64_t* yn) {
    return (bool)ck.nonneg("n", n).positive("pieces", pieces).nonneg("d", d).product("n * pieces * d",
                                                                                     {n, pieces, d}, zn)
        .product("n * d", {n, d}, yn);
}

void JNICALL activationsMaxoutForward(JNIEnv* env, jclass, jlong z, jint n, jint pieces, jint d, jlong y,
                                      jlong piece, jlong stream) {
    jt::Check ck(env, "activationsMaxoutForward");
    if (!jt::require_stream(env, "activationsMaxoutForward", "stream", stream)) return;
    int64_t zn = 0, yn = 0;
    if (!maxout_shape(ck, n, pieces, d, &zn, &yn) || !ck.f32("z", z, zn).f32("y", y, yn).i64("piece", piece, yn)) {
        return;
    }
    JT_LAUNCH(ck, jt_activations_maxout_forward, jt::dptr<const float>(z), n, pieces, d, jt::dptr<float>(y),
              jt::dptr<int64_t>(piece), jt::stream_of(stream));
}

void JNICALL activationsMaxoutBackward(JNIEnv* env, jclass, jlong dy, jlong piece, jint n, jint pieces, jint d,
                                       jlong dz, jlong err, jlong stream) {
    jt::Check ck(env, "activationsMaxoutBackward");
    if (!jt::require_stream(env, "activationsMaxoutBackward", "stream", stream)) return;
    int64_t zn = 0, yn = 0;
    if (!maxout_shape(ck, n, pieces, d, &zn, &yn) || !ck.f32("dy", dy, yn).i64("piece", piece, yn).f32("dz", dz, zn)
                                                          .err_record("err", err)) {
        return;
    }
    JT_LAUNCH(ck, jt_activations_maxout_backward, jt::dptr<const float>(dy), jt::dptr<const int64_t>(piece), n,
              pieces, d, jt::dptr<float>(dz), jt::dptr<JtDeviceError>(err), jt::stream_of(stream));
}

}  // namespace

bool jt::register_activations(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "activations",
                            {
                                method<activationsForward>("activationsForward"),
                                method<activationsBackward>("activationsBackward"),
                                method<activationsPreluForward>("activationsPreluForward"),
                                method<activationsPreluBackwardWorkspaceBytes>("activationsPreluBackwardWorkspaceBytes"),
                                method<activationsPreluBackward>("activationsPreluBackward"),
                                method<activationsMaxoutForward>("activationsMaxoutForward"),
                                method<activationsMaxoutBackward>("activationsMaxoutBackward"),
                            });
}
