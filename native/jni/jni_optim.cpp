// JNI for kernels/optim.h: the optimizer updates (single tensor and multi-tensor), the global sum of
// squares and the clip-by-global-norm scale. The multi-tensor entry points take Java long[] arrays of
// device pointers (read during the call only) and a long[] of element counts.
#include <stdio.h>

#include "jni_common.h"
#include "optim.h"

namespace {

// The pointer lists and sizes of one multi-tensor call, copied out of the Java arrays and checked:
// every list has sizes.length entries, and every needed pointer covers its tensor.
class Lists {
public:
    Lists(jt::Check& ck, jlongArray sizes) : ck_(ck) {
        if (!ck_) return;
        if (sizes == nullptr) {
            ck_.that(false, "sizes is a null array");
            return;
        }
        count_ = ck_.env()->GetArrayLength(sizes);
        sizes_.resize(count_);
        ck_.env()->GetLongArrayRegion(sizes, 0, count_, reinterpret_cast<jlong*>(sizes_.data()));
        for (int k = 0; k < count_ && ck_; ++k) {
            char name[48];
            snprintf(name, sizeof name, "sizes[%d]", k);
            ck_.nonneg(name, sizes_[k]);
        }
    }

    // Reads a pointer list (nullable when !needed: a null array means "not used") and checks each
    // pointer against its tensor's size. Returns the host array of device pointers (null when absent).
    float* const* list(const char* name, jlongArray array, bool needed) {
        if (!ck_) return nullptr;
        if (array == nullptr) {
            if (needed) ck_.that(false, (std::string(name) + " is a null array").c_str());
            return nullptr;
        }
        const jsize len = ck_.env()->GetArrayLength(array);
        if (len != count_) {
            ck_.that(false, (std::string(name) + " has " + std::to_string(len) + " entries but sizes has " +
                             std::to_string(count_)).c_str());
            return nullptr;
        }
        lists_.emplace_back(count_);
        std::vector<float*>& out = lists_.back();
        std::vector<jlong> raw(count_);
        ck_.env()->GetLongArrayRegion(array, 0, count_, raw.data());
        for (int k = 0; k < count_ && ck_; ++k) {
            char item[64];
            snprintf(item, sizeof item, "%s[%d]", name, k);
            ck_.f32(item, raw[k], sizes_[k], !needed);
            out[k] = jt::dptr<float>(raw[k]);
        }
        return out.data();
    }

