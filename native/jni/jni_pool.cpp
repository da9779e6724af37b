// JNI for kernels/pool.h and kernels/pool_fractional.h: max, average and fractional max pooling over NCHW planes.
#include "jni_common.h"
#include "pool.h"
#include "pool_fractional.h"

namespace {

// indices (int64, same shape as y) may be 0.
void JNICALL poolMaxForward(JNIEnv* env, jclass, jlong x, jlong y, jlong indices, jint n, jint c, jint h, jint w,
                            jint kh, jint kw, jint sh, jint sw, jint ph, jint pw, jlong stream) {
    jt::Check ck(env, "poolMaxForward");
    if (!jt::require_stream(env, "poolMaxForward", "stream", stream)) return;
    jt::Window g;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g)) return;
    if (!ck.f32("x", x, g.x_elems).f32("y", y, g.y_elems).i64("indices", indices, g.y_elems, true)) return;
    JT_LAUNCH(ck, jt_pool_max_forward, jt::dptr<const float>(x), jt::dptr<float>(y), jt::dptr<int64_t>(indices), n, c,
              h, w, kh, kw, sh, sw, ph, pw, jt::stream_of(stream));
}

// err: the device error record for indices outside the plane (kernels/device_error.h), 0 = not recorded.
void JNICALL poolMaxBackward(JNIEnv* env, jclass, jlong dy, jlong indices, jlong dx, jint n, jint c, jint h, jint w,
                             jint kh, jint kw, jint sh, jint sw, jint ph, jint pw, jlong err, jlong stream) {
    jt::Check ck(env, "poolMaxBackward");
    if (!jt::require_stream(env, "poolMaxBackward", "stream", stream)) return;
    jt::Window g;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g)) return;
    if (!ck.f32("dy", dy, g.y_elems).i64("indices", indices, g.y_elems).f32("dx", dx, g.x_elems)
             .err_record("err", err)) {
        return;
    }
    JT_LAUNCH(ck, jt_pool_max_backward, jt::dptr<const float>(dy), jt::dptr<const int64_t>(indices),
              jt::dptr<float>(dx), n, c, h, w, kh, kw, sh, sw, ph, pw, jt::dptr<JtDeviceError>(err),
              jt::stream_of(stream));
}

// Without the window geometry (Backend.maxPool2dBackward(dy, indices, dx)): dy, indices [n, c, oh, ow].
void JNICALL poolMaxBackwardScatter(JNIEnv* env, jclass, jlong dy, jlong indices, jlong dx, jint n, jint c, jint h,
                                    jint w, jint oh, jint ow, jlong err, jlong stream) {
    jt::Check ck(env, "poolMaxBackwardScatter");
    if (!jt::require_stream(env, "poolMaxBackwardScatter", "stream", stream)) return;
    int64_t xe = 0, ye = 0;
    if (!ck.positive("n", n).positive("c", c).positive("h", h).positive("w", w).positive("oh", oh).positive("ow", ow)
             .product("n * c * h * w", {n, c, h, w}, &xe)
             .product("n * c * oh * ow", {n, c, oh, ow}, &ye)) {
        return;
    }
    if (!ck.f32("dy", dy, ye).i64("indices", indices, ye).f32("dx", dx, xe).err_record("err", err)) return;
    JT_LAUNCH(ck, jt_pool_max_backward_scatter, jt::dptr<const float>(dy), jt::dptr<const int64_t>(indices),
              jt::dptr<float>(dx), n, c, h, w, oh, ow, jt::dptr<JtDeviceError>(err), jt::stream_of(stream));
}

void JNICALL poolAvgForward(JNIEnv* env, jclass, jlong x, jlong y, jint n, jint c, jint h, jint w, jint kh, jint kw,
                            jint sh, jint sw, jint ph, jint pw, jlong stream) {
    jt::Check ck(env, "poolAvgForward");
    if (!jt::require_stream(env, "poolAvgForward", "stream", stream)) return;
    jt::Window g;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g)) return;
    if (!ck.f32("x", x, g.x_elems).f32("y", y, g.y_elems)) return;
    JT_LAUNCH(ck, jt_pool_avg_forward, jt::dptr<const float>(x), jt::dptr<float>(y), n, c, h, w, kh, kw, sh, sw, ph, pw,
              jt::stream_of(stream));
}

