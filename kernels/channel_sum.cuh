// Per-channel sums over [N, C, inner] at full-device width, shared by the bias gradient (reduce.cu) and
// PReLU's dalpha (activations.cu, which writes dx in the same pass). Deterministic: no atomics; the bits
// depend only on the sizes and the SM count the plan was made for (never on the pointers' alignment nor on
// the order in which threads run).
//
// The plan (jt_channel_sum_plan, launch_config.h; the same on emu and CUDA) splits each channel over
// `splits` blocks so that C x splits is about JT_CHANSUM_BLOCKS_PER_SM blocks per SM, one wave:
//  pass 1 (this header, one instantiation per term family): block (channel, split) sums its chunk in double
//         (a thread adds its units in order; the block adds its threads by a fixed tree) and writes one
//         partial, partials[c * splits + split], to the caller's workspace. With a single split there is
//         nothing to merge: it writes out[c] = (float)(out[c] + sum) itself and no workspace is needed.
//  pass 2 (channel_sum.cu, jt_channel_sum_merge): a warp per channel adds its partials in a fixed order and
//         writes out[c] = (float)(out[c] + sum).
//
// Planes layout (inner > 1): a channel is N rows of `inner` contiguous floats. A block's threads walk the
// chunk of the channel's flattened (n, i) range in units of V floats (V = 4 where inner % 4 == 0, else 1)
// with a cursor: one division per thread at the start, none per unit. Where the pointers are 16-byte aligned
// a unit is one float4 load, else four float loads of the same values, and the V terms of a unit are added
// in lane order either way: the alignment changes the instructions, not the bits. Each thread keeps several
// units' loads in flight before it adds any (4 float4 or 8 floats per input).
// Columns layout (inner == 1, [N, C]): blocks of 32 channels x JT_CHANSUM_COLUMN_ROWS row lanes, a warp
// reading 32 consecutive channels of a row; the splits divide the rows.
// Index: uint32_t when every element offset of the tensor fits (32-bit multiply-adds, no 64-bit arithmetic per
// element), else int64_t.
#pragma once

#include "common.cuh"
#include "launch_config.h"
#include "reduce_util.cuh"

// ------------------------------------------------------------------ loads of one unit

// kUnroll: the units a thread loads before it adds any, 32 to 64 bytes per input: with 4 blocks of 256 threads per
// SM that is 32-64 KiB in flight per SM, above the ~20 KiB Little's law asks of HBM3 (3.35 TB/s over 132 SMs at
// ~0.8 us).

// One float per unit.
struct JtLanes1 {
    using T = float;
    static constexpr int kUnroll = 8;
    template <class Index>
    static __device__ __forceinline__ float load(const float* p, Index u) { return p[u]; }
    template <class Index>
    static __device__ __forceinline__ void store(float* p, Index u, float v) { p[u] = v; }
};

// Four floats per unit, 16-byte aligned: one vector load.
struct JtLanes4 {
    using T = float4;
    static constexpr int kUnroll = 4;
    template <class Index>
    static __device__ __forceinline__ float4 load(const float* p, Index u) { return reinterpret_cast<const float4*>(p)[u]; }
    template <class Index>
    static __device__ __forceinline__ void store(float* p, Index u, float4 v) { reinterpret_cast<float4*>(p)[u] = v; }
};

// Four floats per unit at any alignment: four loads of the same values JtLanes4 would read.
struct JtLanes4Scalar {
    using T = float4;
    static constexpr int kUnroll = 4;
    template <class Index>
    static __device__ __forceinline__ float4 load(const float* p, Index u) {
        const float* q = p + (Index)4 * u;
        return make_float4(q[0], q[1], q[2], q[3]);
    }
    template <class Index>
    static __device__ __forceinline__ void store(float* p, Index u, float4 v) {
        float* q = p + (Index)4 * u;
        q[0] = v.x;
        q[1] = v.y;
        q[2] = v.z;
        q[3] = v.w;
    }
};

// ------------------------------------------------------------------ term families
//
// Terms<L> (L one of the lane types above) is what pass 1 sums: Params holds its pointers and
//   using Lanes = L;
//   using Loaded = ...;                                     the inputs of one unit
//   __device__ float channel(int c) const;                  a per-channel constant (PReLU: alpha[c])
//   __device__ Loaded load(Index u) const;                  the unit's loads (no arithmetic)
//   __device__ double add(double acc, const Loaded&, Index u, float ch) const;
//                                                           acc + the unit's V terms in lane order (and the
//                                                           unit's elementwise outputs, written once)

// ------------------------------------------------------------------ walking a channel

