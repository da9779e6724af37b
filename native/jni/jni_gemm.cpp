// JNI for kernels/gemm.h: row-major SGEMM with the fused bias/ReLU epilogue.
#include "gemm.h"
#include "gemm_config.h"
#include "launch_config.h"
#include "jni_common.h"

namespace {

// The checks both GEMM entry points share: config, sizes, leading dimensions, and the element extents of one
// matrix of a, b and c (ea, eb, ec). False with the exception pending when one fails.
bool check_gemm_shape(jt::Check& ck, jint config, jboolean transA, jboolean transB, jint m, jint n, jint k, jint lda,
                      jint ldb, jint ldc, int64_t* ea, int64_t* eb, int64_t* ec) {
    if (!ck.that(config >= 0 && config < JT_GEMM_CONFIG_COUNT, "config must be 0 (auto) .. 7 (JT_GEMM_CONFIG_*)")
             .positive("m", m)
             .positive("n", n)
             .positive("k", k)) {
        return false;
    }
    const int64_t a_rows = transA ? k : m, a_cols = transA ? m : k;
    const int64_t b_rows = transB ? n : k, b_cols = transB ? k : n;
    if (!ck.at_least("lda", lda, a_cols, transA ? "m (a is stored [k, m])" : "k (a is stored [m, k])")
             .at_least("ldb", ldb, b_cols, transB ? "k (b is stored [n, k])" : "n (b is stored [k, n])")
             .at_least("ldc", ldc, n, "n")) {
        return false;
    }
    return jt::matrix_extent(ck.env(), ck.op(), "a", a_rows, a_cols, lda, ea) &&
           jt::matrix_extent(ck.env(), ck.op(), "b", b_rows, b_cols, ldb, eb) &&
           jt::matrix_extent(ck.env(), ck.op(), "c", m, n, ldc, ec);
}

// c = act(alpha op(a) op(b) + beta c + bias); config 0 lets the launcher choose the tile configuration,
// 1..7 force one (JT_GEMM_CONFIG_*). bias (n floats) may be 0.
void JNICALL gemmSgemm(JNIEnv* env, jclass, jint config, jboolean transA, jboolean transB, jint m, jint n, jint k,
                       jfloat alpha, jlong a, jint lda, jlong b, jint ldb, jfloat beta, jlong c, jint ldc, jlong bias,
                       jboolean relu, jlong stream) {
    jt::Check ck(env, "gemmSgemm");
    if (!jt::require_stream(env, "gemmSgemm", "stream", stream)) return;
    int64_t ea = 0, eb = 0, ec = 0;
    if (!check_gemm_shape(ck, config, transA, transB, m, n, k, lda, ldb, ldc, &ea, &eb, &ec)) return;
    if (!ck.f32("a", a, ea).f32("b", b, eb).f32("c", c, ec).f32("bias", bias, n, true)) return;
    JT_LAUNCH(ck, jt_gemm_sgemm_config, config, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
              jt::dptr<const float>(a), lda, jt::dptr<const float>(b), ldb, beta, jt::dptr<float>(c), ldc,
              jt::dptr<const float>(bias), relu ? 1 : 0, jt::stream_of(stream));
}

jlong JNICALL gemmWorkspaceBytes(JNIEnv*, jclass) { return (jlong)JT_GEMM_WORKSPACE_BYTES; }

// gemmSgemm with split-K (jt_gemm_sgemm_ex): splits 0 = automatic, 1 = none, s > 1 = at most s slices; workspace
// (workspaceBytes of device memory, 16-byte aligned) may be 0, and then splits must be 0 or 1.
void JNICALL gemmSgemmSplit(JNIEnv* env, jclass, jint config, jint splits, jboolean transA, jboolean transB, jint m,
                            jint n, jint k, jfloat alpha, jlong a, jint lda, jlong b, jint ldb, jfloat beta, jlong c,
                            jint ldc, jlong bias, jboolean relu, jlong workspace, jlong workspaceBytes, jlong stream) {
    jt::Check ck(env, "gemmSgemmSplit");
    if (!jt::require_stream(env, "gemmSgemmSplit", "stream", stream)) return;
    int64_t ea = 0, eb = 0, ec = 0;
    if (!check_gemm_shape(ck, config, transA, transB, m, n, k, lda, ldb, ldc, &ea, &eb, &ec)) return;
    if (!ck.f32("a", a, ea).f32("b", b, eb).f32("c", c, ec).f32("bias", bias, n, true).nonneg("splits", splits)) return;
    if (!ck.nonneg("workspaceBytes", workspaceBytes)
             .that(workspace % 16 == 0, "workspace must be 16-byte aligned")
             .bytes("workspace", workspace, workspaceBytes, true)) {
        return;
    }
    if (splits > 1) {
        const JtGemmTile t = jt_gemm_tile(config == JT_GEMM_CONFIG_AUTO ? jt_gemm_auto_config(m, n, 1) : config);
        if (!ck.that(t.version == 2, "split-K (splits > 1) needs a version-2 configuration (0 .. 4)")) return;
        const size_t need = jt_gemm_splitk_workspace_bytes(config, splits, m, n, k);
        if (need > 0 && (workspace == 0 || (size_t)workspaceBytes < need)) {
            jt::throw_iae(env, ck.op(), "workspace of %lld bytes is too small: %d slices of [%d, %d] need %zu",
                          (long long)workspaceBytes, (int)(need / ((size_t)m * n * sizeof(float))), m, n, need);
            return;
        }
    }
    JT_LAUNCH(ck, jt_gemm_sgemm_ex, config, splits, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
              jt::dptr<const float>(a), lda, jt::dptr<const float>(b), ldb, beta, jt::dptr<float>(c), ldc,
              jt::dptr<const float>(bias), relu ? 1 : 0, jt::dptr<void>(workspace), (size_t)workspaceBytes,
              jt::stream_of(stream));
}

// Elements spanned by `batch` items of `one` elements each, item b starting at b * stride: (batch - 1) * stride +
// one, or 0 for batch 0 (nothing is touched; the pointer may then be 0). Throws naming `name` on overflow.
bool batch_extent(JNIEnv* env, const char* op, const char* name, int64_t batch, int64_t stride, int64_t one,
                  int64_t* out) {
    if (batch == 0) {
        *out = 0;
        return true;
    }
    int64_t lead = 0;
    if (!jt::mul_size(env, op, name, batch - 1, stride, &lead)) return false;
    if (__builtin_add_overflow(lead, one, out)) {
        return jt::throw_iae(env, op, "size overflow: %s spans more than 2^63 elements", name);
    }
    return true;
}

// For b in [0, batch): c_b = alpha op(a_b) op(b_b) + beta c_b, x_b = x + b * strideX (elements; 0 shares one
// matrix). The whole extent of every batched operand, (batch - 1) * stride + one matrix, must lie inside its
// allocation; the c items must not overlap (jt_gemm_batch_c_disjoint: strideC 0 only for batch <= 1).
void JNICALL gemmSgemmBatched(JNIEnv* env, jclass, jint config, jboolean transA, jboolean transB, jint m, jint n,
                              jint k, jfloat alpha, jlong a, jint lda, jlong strideA, jlong b, jint ldb,
                              jlong strideB, jfloat beta, jlong c, jint ldc, jlong strideC, jint batch, jlong stream) {
    jt::Check ck(env, "gemmSgemmBatched");
    if (!jt::require_stream(env, "gemmSgemmBatched", "stream", stream)) return;
    int64_t ea = 0, eb = 0, ec = 0;
    if (!check_gemm_shape(ck, config, transA, transB, m, n, k, lda, ldb, ldc, &ea, &eb, &ec)) return;
    if (!ck.nonneg("batch", batch).nonneg("strideA", strideA).nonneg("strideB", strideB).nonneg("strideC", strideC)) {
        return;
    }
    if (batch > 1 && !jt_gemm_batch_c_disjoint(m, n, ldc, strideC, batch)) {
        jt::throw_iae(env, ck.op(),
                      "strideC = %lld makes the %d items of c [%d, %d] (ldc %d) overlap: they would race; it must be "
                      ">= (m - 1) * ldc + n, or >= n with (batch - 1) * strideC + n <= ldc (strideC 0 only for "
                      "batch 1; sum per-item results and reduce them instead)",
                      (long long)strideC, batch, m, n, ldc);
        return;
    }
    if (!batch_extent(env, ck.op(), "a", batch, strideA, ea, &ea) ||
        !batch_extent(env, ck.op(), "b", batch, strideB, eb, &eb) ||
        !batch_extent(env, ck.op(), "c", batch, strideC, ec, &ec)) {
        return;
    }
    if (!ck.f32("a", a, ea).f32("b", b, eb).f32("c", c, ec)) return;
    if (batch == 0) return;  // nothing to compute
    JT_LAUNCH(ck, jt_gemm_sgemm_batched, config, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
              jt::dptr<const float>(a), lda, (int64_t)strideA, jt::dptr<const float>(b), ldb, (int64_t)strideB, beta,
              jt::dptr<float>(c), ldc, (int64_t)strideC, batch, jt::stream_of(stream));
}

}  // namespace

bool jt::register_gemm(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "gemm", {method<gemmSgemm>("gemmSgemm"), method<gemmSgemmBatched>("gemmSgemmBatched"),
                                                   method<gemmWorkspaceBytes>("gemmWorkspaceBytes"),
                                                   method<gemmSgemmSplit>("gemmSgemmSplit")});
}
