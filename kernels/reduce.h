// Reductions and bias ops (kernels/reduce.cu). Every float result is deterministic: fixed-order trees
// whose shape depends only on the sizes (no float atomics), accumulated in double.
#pragma once

#include <stddef.h>

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// Most partial sums the first pass writes, and the workspace (device memory) the sums need.
#define JT_REDUCE_MAX_PARTIALS 2048
size_t jt_reduce_workspace_bytes(void);

// The sums below require a `workspace` of jt_reduce_workspace_bytes() bytes of device memory (8-byte
// aligned; not used concurrently by another stream); a null one is cudaErrorInvalidValue. Two passes:
// jt_reduce_pass1_blocks(n) blocks (launch_config.h; 8 Ki elements per block and up to 2048 blocks, a
// function of n alone) each sum a contiguous run in double, 16-byte loads where the input is aligned,
// then one block merges the partials in a fixed order. So a result is reproducible run to run and the
// same on every device and for every alignment of the input.

// out[0] = sum of x[0..n). n == 0 gives 0.
cudaError_t jt_reduce_sum(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream);

// out[0] = sum of x^2, or out[0] += that when accumulate != 0 (global norms over many tensors).
cudaError_t jt_reduce_sum_squares(const float* x, int64_t n, float* out, int accumulate, void* workspace,
                                  cudaStream_t stream);

// out[0] = sum of |x|.
cudaError_t jt_reduce_sum_abs(const float* x, int64_t n, float* out, void* workspace, cudaStream_t stream);

// out[0] (float32) = number of i < n with a[i] == b[i] (int64 arrays); exact up to 2^24.
cudaError_t jt_reduce_count_equal(const int64_t* a, const int64_t* b, int64_t n, float* out, void* workspace,
                                  cudaStream_t stream);

// out[r] (int64) = index of the first maximum of row r of x [rows, cols] (cols >= 1); a NaN counts as
// the maximum (the first NaN wins), like torch.argmax and the CPU backend.
cudaError_t jt_reduce_argmax_rows(const float* x, int rows, int cols, int64_t* out, cudaStream_t stream);

// dbias[c] += sum over n and inner of dy[n, c, inner] (accumulated like a parameter gradient), in double, rounded
// once. Each channel is split over several blocks (jt_channel_sum_plan, launch_config.h: about 4 blocks per SM in
// one wave) whose double partials go to `workspace`, then merged per channel in a fixed order: deterministic, the
// bits depend on the sizes and the device's SM count only (not on dy's alignment). workspace: at least
// jt_reduce_bias_grad_workspace_bytes(n, c, inner) bytes of device memory, 16-byte aligned, not used by another
// stream meanwhile; that is 0 (workspace may be null) when the plan does not split, e.g. for small sums.
size_t jt_reduce_bias_grad_workspace_bytes(int n, int c, int inner);
cudaError_t jt_reduce_bias_grad(const float* dy, int n, int c, int inner, float* dbias, void* workspace,
                                size_t workspace_bytes, cudaStream_t stream);
// The same with the plan for a device of sm_count SMs (tests and benchmarks: emu runs the split an H100 runs);
// the workspace is jt_channel_sum_plan(n, c, inner, sm_count).workspace_bytes.
cudaError_t jt_reduce_bias_grad_sm(const float* dy, int n, int c, int inner, float* dbias, void* workspace,
                                   size_t workspace_bytes, int sm_count, cudaStream_t stream);

// norms[r] = sqrt(sum of w[r, :]^2) for each row of w [rows, cols] (sum in double, then rounded once).
cudaError_t jt_reduce_row_norms(const float* w, int rows, int64_t cols, float* norms, cudaStream_t stream);

// The max-norm constraint: each row of w [rows, cols] whose norm (in double) exceeds c is scaled by
// c / norm (in double, one rounding per element); other rows are left untouched. One launch.
cudaError_t jt_reduce_max_norm_rows(float* w, int rows, int64_t cols, float c, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
