// Elementwise kernels. One template walks n elements in block chunks (block_range.cuh), as float4
// groups when every pointer is 16-byte aligned (then the scalar tail), applying a small functor; and
// the channel bias add over [N, C, inner].
#include "common.cuh"
#include "block_range.cuh"
#include "elementwise.h"

namespace {

constexpr int kThreads = 256;

inline bool aligned16(const void* p) { return p == nullptr || ((uintptr_t)p & 15u) == 0; }

// out[i] = f(a[i], b[i]); a or b may be null when f ignores it. No __restrict__: out may alias a or b.
// Block chunks (block_range.cuh); as float4 groups when vec, the last n % 4 elements by block 0.
template <class F>
__global__ void map2_kernel(F f, const float* a, const float* b, float* out, int64_t n, int vec) {
    if (vec) {
        const int64_t n4 = n >> 2;
        const float4* a4 = reinterpret_cast<const float4*>(a);
        const float4* b4 = reinterpret_cast<const float4*>(b);
        float4* o4 = reinterpret_cast<float4*>(out);
        const JtBlockRange range = jt_block_range(n4);
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
            const float4 va = a4 != nullptr ? a4[i] : make_float4(0.f, 0.f, 0.f, 0.f);
            const float4 vb = b4 != nullptr ? b4[i] : make_float4(0.f, 0.f, 0.f, 0.f);
            o4[i] = make_float4(f(va.x, vb.x), f(va.y, vb.y), f(va.z, vb.z), f(va.w, vb.w));
        }
        if (blockIdx.x != 0) return;
        for (int64_t i = (n4 << 2) + threadIdx.x; i < n; i += blockDim.x)
            out[i] = f(a != nullptr ? a[i] : 0.f, b != nullptr ? b[i] : 0.f);
        return;
    }
    const JtBlockRange range = jt_block_range(n);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x)
        out[i] = f(a != nullptr ? a[i] : 0.f, b != nullptr ? b[i] : 0.f);
}

struct FillF {
    float v;
    __device__ float operator()(float, float) const { return v; }
};
struct CopyF {
    __device__ float operator()(float a, float) const { return a; }
};
struct ScaleF {
    float alpha;
    __device__ float operator()(float a, float) const { return alpha * a; }
};
struct AxpyF {  // a = x, b = y; FFMA under nvcc (fmaf() would be a libm call on emu)
    float alpha;
    __device__ float operator()(float x, float y) const { return alpha * x + y; }
};
struct AddF {
    __device__ float operator()(float a, float b) const { return a + b; }
};
struct MulF {
    __device__ float operator()(float a, float b) const { return a * b; }
};

struct SqrtF {
    __device__ float operator()(float a, float) const { return sqrtf(a); }
};
struct AddSignF {  // a = w, b = grad. lambda * sign is exact (sign is +-1, +-0 or NaN), so FMA or not agree.
    float lambda;
    __device__ float operator()(float w, float g) const {
        const float sign = w > 0.f ? 1.f : (w < 0.f ? -1.f : w);
        return g + lambda * sign;
    }
};

// Item i of the rows x cols block: row i / cols, column i % cols (64-bit indices throughout).
__global__ void copy_rows_kernel(const float* __restrict__ src, int64_t src_stride, float* __restrict__ dst,
                                 int64_t dst_stride, int64_t total, int64_t cols) {
    const JtBlockRange range = jt_block_range(total);
    for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
        const int64_t r = i / cols;
        const int64_t c = i - r * cols;
        dst[r * dst_stride + c] = src[r * src_stride + c];
    }
}

template <class F>
cudaError_t map2(F f, const float* a, const float* b, float* out, int64_t n, cudaStream_t stream) {
    const int vec = aligned16(a) && aligned16(b) && aligned16(out);
    LAUNCH(map2_kernel<F>, jt_grid_1d(vec ? (n + 3) / 4 : n, kThreads), kThreads, 0, stream)(f, a, b, out, n, vec);
    return JT_LAUNCH_STATUS();
}

