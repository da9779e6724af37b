// Batch normalisation over [N, C, inner] (FORMAT.md items 8-14; Backend.batchNorm*): per channel c,
// statistics over the M = N * inner values x[(n * C + c) * inner + i]. Deterministic: each channel is split
// over several blocks (the launch plan, launch_config.h), every block writes its partial sums (double) to a
// workspace, and a second kernel merges them in a fixed order; no atomics. The bits depend on the sizes
// and the device's SM count only (emu reports its worker count), the same on emu and CUDA for the same plan.
// Sizes: n >= 1, c >= 1, inner >= 1. Return cudaSuccess or the first error.
#pragma once

#include <stddef.h>

#include "common.cuh"
#include "launch_config.h"

#ifdef __cplusplus
extern "C" {
#endif

// Device memory the training forward and the backward need for [n, c, inner] on the current device
// (16-byte aligned; not used concurrently by another stream). Eval-mode forward needs none.
size_t jt_batchnorm_workspace_bytes(int n, int c, int64_t inner);

// Training mode: mean and biased variance per channel (shifted sums in double); y = gamma (x - mean) /
// sqrt(var + eps) + beta (gamma, beta may be null: 1 and 0); save_mean/save_var [C] receive the batch mean
// and biased variance (both null or neither); running_mean/running_var [C] (both null or neither) are
// updated in place: r = (1 - momentum) r + momentum * stat, with the unbiased variance var * M / (M - 1).
// y must not alias x. workspace: at least jt_batchnorm_workspace_bytes(n, c, inner) bytes.
cudaError_t jt_batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float eps,
                                       float momentum, float* running_mean, float* running_var, float* y,
                                       float* save_mean, float* save_var, int n, int c, int64_t inner,
                                       void* workspace, size_t workspace_bytes, cudaStream_t stream);

// Eval mode: y = gamma (x - rm) / sqrt(rv + eps) + beta (gamma, beta may be null). y may alias x.
cudaError_t jt_batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                                      const float* running_mean, const float* running_var, float eps, float* y,
                                      int n, int c, int64_t inner, cudaStream_t stream);

// Backward. training != 0: mean/var are the saved batch mean and biased variance and
// dx = gamma inv (dy - sum(dy)/M - xhat sum(dy xhat)/M), inv = 1/sqrt(var + eps), xhat = (x - mean) inv;
// training == 0: mean/var are the running statistics and dx = dy gamma inv.
// dx (may be null: skipped) is overwritten; dgamma += sum(dy xhat), dbeta += sum(dy) (either may be null).
// gamma may be null (1). dx must not alias x or dy. workspace: as for the forward (unused, may be null, in
// eval mode without dgamma and dbeta).
cudaError_t jt_batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                                  const float* var, float eps, int training, float* dx, float* dgamma,
                                  float* dbeta, int n, int c, int64_t inner, void* workspace,
                                  size_t workspace_bytes, cudaStream_t stream);

// The same three with the plan for a device of sm_count SMs instead of the current device's (tests and
// benchmarks: emu can then run the split an H100 runs). The workspace is jt_batchnorm_plan(...).workspace_bytes.
cudaError_t jt_batchnorm_forward_train_sm(const float* x, const float* gamma, const float* beta, float eps,
                                          float momentum, float* running_mean, float* running_var, float* y,
                                          float* save_mean, float* save_var, int n, int c, int64_t inner,
                                          void* workspace, size_t workspace_bytes, int sm_count,
                                          cudaStream_t stream);
cudaError_t jt_batchnorm_forward_eval_sm(const float* x, const float* gamma, const float* beta,
                                         const float* running_mean, const float* running_var, float eps, float* y,
                                         int n, int c, int64_t inner, int sm_count, cudaStream_t stream);
cudaError_t jt_batchnorm_backward_sm(const float* x, const float* dy, const float* gamma, const float* mean,
                                     const float* var, float eps, int training, float* dx, float* dgamma,
                                     float* dbeta, int n, int c, int64_t inner, void* workspace,
                                     size_t workspace_bytes, int sm_count, cudaStream_t stream);

// The saved statistic in cuDNN's form and in ours, converted in place or into another buffer (the vendor
// path: cuDNN saves 1 / sqrt(var + eps), the Backend contract the biased variance). Per channel, in double:
// var = 1 / invstd^2 - eps; invstd = 1 / sqrt(var + eps). c >= 0.
cudaError_t jt_batchnorm_invstd_to_var(float* s, int c, float eps, cudaStream_t stream);
cudaError_t jt_batchnorm_var_to_invstd(const float* var, float* invstd, int c, float eps, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
