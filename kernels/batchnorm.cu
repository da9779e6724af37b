// Batch normalisation over [N, C, inner]; see batchnorm.h for the contract, launch_config.h for the plan.
//
// An op that needs per-channel sums (training forward; backward in training mode or with dgamma/dbeta)
// runs two kernels over the same grid (channel or 32-channel tile, split):
//  1. partials: each block sums its chunk of the channel into one double pair in the workspace
//     (forward: sum of d and d^2, d = x - K, K the channel's first value, so that data with a large mean
//     keeps its variance; backward: sum of dy and of dy (x - mean)). Per thread: groups of 4 loads of 1 or
//     4 floats are summed in float, the groups in double; the block adds its threads by a fixed tree.
//  2. apply: every block merges its channel's partials in the same fixed order (so all blocks of a channel
//     derive the same bits), the split-0 block writes the per-channel results (saved and running
//     statistics, dgamma, dbeta), and each block writes y or dx over its chunk. The apply kernel walks
//     everything backwards (blocks in reverse grid order, each chunk from its end): what the partials kernel
//     read last is the likeliest to be still in L2 (50 MB on an H100), so part of the second read of x
//     (and dy) may come from L2 rather than HBM.
// Eval-mode forward and eval-mode backward without parameter gradients run the apply kernel alone.
//
// Planes layout (inner > 1): a channel is N runs of `inner` contiguous values; threads walk a chunk of the
// flattened (n, i) range with a cursor (one division per thread at the start, none per value), with
// float4 loads where inner % 4 == 0 and the pointers are 16-byte aligned. Columns layout (inner == 1,
// BatchNorm1d on [N, C]): a warp reads 32 consecutive channels of a row, blocks split the rows.
//
// Every float product goes through __fmul_rn (and double ones through __dmul_rn) so nvcc cannot contract
// them into FMAs: emu and CUDA then compute the same bits for the same plan (sqrt and division in double are
// IEEE-rounded on both; not yet confirmed on a GPU).
#include "batchnorm.h"

#include "common.cuh"
#include "launch_config.h"

