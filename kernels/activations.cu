// Elementwise activations (forward/backward, one kernel instantiation per kind so the formula is
// resolved at compile time), PReLU with its deterministic dalpha reduction, and maxout.
#include "common.cuh"
#include "index_split.cuh"
#include "block_range.cuh"
#include "activations.h"
#include "activation_math.h"
#include "channel_sum.cuh"

namespace {

constexpr int kThreads = 256;

inline bool aligned16(const void* p) { return ((uintptr_t)p & 15u) == 0; }

// Elementwise over block chunks (block_range.cuh); float4 over the first n/4*4 when every pointer is
// 16-byte aligned, the last n % 4 elements by block 0.
template <int KIND>
__global__ void act_forward_kernel(const float* x, float* y, int64_t n, float a, float b, int vec) {
    int64_t done = 0;
    if (vec) {
        const int64_t n4 = n >> 2;
        const float4* x4 = reinterpret_cast<const float4*>(x);
        float4* y4 = reinterpret_cast<float4*>(y);
        const JtBlockRange range = jt_block_range(n4);
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
            float4 v = x4[i];
            v.x = jt_act_forward(KIND, v.x, a, b);
            v.y = jt_act_forward(KIND, v.y, a, b);
            v.z = jt_act_forward(KIND, v.z, a, b);
            v.w = jt_act_forward(KIND, v.w, a, b);
            y4[i] = v;
        }
        done = n4 << 2;
        if (blockIdx.x != 0) return;
        for (int64_t i = done + threadIdx.x; i < n; i += blockDim.x) y[i] = jt_act_forward(KIND, x[i], a, b);
        return;
    }
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) y[i] = jt_act_forward(KIND, x[i], a, b);
}

// src is y for SIGMOID/TANH and x otherwise (or y for RELU without x); jt_act_backward reads only
// the one its kind needs, so src is passed as both.
template <int KIND>
__global__ void act_backward_kernel(const float* src, const float* dy, float* dx, int64_t n, float a, float b,
                                    int vec) {
    if (vec) {
        const int64_t n4 = n >> 2;
        const float4* s4 = reinterpret_cast<const float4*>(src);
        const float4* g4 = reinterpret_cast<const float4*>(dy);
        float4* d4 = reinterpret_cast<float4*>(dx);
        const JtBlockRange range = jt_block_range(n4);
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
            const float4 s = s4[i];
            const float4 g = g4[i];
            float4 r;
            r.x = jt_act_backward(KIND, s.x, s.x, g.x, a, b);
            r.y = jt_act_backward(KIND, s.y, s.y, g.y, a, b);
            r.z = jt_act_backward(KIND, s.z, s.z, g.z, a, b);
            r.w = jt_act_backward(KIND, s.w, s.w, g.w, a, b);
            d4[i] = r;
        }
        if (blockIdx.x != 0) return;
        for (int64_t i = (n4 << 2) + threadIdx.x; i < n; i += blockDim.x)
            dx[i] = jt_act_backward(KIND, src[i], src[i], dy[i], a, b);
        return;
    }
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x)
        dx[i] = jt_act_backward(KIND, src[i], src[i], dy[i], a, b);
}

