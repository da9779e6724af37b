// The SGEMM tile configurations (JT_GEMM_CONFIG_* in gemm.h) as plain numbers, for the host code that
// chooses among them (launch_config.cu) and launches them (gemm.cu, which checks this table against the
// kernels' own constants at compile time). Host-only; the same in the emu and CUDA builds.
#pragma once

#include <stdint.h>

#include "gemm.h"

struct JtGemmTile {
    int bm, bn, bk;  // block tile and k-step
    int threads;
    int version;     // 1: gemm_v1_blocktile.cuh, 2: gemm_v2_warptile.cuh (split-K capable)
};

static constexpr inline JtGemmTile jt_gemm_tile(int config) {
    switch (config) {
        case JT_GEMM_CONFIG_128x128: return JtGemmTile{128, 128, 8, 256, 2};
        case JT_GEMM_CONFIG_64x64: return JtGemmTile{64, 64, 16, 64, 2};
        case JT_GEMM_CONFIG_32x64: return JtGemmTile{32, 64, 16, 64, 2};
        case JT_GEMM_CONFIG_64x32: return JtGemmTile{64, 32, 16, 64, 2};
        case JT_GEMM_CONFIG_V1_128x128: return JtGemmTile{128, 128, 16, 256, 1};
        case JT_GEMM_CONFIG_V1_64x64: return JtGemmTile{64, 64, 32, 64, 1};
        case JT_GEMM_CONFIG_V1_32x64: return JtGemmTile{32, 64, 32, 64, 1};
        default: return JtGemmTile{0, 0, 0, 0, 0};
    }
}

// The GPU the automatic choice is sized for: 132 SMs (H100 SXM). A fixed number, not the device's, so that
// emu runs the configuration CUDA runs (launch_config.h); a GPU with fewer SMs still gets >= 1 wave.
#define JT_GEMM_TARGET_SMS 132
// Split-K keeps every slice at least this deep (16 k-tiles of BK 8, 8 of BK 16), so that the partial sums'
// extra traffic (one write and one read per slice and element) and each block's pipeline fill and epilogue
// stay small next to the slice's FMAs.
#define JT_GEMM_MIN_SLICE_K 128
// The most slices one GEMM is cut into.
#define JT_GEMM_MAX_SPLITS 16

// The k extent of one slice when k is cut into at most `splits` slices: ceil(k / splits) rounded up to the
// tile's k-step (slices start on a k-tile boundary, so float4 loads along k stay aligned).
static inline int64_t jt_gemm_slice_k(int config, int64_t k, int splits) {
    const int64_t bk = jt_gemm_tile(config).bk;
    const int64_t per = (k + splits - 1) / splits;
    return (per + bk - 1) / bk * bk;
}

// The slices actually launched for at most `splits` (the rounding above can need fewer).
static inline int jt_gemm_slices(int config, int64_t k, int splits) {
    const int64_t slice = jt_gemm_slice_k(config, k, splits);
    return (int)((k + slice - 1) / slice);
}