namespace {

constexpr int kMaxThreads = 256;          // planes: threads per block (fewer for small channels)
constexpr int kUnroll = 4;                // independent loads in flight per thread
constexpr int kMinValuesPerThread = 32;   // planes: a split gives each thread at least this many values
constexpr int kMinRowsPerThread = 16;     // columns: the same in rows
constexpr int kMaxSplits = 65535;         // grid y
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kRows = JT_BN_COLUMN_ROWS;

// Everything a BatchNorm kernel may read or write; the unused pointers are null.
struct BnArgs {
    const float* x;
    const float* dy;             // backward
    float* out;                  // y, or dx (may be null in the backward)
    const float* gamma;          // may be null (1)
    const float* beta;           // may be null (0)
    const float* mean;           // eval forward: running mean; backward: the statistics used
    const float* var;
    float* running_mean;         // training forward (both null or neither)
    float* running_var;
    float* save_mean;            // training forward (both null or neither)
    float* save_var;
    float* dgamma;               // backward (each may be null)
    float* dbeta;
    double2* partials;           // [c][splits]; null when no sums are needed
    float eps;
    float momentum;
    int training;
    int n;
    int c;
    int64_t inner;
    int splits;                  // partials per channel
    int64_t chunk;               // values (planes) or rows (columns) per split
};

// ------------------------------------------------------------------------- loads of 1 or 4 floats

template <int V>
struct Lanes;

template <>
struct Lanes<1> {
    using T = float;
    static __device__ __forceinline__ float load(const float* p, int64_t u) { return p[u]; }
    static __device__ __forceinline__ void store(float* p, int64_t u, float v) { p[u] = v; }
};

template <>
struct Lanes<4> {
    using T = float4;
    static __device__ __forceinline__ float4 load(const float* p, int64_t u) {
        return reinterpret_cast<const float4*>(p)[u];
    }
    static __device__ __forceinline__ void store(float* p, int64_t u, float4 v) { reinterpret_cast<float4*>(p)[u] = v; }
};

template <class F>
__device__ __forceinline__ float map_lanes(float v, F f) { return f(v); }
template <class F>
__device__ __forceinline__ float4 map_lanes(float4 v, F f) { return make_float4(f(v.x), f(v.y), f(v.z), f(v.w)); }
template <class F>
__device__ __forceinline__ float map_lanes(float a, float b, F f) { return f(a, b); }
template <class F>
__device__ __forceinline__ float4 map_lanes(float4 a, float4 b, F f) {
    return make_float4(f(a.x, b.x), f(a.y, b.y), f(a.z, b.z), f(a.w, b.w));
}

// The summed terms of one load, in float over its lanes.
// Forward: (d, d^2) with d = x - shift.
__device__ __forceinline__ float2 stat_terms(float v, float shift) {
    const float d = __fsub_rn(v, shift);
    return make_float2(d, __fmul_rn(d, d));
}
__device__ __forceinline__ float2 stat_terms(float4 v, float shift) {
    const float2 a = stat_terms(v.x, shift), b = stat_terms(v.y, shift), c = stat_terms(v.z, shift),
                 d = stat_terms(v.w, shift);
    return make_float2(__fadd_rn(__fadd_rn(a.x, b.x), __fadd_rn(c.x, d.x)),
                       __fadd_rn(__fadd_rn(a.y, b.y), __fadd_rn(c.y, d.y)));
}
// Backward: (dy, dy (x - mean)).
__device__ __forceinline__ float2 grad_terms(float g, float v, float mu) {
    return make_float2(g, __fmul_rn(g, __fsub_rn(v, mu)));
}
__device__ __forceinline__ float2 grad_terms(float4 g, float4 v, float mu) {
    const float2 a = grad_terms(g.x, v.x, mu), b = grad_terms(g.y, v.y, mu), c = grad_terms(g.z, v.z, mu),
                 d = grad_terms(g.w, v.w, mu);
    return make_float2(__fadd_rn(__fadd_rn(a.x, b.x), __fadd_rn(c.x, d.x)),
                       __fadd_rn(__fadd_rn(a.y, b.y), __fadd_rn(c.y, d.y)));
}

__device__ __forceinline__ float2 add2(float2 a, float2 b) { return make_float2(__fadd_rn(a.x, b.x), __fadd_rn(a.y, b.y)); }

// ------------------------------------------------------------------------- walking a channel

// Walks the units u0, u0 + stride, ... of channel c in the planes layout, a unit being V floats: unit u is
// (n, i) = (u / row_units, u % row_units), at unit address (n * C + c) * row_units + i. One division per
// thread at the start, none per step.
struct PlaneCursor {
    int64_t addr, i, row_units, di, step, wrap;
    __device__ PlaneCursor(int64_t u0, int64_t stride, int c, int nc, int64_t row_units_) : row_units(row_units_) {
        const int64_t row = (int64_t)nc * row_units;
        i = u0 % row_units;
        addr = (u0 / row_units) * row + (int64_t)c * row_units + i;
        di = stride % row_units;
        step = (stride / row_units) * row + di;
        wrap = row - row_units;  // from (n, i >= row_units) to (n + 1, i - row_units)
    }
    __device__ __forceinline__ int64_t take() {
        const int64_t a = addr;
        addr += step;
        i += di;
        if (i >= row_units) {
            i -= row_units;
            addr += wrap;
        }
        return a;
    }
};

// The same walk downwards (u0, u0 - stride, ...): the apply kernels visit their chunk from its end, which
// the partials kernel read last and L2 most likely still holds.
struct PlaneCursorDown {
    int64_t addr, i, row_units, di, step, wrap;
    __device__ PlaneCursorDown(int64_t u0, int64_t stride, int c, int nc, int64_t row_units_) : row_units(row_units_) {
        const int64_t row = (int64_t)nc * row_units;
        i = u0 % row_units;
        addr = (u0 / row_units) * row + (int64_t)c * row_units + i;
        di = stride % row_units;
        step = (stride / row_units) * row + di;
        wrap = row - row_units;  // from (n, i < 0) to (n - 1, i + row_units)
    }
    __device__ __forceinline__ int64_t take() {
        const int64_t a = addr;
        addr -= step;
        i -= di;
        if (i < 0) {
            i += row_units;
            addr -= wrap;
        }
        return a;
    }
};

// Rows of one column downwards (columns layout): addresses r * C + col, r - kRows, ...
struct RowCursorDown {
    int64_t addr, step;
    __device__ __forceinline__ int64_t take() {
        const int64_t a = addr;
        addr -= step;
        return a;
    }
};

// Hands this thread's `count` addresses (from the cursor, downwards) to one(address) for the odd ones and
// to group(addresses[kUnroll]) for the rest, so a group's loads are all in flight together.
template <class Cursor, class One, class Group>
__device__ __forceinline__ void walk_down(Cursor& cur, int64_t count, One one, Group group) {
    int64_t j = count;
    for (; j % kUnroll != 0; --j) one(cur.take());
    for (; j > 0; j -= kUnroll) {
        int64_t at[kUnroll];
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) at[k] = cur.take();
        group(at);
    }
}

// ------------------------------------------------------------------------- fixed-order block sums

