// Batch normalisation over [N, C, inner]; see batchnorm.h for the contract.
//
// Training forward and every backward that needs per-channel sums run one block per channel: each
// thread walks its elements of the channel (m = tid, tid + T, ... over the M = N * inner values, the
// (n, i) position tracked incrementally, no division per element), keeps float partials (Welford's
// count/mean/M2 for the forward, sum dy and sum dy (x - mean) for the backward), and the block merges
// them in double by a fixed tree (Chan et al.'s pairwise update for the Welford triples), so the
// result does not depend on timing. The same block then writes y or dx for its channel, so the
// forward reads x twice and writes y once. Eval mode without parameter gradients is elementwise.
//
// Performance notes (not measurable under emu): one block per channel keeps everything in one launch
// and deterministic, but with few channels and large M it under-fills a big GPU, and for [N, D]
// (inner = 1) its loads are strided by C.
#include "batchnorm.h"

#include "common.cuh"

namespace {

constexpr int kMaxThreads = 512;   // the same on emu and CUDA (launch_config.h)
constexpr int kFlatThreads = 256;

// Threads per channel block: a power of two in [32, kMaxThreads], about 8 or more elements each.
int block_threads(int64_t m) {
    int t = 32;
    while (t < kMaxThreads && (int64_t)t * 8 < m) t <<= 1;
    return t;
}

// Walks the elements m0, m0 + stride, m0 + 2 stride, ... of channel c of [N, C, inner]: element m is
// (n, i) = (m / inner, m % inner), at address (n * C + c) * inner + i.
struct ChannelCursor {
    int64_t addr, i, inner, di, step, wrap;
    __device__ ChannelCursor(int64_t m0, int64_t stride, int c, int nc, int64_t inner_) : inner(inner_) {
        const int64_t row = (int64_t)nc * inner;
        i = m0 % inner;
        addr = (m0 / inner) * row + (int64_t)c * inner + i;
        di = stride % inner;
        step = (stride / inner) * row + di;
        wrap = row - inner;  // from (n, i >= inner) to (n + 1, i - inner)
    }
    __device__ void next() {
        addr += step;
        i += di;
        if (i >= inner) {
            i -= inner;
            addr += wrap;
        }
    }
};

// Walks a flat grid-stride loop over [N, C, inner], tracking the channel of each index without
// dividing per element.
struct FlatChannelCursor {
    int64_t i, inner, di;
    int c, nc, dc;
    __device__ FlatChannelCursor(int64_t idx0, int64_t stride, int nc_, int64_t inner_)
        : inner(inner_), nc(nc_) {
        const int64_t row = idx0 / inner;
        i = idx0 % inner;
        c = (int)(row % nc);
        di = stride % inner;
        dc = (int)((stride / inner) % nc);
    }
    __device__ void next() {
        i += di;
        c += dc;
        if (i >= inner) {
            i -= inner;
            c += 1;
        }
        if (c >= nc) c -= nc;  // c <= 2 nc - 1 here
    }
};

// ------------------------------------------------------------------------- training forward

template <int MAXT>
__global__ void bn_forward_train_kernel(const float* __restrict__ x, const float* __restrict__ gamma,
                                        const float* __restrict__ beta, float eps, float momentum,
                                        float* __restrict__ running_mean, float* __restrict__ running_var,
                                        float* __restrict__ y, float* __restrict__ save_mean,
                                        float* __restrict__ save_var, int n, int nc, int64_t inner) {
    __shared__ double s_cnt[MAXT];
    __shared__ double s_mean[MAXT];
    __shared__ double s_m2[MAXT];
    __shared__ float s_par[3];  // mean, scale, shift

    const int c = blockIdx.x;
    const int tid = threadIdx.x;
    const int threads = blockDim.x;
    const int64_t m = (int64_t)n * inner;

    // Welford over this thread's elements, in float.
    int64_t cnt = 0;
    float mean = 0.0f;
    float m2 = 0.0f;
    {
        ChannelCursor cur(tid, threads, c, nc, inner);
        for (int64_t k = tid; k < m; k += threads, cur.next()) {
            const float v = x[cur.addr];
            ++cnt;
            const float d = v - mean;
            mean += d / (float)cnt;
            m2 += d * (v - mean);
        }
    }
    s_cnt[tid] = (double)cnt;
    s_mean[tid] = mean;
    s_m2[tid] = m2;
    __syncthreads();
    // Fixed tree of pairwise merges (Chan et al.), in double.
    for (int s = threads >> 1; s > 0; s >>= 1) {
        if (tid < s) {
            const double na = s_cnt[tid];
            const double nb = s_cnt[tid + s];
            if (nb > 0.0) {
                if (na == 0.0) {
                    s_cnt[tid] = nb;
                    s_mean[tid] = s_mean[tid + s];
                    s_m2[tid] = s_m2[tid + s];
                } else {
                    const double nt = na + nb;
                    const double d = s_mean[tid + s] - s_mean[tid];
                    s_mean[tid] += d * (nb / nt);
                    s_m2[tid] += s_m2[tid + s] + d * d * (na * nb / nt);
                    s_cnt[tid] = nt;
                }
            }
        }
        __syncthreads();
    }
    if (tid == 0) {
        const double mu = s_mean[0];
        const double var = s_m2[0] / (double)m;  // biased
        if (save_mean != nullptr) {
            save_mean[c] = (float)mu;
            save_var[c] = (float)var;
        }
        if (running_mean != nullptr) {
            const double mom = momentum;
            const double unbiased = var * (double)m / (double)(m - 1);  // M = 1 gives NaN, like the cpu
            running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mu);
            running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * unbiased);
        }
        const double inv = 1.0 / sqrt(var + (double)eps);
        s_par[0] = (float)mu;
        s_par[1] = (float)(gamma == nullptr ? inv : gamma[c] * inv);
        s_par[2] = beta == nullptr ? 0.0f : beta[c];
    }
    __syncthreads();
    const float mu = s_par[0];
    const float scale = s_par[1];
    const float shift = s_par[2];
    ChannelCursor cur(tid, threads, c, nc, inner);
    for (int64_t k = tid; k < m; k += threads, cur.next()) {
        y[cur.addr] = (x[cur.addr] - mu) * scale + shift;
    }
}