template <int KIND>
cudaError_t launch_forward(const float* x, float* y, int64_t n, float a, float b, cudaStream_t stream) {
    const int vec = aligned16(x) && aligned16(y);
    LAUNCH(act_forward_kernel<KIND>, jt_grid_1d(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0, stream)(
        x, y, n, a, b, vec);
    return JT_LAUNCH_STATUS();
}

template <int KIND>
cudaError_t launch_backward(const float* src, const float* dy, float* dx, int64_t n, float a, float b,
                            cudaStream_t stream) {
    const int vec = aligned16(src) && aligned16(dy) && aligned16(dx);
    LAUNCH(act_backward_kernel<KIND>, jt_grid_1d(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0, stream)(
        src, dy, dx, n, a, b, vec);
    return JT_LAUNCH_STATUS();
}

bool softplus_ok(int kind, float a) { return kind != JT_ACT_SOFTPLUS || (a > 0.f && a <= 3.4e38f); }

// ---------------------------------------------------------------- PReLU

// Index: uint32_t when every position fits, else int64_t (index_split.cuh: 32-bit divides are cheap).
template <class Index>
__device__ __forceinline__ int channel_of(int64_t i, int c, int inner) {
    const Index q = (Index)i / (Index)inner;
    return (int)(q - (q / (Index)c) * (Index)c);
}

template <class Index>
__global__ void prelu_forward_kernel(const float* x, const float* alpha, float* y, int64_t total, int c, int inner) {
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const float v = x[i];
        const int ch = channel_of<Index>(i, c, inner);
        y[i] = v > 0.f ? v : alpha[ch] * v;
    }
}

template <class Index>
__global__ void prelu_backward_dx_kernel(const float* x, const float* alpha, const float* dy, float* dx, int64_t total,
                                         int c, int inner) {
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const int ch = channel_of<Index>(i, c, inner);
        dx[i] = x[i] > 0.f ? dy[i] : alpha[ch] * dy[i];
    }
}

// PReLU's backward as channel-sum terms (channel_sum.cuh): writes dx of each unit once and adds the unit's
// dalpha terms (x > 0 ? 0 : x dy, the product exact in double) in lane order.
struct PreluBackwardParams {
    const float* x;
    const float* alpha;
    const float* dy;
    float* dx;
};
__device__ __forceinline__ double prelu_lane(double acc, float v, float g, float a, float* d) {
    *d = v > 0.f ? g : a * g;
    return acc + (v > 0.f ? 0.0 : (double)v * (double)g);
}
template <class L>
struct PreluBackwardTerms : PreluBackwardParams {
    using Params = PreluBackwardParams;
    using Lanes = L;
    struct Loaded {
        typename L::T v, g;
    };
    __device__ float channel(int c) const { return alpha[c]; }
    template <class Index>
    __device__ Loaded load(Index u) const { return Loaded{L::load(x, u), L::load(dy, u)}; }
    template <class Index>
    __device__ double add(double acc, const Loaded& q, Index u, float a) const { return add_unit(acc, q.v, q.g, u, a); }
    template <class Index>
    __device__ double add_unit(double acc, float v, float g, Index u, float a) const {
        float d;
        acc = prelu_lane(acc, v, g, a, &d);
        L::store(dx, u, d);
        return acc;
    }
    template <class Index>
    __device__ double add_unit(double acc, float4 v, float4 g, Index u, float a) const {
        float4 d;
        acc = prelu_lane(acc, v.x, g.x, a, &d.x);
        acc = prelu_lane(acc, v.y, g.y, a, &d.y);
        acc = prelu_lane(acc, v.z, g.z, a, &d.z);
        acc = prelu_lane(acc, v.w, g.w, a, &d.w);
        L::store(dx, u, d);
        return acc;
    }
};

// ---------------------------------------------------------------- maxout

template <class Index>
__global__ void maxout_forward_kernel(const float* z, int64_t rows, int pieces, int d, float* y, int64_t* piece) {
    const int64_t total = rows * d;
    const int64_t width = (int64_t)pieces * d;
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const int64_t r = (int64_t)((Index)i / (Index)d);
        const int64_t j = i - r * d;
        const float* zr = z + r * width + j;
        float best = zr[0];
        int bp = 0;
        for (int p = 1; p < pieces; ++p) {
            const float v = zr[(int64_t)p * d];
            if (v > best) {  // strictly greater: the first maximum wins ties
                best = v;
                bp = p;
            }
        }
        y[i] = best;
        piece[i] = bp;
    }
}

template <class Index>
__global__ void maxout_backward_kernel(const float* dy, const int64_t* piece, int64_t rows, int pieces, int d,
                                       float* dz, JtDeviceError* err, unsigned long long tag) {
    const int64_t width = (int64_t)pieces * d;
    const int64_t total = rows * width;
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const int64_t r = (int64_t)((Index)i / (Index)width);
        const int64_t col = i - r * width;
        const int64_t p = (int64_t)((Index)col / (Index)d);
        const int64_t j = col - p * d;
        const int64_t o = r * d + j;
        const int64_t chosen = piece[o];
        // A bad piece matches no p, so it routes nothing; the p = 0 element reports it (once per piece).
        if (p == 0 && (chosen < 0 || chosen >= pieces)) jt_device_error_record(err, tag, o, chosen, pieces);
        dz[i] = chosen == p ? dy[o] : 0.f;
    }
}

}  // namespace

