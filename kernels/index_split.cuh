// Splitting a flat NCHW position into (column, row, plane) for the index-heavy kernels (im2col, col2im,
// pooling). Index is uint32_t when every position fits (a 32-bit divide is a few GPU instructions, a
// 64-bit one a long subroutine), else int64_t: the launchers pick with jt_fits_32. One divide per level,
// the remainders by multiply-subtract.
#pragma once

#include "common.cuh"

template <class Index>
__device__ __forceinline__ void jt_split_plane(int64_t pos, int w, int h, int* col, int* row, int64_t* plane) {
    const Index p = (Index)pos;
    const Index r = p / (Index)w;
    *col = (int)(p - r * (Index)w);
    const Index pl = r / (Index)h;
    *row = (int)(r - pl * (Index)h);
    *plane = (int64_t)pl;
}

// Whether positions [0, n) fit the 32-bit kernels.
static inline bool jt_fits_32(int64_t n) { return n <= (int64_t)UINT32_MAX; }