// ------------------------------------------------------------------------- eval forward (elementwise)

__global__ void bn_forward_eval_kernel(const float* x, const float* __restrict__ gamma,
                                       const float* __restrict__ beta, const float* __restrict__ rm,
                                       const float* __restrict__ rv, float eps, float* y, int64_t total, int nc,
                                       int64_t inner) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t i0 = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i0 >= total) return;
    FlatChannelCursor cur(i0, stride, nc, inner);
    for (int64_t i = i0; i < total; i += stride, cur.next()) {
        const int c = cur.c;
        const float inv = 1.0f / sqrtf(rv[c] + eps);
        const float scale = gamma == nullptr ? inv : gamma[c] * inv;
        const float shift = beta == nullptr ? 0.0f : beta[c];
        y[i] = (x[i] - rm[c]) * scale + shift;
    }
}

// ------------------------------------------------------------------------- backward

// dx = dy * gamma / sqrt(var + eps) (eval mode, no parameter gradients).
__global__ void bn_backward_eval_dx_kernel(const float* __restrict__ dy, const float* __restrict__ gamma,
                                           const float* __restrict__ var, float eps, float* __restrict__ dx,
                                           int64_t total, int nc, int64_t inner) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t i0 = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i0 >= total) return;
    FlatChannelCursor cur(i0, stride, nc, inner);
    for (int64_t i = i0; i < total; i += stride, cur.next()) {
        const int c = cur.c;
        const float inv = 1.0f / sqrtf(var[c] + eps);
        const float k = gamma == nullptr ? inv : gamma[c] * inv;
        dx[i] = dy[i] * k;
    }
}