void JNICALL poolAvgBackward(JNIEnv* env, jclass, jlong dy, jlong dx, jint n, jint c, jint h, jint w, jint kh, jint kw,
                             jint sh, jint sw, jint ph, jint pw, jlong stream) {
    jt::Check ck(env, "poolAvgBackward");
    if (!jt::require_stream(env, "poolAvgBackward", "stream", stream)) return;
    jt::Window g;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g)) return;
    if (!ck.f32("dy", dy, g.y_elems).f32("dx", dx, g.x_elems)) return;
    JT_LAUNCH(ck, jt_pool_avg_backward, jt::dptr<const float>(dy), jt::dptr<float>(dx), n, c, h, w, kh, kw, sh, sw, ph,
              pw, jt::stream_of(stream));
}

// The fractional pooling's sizes: n, c, h, w, oh, ow, kh, kw >= 1, oh + kh - 1 <= h, ow + kw - 1 <= w; the
// element counts of x (n c h w) and y (n c oh ow).
bool fractional_sizes(jt::Check& ck, jint n, jint c, jint h, jint w, jint oh, jint ow, jint kh, jint kw,
                      int64_t* x_elems, int64_t* y_elems) {
    ck.positive("n", n).positive("c", c).positive("h", h).positive("w", w).positive("oh", oh).positive("ow", ow);
    ck.positive("kh", kh).positive("kw", kw);
    ck.that((int64_t)oh + kh - 1 <= h, "oh + kh - 1 must be <= h (every window inside the input)");
    ck.that((int64_t)ow + kw - 1 <= w, "ow + kw - 1 must be <= w (every window inside the input)");
    return (bool)ck.product("n * c * h * w", {n, c, h, w}, x_elems).product("n * c * oh * ow", {n, c, oh, ow}, y_elems);
}

// indices (int64, same shape as y) may be 0.
void JNICALL poolFractionalMaxForward(JNIEnv* env, jclass, jlong x, jlong samples, jlong y, jlong indices, jint n,
                                      jint c, jint h, jint w, jint oh, jint ow, jint kh, jint kw, jlong stream) {
    jt::Check ck(env, "poolFractionalMaxForward");
    if (!jt::require_stream(env, "poolFractionalMaxForward", "stream", stream)) return;
    int64_t xe = 0, ye = 0;
    if (!fractional_sizes(ck, n, c, h, w, oh, ow, kh, kw, &xe, &ye)) return;
    if (!ck.f32("x", x, xe).f32("samples", samples, 2 * (int64_t)n * c).f32("y", y, ye)
             .i64("indices", indices, ye, true)) {
        return;
    }
    JT_LAUNCH(ck, jt_pool_fractional_max_forward, jt::dptr<const float>(x), jt::dptr<const float>(samples),
              jt::dptr<float>(y), jt::dptr<int64_t>(indices), n, c, h, w, oh, ow, kh, kw, jt::stream_of(stream));
}

// err: the device error record for indices outside their window (kernels/device_error.h), 0 = not recorded.
void JNICALL poolFractionalMaxBackward(JNIEnv* env, jclass, jlong dy, jlong indices, jlong samples, jlong dx, jint n,
                                       jint c, jint h, jint w, jint oh, jint ow, jint kh, jint kw, jlong err,
                                       jlong stream) {
    jt::Check ck(env, "poolFractionalMaxBackward");
    if (!jt::require_stream(env, "poolFractionalMaxBackward", "stream", stream)) return;
    int64_t xe = 0, ye = 0;
    if (!fractional_sizes(ck, n, c, h, w, oh, ow, kh, kw, &xe, &ye)) return;
    if (!ck.f32("dy", dy, ye).i64("indices", indices, ye).f32("samples", samples, 2 * (int64_t)n * c)
             .f32("dx", dx, xe).err_record("err", err)) {
        return;
    }
    JT_LAUNCH(ck, jt_pool_fractional_max_backward, jt::dptr<const float>(dy), jt::dptr<const int64_t>(indices),
              jt::dptr<const float>(samples), jt::dptr<float>(dx), n, c, h, w, oh, ow, kh, kw,
              jt::dptr<JtDeviceError>(err), jt::stream_of(stream));
}

}  // namespace

bool jt::register_pool(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "pool",
                            {
                                method<poolMaxForward>("poolMaxForward"),
                                method<poolMaxBackward>("poolMaxBackward"),
                                method<poolMaxBackwardScatter>("poolMaxBackwardScatter"),
                                method<poolAvgForward>("poolAvgForward"),
                                method<poolAvgBackward>("poolAvgBackward"),
                                method<poolFractionalMaxForward>("poolFractionalMaxForward"),
                                method<poolFractionalMaxBackward>("poolFractionalMaxBackward"),
                            });
}
