// Dropout masks (jt_dropout_*) and random fills (jt_random_*) from Philox4x32-10 (kernels/philox.h; the
// one specification is in docs/architecture.md, section 6 "Random numbers"). The same (seed, offset) gives
// the same bits as the cpu backend (CpuDropout, CpuRandom). All launchers: device pointers, element counts
// n >= 0, return cudaSuccess or the first error.
#pragma once

#include "common.cuh"

#ifdef __cplusplus
extern "C" {
#endif

// Inverted dropout: element i is kept when u_i >= p (u_i the Philox uniform of element i of (seed,
// offset)); y[i] = kept ? x[i] * scale : 0 with scale = (float)(1 / (1 - p)) computed in double;
// mask[i] = kept ? scale : 0 (mask may be null). p = 0: y = x exactly, mask = 1; p = 1: y = 0,
// mask = 0 (no division). y may alias x. p must lie in [0, 1].
cudaError_t jt_dropout_forward(const float* x, float* y, float* mask, int64_t n, float p, uint64_t seed,
                               uint64_t offset, cudaStream_t stream);

// t[i] = lo + (hi - lo) u_i in double, rounded to float and kept below hi (Philox.uniformIn);
// lo, hi finite, lo <= hi (lo == hi gives lo).
cudaError_t jt_random_uniform(float* t, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset,
                              cudaStream_t stream);

// t[i] = (float)(mean + std z_i), z by Box-Muller in double on the uniforms of the pair (2j, 2j+1)
// (Philox.normal); an odd n still uses the pair for its last element. mean, std finite, std >= 0.
cudaError_t jt_random_normal(float* t, int64_t n, float mean, float std, uint64_t seed, uint64_t offset,
                             cudaStream_t stream);

#ifdef __cplusplus
}
#endif