extern "C" cudaError_t jt_activations_forward(int kind, const float* x, float* y, int64_t n, float a, float b,
                                              cudaStream_t stream) {
    JT_REQUIRE(kind >= 0 && kind < JT_ACT_COUNT);
    JT_REQUIRE(n >= 0);
    JT_REQUIRE(softplus_ok(kind, a));
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && y != nullptr);
#define JT_FWD_CALL(K) launch_forward<K>(x, y, n, a, b, stream)
    switch (kind) {
        case JT_ACT_RELU: return JT_FWD_CALL(JT_ACT_RELU);
        case JT_ACT_LEAKY_RELU: return JT_FWD_CALL(JT_ACT_LEAKY_RELU);
        case JT_ACT_ELU: return JT_FWD_CALL(JT_ACT_ELU);
        case JT_ACT_SELU: return JT_FWD_CALL(JT_ACT_SELU);
        case JT_ACT_SIGMOID: return JT_FWD_CALL(JT_ACT_SIGMOID);
        case JT_ACT_TANH: return JT_FWD_CALL(JT_ACT_TANH);
        case JT_ACT_GELU_ERF: return JT_FWD_CALL(JT_ACT_GELU_ERF);
        case JT_ACT_GELU_TANH: return JT_FWD_CALL(JT_ACT_GELU_TANH);
        case JT_ACT_SILU: return JT_FWD_CALL(JT_ACT_SILU);
        case JT_ACT_SOFTPLUS: return JT_FWD_CALL(JT_ACT_SOFTPLUS);
        default: return JT_FWD_CALL(JT_ACT_IDENTITY);
    }
#undef JT_FWD_CALL
}

extern "C" cudaError_t jt_activations_backward(int kind, const float* x, const float* y, const float* dy, float* dx,
                                               int64_t n, float a, float b, cudaStream_t stream) {
    JT_REQUIRE(kind >= 0 && kind < JT_ACT_COUNT);
    JT_REQUIRE(n >= 0);
    JT_REQUIRE(softplus_ok(kind, a));
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(dy != nullptr && dx != nullptr);
    const float* src;
    if (kind == JT_ACT_SIGMOID || kind == JT_ACT_TANH) {
        src = y;
    } else if (kind == JT_ACT_RELU) {
        src = x != nullptr ? x : y;
    } else if (kind == JT_ACT_IDENTITY) {
        src = dy;  // not read
    } else {
        src = x;
    }
    JT_REQUIRE(src != nullptr);
#define JT_BWD_CALL(K) launch_backward<K>(src, dy, dx, n, a, b, stream)
    switch (kind) {
        case JT_ACT_RELU: return JT_BWD_CALL(JT_ACT_RELU);
        case JT_ACT_LEAKY_RELU: return JT_BWD_CALL(JT_ACT_LEAKY_RELU);
        case JT_ACT_ELU: return JT_BWD_CALL(JT_ACT_ELU);
        case JT_ACT_SELU: return JT_BWD_CALL(JT_ACT_SELU);
        case JT_ACT_SIGMOID: return JT_BWD_CALL(JT_ACT_SIGMOID);
        case JT_ACT_TANH: return JT_BWD_CALL(JT_ACT_TANH);
        case JT_ACT_GELU_ERF: return JT_BWD_CALL(JT_ACT_GELU_ERF);
        case JT_ACT_GELU_TANH: return JT_BWD_CALL(JT_ACT_GELU_TANH);
        case JT_ACT_SILU: return JT_BWD_CALL(JT_ACT_SILU);
        case JT_ACT_SOFTPLUS: return JT_BWD_CALL(JT_ACT_SOFTPLUS);
        default: return JT_BWD_CALL(JT_ACT_IDENTITY);
    }
#undef JT_BWD_CALL
}