// Index: uint32_t when every index fits (a 32-bit divide is a few instructions, a 64-bit one a long
// subroutine on a GPU), else int64_t.
template <class Index>
__global__ void add_channel_bias_kernel(float* y, const float* __restrict__ bias, int64_t total, Index c, Index inner) {
    const JtBlockRange range = jt_block_range(total);
    if (inner == 1) {
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) y[i] += bias[(Index)i % c];
    } else {
        for (int64_t i = range.begin + threadIdx.x; i < range.end; i += blockDim.x) {
            y[i] += bias[((Index)i / inner) % c];
        }
    }
}

}  // namespace

extern "C" cudaError_t jt_elementwise_fill(float* x, int64_t n, float value, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr);
    return map2(FillF{value}, nullptr, nullptr, x, n, stream);
}

extern "C" cudaError_t jt_elementwise_copy(const float* src, float* dst, int64_t n, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(src != nullptr && dst != nullptr);
    return map2(CopyF{}, src, nullptr, dst, n, stream);
}

extern "C" cudaError_t jt_elementwise_scale(float* x, int64_t n, float alpha, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr);
    return map2(ScaleF{alpha}, x, nullptr, x, n, stream);
}

extern "C" cudaError_t jt_elementwise_axpy(float alpha, const float* x, float* y, int64_t n, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && y != nullptr);
    return map2(AxpyF{alpha}, x, y, y, n, stream);
}

extern "C" cudaError_t jt_elementwise_add(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(a != nullptr && b != nullptr && out != nullptr);
    return map2(AddF{}, a, b, out, n, stream);
}

extern "C" cudaError_t jt_elementwise_mul(const float* a, const float* b, float* out, int64_t n, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(a != nullptr && b != nullptr && out != nullptr);
    return map2(MulF{}, a, b, out, n, stream);
}

extern "C" cudaError_t jt_elementwise_sqrt(const float* x, float* out, int64_t n, cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(x != nullptr && out != nullptr);
    return map2(SqrtF{}, x, nullptr, out, n, stream);
}

extern "C" cudaError_t jt_elementwise_add_sign(float lambda, const float* w, float* grad, int64_t n,
                                               cudaStream_t stream) {
    JT_REQUIRE(n >= 0);
    if (n == 0) return cudaSuccess;
    JT_REQUIRE(w != nullptr && grad != nullptr);
    return map2(AddSignF{lambda}, w, grad, grad, n, stream);
}

extern "C" cudaError_t jt_elementwise_copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                                                int rows, int64_t cols, cudaStream_t stream) {
    JT_REQUIRE(rows >= 0 && cols >= 0);
    if (rows == 0 || cols == 0) return cudaSuccess;
    JT_REQUIRE(src_stride >= cols && dst_stride >= cols);
    JT_REQUIRE(src != nullptr && dst != nullptr);
    const int64_t total = (int64_t)rows * cols;
    LAUNCH(copy_rows_kernel, jt_grid_1d(total, kThreads), kThreads, 0, stream)(src, src_stride, dst, dst_stride, total,
                                                                               cols);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_elementwise_add_channel_bias(float* y, const float* bias, int n, int c, int inner,
                                                       cudaStream_t stream) {
    JT_REQUIRE(n >= 0 && c >= 1 && inner >= 0);
    const int64_t total = (int64_t)n * c * inner;
    if (total == 0) return cudaSuccess;
    JT_REQUIRE(y != nullptr && bias != nullptr);
    if (total <= (int64_t)UINT32_MAX) {
        LAUNCH(add_channel_bias_kernel<uint32_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            y, bias, total, (uint32_t)c, (uint32_t)inner);
    } else {
        LAUNCH(add_channel_bias_kernel<int64_t>, jt_grid_1d(total, kThreads), kThreads, 0, stream)(
            y, bias, total, (int64_t)c, (int64_t)inner);
    }
    return JT_LAUNCH_STATUS();
}