    int count() const { return count_; }
    const int64_t* sizes() const { return sizes_.data(); }

private:
    jt::Check& ck_;
    int count_ = 0;
    std::vector<int64_t> sizes_;
    std::vector<std::vector<float*>> lists_;  // stable storage (each inner vector's buffer does not move)
};

// ------------------------------------------------------------------ SGD

void JNICALL optimSgd(JNIEnv* env, jclass, jlong param, jlong grad, jlong momentumBuf, jlong n, jfloat lr,
                      jfloat momentum, jfloat dampening, jfloat weightDecay, jboolean nesterov, jboolean firstStep,
                      jlong stream) {
    jt::Check ck(env, "optimSgd");
    if (!jt::require_stream(env, "optimSgd", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("param", param, n).f32("grad", grad, n).f32("momentumBuf", momentumBuf, n,
                                                                            momentum == 0.0f)) {
        return;
    }
    JT_LAUNCH(ck, jt_optim_sgd, jt::dptr<float>(param), jt::dptr<const float>(grad), jt::dptr<float>(momentumBuf), n,
              lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, jt::stream_of(stream));
}

void JNICALL optimSgdMulti(JNIEnv* env, jclass, jlongArray params, jlongArray grads, jlongArray momentumBufs,
                           jlongArray sizes, jfloat lr, jfloat momentum, jfloat dampening, jfloat weightDecay,
                           jboolean nesterov, jboolean firstStep, jlong stream) {
    jt::Check ck(env, "optimSgdMulti");
    if (!jt::require_stream(env, "optimSgdMulti", "stream", stream)) return;
    Lists l(ck, sizes);
    float* const* p = l.list("params", params, true);
    float* const* g = l.list("grads", grads, true);
    float* const* m = l.list("momentumBufs", momentumBufs, momentum != 0.0f);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_sgd_multi, l.count(), p, const_cast<const float* const*>(g), m, l.sizes(), lr, momentum,
              dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, jt::stream_of(stream));
}

// ------------------------------------------------------------------ Adagrad

void JNICALL optimAdagrad(JNIEnv* env, jclass, jlong param, jlong grad, jlong sum, jlong n, jfloat clr,
                          jfloat weightDecay, jfloat eps, jlong stream) {
    jt::Check ck(env, "optimAdagrad");
    if (!jt::require_stream(env, "optimAdagrad", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("param", param, n).f32("grad", grad, n).f32("sum", sum, n)) return;
    JT_LAUNCH(ck, jt_optim_adagrad, jt::dptr<float>(param), jt::dptr<const float>(grad), jt::dptr<float>(sum), n, clr,
              weightDecay, eps, jt::stream_of(stream));
}

void JNICALL optimAdagradMulti(JNIEnv* env, jclass, jlongArray params, jlongArray grads, jlongArray sums,
                               jlongArray sizes, jfloat clr, jfloat weightDecay, jfloat eps, jlong stream) {
    jt::Check ck(env, "optimAdagradMulti");
    if (!jt::require_stream(env, "optimAdagradMulti", "stream", stream)) return;
    Lists l(ck, sizes);
    float* const* p = l.list("params", params, true);
    float* const* g = l.list("grads", grads, true);
    float* const* s = l.list("sums", sums, true);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_adagrad_multi, l.count(), p, const_cast<const float* const*>(g), s, l.sizes(), clr,
              weightDecay, eps, jt::stream_of(stream));
}

// ------------------------------------------------------------------ RMSprop

void JNICALL optimRmsprop(JNIEnv* env, jclass, jlong param, jlong grad, jlong squareAvg, jlong momentumBuf, jlong n,
                          jfloat lr, jfloat alpha, jfloat eps, jfloat weightDecay, jfloat momentum, jlong stream) {
    jt::Check ck(env, "optimRmsprop");
    if (!jt::require_stream(env, "optimRmsprop", "stream", stream)) return;
    if (!ck.nonneg("n", n)
             .f32("param", param, n)
             .f32("grad", grad, n)
             .f32("squareAvg", squareAvg, n)
             .f32("momentumBuf", momentumBuf, n, momentum == 0.0f)) {
        return;
    }
    JT_LAUNCH(ck, jt_optim_rmsprop, jt::dptr<float>(param), jt::dptr<const float>(grad), jt::dptr<float>(squareAvg),
              jt::dptr<float>(momentumBuf), n, lr, alpha, eps, weightDecay, momentum, jt::stream_of(stream));
}

void JNICALL optimRmspropMulti(JNIEnv* env, jclass, jlongArray params, jlongArray grads, jlongArray squareAvgs,
                               jlongArray momentumBufs, jlongArray sizes, jfloat lr, jfloat alpha, jfloat eps,
                               jfloat weightDecay, jfloat momentum, jlong stream) {
    jt::Check ck(env, "optimRmspropMulti");
    if (!jt::require_stream(env, "optimRmspropMulti", "stream", stream)) return;
    Lists l(ck, sizes);
    float* const* p = l.list("params", params, true);
    float* const* g = l.list("grads", grads, true);
    float* const* v = l.list("squareAvgs", squareAvgs, true);
    float* const* m = l.list("momentumBufs", momentumBufs, momentum != 0.0f);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_rmsprop_multi, l.count(), p, const_cast<const float* const*>(g), v, m, l.sizes(), lr, alpha,
              eps, weightDecay, momentum, jt::stream_of(stream));
}

// ------------------------------------------------------------------ Adam / AMSGrad / AdamW

void JNICALL optimAdam(JNIEnv* env, jclass, jlong param, jlong grad, jlong expAvg, jlong expAvgSq, jlong maxExpAvgSq,
                       jlong n, jfloat lr, jfloat beta1, jfloat beta2, jfloat eps, jfloat weightDecay,
                       jboolean decoupled, jint step, jlong stream) {
    jt::Check ck(env, "optimAdam");
    if (!jt::require_stream(env, "optimAdam", "stream", stream)) return;
    if (!ck.positive("step", step)
             .nonneg("n", n)
             .f32("param", param, n)
             .f32("grad", grad, n)
             .f32("expAvg", expAvg, n)
             .f32("expAvgSq", expAvgSq, n)
             .f32("maxExpAvgSq", maxExpAvgSq, n, true)) {
        return;
    }
    JT_LAUNCH(ck, jt_optim_adam, jt::dptr<float>(param), jt::dptr<const float>(grad), jt::dptr<float>(expAvg),
              jt::dptr<float>(expAvgSq), jt::dptr<float>(maxExpAvgSq), n, lr, beta1, beta2, eps, weightDecay,
              decoupled ? 1 : 0, step, jt::stream_of(stream));
}

