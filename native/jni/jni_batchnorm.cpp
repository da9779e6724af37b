// JNI for kernels/batchnorm.h: BatchNorm over [n, c, inner] (training, eval, backward).
#include "batchnorm.h"
#include "jni_common.h"

namespace {

// Shared checks: n, c >= 1, inner >= 1, x-sized tensors of n * c * inner floats.
bool shape(jt::Check& ck, jint n, jint c, jlong inner, int64_t* total) {
    return (bool)ck.positive("n", n).positive("c", c).positive("inner", inner).product("n * c * inner", {n, c, inner},
                                                                                        total);
}

// The workspace of the sums: jt_batchnorm_workspace_bytes(n, c, inner) bytes, 16-byte aligned.
bool workspace_ok(jt::Check& ck, jlong workspace, jint n, jint c, jlong inner, size_t* bytes) {
    *bytes = jt_batchnorm_workspace_bytes(n, c, inner);
    return (bool)ck.that(workspace != 0, "workspace must be set (batchnormWorkspaceBytes bytes)")
        .that(workspace % 16 == 0, "workspace must be 16-byte aligned")
        .bytes("workspace", workspace, (int64_t)*bytes);
}

jlong JNICALL batchnormWorkspaceBytes(JNIEnv* env, jclass, jint n, jint c, jlong inner) {
    jt::Check ck(env, "batchnormWorkspaceBytes");
    int64_t total = 0;
    if (!shape(ck, n, c, inner, &total)) return 0;
    return (jlong)jt_batchnorm_workspace_bytes(n, c, inner);
}

void JNICALL batchnormForwardTrain(JNIEnv* env, jclass, jlong x, jlong gamma, jlong beta, jfloat eps, jfloat momentum,
                                   jlong runningMean, jlong runningVar, jlong y, jlong saveMean, jlong saveVar,
                                   jint n, jint c, jlong inner, jlong workspace, jlong stream) {
    jt::Check ck(env, "batchnormForwardTrain");
    if (!jt::require_stream(env, "batchnormForwardTrain", "stream", stream)) return;
    int64_t total = 0;
    if (!shape(ck, n, c, inner, &total)) return;
    if (!ck.that((runningMean == 0) == (runningVar == 0), "runningMean and runningVar must be both set or both 0")
             .that((saveMean == 0) == (saveVar == 0), "saveMean and saveVar must be both set or both 0")
             .that(x != y || x == 0, "y must not alias x")
             .f32("x", x, total)
             .f32("y", y, total)
             .f32("gamma", gamma, c, true)
             .f32("beta", beta, c, true)
             .f32("runningMean", runningMean, c, true)
             .f32("runningVar", runningVar, c, true)
             .f32("saveMean", saveMean, c, true)
             .f32("saveVar", saveVar, c, true)) {
        return;
    }
    size_t bytes = 0;
    if (!workspace_ok(ck, workspace, n, c, inner, &bytes)) return;
    JT_LAUNCH(ck, jt_batchnorm_forward_train, jt::dptr<const float>(x), jt::dptr<const float>(gamma),
              jt::dptr<const float>(beta), eps, momentum, jt::dptr<float>(runningMean), jt::dptr<float>(runningVar),
              jt::dptr<float>(y), jt::dptr<float>(saveMean), jt::dptr<float>(saveVar), n, c, inner,
              jt::dptr<void>(workspace), bytes, jt::stream_of(stream));
}

void JNICALL batchnormForwardEval(JNIEnv* env, jclass, jlong x, jlong gamma, jlong beta, jlong runningMean,
                                  jlong runningVar, jfloat eps, jlong y, jint n, jint c, jlong inner, jlong stream) {
    jt::Check ck(env, "batchnormForwardEval");
    if (!jt::require_stream(env, "batchnormForwardEval", "stream", stream)) return;
    int64_t total = 0;
    if (!shape(ck, n, c, inner, &total)) return;
    if (!ck.f32("x", x, total)
             .f32("y", y, total)
             .f32("gamma", gamma, c, true)
             .f32("beta", beta, c, true)
             .f32("runningMean", runningMean, c)
             .f32("runningVar", runningVar, c)) {
        return;
    }
    JT_LAUNCH(ck, jt_batchnorm_forward_eval, jt::dptr<const float>(x), jt::dptr<const float>(gamma),
              jt::dptr<const float>(beta), jt::dptr<const float>(runningMean), jt::dptr<const float>(runningVar), eps,
              jt::dptr<float>(y), n, c, inner, jt::stream_of(stream));
}

void JNICALL batchnormBackward(JNIEnv* env, jclass, jlong x, jlong dy, jlong gamma, jlong mean, jlong var, jfloat eps,
                               jboolean training, jlong dx, jlong dgamma, jlong dbeta, jint n, jint c, jlong inner,
                               jlong workspace, jlong stream) {
    jt::Check ck(env, "batchnormBackward");
    if (!jt::require_stream(env, "batchnormBackward", "stream", stream)) return;
    int64_t total = 0;
    if (!shape(ck, n, c, inner, &total)) return;
    if (!ck.that(dx == 0 || (dx != x && dx != dy), "dx must not alias x or dy")
             .f32("x", x, total)
             .f32("dy", dy, total)
             .f32("dx", dx, total, true)
             .f32("gamma", gamma, c, true)
             .f32("mean", mean, c)
             .f32("var", var, c)
             .f32("dgamma", dgamma, c, true)
             .f32("dbeta", dbeta, c, true)) {
        return;
    }
    size_t bytes = 0;
    const bool sums = training || dgamma != 0 || dbeta != 0;  // eval dx alone needs no workspace
    if (sums && (dx != 0 || dgamma != 0 || dbeta != 0) && !workspace_ok(ck, workspace, n, c, inner, &bytes)) return;
    JT_LAUNCH(ck, jt_batchnorm_backward, jt::dptr<const float>(x), jt::dptr<const float>(dy),
              jt::dptr<const float>(gamma), jt::dptr<const float>(mean), jt::dptr<const float>(var), eps,
              training ? 1 : 0, jt::dptr<float>(dx), jt::dptr<float>(dgamma), jt::dptr<float>(dbeta), n, c, inner,
              jt::dptr<void>(workspace), bytes, jt::stream_of(stream));
}

// cuDNN's saved 1/sqrt(var + eps) <-> our biased variance (the vendor BatchNorm path), per channel.
void JNICALL batchnormInvStdToVar(JNIEnv* env, jclass, jlong s, jint c, jfloat eps, jlong stream) {
    jt::Check ck(env, "batchnormInvStdToVar");
    if (!jt::require_stream(env, "batchnormInvStdToVar", "stream", stream)) return;
    if (!ck.nonneg("c", c).f32("s", s, c)) return;
    JT_LAUNCH(ck, jt_batchnorm_invstd_to_var, jt::dptr<float>(s), c, eps, jt::stream_of(stream));
}

void JNICALL batchnormVarToInvStd(JNIEnv* env, jclass, jlong var, jlong invStd, jint c, jfloat eps, jlong stream) {
    jt::Check ck(env, "batchnormVarToInvStd");
    if (!jt::require_stream(env, "batchnormVarToInvStd", "stream", stream)) return;
    if (!ck.nonneg("c", c).f32("var", var, c).f32("invStd", invStd, c)) return;
    JT_LAUNCH(ck, jt_batchnorm_var_to_invstd, jt::dptr<const float>(var), jt::dptr<float>(invStd), c, eps,
              jt::stream_of(stream));
}

}  // namespace

bool jt::register_batchnorm(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "batchnorm",
                            {
                                method<batchnormWorkspaceBytes>("batchnormWorkspaceBytes"),
                                method<batchnormForwardTrain>("batchnormForwardTrain"),
                                method<batchnormForwardEval>("batchnormForwardEval"),
                                method<batchnormBackward>("batchnormBackward"),
                                method<batchnormInvStdToVar>("batchnormInvStdToVar"),
                                method<batchnormVarToInvStd>("batchnormVarToInvStd"),
                            });
}
