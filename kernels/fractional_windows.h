// Where the windows of fractional max pooling start (Graham 2014; PyTorch's generate_intervals), shared by the
// kernels (pool_fractional.cu) and the host references of the tests. The Java side
// (dev.jtrain.backend.FractionalWindows) computes the same float32 operations, so every device pools the same
// windows: for window i of `out` windows of size `pool` over `in` positions, with the plane's uniform u,
//   alpha    = (float)(in - pool) / (float)(out - 1)
//   start_i  = int((i + u) * alpha) - int(u * alpha)     (i < out - 1; float32 add, mul, truncation)
//   start_last = in - pool
// The starts are clamped to [0, in - pool] (a no-op for u in [0, 1) and out + pool - 1 <= in, what torch
// allows; it keeps any other sample, NaN included, inside the plane), and int() is Java's cast (truncation,
// NaN -> 0, saturating), which C's cast leaves undefined outside the int range. For a fixed u the starts never
// decrease in i (each step is monotone), which lets the backward find the windows over a position by a search
// that starts at the formula's inverse and corrects it by a step or two.
#pragma once

#include <math.h>
#include <stdint.h>

#include "common.cuh"

// Java's (int) of a float: truncation toward zero, NaN -> 0, saturating at INT32_MIN / INT32_MAX.
JT_HD int32_t jt_float_to_int_saturating(float v) {
    if (v != v) return 0;
    if (v >= 2147483648.0f) return INT32_MAX;
    if (v <= -2147483648.0f) return INT32_MIN;
    return (int32_t)v;
}

// One axis of one plane: what every start needs, computed once (the division and int(u * alpha)).
struct JtFractionalAxis {
    float u, alpha;
    float inv_alpha;  // 1 / alpha (0 for one window): only the search's first guess uses it
    int base;  // int(u * alpha)
    int last;  // in - pool: the last window's start and the clamp
    int out;
};

// The axis with another plane's sample: alpha depends on the sizes only, so a launcher computes it once (host and
// device divide alike: IEEE) and each thread sets u and base.
JT_HD JtFractionalAxis jt_fractional_axis_with(JtFractionalAxis a, float u) {
    a.u = u;
    a.base = jt_float_to_int_saturating(u * a.alpha);
    return a;
}

// For out >= 1, pool >= 1, in >= pool. With one window there is no alpha (no division by zero).
JT_HD JtFractionalAxis jt_fractional_axis(float u, int in, int out, int pool) {
    JtFractionalAxis a;
    a.last = in - pool;
    a.out = out;
    a.alpha = out > 1 ? (float)a.last / (float)(out - 1) : 0.0f;
    a.inv_alpha = a.alpha > 0.0f ? 1.0f / a.alpha : 0.0f;
    return jt_fractional_axis_with(a, u);
}

// The start of window i (0 <= i < out). Each float operation stands alone ((i + u) * alpha has no
// multiply-add to contract), so nvcc and the host compiler round it the same way; the division is IEEE (the
// CUDA build does not use fast math).
JT_HD int jt_fractional_axis_start(const JtFractionalAxis& a, int i) {
    if (i >= a.out - 1) return a.last;
    const int64_t s = (int64_t)jt_float_to_int_saturating(((float)i + a.u) * a.alpha) - (int64_t)a.base;
    return s < 0 ? 0 : (s > a.last ? a.last : (int)s);
}

JT_HD int jt_fractional_start(float u, int in, int out, int pool, int i) {
    return jt_fractional_axis_start(jt_fractional_axis(u, in, out, pool), i);
}

// The first window i in [0, out] whose start is >= m (out when none). The guess inverts the formula
// (start_i >= m  <=>  (i + u) alpha >= m + base, up to rounding), then walks to the exact answer, which the
// starts' monotonicity makes correct from any guess: one start either side for samples in [0, 1), more only
// for samples outside it (at most out steps).
JT_HD int jt_fractional_first_at_least(const JtFractionalAxis& ax, int m) {
    const float guess = ceilf(((float)m + (float)ax.base) * ax.inv_alpha - ax.u);
    int64_t g = jt_float_to_int_saturating(guess);
    g = g < 0 ? 0 : (g > ax.out ? ax.out : g);
    int i = (int)g;
    while (i > 0 && jt_fractional_axis_start(ax, i - 1) >= m) --i;
    while (i < ax.out && jt_fractional_axis_start(ax, i) < m) ++i;
    return i;
}

// The windows whose span [start_i, start_i + pool - 1] contains position x: i in [*lo, *hi] (empty when
// *lo > *hi; windows leave gaps when alpha > pool).
JT_HD void jt_fractional_covering(const JtFractionalAxis& ax, int pool, int x, int* lo, int* hi) {
    *lo = jt_fractional_first_at_least(ax, x - pool + 1);
    *hi = jt_fractional_first_at_least(ax, x + 1) - 1;
}
