// The vendor path: cuBLAS SGEMM and the cuDNN convolution, BatchNorm, activation and pooling calls behind
// C launchers `jt_vendor_*` with jtrain's argument conventions (native/README.md: device pointers, NCHW,
// row-major), for parity tests and for benchmarks against our kernels (docs/architecture.md, section 8).
//
// Every launcher fills a jt_vendor_status and returns its code; it never crashes and never prints:
//   JT_VENDOR_OK           done (enqueued on `stream`);
//   JT_VENDOR_UNAVAILABLE  the library is not applicable (emu) or was not found ("cuDNN not found: tried
//                          ..."), or the group of functions the call needs could not be bound; our kernels
//                          still work;
//   JT_VENDOR_INVALID      a bad argument, found before calling the library (message names it);
//   JT_VENDOR_UNSUPPORTED  the library has no equivalent of this op (e.g. a GELU in cuDNN);
//   JT_VENDOR_LIBRARY_ERROR the library returned a status (library_status, call = the function);
//   JT_VENDOR_CUDA_ERROR   a CUDA runtime call failed (library_status = the cudaError_t, call = the function).
//
// Numerics: FP32 everywhere with TF32 off: cuBLAS in CUBLAS_DEFAULT_MATH or PEDANTIC (neither uses TF32 for
// SGEMM), cuDNN convolutions with CUDNN_FMA_MATH (FMA kernels only). Results differ from our kernels in
// the last bits (summation order); parity tests need tolerances.
//
// Threading: calls are serialised per (device, stream) context; each context owns a cuDNN handle bound to
// its stream and a workspace, so calls on different streams may overlap on the GPU. Contexts live until the
// process ends (a destroyed stream leaves its small context behind).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    JT_VENDOR_OK = 0,
    JT_VENDOR_UNAVAILABLE = 1,
    JT_VENDOR_INVALID = 2,
    JT_VENDOR_UNSUPPORTED = 3,
    JT_VENDOR_LIBRARY_ERROR = 4,
    JT_VENDOR_CUDA_ERROR = 5,
};

typedef struct jt_vendor_status {
    int code;             // JT_VENDOR_*
    int library_status;   // cuBLAS / cuDNN status, or the cudaError_t for JT_VENDOR_CUDA_ERROR; 0 otherwise
    char call[64];        // the failing function ("" when none)
    char name[64];        // the status's name, e.g. "CUDNN_STATUS_BAD_PARAM" ("" when none)
    char message[1024];   // one line for a person
} jt_vendor_status;

// "OK", "UNAVAILABLE", ... for a JT_VENDOR_* code.
const char* jt_vendor_code_name(int code);

// ---- cuBLAS

// Row-major SGEMM, C = alpha op(A) op(B) + beta C, arguments as jt_gemm_sgemm (kernels/gemm.h) without the
// bias/ReLU epilogue. pedantic != 0: CUBLAS_PEDANTIC_MATH, else CUBLAS_DEFAULT_MATH (TF32 off either way).
int jt_vendor_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                    const float* B, int ldb, float beta, float* C, int ldc, int pedantic, cudaStream_t stream,
                    jt_vendor_status* st);

// ---- cuDNN: convolution (NCHW, cross-correlation, zero padding, no dilation, one group)
// x [n, c, h, w], weights [k, c, kh, kw] (PyTorch's [Cout, Cin, kH, kW]), y [n, k, oh, ow] with
// oh = (h + 2 ph - kh) / sh + 1, ow likewise. Algorithms: cuDNN's heuristic order (the *_v7 queries), the
// first that runs in FMA math within 1 GiB of workspace; the choice is cached per geometry.

// y = conv(x, wt) (+ bias[k] when bias is not null), y overwritten.
int jt_vendor_conv2d_forward(const float* x, const float* wt, const float* bias, float* y, int n, int c, int h, int w,
                             int k, int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                             jt_vendor_status* st);
// dx = conv_transpose(dy, wt), overwritten (activation gradients are overwritten: Backend's convention).
int jt_vendor_conv2d_backward_data(const float* wt, const float* dy, float* dx, int n, int c, int h, int w, int k,
                                   int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                                   jt_vendor_status* st);
