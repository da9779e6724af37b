// Max and average pooling over the (n, c) planes of NCHW tensors (FORMAT.md items 17-20;
// Backend.maxPool2d*/avgPool2d*): OH = floor((H + 2 pH - kH) / sH) + 1, OW likewise; windows are
// clipped to the input (padding never wins a max; avg divides by kH kW, padding counting as zeros).
// Sizes: n, c, h, w >= 1, kernel and stride >= 1, padding >= 0, h + 2 pH >= kH, w + 2 pW >= kW.
// Return cudaSuccess or the first error.
#pragma once

#include "common.cuh"
#include "device_error.h"

#ifdef __cplusplus
extern "C" {
#endif

// y [n, c, oh, ow] = window max, scanned row-major, the first maximum kept (strict >; a NaN wins, like
// PyTorch and the cpu); indices (int64, may be null) = h * W + w of it within the (n, c) plane
// (-1 and -inf for a window that lies entirely in the padding).
cudaError_t jt_pool_max_forward(const float* x, float* y, int64_t* indices, int n, int c, int h, int w, int kh, int kw,
                                int sh, int sw, int ph, int pw, cudaStream_t stream);

// dx [n, c, h, w] = 0, then dy added at each argmax (overlapping windows add up). Gather: one thread
// per input element adds the dy of the windows that contain it and chose it, in output order, so the
// result is deterministic and bit-equal to the cpu's. Indices outside the plane are ignored and, when err is
// not null, recorded there (JT_DEVERR_POOL_MAX_BACKWARD_INDEX, index = the flat index into indices
// [n, c, oh, ow], limit = h * w); every index is checked, also one whose window no input element covers.
cudaError_t jt_pool_max_backward(const float* dy, const int64_t* indices, float* dx, int n, int c, int h, int w,
                                 int kh, int kw, int sh, int sw, int ph, int pw, JtDeviceError* err,
                                 cudaStream_t stream);

// The same without the window geometry (Backend.maxPool2dBackward(dy, indices, dx) carries none):
// dx = 0, then one thread per output does atomicAdd(dx[plane, idx], dy). Determinism: an element that
// receives at most two contributions gets the same bits in any order (a + b == b + a; e.g. every
// non-overlapping pooling); three or more (overlapping windows, e.g. 3x3/s2) may round differently
// from run to run. Prefer jt_pool_max_backward where the geometry is known. Indices outside the
// plane are ignored and, when err is not null, recorded (JT_DEVERR_POOL_MAX_SCATTER_INDEX, as above).
cudaError_t jt_pool_max_backward_scatter(const float* dy, const int64_t* indices, float* dx, int n, int c, int h,
                                         int w, int oh, int ow, JtDeviceError* err, cudaStream_t stream);

// y = sum of the window's in-range elements (in double) / (kh kw).
cudaError_t jt_pool_avg_forward(const float* x, float* y, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                                int ph, int pw, cudaStream_t stream);

// dx (overwritten) = sum over the windows containing the element of dy / (kh kw) (float division per
// output, added in output order, like the cpu).
cudaError_t jt_pool_avg_backward(const float* dy, float* dx, int n, int c, int h, int w, int kh, int kw, int sh,
                                 int sw, int ph, int pw, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