// Sum of a double pair over a block of whole warps (at most 1024 threads), valid in thread 0: a shuffle
// tree in each warp, then thread 0 adds the warps in order. `scratch`: __shared__ double2[32]. Ends with
// a barrier.
__device__ __forceinline__ double2 block_sum_pair(double a, double b, double2* scratch) {
    for (int off = 16; off > 0; off >>= 1) {
        a += __shfl_down_sync(kFullMask, a, off);
        b += __shfl_down_sync(kFullMask, b, off);
    }
    const int tid = (int)(threadIdx.y * blockDim.x + threadIdx.x);
    if ((tid & 31) == 0) scratch[tid >> 5] = make_double2(a, b);
    __syncthreads();
    double2 total = make_double2(0.0, 0.0);
    if (tid == 0) {
        const int warps = (int)(blockDim.x * blockDim.y) >> 5;
        for (int w = 0; w < warps; ++w) {
            total.x += scratch[w].x;
            total.y += scratch[w].y;
        }
    }
    __syncthreads();
    return total;
}

// ------------------------------------------------------------------------- per-channel coefficients

// The channel's shift K of the forward sums: its first value (n = 0, i = 0), in both layouts.
__device__ __forceinline__ float channel_shift(const BnArgs& a, int c) { return a.x[(int64_t)c * a.inner]; }

// Forward, from the merged sums (training) or the running statistics (eval): coef = {mean, scale, shift}
// with y = (x - mean) scale + shift. `writer`: this block writes the channel's saved and running statistics.
__device__ void forward_coefficients(const BnArgs& a, int c, bool writer, double2 sums, float* coef) {
    double mean, var;
    if (a.training) {
        const double m = (double)a.n * (double)a.inner;
        const double md = sums.x / m;  // mean of d = x - K
        mean = (double)channel_shift(a, c) + md;
        var = __dsub_rn(sums.y / m, __dmul_rn(md, md));  // biased
        if (var < 0.0) var = 0.0;                          // rounding of an all-equal channel
        if (writer) {
            if (a.save_mean != nullptr) {
                a.save_mean[c] = (float)mean;
                a.save_var[c] = (float)var;
            }
            if (a.running_mean != nullptr) {
                const double mom = a.momentum;
                const double unbiased = __dmul_rn(var, m) / (m - 1.0);  // M = 1 gives NaN, like the cpu
                a.running_mean[c] = (float)__dadd_rn(__dmul_rn(1.0 - mom, (double)a.running_mean[c]), __dmul_rn(mom, mean));
                a.running_var[c] = (float)__dadd_rn(__dmul_rn(1.0 - mom, (double)a.running_var[c]), __dmul_rn(mom, unbiased));
            }
        }
    } else {
        mean = a.mean[c];
        var = a.var[c];
    }
    const double inv = 1.0 / sqrt(var + (double)a.eps);
    coef[0] = (float)mean;
    coef[1] = (float)(a.gamma == nullptr ? inv : __dmul_rn((double)a.gamma[c], inv));
    coef[2] = a.beta == nullptr ? 0.0f : a.beta[c];
}

// Backward: coef = {mean, inv, k = gamma inv, sum(dy)/M, sum(dy xhat)/M} (the last two 0 in eval mode).
// `writer`: this block adds the channel's dgamma and dbeta.
__device__ void backward_coefficients(const BnArgs& a, int c, bool writer, double2 sums, float* coef) {
    const double m = (double)a.n * (double)a.inner;
    const double inv = 1.0 / sqrt((double)a.var[c] + (double)a.eps);
    const double g = a.gamma == nullptr ? 1.0 : (double)a.gamma[c];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    if (a.partials != nullptr) {
        sum_dy = sums.x;
        sum_dy_xhat = __dmul_rn(sums.y, inv);
        if (writer) {
            if (a.dgamma != nullptr) a.dgamma[c] = (float)((double)a.dgamma[c] + sum_dy_xhat);
            if (a.dbeta != nullptr) a.dbeta[c] = (float)((double)a.dbeta[c] + sum_dy);
        }
    }
    coef[0] = a.mean[c];
    coef[1] = (float)inv;
    coef[2] = (float)__dmul_rn(g, inv);
    coef[3] = a.training ? (float)(sum_dy / m) : 0.0f;
    coef[4] = a.training ? (float)(sum_dy_xhat / m) : 0.0f;
}

// The elementwise outputs.
struct ForwardMap {
    float mu, scale, shift;
    __device__ __forceinline__ float operator()(float v) const { return __fadd_rn(__fmul_rn(__fsub_rn(v, mu), scale), shift); }
};
struct BackwardTrainMap {
    float mu, inv, k, a, b;
    __device__ __forceinline__ float operator()(float g, float v) const {
        const float xhat = __fmul_rn(__fsub_rn(v, mu), inv);
        return __fmul_rn(k, __fsub_rn(__fsub_rn(g, a), __fmul_rn(xhat, b)));
    }
};
struct BackwardEvalMap {
    float k;
    __device__ __forceinline__ float operator()(float g) const { return __fmul_rn(k, g); }
};

