// Optimizer updates with PyTorch's rules (FORMAT.md items 27-35; Backend.sgdStep ... clipByGlobalNorm)
// and the global-norm clipping pieces. Float32 arithmetic element by element, in the operation order
// of the cpu backend (CpuOptimizers, itself PyTorch 1.13's float32 order), with no FMA contraction;
// the scalars PyTorch computes in Python (Adam's step size and sqrt of the bias correction, 1 - lr wd,
// 1 - beta) are computed by the launcher in double and rounded to float once. So cpu, emu and cuda
// agree to the bit (up to the host's pow for Adam's bias corrections).
//
// Every rule has a single-tensor launcher and a multi-tensor one (`_multi`) that updates `count`
// tensors in as few launches as possible (up to 32 tensors of any size per launch; the device pointers
// travel inside the kernel's arguments). Each launch fills the device (launch_config.h,
// jt_launch_grid_fill) and its blocks walk chunks of 8 Ki elements with a grid stride; a tensor whose
// pointers are all 16-byte aligned is read and written as float4 (the scalar path, for other tensors
// and the last n % 4 elements, applies the same per-element formula: the same bits). The pointer arrays
// of the `_multi` launchers are HOST arrays of DEVICE pointers, read during the call only; sizes[k] >= 0.
// A state list that a rule does not use (momentum buffers with momentum = 0, max_exp_avg_sqs without
// AMSGrad) may be null. Return cudaSuccess or the first error.
#pragma once

#include <stddef.h>

#include "common.cuh"

// Elements per work item of every optimizer, clip and sum-of-squares launch (one partial per chunk).
#define JT_OPTIM_CHUNK 8192

// Most chunk partials one sum-of-squares launch writes, and the bytes of device workspace
// jt_optim_sum_squares(_multi) needs (8-byte aligned): the partials and a double running total.
#define JT_OPTIM_SUMSQ_MAX_CHUNKS 8192
#define JT_OPTIM_SUMSQ_WORKSPACE_BYTES ((JT_OPTIM_SUMSQ_MAX_CHUNKS + 1) * 8)

#ifdef __cplusplus
extern "C" {
#endif

// SGD: g = grad + wd p; with momentum, buf = g on the first step, else momentum buf + (1 - dampening) g;
// p -= lr (nesterov ? g + momentum buf : buf); without momentum p -= lr g (buf unused, may be null).
cudaError_t jt_optim_sgd(float* param, const float* grad, float* momentum_buf, int64_t n, float lr, float momentum,
                         float dampening, float weight_decay, int nesterov, int first_step, cudaStream_t stream);
cudaError_t jt_optim_sgd_multi(int count, float* const* params, const float* const* grads,
                               float* const* momentum_bufs, const int64_t* sizes, float lr, float momentum,
                               float dampening, float weight_decay, int nesterov, int first_step,
                               cudaStream_t stream);

// Adagrad: g = grad + wd p; sum += g^2; p -= clr g / (sqrt(sum) + eps), clr = lr / (1 + (t - 1) lr_decay)
// computed by the caller.
cudaError_t jt_optim_adagrad(float* param, const float* grad, float* sum, int64_t n, float clr, float weight_decay,
                             float eps, cudaStream_t stream);
cudaError_t jt_optim_adagrad_multi(int count, float* const* params, const float* const* grads, float* const* sums,
                                   const int64_t* sizes, float clr, float weight_decay, float eps,
                                   cudaStream_t stream);

// RMSprop (not centred): g = grad + wd p; v = alpha v + (1 - alpha) g^2; with momentum
// buf = momentum buf + g / (sqrt(v) + eps), p -= lr buf; else p -= lr g / (sqrt(v) + eps).
cudaError_t jt_optim_rmsprop(float* param, const float* grad, float* square_avg, float* momentum_buf, int64_t n,
                             float lr, float alpha, float eps, float weight_decay, float momentum,
                             cudaStream_t stream);
cudaError_t jt_optim_rmsprop_multi(int count, float* const* params, const float* const* grads,
                                   float* const* square_avgs, float* const* momentum_bufs, const int64_t* sizes,
                                   float lr, float alpha, float eps, float weight_decay, float momentum,
                                   cudaStream_t stream);

// Adam (Algorithm 1: p -= (lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)), AMSGrad when
// max_exp_avg_sq is non-null (max over the raw v), AdamW when decoupled != 0 (p *= 1 - lr wd first;
// else g = grad + wd p). step t >= 1; the bias corrections are computed here in double.
cudaError_t jt_optim_adam(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, float* max_exp_avg_sq,
                          int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                          int decoupled, int step, cudaStream_t stream);
cudaError_t jt_optim_adam_multi(int count, float* const* params, const float* const* grads, float* const* exp_avgs,
                                float* const* exp_avg_sqs, float* const* max_exp_avg_sqs, const int64_t* sizes,
                                float lr, float beta1, float beta2, float eps, float weight_decay, int decoupled,
                                int step, cudaStream_t stream);

// JT_OPTIM_SUMSQ_WORKSPACE_BYTES, for callers that cannot see the macro (JNI, Java).
size_t jt_optim_sum_squares_workspace_bytes(void);

// out[0] (one float on the device) = (accumulate ? out[0] : 0) + the sum of x^2 over every element of
// every tensor; one double partial per chunk, merged in a fixed order (the bits depend on the list of
// sizes only: not on the device, the grid or the pointers' alignment). workspace (required):
// jt_optim_sum_squares_workspace_bytes() of device memory, 8-byte aligned, not shared with a concurrent call.
cudaError_t jt_optim_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                 cudaStream_t stream);
cudaError_t jt_optim_sum_squares_multi(int count, const float* const* tensors, const int64_t* sizes, float* out,
                                       int accumulate, void* workspace, cudaStream_t stream);

// clip_grad_norm_ without a host sync: coef = max_norm / (sqrt(total_squares[0]) + 1e-6) in double
// (total_squares a device float, e.g. from jt_optim_sum_squares_multi); when coef < 1 every grad
// element is multiplied by (float) coef, else nothing changes.
cudaError_t jt_optim_clip_scale(float* grad, int64_t n, const float* total_squares, float max_norm,
                                cudaStream_t stream);
cudaError_t jt_optim_clip_scale_multi(int count, float* const* grads, const int64_t* sizes,
                                      const float* total_squares, float max_norm, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
