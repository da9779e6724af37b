// Elementwise activations, PReLU and maxout (kernels/activations.cu). Formulas: activation_math.h.
#pragma once

#include <stddef.h>

#include "common.cuh"
#include "activation_math.h"
#include "device_error.h"

#ifdef __cplusplus
extern "C" {
#endif

// y[i] = f(x[i]) for i < n; kind is a JtActKind (Java's Activation.Kind order); a, b as in
// activation_math.h (leaky slope, elu alpha, softplus beta/threshold). y may alias x.
cudaError_t jt_activations_forward(int kind, const float* x, float* y, int64_t n, float a, float b,
                                   cudaStream_t stream);

// dx[i] = dy[i] * f'(.) (dx overwritten; dx may alias dy). SIGMOID/TANH read y only (x may be null);
// RELU reads x, or y when x is null; IDENTITY reads neither; the others read x only (y may be null).
cudaError_t jt_activations_backward(int kind, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                                    float a, float b, cudaStream_t stream);

// PReLU over x [n, c, inner]: y = x > 0 ? x : alpha[ch] * x with ch the index along dim 1. A single
// shared alpha (shape [1]) is c = 1 and inner = numel / n. y may alias x.
cudaError_t jt_activations_prelu_forward(const float* x, const float* alpha, float* y, int n, int c, int inner,
                                         cudaStream_t stream);

// dx = dy * (x > 0 ? 1 : alpha[ch]) (overwritten); dalpha[ch] += sum over n and inner of
// (x > 0 ? 0 : x * dy) (accumulated; dalpha may be null to skip it). dx may alias dy (each element is read, then
// written once). dx is written in the same pass as the sums,
// the per-channel sums of the bias gradient (reduce.h, jt_reduce_bias_grad): split over several blocks per
// channel, double partials in `workspace`, merged in a fixed order (deterministic; the bits depend on the sizes
// and the device's SM count only). workspace: jt_activations_prelu_backward_workspace_bytes(n, c, inner) bytes of
// device memory, 16-byte aligned (0 bytes, may be null, when the plan does not split or dalpha is null).
size_t jt_activations_prelu_backward_workspace_bytes(int n, int c, int inner);
cudaError_t jt_activations_prelu_backward(const float* x, const float* alpha, const float* dy, float* dx,
                                          float* dalpha, int n, int c, int inner, void* workspace,
                                          size_t workspace_bytes, cudaStream_t stream);
// The same with the plan for a device of sm_count SMs (tests, benchmarks).
cudaError_t jt_activations_prelu_backward_sm(const float* x, const float* alpha, const float* dy, float* dx,
                                             float* dalpha, int n, int c, int inner, void* workspace,
                                             size_t workspace_bytes, int sm_count, cudaStream_t stream);

// Maxout: z [n, pieces * d] with piece p of unit j at column p * d + j; y [n, d] = max over p;
// piece [n, d] (int64) = the first maximal p (ties go to the lower piece; compared with >, like the CPU backend,
// so a later NaN piece never wins).
cudaError_t jt_activations_maxout_forward(const float* z, int n, int pieces, int d, float* y, int64_t* piece,
                                          cudaStream_t stream);

// dz [n, pieces * d] (overwritten) = dy[r, j] at the chosen piece, 0 elsewhere (a piece index outside
// [0, pieces) routes nothing and, when err is not null, is recorded there: JT_DEVERR_MAXOUT_BACKWARD_PIECE,
// index = the flat index into piece [n, d], limit = pieces).
cudaError_t jt_activations_maxout_backward(const float* dy, const int64_t* piece, int n, int pieces, int d, float* dz,
                                           JtDeviceError* err, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
