// JNI for kernels/conv_im2col.h: im2col and col2im for NCHW convolution (the GEMMs go through gemmSgemm).
#include "conv_im2col.h"
#include "jni_common.h"

namespace {

// col [n, c kh kw, oh ow].
bool col_elems(jt::Check& ck, const jt::Window& g, jint n, jint c, jint kh, jint kw, int64_t* out) {
    return (bool)ck.product("n * c * kh * kw * oh * ow", {n, c, kh, kw, g.oh, g.ow}, out);
}

void JNICALL convIm2col(JNIEnv* env, jclass, jlong x, jlong col, jint n, jint c, jint h, jint w, jint kh, jint kw,
                        jint sh, jint sw, jint ph, jint pw, jlong stream) {
    jt::Check ck(env, "convIm2col");
    if (!jt::require_stream(env, "convIm2col", "stream", stream)) return;
    jt::Window g;
    int64_t cols = 0;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g) || !col_elems(ck, g, n, c, kh, kw, &cols)) return;
    if (!ck.f32("x", x, g.x_elems).f32("col", col, cols)) return;
    JT_LAUNCH(ck, jt_conv_im2col, jt::dptr<const float>(x), jt::dptr<float>(col), n, c, h, w, kh, kw, sh, sw, ph, pw,
              jt::stream_of(stream));
}

void JNICALL convCol2im(JNIEnv* env, jclass, jlong col, jlong dx, jint n, jint c, jint h, jint w, jint kh, jint kw,
                        jint sh, jint sw, jint ph, jint pw, jlong stream) {
    jt::Check ck(env, "convCol2im");
    if (!jt::require_stream(env, "convCol2im", "stream", stream)) return;
    jt::Window g;
    int64_t cols = 0;
    if (!jt::window(ck, n, c, h, w, kh, kw, sh, sw, ph, pw, &g) || !col_elems(ck, g, n, c, kh, kw, &cols)) return;
    if (!ck.f32("col", col, cols).f32("dx", dx, g.x_elems)) return;
    JT_LAUNCH(ck, jt_conv_col2im, jt::dptr<const float>(col), jt::dptr<float>(dx), n, c, h, w, kh, kw, sh, sw, ph, pw,
              jt::stream_of(stream));
}

}  // namespace

bool jt::register_conv_im2col(JNIEnv* env, jclass cls) {
    return register_methods(env, cls, "conv_im2col",
                            {
                                method<convIm2col>("convIm2col"),
                                method<convCol2im>("convCol2im"),
                            });
}