// ------------------------------------------------------------------------- planes layout (inner > 1)

template <int V, bool BACKWARD>
__global__ void __launch_bounds__(kMaxThreads, JT_BN_BLOCKS_PER_SM) bn_partials_planes_kernel(BnArgs a) {
    using L = Lanes<V>;
    __shared__ double2 scratch[32];
    const int c = (int)blockIdx.x;
    const int s = (int)blockIdx.y;
    const int tid = (int)threadIdx.x;
    const int threads = (int)blockDim.x;
    const int64_t row_units = a.inner / V;
    const int64_t units = (int64_t)a.n * row_units;
    const int64_t chunk = a.chunk / V;
    const int64_t begin = (int64_t)s * chunk;
    const int64_t end = begin + chunk < units ? begin + chunk : units;
    const float ref = BACKWARD ? a.mean[c] : channel_shift(a, c);
    const float* src = BACKWARD ? a.dy : a.x;

    double acc0 = 0.0, acc1 = 0.0;
    int64_t u = begin + tid;
    PlaneCursor cur(u, threads, c, a.c, row_units);
    for (; u + (int64_t)(kUnroll - 1) * threads < end; u += (int64_t)kUnroll * threads) {
        int64_t at[kUnroll];
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) at[k] = cur.take();
        typename L::T v[kUnroll];
#pragma unroll
        for (int k = 0; k < kUnroll; ++k) v[k] = L::load(src, at[k]);
        float2 t[kUnroll];
        if (BACKWARD) {
            typename L::T w[kUnroll];
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) w[k] = L::load(a.x, at[k]);
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) t[k] = grad_terms(v[k], w[k], ref);
        } else {
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) t[k] = stat_terms(v[k], ref);
        }
        const float2 group = add2(add2(t[0], t[1]), add2(t[2], t[3]));
        acc0 += (double)group.x;
        acc1 += (double)group.y;
    }
    for (; u < end; u += threads) {
        const int64_t at = cur.take();
        const float2 t = BACKWARD ? grad_terms(L::load(src, at), L::load(a.x, at), ref) : stat_terms(L::load(src, at), ref);
        acc0 += (double)t.x;
        acc1 += (double)t.y;
    }
    const double2 total = block_sum_pair(acc0, acc1, scratch);
    if (tid == 0) a.partials[(int64_t)c * a.splits + s] = total;
}

template <int V, bool BACKWARD>
__global__ void __launch_bounds__(kMaxThreads, JT_BN_BLOCKS_PER_SM) bn_apply_planes_kernel(BnArgs a) {
    using L = Lanes<V>;
    __shared__ double2 scratch[32];
    __shared__ float s_coef[5];
    const int c = (int)(gridDim.x - 1 - blockIdx.x);  // reverse order: see the top of the file
    const int s = (int)(gridDim.y - 1 - blockIdx.y);
    const int tid = (int)threadIdx.x;
    const int threads = (int)blockDim.x;

    double2 sums = make_double2(0.0, 0.0);
    if (a.partials != nullptr) {
        double p0 = 0.0, p1 = 0.0;
        for (int k = tid; k < a.splits; k += threads) {
            const double2 p = a.partials[(int64_t)c * a.splits + k];
            p0 += p.x;
            p1 += p.y;
        }
        sums = block_sum_pair(p0, p1, scratch);
    }
    if (tid == 0) {
        if (BACKWARD) {
            backward_coefficients(a, c, s == 0, sums, s_coef);
        } else {
            forward_coefficients(a, c, s == 0, sums, s_coef);
        }
    }
    __syncthreads();
    if (a.out == nullptr) return;  // backward for dgamma/dbeta only

    const int64_t row_units = a.inner / V;
    const int64_t units = (int64_t)a.n * row_units;
    const int64_t chunk = a.chunk / V;
    const int64_t begin = (int64_t)s * chunk;
    const int64_t end = begin + chunk < units ? begin + chunk : units;
    const int64_t first = begin + tid;
    const int64_t count = first < end ? jt_ceil_div(end - first, (int64_t)threads) : 0;  // this thread's units
    PlaneCursorDown cur(count > 0 ? first + (count - 1) * threads : first, threads, c, a.c, row_units);
    float* out = a.out;
    if (!BACKWARD) {
        const ForwardMap f{s_coef[0], s_coef[1], s_coef[2]};
        const float* x = a.x;
        walk_down(
            cur, count, [&](int64_t at) { L::store(out, at, map_lanes(L::load(x, at), f)); },
            [&](const int64_t* at) {
                typename L::T v[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) v[k] = L::load(x, at[k]);
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) L::store(out, at[k], map_lanes(v[k], f));
            });
    } else if (a.training) {
        const BackwardTrainMap f{s_coef[0], s_coef[1], s_coef[2], s_coef[3], s_coef[4]};
        const float *x = a.x, *dy = a.dy;
        walk_down(
            cur, count, [&](int64_t at) { L::store(out, at, map_lanes(L::load(dy, at), L::load(x, at), f)); },
            [&](const int64_t* at) {
                typename L::T g[kUnroll], v[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) g[k] = L::load(dy, at[k]);
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) v[k] = L::load(x, at[k]);
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) L::store(out, at[k], map_lanes(g[k], v[k], f));
            });
    } else {
        const BackwardEvalMap f{s_coef[2]};
        const float* dy = a.dy;
        walk_down(
            cur, count, [&](int64_t at) { L::store(out, at, map_lanes(L::load(dy, at), f)); },
            [&](const int64_t* at) {
                typename L::T g[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) g[k] = L::load(dy, at[k]);
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) L::store(out, at[k], map_lanes(g[k], f));
            });
    }
}