template <int MAXT>
__global__ void bn_backward_kernel(const float* __restrict__ x, const float* __restrict__ dy,
                                   const float* __restrict__ gamma, const float* __restrict__ mean,
                                   const float* __restrict__ var, float eps, int training, float* __restrict__ dx,
                                   float* __restrict__ dgamma, float* __restrict__ dbeta, int n, int nc,
                                   int64_t inner) {
    __shared__ double s_dy[MAXT];
    __shared__ double s_dyx[MAXT];
    __shared__ float s_par[4];  // inv, k, sum(dy)/M, sum(dy xhat)/M

    const int c = blockIdx.x;
    const int tid = threadIdx.x;
    const int threads = blockDim.x;
    const int64_t m = (int64_t)n * inner;
    const float mu = mean[c];

    // Per-thread sums of dy and dy (x - mean), in float.
    float s0 = 0.0f;
    float s1 = 0.0f;
    {
        ChannelCursor cur(tid, threads, c, nc, inner);
        for (int64_t k = tid; k < m; k += threads, cur.next()) {
            const float d = dy[cur.addr];
            s0 += d;
            s1 += d * (x[cur.addr] - mu);
        }
    }
    s_dy[tid] = s0;
    s_dyx[tid] = s1;
    __syncthreads();
    for (int s = threads >> 1; s > 0; s >>= 1) {
        if (tid < s) {
            s_dy[tid] += s_dy[tid + s];
            s_dyx[tid] += s_dyx[tid + s];
        }
        __syncthreads();
    }
    if (tid == 0) {
        const double inv = 1.0 / sqrt((double)var[c] + (double)eps);
        const double g = gamma == nullptr ? 1.0 : (double)gamma[c];
        const double sum_dy = s_dy[0];
        const double sum_dy_xhat = s_dyx[0] * inv;
        if (dgamma != nullptr) dgamma[c] = (float)((double)dgamma[c] + sum_dy_xhat);
        if (dbeta != nullptr) dbeta[c] = (float)((double)dbeta[c] + sum_dy);
        s_par[0] = (float)inv;
        s_par[1] = (float)(g * inv);
        s_par[2] = (float)(sum_dy / (double)m);
        s_par[3] = (float)(sum_dy_xhat / (double)m);
    }
    __syncthreads();
    if (dx == nullptr) return;
    const float inv = s_par[0];
    const float k = s_par[1];
    ChannelCursor cur(tid, threads, c, nc, inner);
    if (training) {
        const float a = s_par[2];
        const float b = s_par[3];
        for (int64_t e = tid; e < m; e += threads, cur.next()) {
            const float xhat = (x[cur.addr] - mu) * inv;
            dx[cur.addr] = k * (dy[cur.addr] - a - xhat * b);
        }
    } else {
        for (int64_t e = tid; e < m; e += threads, cur.next()) {
            dx[cur.addr] = k * dy[cur.addr];
        }
    }
}

bool sizes_ok(int n, int c, int64_t inner) {
    return n >= 1 && c >= 1 && inner >= 1 && (int64_t)n * inner <= INT64_MAX / c;
}

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

}  // namespace

extern "C" int jt_batchnorm_block_threads(int64_t m) { return block_threads(m); }

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

extern "C" cudaError_t jt_batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float eps,
                                                  float momentum, float* running_mean, float* running_var, float* y,
                                                  float* save_mean, float* save_var, int n, int c, int64_t inner,
                                                  cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && y != nullptr && x != y);
    JT_REQUIRE((running_mean == nullptr) == (running_var == nullptr));
    JT_REQUIRE((save_mean == nullptr) == (save_var == nullptr));
    const int threads = block_threads((int64_t)n * inner);
    LAUNCH(bn_forward_train_kernel<kMaxThreads>, (unsigned)c, threads, 0, stream)(
        x, gamma, beta, eps, momentum, running_mean, running_var, y, save_mean, save_var, n, c, inner);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                                                 const float* running_mean, const float* running_var, float eps,
                                                 float* y, int n, int c, int64_t inner, cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && y != nullptr && running_mean != nullptr && running_var != nullptr);
    const int64_t total = (int64_t)n * c * inner;
    LAUNCH(bn_forward_eval_kernel, jt_grid_1d(total, kFlatThreads), kFlatThreads, 0, stream)(
        x, gamma, beta, running_mean, running_var, eps, y, total, c, inner);
    return JT_LAUNCH_STATUS();
}

extern "C" cudaError_t jt_batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                                             const float* var, float eps, int training, float* dx, float* dgamma,
                                             float* dbeta, int n, int c, int64_t inner, cudaStream_t stream) {
    JT_REQUIRE(sizes_ok(n, c, inner));
    JT_REQUIRE(x != nullptr && dy != nullptr && mean != nullptr && var != nullptr);
    JT_REQUIRE(dx == nullptr || (dx != x && dx != dy));
    if (dx == nullptr && dgamma == nullptr && dbeta == nullptr) return cudaSuccess;
    if (!training && dgamma == nullptr && dbeta == nullptr) {
        const int64_t total = (int64_t)n * c * inner;
        LAUNCH(bn_backward_eval_dx_kernel, jt_grid_1d(total, kFlatThreads), kFlatThreads, 0, stream)(
            dy, gamma, var, eps, dx, total, c, inner);
        return JT_LAUNCH_STATUS();
    }
    const int threads = block_threads((int64_t)n * inner);
    LAUNCH(bn_backward_kernel<kMaxThreads>, (unsigned)c, threads, 0, stream)(
        x, dy, gamma, mean, var, eps, training, dx, dgamma, dbeta, n, c, inner);
    return JT_LAUNCH_STATUS();
}
