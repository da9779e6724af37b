// The geometry of a 2-D sliding window over NCHW input (convolution via im2col, pooling), validated
// once for every launcher that uses it. Output size floor((H + 2p - k) / s) + 1, like PyTorch.
#pragma once

#include <stdint.h>

struct JtWindow {
    int c, h, w, kh, kw, sh, sw, ph, pw, oh, ow;
};

// False (the launcher returns cudaErrorInvalidValue) for non-positive sizes, negative padding, a
// kernel larger than the padded input, or a padded size that does not fit an int.
static inline bool jt_window_make(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                  JtWindow* g) {
    if (n < 1 || c < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0) return false;
    if ((int64_t)h + 2 * (int64_t)ph < kh || (int64_t)w + 2 * (int64_t)pw < kw) return false;
    if ((int64_t)h + 2 * (int64_t)ph > 0x7FFFFFFF || (int64_t)w + 2 * (int64_t)pw > 0x7FFFFFFF) return false;
    g->c = c;
    g->h = h;
    g->w = w;
    g->kh = kh;
    g->kw = kw;
    g->sh = sh;
    g->sw = sw;
    g->ph = ph;
    g->pw = pw;
    g->oh = (h + 2 * ph - kh) / sh + 1;
    g->ow = (w + 2 * pw - kw) / sw + 1;
    return true;
}