// dwt (+)= correlation of x with dy: accumulated when accumulate != 0 (parameter gradients are accumulated).
int jt_vendor_conv2d_backward_filter(const float* x, const float* dy, float* dwt, int n, int c, int h, int w, int k,
                                     int kh, int kw, int sh, int sw, int ph, int pw, int accumulate,
                                     cudaStream_t stream, jt_vendor_status* st);
// db[k] (+)= sum of dy [n, k, oh, ow] over n, oh, ow.
int jt_vendor_conv2d_backward_bias(const float* dy, float* db, int n, int k, int oh, int ow, int accumulate,
                                   cudaStream_t stream, jt_vendor_status* st);

// ---- cuDNN: BatchNorm (CUDNN_BATCHNORM_SPATIAL over x [n, c, h, w]: per channel, over n, h, w)
// Mapping to jtrain's semantics (kernels/batchnorm.h, PyTorch's):
//   momentum = cuDNN's exponentialAverageFactor (r = (1 - momentum) r + momentum stat);
//   the running variance is updated with the unbiased batch variance (cuDNN does this itself, as PyTorch's
//   cuDNN path relies on; bench_kernels checks it against our kernel on a GPU);
//   cuDNN saves the batch mean and the INVERSE STANDARD DEVIATION 1 / sqrt(var_biased + eps)
//   (resultSaveInvVariance), not our biased variance: save_inv_std is that, and the backward takes it;
//   to get our saved variance: var = 1 / inv_std^2 - eps;
//   gamma / beta may be null (1 and 0, from a scratch buffer); dgamma / dbeta may be null (discarded) and are
//   accumulated (+=) otherwise; dx is overwritten.
// Eval-mode backward (dx = dy gamma / sqrt(rv + eps)) has no cuDNN call: use our kernel.
int jt_vendor_batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float eps,
                                      float momentum, float* running_mean, float* running_var, float* y,
                                      float* save_mean, float* save_inv_std, int n, int c, int h, int w,
                                      cudaStream_t stream, jt_vendor_status* st);
int jt_vendor_batchnorm_forward_inference(const float* x, const float* gamma, const float* beta,
                                          const float* running_mean, const float* running_var, float eps, float* y,
                                          int n, int c, int h, int w, cudaStream_t stream, jt_vendor_status* st);
// save_mean / save_inv_std from jt_vendor_batchnorm_forward_train (both null: cuDNN recomputes them).
int jt_vendor_batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* save_mean,
                                 const float* save_inv_std, float eps, float* dx, float* dgamma, float* dbeta, int n,
                                 int c, int h, int w, cudaStream_t stream, jt_vendor_status* st);

// ---- cuDNN: activations, elementwise over n floats (kind: JtActKind of kernels/activation_math.h)
// cuDNN has RELU, SIGMOID, TANH and ELU (a = alpha); other kinds give JT_VENDOR_UNSUPPORTED. NaN propagates.
int jt_vendor_activation_forward(int kind, const float* x, float* y, int64_t n, float a, cudaStream_t stream,
                                 jt_vendor_status* st);
// dx = dy f'(.) overwritten. RELU needs x or y; SIGMOID / TANH need y; ELU needs x and y.
int jt_vendor_activation_backward(int kind, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                                  float a, cudaStream_t stream, jt_vendor_status* st);

// ---- cuDNN: pooling over the (n, c) planes of NCHW (max: deterministic, NaN propagates; avg: divides by
// kh kw, padding counting as zeros, like kernels/pool.h). y [n, c, oh, ow].
int jt_vendor_pool_forward(int max, const float* x, float* y, int n, int c, int h, int w, int kh, int kw, int sh,
                           int sw, int ph, int pw, cudaStream_t stream, jt_vendor_status* st);
// dx overwritten; x and y (the forward's) are needed for max (cuDNN finds the argmax again), ignored for avg.
int jt_vendor_pool_backward(int max, const float* x, const float* y, const float* dy, float* dx, int n, int c, int h,
                            int w, int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                            jt_vendor_status* st);

#ifdef __cplusplus
}
#endif
