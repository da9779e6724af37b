// Elementwise float32 kernels (kernels/elementwise.cu): grid-stride loops, float4 when every pointer
// is 16-byte aligned. Outputs may alias inputs exactly (same pointer); partial overlap is undefined.
#pragma once

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// x[i] = value.
cudaError_t jt_elementwise_fill(float* x, int64_t n, float value, cudaStream_t stream);

// dst[i] = src[i] for n 32-bit words (bit-exact, so an int64 tensor of m elements is n = 2m).
cudaError_t jt_elementwise_copy(const float* src, float* dst, int64_t n, cudaStream_t stream);

// x[i] *= alpha.
cudaError_t jt_elementwise_scale(float* x, int64_t n, float alpha, cudaStream_t stream);

// y[i] += alpha * x[i].
cudaError_t jt_elementwise_axpy(float alpha, const float* x, float* y, int64_t n, cudaStream_t stream);

// out[i] = a[i] + b[i].
cudaError_t jt_elementwise_add(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);

// out[i] = a[i] * b[i].
cudaError_t jt_elementwise_mul(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream);

// out[i] = sqrtf(x[i]) (IEEE round-to-nearest, as C's sqrtf: nvcc's default -prec-sqrt=true).
cudaError_t jt_elementwise_sqrt(const float* x, float* out, int64_t n, cudaStream_t stream);

// grad[i] += lambda * sign(w[i]), sign(+-0) = +-0 and sign(NaN) = NaN (Java's Math.signum): the L1 subgradient.
cudaError_t jt_elementwise_add_sign(float lambda, const float* w, float* grad, int64_t n, cudaStream_t stream);

// dst[r * dst_stride + c] = src[r * src_stride + c] for r < rows, c < cols (a strided 2-D copy: one
// part of a concatenation along dim 1). Strides are >= cols; src and dst must not overlap.
cudaError_t jt_elementwise_copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int rows,
                                     int64_t cols, cudaStream_t stream);

// y[n, c, inner] += bias[c]: a bias broadcast along dim 1 ([N, D] is inner = 1; NCHW is inner = H W).
// Not a reduction: its gradient, the sum over n and inner, is jt_reduce_bias_grad (reduce.h).
cudaError_t jt_elementwise_add_channel_bias(float* y, const float* bias, int n, int c, int inner,
                                            cudaStream_t stream);

#ifdef __cplusplus
}
#endif