// ------------------------------------------------------------------------- columns layout (inner == 1)

// Block (32, kRows): column blockIdx.x * 32 + threadIdx.x, rows begin + threadIdx.y, + kRows, ... of the
// split's chunk; a warp (one threadIdx.y) reads 32 consecutive floats of a row.
template <bool BACKWARD>
__global__ void __launch_bounds__(32 * kRows, JT_BN_BLOCKS_PER_SM) bn_partials_columns_kernel(BnArgs a) {
    __shared__ double2 part[kRows][32];
    const int col = (int)blockIdx.x * 32 + (int)threadIdx.x;
    const int s = (int)blockIdx.y;
    const int64_t begin = (int64_t)s * a.chunk;
    const int64_t end = begin + a.chunk < a.n ? begin + a.chunk : (int64_t)a.n;
    const int64_t nc = a.c;
    double acc0 = 0.0, acc1 = 0.0;
    if (col < a.c) {
        const float ref = BACKWARD ? a.mean[col] : channel_shift(a, col);
        const float* src = BACKWARD ? a.dy : a.x;
        int64_t r = begin + threadIdx.y;
        for (; r + (kUnroll - 1) * kRows < end; r += kUnroll * kRows) {
            float v[kUnroll];
            float2 t[kUnroll];
#pragma unroll
            for (int k = 0; k < kUnroll; ++k) v[k] = src[(r + k * kRows) * nc + col];
            if (BACKWARD) {
                float w[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) w[k] = a.x[(r + k * kRows) * nc + col];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) t[k] = grad_terms(v[k], w[k], ref);
            } else {
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) t[k] = stat_terms(v[k], ref);
            }
            const float2 group = add2(add2(t[0], t[1]), add2(t[2], t[3]));
            acc0 += (double)group.x;
            acc1 += (double)group.y;
        }
        for (; r < end; r += kRows) {
            const int64_t at = r * nc + col;
            const float2 t = BACKWARD ? grad_terms(src[at], a.x[at], ref) : stat_terms(src[at], ref);
            acc0 += (double)t.x;
            acc1 += (double)t.y;
        }
    }
    part[threadIdx.y][threadIdx.x] = make_double2(acc0, acc1);
    __syncthreads();
    if (threadIdx.y == 0 && col < a.c) {
        double2 total = make_double2(0.0, 0.0);
        for (int y = 0; y < kRows; ++y) {
            total.x += part[y][threadIdx.x].x;
            total.y += part[y][threadIdx.x].y;
        }
        a.partials[(int64_t)col * a.splits + s] = total;
    }
}

