// Loss kernels (kernels/softmax_xent.cu): softmax cross-entropy with label smoothing (jt_softmax_xent_*)
// and the element-wise parts of the other losses (jt_loss_*: BCE with logits, squared error). Per-row /
// per-element parts only; the mean is the caller's scale or a reduction (tests/conformance/FORMAT.md
// items 21-24).
#pragma once

#include "common.cuh"
#include "device_error.h"

#ifdef __cplusplus
extern "C" {
#endif

// logits [n, c], labels int64 [n] in [0, c); q = (1 - eps) onehot + eps / c (eps spread over all c
// classes). Writes probs [n, c] = softmax(logits) and loss [n] = logsumexp(row) - sum_k q_k x_k, computed
// as log(sum exp(x - m)) + (1 - eps)(m - x_y) + eps/c sum_k (m - x_k), m = row max (no cancellation).
// A label outside [0, c) gives loss NaN for its row (never an out-of-bounds read) and, when err is not null,
// is recorded there (device_error.h: JT_DEVERR_SOFTMAX_XENT_FORWARD_LABEL, index = the row, limit = c).
cudaError_t jt_softmax_xent_forward(const float* logits, const int64_t* labels, int n, int c, float eps, float* probs,
                                    float* loss, JtDeviceError* err, cudaStream_t stream);

// dlogits [n, c] = scale * (probs - q) (overwritten; may alias probs). An invalid label gives NaN for its row and,
// when err is not null, is recorded once per row (JT_DEVERR_SOFTMAX_XENT_BACKWARD_LABEL, index = the row).
cudaError_t jt_softmax_xent_backward(const float* probs, const int64_t* labels, int n, int c, float eps, float scale,
                                     float* dlogits, JtDeviceError* err, cudaStream_t stream);

// loss[i] = max(z, 0) - z t + log(1 + exp(-|z|)) over n elements (targets may be soft).
cudaError_t jt_loss_bce_with_logits_forward(const float* logits, const float* targets, int64_t n, float* loss,
                                            cudaStream_t stream);

// dlogits[i] = scale * (sigmoid(z) - t) (overwritten; may alias logits or targets).
cudaError_t jt_loss_bce_with_logits_backward(const float* logits, const float* targets, int64_t n, float scale,
                                             float* dlogits, cudaStream_t stream);

// out[i] = (pred - target)^2 (no 1/2 factor).
cudaError_t jt_loss_squared_error_forward(const float* pred, const float* target, int64_t n, float* out,
                                          cudaStream_t stream);

// dpred[i] = 2 * scale * (pred - target) (overwritten; may alias pred or target).
cudaError_t jt_loss_squared_error_backward(const float* pred, const float* target, int64_t n, float scale,
                                           float* dpred, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