extern "C" cudaError_t jt_activations_prelu_forward(const float* x, const float* alpha, float* y, int n, int c,
                                                    int inner, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    const int64_t total = (int64_t)n * c * inner;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && alpha != nullptr && y != nullptr);
    if (jt_fits_32(total)) {
        LAUNCH(prelu_forward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, alpha, y, total, c,
                                                                                               inner);
    } else {
        LAUNCH(prelu_forward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(x, alpha, y, total, c,
                                                                                              inner);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" size_t jt_activations_prelu_backward_workspace_bytes(int n, int c, int inner) {
    return jt_channel_sum_plan(n, c, inner, jt_device_sm_count()).workspace_bytes;
}

extern "C" cudaError_t jt_activations_prelu_backward_sm(const float* x, const float* alpha, const float* dy, float* dx,
                                                        float* dalpha, int n, int c, int inner, void* workspace,
                                                        size_t workspace_bytes, int sm_count, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    const int64_t total = (int64_t)n * c * inner;
    if (total == 0) return cudaSuccess;  // dalpha += nothing
    JT_REQUIRE(x != nullptr && alpha != nullptr && dy != nullptr && dx != nullptr);
    if (dalpha == nullptr) {
        if (jt_fits_32(total)) {
            LAUNCH(prelu_backward_dx_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
                x, alpha, dy, dx, total, c, inner);
        } else {
            LAUNCH(prelu_backward_dx_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
                x, alpha, dy, dx, total, c, inner);
        }
        return JT_LAUNCH_STATUS();
    }
    // One pass writes dx and sums the dalpha terms per channel (each element is visited exactly once).
    const JtChannelSumPlan plan = jt_channel_sum_plan(n, c, inner, sm_count);
    JT_REQUIRE(jt_channel_sum_workspace_ok(plan, workspace, workspace_bytes));
    return jt_channel_sum<PreluBackwardTerms>(PreluBackwardParams{x, alpha, dy, dx}, n, c, inner, plan,
                                              aligned16(x) && aligned16(dy) && aligned16(dx), dalpha, workspace,
                                              stream);
}

extern "C" cudaError_t jt_activations_prelu_backward(const float* x, const float* alpha, const float* dy, float* dx,
                                                     float* dalpha, int n, int c, int inner, void* workspace,
                                                     size_t workspace_bytes, cudaStream_t stream) {
    return jt_activations_prelu_backward_sm(x, alpha, dy, dx, dalpha, n, c, inner, workspace, workspace_bytes,
                                            jt_device_sm_count(), stream);
}

extern "C" cudaError_t jt_activations_maxout_forward(const float* z, int n, int pieces, int d, float* y,
                                                     int64_t* piece, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && pieces >= 1 && d >= 0);
    const int64_t total = (int64_t)n * d;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(z != nullptr && y != nullptr && piece != nullptr);
    if (jt_fits_32(total)) {
        LAUNCH(maxout_forward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(z, n, pieces, d, y,
                                                                                                piece);
    } else {
        LAUNCH(maxout_forward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(z, n, pieces, d, y,
                                                                                               piece);
    }
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_activations_maxout_backward(const float* dy, const int64_t* piece, int n, int pieces, int d,
                                                      float* dz, JtDeviceError* err, cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && pieces >= 1 && d >= 0);
    const int64_t total = (int64_t)n * pieces * d;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(dy != nullptr && piece != nullptr && dz != nullptr);
    const unsigned long long tag = err ? jt_device_error_tag(JT_DEVERR_MAXOUT_BACKWARD_PIECE) : 0ull;
    if (jt_fits_32(total)) {
        LAUNCH(maxout_backward_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(dy, piece, n, pieces,
                                                                                                 d, dz, err, tag);
    } else {
        LAUNCH(maxout_backward_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(dy, piece, n, pieces,
                                                                                                d, dz, err, tag);
    }
    return JT_LAUNCH_STATUS();
}