template <bool BACKWARD>
__global__ void __launch_bounds__(32 * kRows, JT_BN_BLOCKS_PER_SM) bn_apply_columns_kernel(BnArgs a) {
    __shared__ double2 part[kRows][32];
    __shared__ float s_coef[5][32];
    const int tile = (int)(gridDim.x - 1 - blockIdx.x);  // reverse order: see the top of the file
    const int s = (int)(gridDim.y - 1 - blockIdx.y);
    const int col = tile * 32 + (int)threadIdx.x;
    const bool live = col < a.c;

    if (a.partials != nullptr) {
        double p0 = 0.0, p1 = 0.0;
        if (live) {
            for (int k = (int)threadIdx.y; k < a.splits; k += kRows) {
                const double2 p = a.partials[(int64_t)col * a.splits + k];
                p0 += p.x;
                p1 += p.y;
            }
        }
        part[threadIdx.y][threadIdx.x] = make_double2(p0, p1);
        __syncthreads();
    }
    if (threadIdx.y == 0 && live) {
        double2 sums = make_double2(0.0, 0.0);
        if (a.partials != nullptr) {
            for (int y = 0; y < kRows; ++y) {
                sums.x += part[y][threadIdx.x].x;
                sums.y += part[y][threadIdx.x].y;
            }
        }
        float coef[5];
        if (BACKWARD) {
            backward_coefficients(a, col, s == 0, sums, coef);
        } else {
            forward_coefficients(a, col, s == 0, sums, coef);
        }
        for (int j = 0; j < 5; ++j) s_coef[j][threadIdx.x] = coef[j];
    }
    __syncthreads();
    if (a.out == nullptr || !live) return;

    const int64_t begin = (int64_t)s * a.chunk;
    const int64_t end = begin + a.chunk < a.n ? begin + a.chunk : (int64_t)a.n;
    const int64_t nc = a.c;
    const int64_t first = begin + threadIdx.y;
    const int64_t count = first < end ? jt_ceil_div(end - first, (int64_t)kRows) : 0;  // this thread's rows
    RowCursorDown cur{(count > 0 ? first + (count - 1) * kRows : first) * nc + col, (int64_t)kRows * nc};
    const int x_ = (int)threadIdx.x;
    float* out = a.out;
    if (!BACKWARD) {
        const ForwardMap f{s_coef[0][x_], s_coef[1][x_], s_coef[2][x_]};
        const float* x = a.x;
        walk_down(
            cur, count, [&](int64_t at) { out[at] = f(x[at]); },
            [&](const int64_t* at) {
                float v[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) v[k] = x[at[k]];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) out[at[k]] = f(v[k]);
            });
    } else if (a.training) {
        const BackwardTrainMap f{s_coef[0][x_], s_coef[1][x_], s_coef[2][x_], s_coef[3][x_], s_coef[4][x_]};
        const float *x = a.x, *dy = a.dy;
        walk_down(
            cur, count, [&](int64_t at) { out[at] = f(dy[at], x[at]); },
            [&](const int64_t* at) {
                float g[kUnroll], v[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) g[k] = dy[at[k]];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) v[k] = x[at[k]];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) out[at[k]] = f(g[k], v[k]);
            });
    } else {
        const BackwardEvalMap f{s_coef[2][x_]};
        const float* dy = a.dy;
        walk_down(
            cur, count, [&](int64_t at) { out[at] = f(dy[at]); },
            [&](const int64_t* at) {
                float g[kUnroll];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) g[k] = dy[at[k]];
#pragma unroll
                for (int k = 0; k < kUnroll; ++k) out[at[k]] = f(g[k]);
            });
    }
}

// ------------------------------------------------------------------------- cuDNN's saved statistic

// The two directions of the saved-statistic conversion, one thread per channel.
__global__ void bn_invstd_to_var_kernel(float* s, int c, float eps) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < c; i += gridDim.x * blockDim.x) {
        const double inv = (double)s[i];
        s[i] = (float)(1.0 / (inv * inv) - (double)eps);
    }
}

__global__ void bn_var_to_invstd_kernel(const float* __restrict__ var, float* __restrict__ invstd, int c, float eps) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < c; i += gridDim.x * blockDim.x) {
        invstd[i] = (float)(1.0 / sqrt((double)var[i] + (double)eps));
    }
}

// ------------------------------------------------------------------------- launchers

bool sizes_ok(int n, int c, int64_t inner) {
    return n >= 1 && c >= 1 && inner >= 1 && (int64_t)n * inner <= INT64_MAX / c;
}

bool aligned16(const void* p) { return p == nullptr || ((uintptr_t)p & 15u) == 0; }

bool workspace_ok(const JtBatchnormPlan& plan, const void* workspace, size_t bytes) {
    return workspace != nullptr && aligned16(workspace) && bytes >= plan.workspace_bytes;
}