// maxExpAvgSqs: null for Adam/AdamW, the AMSGrad state otherwise.
void JNICALL optimAdamMulti(JNIEnv* env, jclass, jlongArray params, jlongArray grads, jlongArray expAvgs,
                            jlongArray expAvgSqs, jlongArray maxExpAvgSqs, jlongArray sizes, jfloat lr, jfloat beta1,
                            jfloat beta2, jfloat eps, jfloat weightDecay, jboolean decoupled, jint step,
                            jlong stream) {
    jt::Check ck(env, "optimAdamMulti");
    if (!jt::require_stream(env, "optimAdamMulti", "stream", stream)) return;
    if (!ck.positive("step", step)) return;
    Lists l(ck, sizes);
    float* const* p = l.list("params", params, true);
    float* const* g = l.list("grads", grads, true);
    float* const* m = l.list("expAvgs", expAvgs, true);
    float* const* v = l.list("expAvgSqs", expAvgSqs, true);
    float* const* vmax = maxExpAvgSqs == nullptr ? nullptr : l.list("maxExpAvgSqs", maxExpAvgSqs, true);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_adam_multi, l.count(), p, const_cast<const float* const*>(g), m, v, vmax, l.sizes(), lr,
              beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, step, jt::stream_of(stream));
}

// ------------------------------------------------------------------ global norm

jlong JNICALL optimSumSquaresWorkspaceBytes(JNIEnv*, jclass) { return (jlong)jt_optim_sum_squares_workspace_bytes(); }

bool sumsq_workspace_ok(jt::Check& ck, jlong workspace) {
    return (bool)ck.that(workspace % 8 == 0, "workspace must be 8-byte aligned")
        .bytes("workspace", workspace, (int64_t)jt_optim_sum_squares_workspace_bytes());
}

void JNICALL optimSumSquares(JNIEnv* env, jclass, jlong x, jlong n, jlong out, jboolean accumulate, jlong workspace,
                             jlong stream) {
    jt::Check ck(env, "optimSumSquares");
    if (!jt::require_stream(env, "optimSumSquares", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("x", x, n).f32("out", out, 1) || !sumsq_workspace_ok(ck, workspace)) return;
    JT_LAUNCH(ck, jt_optim_sum_squares, jt::dptr<const float>(x), n, jt::dptr<float>(out), accumulate ? 1 : 0,
              jt::dptr<void>(workspace), jt::stream_of(stream));
}

void JNICALL optimSumSquaresMulti(JNIEnv* env, jclass, jlongArray tensors, jlongArray sizes, jlong out,
                                  jboolean accumulate, jlong workspace, jlong stream) {
    jt::Check ck(env, "optimSumSquaresMulti");
    if (!jt::require_stream(env, "optimSumSquaresMulti", "stream", stream)) return;
    if (!ck.f32("out", out, 1) || !sumsq_workspace_ok(ck, workspace)) return;
    Lists l(ck, sizes);
    float* const* t = l.list("tensors", tensors, true);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_sum_squares_multi, l.count(), const_cast<const float* const*>(t), l.sizes(),
              jt::dptr<float>(out), accumulate ? 1 : 0, jt::dptr<void>(workspace), jt::stream_of(stream));
}

void JNICALL optimClipScale(JNIEnv* env, jclass, jlong grad, jlong n, jlong totalSquares, jfloat maxNorm,
                            jlong stream) {
    jt::Check ck(env, "optimClipScale");
    if (!jt::require_stream(env, "optimClipScale", "stream", stream)) return;
    if (!ck.nonneg("n", n).f32("grad", grad, n).f32("totalSquares", totalSquares, 1)) return;
    JT_LAUNCH(ck, jt_optim_clip_scale, jt::dptr<float>(grad), n, jt::dptr<const float>(totalSquares), maxNorm,
              jt::stream_of(stream));
}

void JNICALL optimClipScaleMulti(JNIEnv* env, jclass, jlongArray grads, jlongArray sizes, jlong totalSquares,
                                 jfloat maxNorm, jlong stream) {
    jt::Check ck(env, "optimClipScaleMulti");
    if (!jt::require_stream(env, "optimClipScaleMulti", "stream", stream)) return;
    if (!ck.f32("totalSquares", totalSquares, 1)) return;
    Lists l(ck, sizes);
    float* const* g = l.list("grads", grads, true);
    if (!ck) return;
    JT_LAUNCH(ck, jt_optim_clip_scale_multi, l.count(), g, l.sizes(), jt::dptr<const float>(totalSquares), maxNorm,
              jt::stream_of(stream));
}

}  // namespace

bool jt::register_optim(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "optim",
                            {
                                method<optimSgd>("optimSgd"),
                                method<optimSgdMulti>("optimSgdMulti"),
                                method<optimAdagrad>("optimAdagrad"),
                                method<optimAdagradMulti>("optimAdagradMulti"),
                                method<optimRmsprop>("optimRmsprop"),
                                method<optimRmspropMulti>("optimRmspropMulti"),
                                method<optimAdam>("optimAdam"),
                                method<optimAdamMulti>("optimAdamMulti"),
                                method<optimSumSquaresWorkspaceBytes>("optimSumSquaresWorkspaceBytes"),
                                method<optimSumSquares>("optimSumSquares"),
                                method<optimSumSquaresMulti>("optimSumSquaresMulti"),
                                method<optimClipScale>("optimClipScale"),
                                method<optimClipScaleMulti>("optimClipScaleMulti"),
                            });
}
