// JNI for kernels/reduce.h: sums (two passes over a required workspace), count-equal, row argmax, bias gradient.
#include "jni_common.h"
#include "reduce.h"

namespace {

jlong JNICALL reduceWorkspaceBytes(JNIEnv*, jclass) { return (jlong)jt_reduce_workspace_bytes(); }

// workspace (required): jt_reduce_workspace_bytes() bytes of device memory, 16-byte aligned.
bool workspace_ok(jt::Check& ck, jlong workspace) {
    return (bool)ck.that(workspace % 16 == 0, "workspace must be 16-byte aligned")
        .bytes("workspace", workspace, (int64_t)jt_reduce_workspace_bytes());
}

void JNICALL reduceSum(JNIEnv* env, jclass, jlong x, jlong n, jlong out, jlong workspace, jlong stream) {
    jt::Check ck(env, "reduceSum");
    if (!jt::require_stream(env, "reduceSum", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, 1) || !workspace_ok(ck, workspace)) return;
    JT_LAUNCH(ck, jt_reduce_sum, jt::dptr<const float>(x), n, jt::dptr<float>(out), jt::dptr<void>(workspace),
              jt::stream_of(stream));
}

void JNICALL reduceSumSquares(JNIEnv* env, jclass, jlong x, jlong n, jlong out, jboolean accumulate, jlong workspace,
                              jlong stream) {
    jt::Check ck(env, "reduceSumSquares");
    if (!jt::require_stream(env, "reduceSumSquares", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, 1) || !workspace_ok(ck, workspace)) return;
    JT_LAUNCH(ck, jt_reduce_sum_squares, jt::dptr<const float>(x), n, jt::dptr<float>(out), accumulate ? 1 : 0,
              jt::dptr<void>(workspace), jt::stream_of(stream));
}

void JNICALL reduceSumAbs(JNIEnv* env, jclass, jlong x, jlong n, jlong out, jlong workspace, jlong stream) {
    jt::Check ck(env, "reduceSumAbs");
    if (!jt::require_stream(env, "reduceSumAbs", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, 1) || !workspace_ok(ck, workspace)) return;
    JT_LAUNCH(ck, jt_reduce_sum_abs, jt::dptr<const float>(x), n, jt::dptr<float>(out), jt::dptr<void>(workspace),
              jt::stream_of(stream));
}

void JNICALL reduceCountEqual(JNIEnv* env, jclass, jlong a, jlong b, jlong n, jlong out, jlong workspace,
                              jlong stream) {
    jt::Check ck(env, "reduceCountEqual");
    if (!jt::require_stream(env, "reduceCountEqual", "stream", stream)) return;
    if (!ck.nonneg("n", n).i64("a", a, n).i64("b", b, n).f32("out", out, 1) || !workspace_ok(ck, workspace)) return;
    JT_LAUNCH(ck, jt_reduce_count_equal, jt::dptr<const int64_t>(a), jt::dptr<const int64_t>(b), n,
              jt::dptr<float>(out), jt::dptr<void>(workspace), jt::stream_of(stream));
}

void JNICALL reduceArgmaxRows(JNIEnv* env, jclass, jlong x, jint rows, jint cols, jlong out, jlong stream) {
    jt::Check ck(env, "reduceArgmaxRows");
    if (!jt::require_stream(env, "reduceArgmaxRows", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("rows", rows).positive("cols", cols).product("rows * cols", {rows, cols}, &total)) return;
    if (!ck.f32("x", x, total).i64("out", out, rows)) return;
    JT_LAUNCH(ck, jt_reduce_argmax_rows, jt::dptr<const float>(x), rows, cols, jt::dptr<int64_t>(out),
              jt::stream_of(stream));
}

// [n, c, inner] of a bias gradient: n, inner >= 0, c >= 1; *total = n * c * inner.
bool bias_grad_shape(jt::Check& ck, jint n, jint c, jint inner, int64_t* total) {
    return (bool)ck.nonneg("n", n).positive("c", c).nonneg("inner", inner).product("n * c * inner", {n, c, inner},
                                                                                   total);
}

jlong JNICALL reduceBiasGradWorkspaceBytes(JNIEnv* env, jclass, jint n, jint c, jint inner) {
    jt::Check ck(env, "reduceBiasGradWorkspaceBytes");
    int64_t total = 0;
    if (!bias_grad_shape(ck, n, c, inner, &total)) return 0;
    return (jlong)jt_reduce_bias_grad_workspace_bytes(n, c, inner);
}

void JNICALL reduceBiasGrad(JNIEnv* env, jclass, jlong dy, jint n, jint c, jint inner, jlong dbias, jlong workspace,
                            jlong stream) {
    jt::Check ck(env, "reduceBiasGrad");
    if (!jt::require_stream(env, "reduceBiasGrad", "stream", stream)) return;
    int64_t total = 0;
    if (!bias_grad_shape(ck, n, c, inner, &total) || !ck.f32("dy", dy, total).f32("dbias", dbias, c)) return;
    // The split channels' partial sums: jt_reduce_bias_grad_workspace_bytes (0 for an unsplit plan: may be 0).
    const size_t bytes = total == 0 ? 0 : jt_reduce_bias_grad_workspace_bytes(n, c, inner);
    if (!ck.that(bytes == 0 || workspace != 0, "workspace must be set (reduceBiasGradWorkspaceBytes bytes)")
             .that(workspace % 16 == 0, "workspace must be 16-byte aligned")
             .bytes("workspace", workspace, (int64_t)bytes, true)) {
        return;
    }
    JT_LAUNCH(ck, jt_reduce_bias_grad, jt::dptr<const float>(dy), n, c, inner, jt::dptr<float>(dbias),
              jt::dptr<void>(workspace), bytes, jt::stream_of(stream));
}

void JNICALL reduceRowNorms(JNIEnv* env, jclass, jlong w, jint rows, jlong cols, jlong norms, jlong stream) {
    jt::Check ck(env, "reduceRowNorms");
    if (!jt::require_stream(env, "reduceRowNorms", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("rows", rows).nonneg("cols", cols).product("rows * cols", {rows, cols}, &total)) return;
    if (!ck.f32("w", w, total).f32("norms", norms, rows)) return;
    JT_LAUNCH(ck, jt_reduce_row_norms, jt::dptr<const float>(w), rows, cols, jt::dptr<float>(norms),
              jt::stream_of(stream));
}

void JNICALL reduceMaxNormRows(JNIEnv* env, jclass, jlong w, jint rows, jlong cols, jfloat c, jlong stream) {
    jt::Check ck(env, "reduceMaxNormRows");
    if (!jt::require_stream(env, "reduceMaxNormRows", "stream", stream)) return;
    int64_t total = 0;
    if (!ck.nonneg("rows", rows).nonneg("cols", cols).product("rows * cols", {rows, cols}, &total)) return;
    if (!ck.f32("w", w, total)) return;
    JT_LAUNCH(ck, jt_reduce_max_norm_rows, jt::dptr<float>(w), rows, cols, c, jt::stream_of(stream));
}

}  // namespace

bool jt::register_reduce(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "reduce",
                            {
                                method<reduceWorkspaceBytes>("reduceWorkspaceBytes"),
                                method<reduceSum>("reduceSum"),
                                method<reduceSumSquares>("reduceSumSquares"),
                                method<reduceSumAbs>("reduceSumAbs"),
                                method<reduceCountEqual>("reduceCountEqual"),
                                method<reduceArgmaxRows>("reduceArgmaxRows"),
                                method<reduceBiasGradWorkspaceBytes>("reduceBiasGradWorkspaceBytes"),
                                method<reduceBiasGrad>("reduceBiasGrad"),
                                method<reduceRowNorms>("reduceRowNorms"),
                                method<reduceMaxNormRows>("reduceMaxNormRows"),
                            });
}
