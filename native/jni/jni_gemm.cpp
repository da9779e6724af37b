// JNI for kernels/gemm.h: row-major SGEMM with the fused bias/ReLU epilogue.
#include "gemm.h"
#include "jni_common.h"

namespace {

// c = act(alpha op(a) op(b) + beta c + bias); config 0 lets the launcher choose the tile configuration,
// 1..3 force one (JT_GEMM_CONFIG_*). bias (n floats) may be 0.
void JNICALL gemmSgemm(JNIEnv* env, jclass, jint config, jboolean transA, jboolean transB, jint m, jint n, jint k,
                       jfloat alpha, jlong a, jint lda, jlong b, jint ldb, jfloat beta, jlong c, jint ldc, jlong bias,
                       jboolean relu, jlong stream) {
    jt::Check ck(env, "gemmSgemm");
    if (!jt::require_stream(env, "gemmSgemm", "stream", stream)) return;
    if (!ck.that(config >= 0 && config < JT_GEMM_CONFIG_COUNT, "config must be 0 (auto) .. 3 (JT_GEMM_CONFIG_*)")
             .positive("m", m)
             .positive("n", n)
             .positive("k", k)) {
        return;
    }
    const int64_t a_rows = transA ? k : m, a_cols = transA ? m : k;
    const int64_t b_rows = transB ? n : k, b_cols = transB ? k : n;
    if (!ck.at_least("lda", lda, a_cols, transA ? "m (a is stored [k, m])" : "k (a is stored [m, k])")
             .at_least("ldb", ldb, b_cols, transB ? "k (b is stored [n, k])" : "n (b is stored [k, n])")
             .at_least("ldc", ldc, n, "n")) {
        return;
    }
    int64_t ea = 0, eb = 0, ec = 0;
    if (!jt::matrix_extent(env, ck.op(), "a", a_rows, a_cols, lda, &ea) ||
        !jt::matrix_extent(env, ck.op(), "b", b_rows, b_cols, ldb, &eb) ||
        !jt::matrix_extent(env, ck.op(), "c", m, n, ldc, &ec)) {
        return;
    }
    if (!ck.f32("a", a, ea).f32("b", b, eb).f32("c", c, ec).f32("bias", bias, n, true)) return;
    JT_LAUNCH(ck, jt_gemm_sgemm_config, config, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
              jt::dptr<const float>(a), lda, jt::dptr<const float>(b), ldb, beta, jt::dptr<float>(c), ldc,
              jt::dptr<const float>(bias), relu ? 1 : 0, jt::stream_of(stream));
}

}  // namespace

bool jt::register_gemm(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "gemm", {method("gemmSgemm", gemmSgemm)});
}