// The units u0, u0 + stride, ... of channel c in the planes layout: unit u is (n, i) = (u / row_units,
// u % row_units) at unit address (n * C + c) * row_units + i. Unsigned Index wraps harmlessly: every address
// that is used is below the tensor's size, and the arithmetic is exact modulo 2^32.
template <class Index>
struct JtPlaneCursor {
    using index_type = Index;
    Index addr, i, row_units, di, step, wrap;
    __device__ __forceinline__ JtPlaneCursor(Index u0, Index stride, Index c, Index nc, Index row_units_)
        : row_units(row_units_) {
        const Index row = nc * row_units;  // units of one n (all channels)
        const Index n0 = u0 / row_units;
        i = u0 - n0 * row_units;
        addr = n0 * row + c * row_units + i;
        const Index dn = stride / row_units;
        di = stride - dn * row_units;
        step = dn * row + di;
        wrap = row - row_units;  // from (n, i >= row_units) to (n + 1, i - row_units)
    }
    __device__ __forceinline__ Index take() {
        const Index a = addr;
        addr += step;
        i += di;
        if (i >= row_units) {
            i -= row_units;
            addr += wrap;
        }
        return a;
    }
};

// Rows r0, r0 + kRows, ... of one column (columns layout): addresses r * C + col.
template <class Index>
struct JtRowCursor {
    using index_type = Index;
    Index addr, step;
    __device__ __forceinline__ Index take() {
        const Index a = addr;
        addr += step;
        return a;
    }
};

// Adds `count` units from the cursor, in order: Lanes::kUnroll loads in flight, then their terms.
template <class Terms, class Cursor>
__device__ __forceinline__ double jt_channel_sum_walk(const Terms& t, Cursor& cur, typename Cursor::index_type count,
                                                      float ch) {
    using Index = typename Cursor::index_type;
    constexpr int kUnroll = Terms::Lanes::kUnroll;
    double acc = 0.0;
    for (; count >= (Index)kUnroll; count -= (Index)kUnroll) {
        Index at[kUnroll];
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) at[k] = cur.take();
        typename Terms::Loaded v[kUnroll];
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) v[k] = t.load(at[k]);
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) acc = t.add(acc, v[k], at[k], ch);
    }
    for (; count > 0; --count) {
        const Index at = cur.take();
        acc = t.add(acc, t.load(at), at, ch);
    }
    return acc;
}

// The kernels' view of the plan.
struct JtChannelSumArgs {
    int n;
    int c;
    int64_t row_units;  // planes: units per (n, c) row, inner / V
    int64_t chunk;      // units (planes) or rows (columns) per split
    int splits;
    double* partials;   // [c][splits]; unused when splits == 1
    float* out;         // [c], accumulated into
};

// The block's result for channel c: the final value with one split, else its partial.
__device__ __forceinline__ void jt_channel_sum_emit(const JtChannelSumArgs& a, int c, int split, double sum) {
    if (a.splits == 1) {
        a.out[c] = (float)((double)a.out[c] + sum);
    } else {
        a.partials[(int64_t)c * a.splits + split] = sum;
    }
}

// ------------------------------------------------------------------ pass 1

// Grid (C, splits), block plan.threads (a multiple of 32, <= JT_CHANSUM_MAX_THREADS).
template <class Terms, class Index>
__global__ void __launch_bounds__(JT_CHANSUM_MAX_THREADS, JT_CHANSUM_BLOCKS_PER_SM)
    jt_channel_sum_planes_kernel(Terms t, JtChannelSumArgs a) {
    __shared__ double scratch[32];
    const int c = (int)blockIdx.x;
    const int split = (int)blockIdx.y;
    const int64_t units = (int64_t)a.n * a.row_units;
    const int64_t begin = (int64_t)split * a.chunk;
    const int64_t end = begin + a.chunk < units ? begin + a.chunk : units;
    const int64_t first = begin + threadIdx.x;
    double acc = 0.0;
    if (first < end) {
        JtPlaneCursor<Index> cur((Index)first, (Index)blockDim.x, (Index)c, (Index)a.c, (Index)a.row_units);
        acc = jt_channel_sum_walk(t, cur, (Index)jt_ceil_div(end - first, (int64_t)blockDim.x), t.channel(c));
    }
    const double sum = jt_block_sum_double(acc, scratch);
    if (threadIdx.x == 0) jt_channel_sum_emit(a, c, split, sum);
}

