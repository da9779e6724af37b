// What the SGEMM kernel versions (gemm_v1_blocktile.cuh, gemm_v2_warptile.cuh, gemm_splitk.cuh) share:
// unrolling and launch-bounds macros, and the 4-wide arithmetic helper of the register tiles.
#pragma once

#include <string.h>

#include "common.cuh"

#ifndef JT_UNROLL
#ifdef __CUDACC__
#define JT_UNROLL _Pragma("unroll")
#else
#define JT_UNROLL _Pragma("GCC unroll 16")
#endif
#endif

// __launch_bounds__(threads) / (threads, min blocks per SM) under nvcc; nothing on the host.
#ifdef __CUDACC__
#define JT_GEMM_BOUNDS(n) __launch_bounds__(n)
#define JT_GEMM_BOUNDS2(n, b) __launch_bounds__(n, b)
#else
#define JT_GEMM_BOUNDS(n)
#define JT_GEMM_BOUNDS2(n, b)
#endif

namespace jt_gemm {

// Four consecutive floats of a per-thread tile: float4 under nvcc; a GCC vector on the host, so that
// the emu build (plain -O2, SSE2) turns the rank-1 update into packed multiplies and adds instead of
// 64 scalar accumulators spilled to the stack (3-4x slower). Only this arithmetic helper differs between
// the builds; tiling, indexing, loads and barriers are the same code.
// Products are written `acc += a * b`, not fmaf(): nvcc contracts them into FFMA, and on the host
// (emu, built without -mfma) fmaf() is a slow libm call while a * b + c vectorises.
#ifdef __CUDACC__
typedef float4 Vec4;
__device__ __forceinline__ Vec4 vec4_zero() { return make_float4(0.f, 0.f, 0.f, 0.f); }
__device__ __forceinline__ Vec4 vec4_load(const float* p) { return *reinterpret_cast<const float4*>(p); }
__device__ __forceinline__ float vec4_get(const Vec4& v, int q) {
    return q == 0 ? v.x : (q == 1 ? v.y : (q == 2 ? v.z : v.w));  // q is a constant after unrolling
}
// acc += a * b, written as separate products and sums that nvcc contracts into FFMA.
__device__ __forceinline__ void vec4_madd(Vec4& acc, float a, const Vec4& b) {
    acc.x += a * b.x;
    acc.y += a * b.y;
    acc.z += a * b.z;
    acc.w += a * b.w;
}
#else
typedef float Vec4 __attribute__((vector_size(16)));
inline Vec4 vec4_zero() { return Vec4{0.f, 0.f, 0.f, 0.f}; }
inline Vec4 vec4_load(const float* p) {  // p is 16-byte aligned (shared tiles are float4 arrays)
    Vec4 v;
    memcpy(&v, p, sizeof v);
    return v;
}
inline float vec4_get(const Vec4& v, int q) { return v[q]; }
inline void vec4_madd(Vec4& acc, float a, const Vec4& b) { acc += b * a; }
#endif

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

// The largest gridDim.y and gridDim.z (CUDA's limit; emu enforces the same).
constexpr int kMaxGridYZ = 65535;

}  // namespace jt_gemm