// Runs the partials kernel (when a.partials is set) and the apply kernel. vec4: the plan's float4 loads,
// where every pointer the kernels touch elementwise is 16-byte aligned.
template <bool BACKWARD>
cudaError_t run(const BnArgs& a, const JtBatchnormPlan& plan, bool pointers_aligned, cudaStream_t stream) {
    const unsigned splits_apply = BACKWARD && a.out == nullptr ? 1u : (unsigned)plan.splits;
    if (plan.layout == JT_BN_COLUMNS) {
        const dim3 block(32, kRows, 1);
        const unsigned tiles = (unsigned)jt_ceil_div(a.c, 32);
        if (a.partials != nullptr) {
            LAUNCH(bn_partials_columns_kernel<BACKWARD>, dim3(tiles, (unsigned)plan.splits, 1), block, 0, stream)(a);
            const cudaError_t e = JT_LAUNCH_STATUS();
            if (e != cudaSuccess) return e;
        }
        LAUNCH(bn_apply_columns_kernel<BACKWARD>, dim3(tiles, splits_apply, 1), block, 0, stream)(a);
        return JT_LAUNCH_STATUS();
    }
    const dim3 block((unsigned)plan.threads, 1, 1);
    const bool vec4 = plan.vec == 4 && pointers_aligned;
    if (a.partials != nullptr) {
        const dim3 grid((unsigned)a.c, (unsigned)plan.splits, 1);
        if (vec4) {
            LAUNCH((bn_partials_planes_kernel<4, BACKWARD>), grid, block, 0, stream)(a);
        } else {
            LAUNCH((bn_partials_planes_kernel<1, BACKWARD>), grid, block, 0, stream)(a);
        }
        const cudaError_t e = JT_LAUNCH_STATUS();
        if (e != cudaSuccess) return e;
    }
    const dim3 grid((unsigned)a.c, splits_apply, 1);
    if (vec4) {
        LAUNCH((bn_apply_planes_kernel<4, BACKWARD>), grid, block, 0, stream)(a);
    } else {
        LAUNCH((bn_apply_planes_kernel<1, BACKWARD>), grid, block, 0, stream)(a);
    }
    return JT_LAUNCH_STATUS();
}

BnArgs base_args(int n, int c, int64_t inner, const JtBatchnormPlan& plan) {
    BnArgs a{};
    a.n = n;
    a.c = c;
    a.inner = inner;
    a.splits = plan.splits;
    a.chunk = plan.chunk;
    return a;
}

}  // namespace

extern "C" JtBatchnormPlan jt_batchnorm_plan(int n, int c, int64_t inner, int sm_count) {
    if (n < 1) n = 1;
    if (c < 1) c = 1;
    if (inner < 1) inner = 1;
    if (sm_count < 1) sm_count = 1;
    const int64_t target_blocks = (int64_t)JT_BN_BLOCKS_PER_SM * sm_count;
    JtBatchnormPlan p{};
    int64_t splits;
    int64_t values;  // what the splits divide: values per channel (planes) or rows (columns)
    if (inner == 1) {
        p.layout = JT_BN_COLUMNS;
        p.threads = 32 * kRows;
        p.vec = 1;
        values = n;
        const int64_t tiles = jt_ceil_div(c, 32);
        const int64_t by_work = values / ((int64_t)kRows * kMinRowsPerThread);
        splits = target_blocks / tiles;
        if (splits > by_work) splits = by_work;
    } else {
        p.layout = JT_BN_PLANES;
        p.vec = inner % 4 == 0 ? 4 : 1;
        values = (int64_t)n * inner;
        int t = kMaxThreads;
        while (t > 32 && (int64_t)t * kMinValuesPerThread > values) t >>= 1;
        p.threads = t;
        const int64_t by_work = values / ((int64_t)t * kMinValuesPerThread);
        splits = target_blocks / c;  // rounded down: the whole grid fits in one wave of resident blocks
        if (splits > by_work) splits = by_work;
    }
    if (splits < 1) splits = 1;
    if (splits > kMaxSplits) splits = kMaxSplits;
    p.splits = (int)splits;
    p.chunk = jt_ceil_div(values, splits);
    if (p.layout == JT_BN_PLANES) p.chunk = jt_ceil_div(p.chunk, 4) * 4;  // whole float4s in every chunk
    p.workspace_bytes = (size_t)c * (size_t)splits * 2 * sizeof(double);
    return p;
}

extern "C" size_t jt_batchnorm_workspace_bytes(int n, int c, int64_t inner) {
    return jt_batchnorm_plan(n, c, inner, jt_device_sm_count()).workspace_bytes;
}

