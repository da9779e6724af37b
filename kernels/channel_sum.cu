// The per-channel sums' plan and second pass (channel_sum.cuh has the first pass, instantiated by its users:
// the bias gradient in reduce.cu, PReLU's dalpha in activations.cu).
#include "channel_sum.cuh"

namespace {

constexpr int kMinValuesPerThread = 32;  // planes: a split gives each thread at least this many values
constexpr int kMinRowsPerThread = 16;    // columns: the same in rows
constexpr int kMaxSplits = 65535;        // grid y
constexpr int kMergeThreads = 256;       // pass 2: 8 channels (warps) per block

// A warp per channel: lane k adds partials k, k + 32, ... in order, then a shuffle tree; the order depends on
// `splits` alone.
__global__ void __launch_bounds__(kMergeThreads) channel_sum_merge_kernel(const double* __restrict__ partials, int c,
                                                                         int splits, float* __restrict__ out) {
    const int64_t ch = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    if (ch >= c) return;  // whole warps: c is warp-uniform
    const int lane = (int)(threadIdx.x & 31);
    const double* p = partials + ch * splits;
    double s = 0.0;
    for (int k = lane; k < splits; k += 32) s += p[k];
    s = jt_warp_sum_double(s);
    if (lane == 0) out[ch] = (float)((double)out[ch] + s);
}

}  // namespace

cudaError_t jt_channel_sum_merge(const double* partials, int c, int splits, float* out, cudaStream_t stream) {
    const unsigned blocks = (unsigned)jt_ceil_div((int64_t)c * 32, kMergeThreads);
    LAUNCH(channel_sum_merge_kernel, blocks, kMergeThreads, 0, stream)(partials, c, splits, out);
    return JT_LAUNCH_STATUS();
}

extern "C" JtChannelSumPlan jt_channel_sum_plan(int n, int c, int64_t inner, int sm_count) {
    if (n < 1) n = 1;
    if (c < 1) c = 1;
    if (inner < 1) inner = 1;
    if (sm_count < 1) sm_count = 1;
    const int64_t target_blocks = (int64_t)JT_CHANSUM_BLOCKS_PER_SM * sm_count;
    JtChannelSumPlan p{};
    int64_t splits;
    int64_t values;  // what the splits divide: values per channel (planes) or rows (columns)
    if (inner == 1) {
        p.layout = JT_CHANSUM_COLUMNS;
        p.threads = 32 * JT_CHANSUM_COLUMN_ROWS;
        p.vec = 1;
        values = n;
        const int64_t by_work = values / ((int64_t)JT_CHANSUM_COLUMN_ROWS * kMinRowsPerThread);
        splits = target_blocks / jt_ceil_div(c, 32);
        if (splits > by_work) splits = by_work;
    } else {
        p.layout = JT_CHANSUM_PLANES;
        p.vec = inner % 4 == 0 ? 4 : 1;
        values = (int64_t)n * inner;
        int t = JT_CHANSUM_MAX_THREADS;
        while (t > 32 && (int64_t)t * kMinValuesPerThread > values) t >>= 1;
        p.threads = t;
        const int64_t by_work = values / ((int64_t)t * kMinValuesPerThread);
        splits = target_blocks / c;  // rounded down: the whole grid is one wave of resident blocks
        if (splits > by_work) splits = by_work;
    }
    if (splits < 1) splits = 1;
    if (splits > kMaxSplits) splits = kMaxSplits;
    p.splits = (int)splits;
    p.chunk = jt_ceil_div(values, splits);
    if (p.layout == JT_CHANSUM_PLANES) p.chunk = jt_ceil_div(p.chunk, p.vec) * p.vec;  // whole units per chunk
    p.workspace_bytes = splits > 1 ? (size_t)c * (size_t)splits * sizeof(double) : 0;
    return p;
}