// Grid (ceil(C / 32), splits), block (32, JT_CHANSUM_COLUMN_ROWS): column blockIdx.x * 32 + threadIdx.x, rows
// begin + threadIdx.y, + JT_CHANSUM_COLUMN_ROWS, ...; the row lanes are added in y order.
template <class Terms, class Index>
__global__ void __launch_bounds__(32 * JT_CHANSUM_COLUMN_ROWS, JT_CHANSUM_BLOCKS_PER_SM)
    jt_channel_sum_columns_kernel(Terms t, JtChannelSumArgs a) {
    constexpr int kRows = JT_CHANSUM_COLUMN_ROWS;
    __shared__ double part[kRows][32];
    const int col = (int)blockIdx.x * 32 + (int)threadIdx.x;
    const int split = (int)blockIdx.y;
    const int64_t begin = (int64_t)split * a.chunk;
    const int64_t end = begin + a.chunk < a.n ? begin + a.chunk : (int64_t)a.n;
    const int64_t first = begin + threadIdx.y;
    double acc = 0.0;
    if (col < a.c && first < end) {
        JtRowCursor<Index> cur{(Index)first * (Index)a.c + (Index)col, (Index)kRows * (Index)a.c};
        acc = jt_channel_sum_walk(t, cur, (Index)jt_ceil_div(end - first, (int64_t)kRows), t.channel(col));
    }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && col < a.c) {
        double sum = 0.0;
        for (int y = 0; y < kRows; ++y) sum += part[y][threadIdx.x];
        jt_channel_sum_emit(a, col, split, sum);
    }
}

// ------------------------------------------------------------------ launch

// Pass 2 (channel_sum.cu): out[c] = (float)(out[c] + the sum of partials[c * splits ..][splits]).
cudaError_t jt_channel_sum_merge(const double* partials, int c, int splits, float* out, cudaStream_t stream);

// Whether a workspace of `bytes` at `workspace` serves `plan` (none is needed with one split).
static inline bool jt_channel_sum_workspace_ok(const JtChannelSumPlan& plan, const void* workspace, size_t bytes) {
    if (plan.workspace_bytes == 0) return true;
    return workspace != nullptr && reinterpret_cast<uintptr_t>(workspace) % 16 == 0 && bytes >= plan.workspace_bytes;
}

template <template <class> class Terms, class Index>
cudaError_t jt_channel_sum_launch(const typename Terms<JtLanes1>::Params& p, const JtChannelSumPlan& plan,
                                  const JtChannelSumArgs& a, bool aligned, cudaStream_t stream) {
    if (plan.layout == JT_CHANSUM_COLUMNS) {
        const dim3 grid((unsigned)jt_ceil_div(a.c, 32), (unsigned)plan.splits, 1);
        LAUNCH((jt_channel_sum_columns_kernel<Terms<JtLanes1>, Index>), grid, dim3(32, JT_CHANSUM_COLUMN_ROWS, 1),
               0, stream)(Terms<JtLanes1>{p}, a);
    } else {
        const dim3 grid((unsigned)a.c, (unsigned)plan.splits, 1);
        const dim3 block((unsigned)plan.threads, 1, 1);
        if (plan.vec == 1) {
            LAUNCH((jt_channel_sum_planes_kernel<Terms<JtLanes1>, Index>), grid, block, 0, stream)(Terms<JtLanes1>{p}, a);
        } else if (aligned) {
            LAUNCH((jt_channel_sum_planes_kernel<Terms<JtLanes4>, Index>), grid, block, 0, stream)(Terms<JtLanes4>{p}, a);
        } else {
            LAUNCH((jt_channel_sum_planes_kernel<Terms<JtLanes4Scalar>, Index>), grid, block, 0, stream)(
                Terms<JtLanes4Scalar>{p}, a);
        }
    }
    return JT_LAUNCH_STATUS();
}

// Both passes over [n, c, inner] (n * inner >= 1) with `plan`, accumulating into out[c]. `aligned`: every pointer
// the terms read or write elementwise is 16-byte aligned (the float4 path where the plan has vec == 4). The
// caller has checked the sizes and jt_channel_sum_workspace_ok.
template <template <class> class Terms>
cudaError_t jt_channel_sum(const typename Terms<JtLanes1>::Params& p, int n, int c, int64_t inner,
                           const JtChannelSumPlan& plan, bool aligned, float* out, void* workspace,
                           cudaStream_t stream) {
    JtChannelSumArgs a{};
    a.n = n;
    a.c = c;
    a.row_units = inner / plan.vec;
    a.chunk = plan.chunk / plan.vec;
    a.splits = plan.splits;
    a.partials = static_cast<double*>(workspace);
    a.out = out;
    const bool narrow = (int64_t)n * c * inner <= (int64_t)UINT32_MAX;
    const cudaError_t e = narrow ? jt_channel_sum_launch<Terms, uint32_t>(p, plan, a, aligned, stream)
                                 : jt_channel_sum_launch<Terms, int64_t>(p, plan, a, aligned, stream);
    if (e != cudaSuccess || plan.splits == 1) return e;
    return jt_channel_sum_merge(a.partials, c, plan.splits, out, stream);
}
