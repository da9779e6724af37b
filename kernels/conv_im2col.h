// im2col / col2im for NCHW convolution (cross-correlation, zero padding, stride; FORMAT.md items 16-17).
// With K = C kH kW, OH = floor((H + 2 pH - kH) / sH) + 1, OW likewise, P = OH OW, the columns of
// sample n are col[n] [K, P]:
//   col[n][(c kH + u) kW + v][i OW + j] = xpad[n, c, i sH + u, j sW + v]   (0 in the padding)
// so y[n] = W [Cout, K] col[n] (+ bias), dW += dy[n] col[n]^T, dcol[n] = W^T dy[n], dx = col2im(dcol)
// with the GEMM of kernels/gemm.cu (this family writes no GEMM). Sizes: n, c >= 1, h, w >= 1, kernel and
// stride >= 1, padding >= 0, h + 2 pH >= kH and w + 2 pW >= kW. Return cudaSuccess or the first error.
#pragma once

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// x [n, c, h, w] -> col [n, c kh kw, oh ow] (every element of col written).
cudaError_t jt_conv_im2col(const float* x, float* col, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                           int ph, int pw, cudaStream_t stream);

// col [n, c kh kw, oh ow] -> dx [n, c, h, w], overwritten: each input element gathers the column
// entries it appears in, in (u, v) order (no atomics, deterministic, the cpu's summation order).
cudaError_t jt_conv_col2im(const float* col, float* dx, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                           int ph, int pw, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