extern "C" cudaError_t jt_batchnorm_invstd_to_var(float* s, int c, float eps, cudaStream_t stream) {
    JT_REQUIRE(c >= 0);
    if (c == 0) return cudaSuccess;
    JT_REQUIRE(s != nullptr);
    LAUNCH(bn_invstd_to_var_kernel, jt_grid_1d(c, 256), 256, 0, stream)(s, c, eps);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_batchnorm_var_to_invstd(const float* var, float* invstd, int c, float eps,
                                                  cudaStream_t stream) {
    JT_REQUIRE(c >= 0);
    if (c == 0) return cudaSuccess;
    JT_REQUIRE(var != nullptr && invstd != nullptr);
    LAUNCH(bn_var_to_invstd_kernel, jt_grid_1d(c, 256), 256, 0, stream)(var, invstd, c, eps);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_batchnorm_forward_train_sm(const float* x, const float* gamma, const float* beta, float eps,
                                                     float momentum, float* running_mean, float* running_var, float* y,
                                                     float* save_mean, float* save_var, int n, int c, int64_t inner,
                                                     void* workspace, size_t workspace_bytes, int sm_count,
                                                     cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && y != nullptr && x != y);
    JT_REQUIRE((running_mean == nullptr) == (running_var == nullptr));
    JT_REQUIRE((save_mean == nullptr) == (save_var == nullptr));
    const JtBatchnormPlan plan = jt_batchnorm_plan(n, c, inner, sm_count);
    JT_REQUIRE(workspace_ok(plan, workspace, workspace_bytes));
    BnArgs a = base_args(n, c, inner, plan);
    a.x = x;
    a.out = y;
    a.gamma = gamma;
    a.beta = beta;
    a.running_mean = running_mean;
    a.running_var = running_var;
    a.save_mean = save_mean;
    a.save_var = save_var;
    a.partials = static_cast<double2*>(workspace);
    a.eps = eps;
    a.momentum = momentum;
    a.training = 1;
    return run<false>(a, plan, aligned16(x) && aligned16(y), stream);
}

extern "C" cudaError_t jt_batchnorm_forward_eval_sm(const float* x, const float* gamma, const float* beta,
                                                    const float* running_mean, const float* running_var, float eps,
                                                    float* y, int n, int c, int64_t inner, int sm_count,
                                                    cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && y != nullptr && running_mean != nullptr && running_var != nullptr);
    const JtBatchnormPlan plan = jt_batchnorm_plan(n, c, inner, sm_count);
    BnArgs a = base_args(n, c, inner, plan);
    a.x = x;
    a.out = y;
    a.gamma = gamma;
    a.beta = beta;
    a.mean = running_mean;
    a.var = running_var;
    a.eps = eps;
    return run<false>(a, plan, aligned16(x) && aligned16(y), stream);
}

extern "C" cudaError_t jt_batchnorm_backward_sm(const float* x, const float* dy, const float* gamma, const float* mean,
                                                const float* var, float eps, int training, float* dx, float* dgamma,
                                                float* dbeta, int n, int c, int64_t inner, void* workspace,
                                                size_t workspace_bytes, int sm_count, cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && dy != nullptr && mean != nullptr && var != nullptr);
    JT_REQUIRE(dx == nullptr || (dx != x && dx != dy));
    if (dx == nullptr && dgamma == nullptr && dbeta == nullptr) return cudaSuccess;
    const JtBatchnormPlan plan = jt_batchnorm_plan(n, c, inner, sm_count);
    const bool sums = training || dgamma != nullptr || dbeta != nullptr;
    if (sums) JT_REQUIRE(workspace_ok(plan, workspace, workspace_bytes));
    BnArgs a = base_args(n, c, inner, plan);
    a.x = x;
    a.dy = dy;
    a.out = dx;
    a.gamma = gamma;
    a.mean = mean;
    a.var = var;
    a.dgamma = dgamma;
    a.dbeta = dbeta;
    a.partials = sums ? static_cast<double2*>(workspace) : nullptr;
    a.eps = eps;
    a.training = training ? 1 : 0;
    return run<true>(a, plan, aligned16(x) && aligned16(dy) && aligned16(dx), stream);
}

extern "C" cudaError_t jt_batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float eps,
                                                  float momentum, float* running_mean, float* running_var, float* y,
                                                  float* save_mean, float* save_var, int n, int c, int64_t inner,
                                                  void* workspace, size_t workspace_bytes, cudaStream_t stream) {
    return jt_batchnorm_forward_train_sm(x, gamma, beta, eps, momentum, running_mean, running_var, y, save_mean,
                                         save_var, n, c, inner, workspace, workspace_bytes, jt_device_sm_count(),
                                         stream);
}

extern "C" cudaError_t jt_batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                                                 const float* running_mean, const float* running_var, float eps,
                                                 float* y, int n, int c, int64_t inner, cudaStream_t stream) {
    return jt_batchnorm_forward_eval_sm(x, gamma, beta, running_mean, running_var, eps, y, n, c, inner,
                                        jt_device_sm_count(), stream);
}

extern "C" cudaError_t jt_batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                                             const float* var, float eps, int training, float* dx, float* dgamma,
                                             float* dbeta, int n, int c, int64_t inner, void* workspace,
                                             size_t workspace_bytes, cudaStream_t stream) {
    return jt_batchnorm_backward_sm(x, dy, gamma, mean, var, eps, training, dx, dgamma, dbeta, n, c, inner, workspace,
                                    workspace_bytes, jt_device_sm_count(), stream);
}
