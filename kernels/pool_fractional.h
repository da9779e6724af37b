// Fractional max pooling over the (n, c) planes of NCHW tensors (Graham 2014; PyTorch's
// FractionalMaxPool2d; Backend.fractionalMaxPool2d*): output [n, c, oh, ow] of kh x kw windows whose starts
// come from the plane's two uniforms samples[plane] = (u_w, u_h) by torch's float32 formula
// (fractional_windows.h), computed on the device, so nothing data-dependent travels through the host.
// Sizes: n, c, h, w, oh, ow, kh, kw >= 1, oh + kh - 1 <= h, ow + kw - 1 <= w (torch's condition; otherwise
// cudaErrorInvalidValue). Return cudaSuccess or the first error.
#pragma once

#include "common.cuh"
#include "device_error.h"

#ifdef __cplusplus
extern "C" {
#endif

// y = window max, scanned row-major, the first maximum kept (strict >; a NaN wins, a later NaN over an earlier
// one, like PyTorch and the cpu); indices (int64, may be null) = h * W + w of it within the (n, c) plane.
// samples: [n, c, 2] float32.
cudaError_t jt_pool_fractional_max_forward(const float* x, const float* samples, float* y, int64_t* indices, int n,
                                           int c, int h, int w, int oh, int ow, int kh, int kw, cudaStream_t stream);

// dx [n, c, h, w] = 0, then dy added at each argmax (overlapping windows add up). Gather, no atomics: one thread
// per input element finds the windows over it (the starts never decrease: an inverted formula corrected by a
// step or two) and adds the dy of those
// that chose it in output order (row-major), so the result is deterministic and bit-equal to the cpu's.
// An index that is not inside its own window (outside the plane included) routes nothing and, when err is not
// null, is recorded there (JT_DEVERR_POOL_FRACTIONAL_BACKWARD_INDEX, index = the flat index into indices
// [n, c, oh, ow], limit = h * w); every index is checked, also one whose window no input element reaches.
cudaError_t jt_pool_fractional_max_backward(const float* dy, const int64_t* indices, const float* samples, float* dx,
                                            int n, int c, int h, int w, int oh, int ow, int kh, int kw,
                                            JtDeviceError* err, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
