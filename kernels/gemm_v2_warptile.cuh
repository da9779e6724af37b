// SGEMM kernel version 2: warp tiling, a bank-conflict-free shared layout, register-prefetch double
// buffering with one barrier per k-tile, an unguarded path for interior tiles. It computes exactly what
// version 1 (gemm_v1_blocktile.cuh) does (same API, alpha/beta/bias/ReLU epilogue, every transposition);
// what changed is how the work is laid out.
//
// 1. Hierarchy. A block owns a BM x BN tile of C (M on grid.x: grid.x has no 65535 limit, so any m works;
//    N on grid.y; the batch item or the split-K slice on grid.z). Its warps form a WARPS_M x WARPS_N grid,
//    each owning a WM x WN warp tile. The 32 lanes of a warp form a 4 x 8 grid (lm = lane / 8, ln = lane % 8)
//    and each lane owns FM x FN fragments of 4 x 4 outputs, spread over the warp tile:
//      fragment (fm, fn) of lane (lm, ln) = rows wm0 + 16 fm + 4 lm + [0, 4), cols wn0 + 32 fn + 4 ln + [0, 4).
//    So TM x TN = 4FM x 4FN outputs per thread, WM = 16 FM, WN = 32 FN.
// 2. Shared tiles, k-major for both operands: Xs[k][x] (x = m for A, n for B), BK rows of LD = BX + 4
//    floats, a float x of row k stored at k * LD + (x ^ swz(k)), swz(k) = (128 / BK) * (k / 8).
//    Reads (per k, one float4 per fragment): lanes read As at 4 lm + const (4 distinct float4 = 64 bytes)
//    and Bs at 4 ln + const (8 distinct float4 = 128 contiguous bytes): one wavefront each (version 1:
//    thread tx read 8 floats at 8 tx, a 32-byte stride, 4 wavefronts for 16 distinct float4). The XOR
//    moves whole float4 groups (swz is a multiple of 4) within an aligned 16-float block, so the reads stay
//    contiguous; k is a compile-time constant in the unrolled loop, so swz(k) costs nothing.
//    Stores from an operand stored x-major in global memory ([X][K]: A untransposed, B transposed) are
//    transposed: each thread loads 4 consecutive k of one x as a float4 and stores 4 scalars. In one store
//    instruction a warp covers R = 128 / BK consecutive x (rows of the global tile) and BK / 4 groups
//    c = 0, 4, ..: lane (x, c) writes word (c + q) LD + (x ^ swz(c + q)). Bank math (LD = BX + 4 with
//    BX % 32 == 0, so LD = 4 mod 32): bank = 4 c + 4 q + (x ^ swz(c)) mod 32. The pad puts group c + 4 16
//    banks after group c; for BK >= 16 groups c and c + 8 (4 c = 32 = 0 mod 32) would collide, and the XOR
//    (R * (c / 8), R consecutive x span R banks) shifts them by R banks: 32 distinct banks. BK = 8: R = 16,
//    groups 0 and 4 -> banks [0, 16) and [16, 32). BK = 16: R = 8, groups 0, 4, 8, 12 -> [0, 8), [16, 24),
//    [8, 16), [24, 32). BK = 32: R = 4, 8 groups -> 8 disjoint runs of 4. (Version 1, no pad: 4 lanes per
//    bank.) Stores from a k-major operand are float4 copies of a row: 8 lanes write 128 contiguous bytes.
//    bank_check() below verifies all of this at compile time for every configuration.
// 3. Pipeline. Tile t + 1 is loaded from global memory into registers before tile t is computed from
//    shared buffer t % 2, then stored into buffer (t + 1) % 2, then one __syncthreads: the barrier of
//    iteration t orders the compute of t (reads buffer t % 2) before the store of iteration t + 1 (writes
//    it), and the store of t + 1 before its compute. The global latency is hidden behind BK rank-1
//    updates, and each thread does TM * TN * BK FMAs between barriers (also what emu needs to be fast).
// 4. Interior tiles (the whole BM x BN tile and the whole k-tile inside the matrices, float4-aligned
//    operands) take unguarded float4 loads; the others a bounds-checked path (zeros outside the matrix;
//    scalar loads where an operand is not float4-aligned). The choice is uniform per block and k-tile.
// 5. Split-K (kSplit > 0): blockIdx.z is the slice; the slice's raw sums go to a workspace (the launcher
//    passes alpha 1, beta 0, no bias), which gemm_splitk.cuh reduces in a fixed order.
#pragma once

#include "gemm_common.cuh"

namespace jt_gemm {

// The layout of one shared operand tile: BK rows (k) of BX floats (+ 4 pad), XOR-swizzled (see above).
template <int BK, int BX>
struct SmemTile {
    static_assert(BK == 8 || BK == 16 || BK == 32, "the swizzle is worked out for BK = 8, 16, 32");
    static_assert(BX % 32 == 0, "the bank math assumes whole 32-float rows");
    static constexpr int LD = BX + 4;  // row stride in floats (a multiple of 4: rows stay float4-aligned)
    static constexpr int SIZE = BK * LD;
    __host__ __device__ static constexpr int swizzle(int k) { return (128 / BK) * ((k % BK) / 8); }
    __host__ __device__ static constexpr int index(int k, int x) { return k * LD + (x ^ swizzle(k)); }
};

// Compile-time proof of the bank claims for one operand: the transposed stores put one word per bank in
// every instruction of every warp, and each fragment read (XLANES distinct float4 at x = base + 4 l, base a
// multiple of 4 XLANES) spans at most 128 contiguous bytes.
template <int BK, int BX, int XLANES>
constexpr bool bank_check() {
    using L = SmemTile<BK, BX>;
    constexpr int groupsPerRow = BK / 4;  // x-major global tile: rows x, groups of 4 k
    constexpr int groups = BX * BK / 4;
    for (int g0 = 0; g0 < groups; g0 += 32) {  // one warp-wide store instruction
        for (int q = 0; q < 4; ++q) {
            int word[32] = {};
            int used[32] = {};
            for (int lane = 0; lane < 32 && g0 + lane < groups; ++lane) {
                const int g = g0 + lane;
                const int x = g / groupsPerRow, c = (g % groupsPerRow) * 4;
                const int w = L::index(c + q, x);
                const int bank = w % 32;
                if (used[bank] && word[bank] != w) return false;  // two words in one bank: a conflict
                used[bank] = 1;
                word[bank] = w;
            }
        }
    }
    for (int k = 0; k < BK; ++k) {  // fragment reads
        for (int base = 0; base + 4 * XLANES <= BX; base += 4 * XLANES) {
            int lo = 1 << 30, hi = -1;
            for (int l = 0; l < XLANES; ++l) {
                const int w = L::index(k, base + 4 * l);
                if (w % 4 != 0) return false;  // float4 reads need 16-byte alignment
                lo = w < lo ? w : lo;
                hi = w > hi ? w : hi;
            }
            if ((hi + 4 - lo) * 4 > 128) return false;  // more than one 128-byte wavefront
        }
    }
    return true;
}

// A tile configuration of version 2 (see the header comment for the names).
template <int BM_, int BN_, int BK_, int FM_, int FN_, int MIN_BLOCKS_>
struct V2Config {
    static constexpr int BM = BM_, BN = BN_, BK = BK_, FM = FM_, FN = FN_;
    static constexpr int TM = 4 * FM, TN = 4 * FN;
    static constexpr int WM = 16 * FM, WN = 32 * FN;  // lanes: 4 along m, 8 along n
    static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
    static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
    static constexpr int MIN_BLOCKS = MIN_BLOCKS_;  // __launch_bounds__: at most 65536 / (THREADS * MIN_BLOCKS) registers
    using LayoutA = SmemTile<BK, BM>;
    using LayoutB = SmemTile<BK, BN>;
    static_assert(BM % WM == 0 && BN % WN == 0, "warps tile the block");
    static_assert(bank_check<BK, BM, 4>(), "A tile: bank conflicts");  // A fragments: 4 lanes lm, 16 floats apart
    static_assert(bank_check<BK, BN, 8>(), "B tile: bank conflicts");  // B fragments: 8 lanes ln, 32 floats apart
};

// One operand's k-slice: global memory -> registers (load_*) -> shared memory (store).
// K_MAJOR: the operand is stored [K][X] in global memory (A when transA, B when !transB); its tile is BK rows
// of BX, loaded as float4 along x and stored as is. Otherwise it is stored [X][K] (A when !transA, B when
// transB); its tile is BX rows of BK, loaded as float4 along k and stored transposed.
template <int BK, int BX, int THREADS, bool K_MAJOR>
struct TileCopy {
    using Layout = SmemTile<BK, BX>;
    static constexpr int ROWS = K_MAJOR ? BK : BX;
    static constexpr int COLS = K_MAJOR ? BX : BK;
    static constexpr int GROUPS_PER_ROW = COLS / 4;
    static constexpr int LOADS = ROWS * COLS / 4 / THREADS;  // float4 groups per thread
    static_assert(ROWS * COLS / 4 % THREADS == 0, "every thread copies the same number of groups");
    float v[LOADS][4];

    __device__ __forceinline__ static int row(int l, int tid) { return (tid + l * THREADS) / GROUPS_PER_ROW; }
    __device__ __forceinline__ static int col(int l, int tid) { return (tid + l * THREADS) % GROUPS_PER_ROW * 4; }

    // Interior tile: rows [r0, r0 + ROWS) and columns [c0, c0 + COLS) inside the matrix, G and ld float4-aligned.
    // (Addresses from (r0, c0) each time: keeping per-thread 64-bit tile pointers live instead pushed the 128x128
    // tile over its 128 registers into spills on sm_90.)
    __device__ __forceinline__ void load_fast(const float* __restrict__ G, int ld, int64_t r0, int64_t c0, int tid) {
        JT_UNROLL
        for (int l = 0; l < LOADS; ++l) {
            const float4 t =
                *reinterpret_cast<const float4*>(G + (size_t)(r0 + row(l, tid)) * ld + (c0 + col(l, tid)));
            v[l][0] = t.x;
            v[l][1] = t.y;
            v[l][2] = t.z;
            v[l][3] = t.w;
        }
    }

    // Any tile: elements outside rows x cols read as 0; float4 only where vec and the group is inside.
    __device__ __forceinline__ void load_guarded(const float* __restrict__ G, int ld, int64_t rows, int64_t cols,
                                                 int64_t r0, int64_t c0, bool vec, int tid) {
        JT_UNROLL
        for (int l = 0; l < LOADS; ++l) {
            const int64_t gr = r0 + row(l, tid);  // 64-bit: r0 + r and gc + 3 must not wrap near INT_MAX
            const int64_t gc = c0 + col(l, tid);
            const float* p = G + (size_t)gr * ld + gc;
            if (vec && gr < rows && gc + 3 < cols) {
                const float4 t = *reinterpret_cast<const float4*>(p);
                v[l][0] = t.x;
                v[l][1] = t.y;
                v[l][2] = t.z;
                v[l][3] = t.w;
            } else {
                const bool rowOk = gr < rows;
                JT_UNROLL
                for (int q = 0; q < 4; ++q) v[l][q] = (rowOk && gc + q < cols) ? p[q] : 0.f;
            }
        }
    }

    __device__ __forceinline__ void store(float* __restrict__ S, int tid) const {
        JT_UNROLL
        for (int l = 0; l < LOADS; ++l) {
            const int r = row(l, tid), c = col(l, tid);
            if (K_MAJOR) {  // k = r, x = c .. c + 3: one float4 (the swizzle keeps the group together)
                *reinterpret_cast<float4*>(S + Layout::index(r, c)) = make_float4(v[l][0], v[l][1], v[l][2], v[l][3]);
            } else {  // x = r, k = c .. c + 3: four scalars, conflict-free (header comment)
                JT_UNROLL
                for (int q = 0; q < 4; ++q) S[Layout::index(c + q, r)] = v[l][q];
            }
        }
    }
};

// C = act(alpha op(A) op(B) + beta C + bias) for the tile of block (blockIdx.x, blockIdx.y).
// kSplit == 0: blockIdx.z is the batch item (A, B and C advanced by z times their element strides) and k runs
// over [0, K). kSplit > 0 (a multiple of BK): blockIdx.z is the k slice [z kSplit, min(K, (z + 1) kSplit)), A
// and B are not advanced, C is advanced by z * strideC (the slice's partial sums in a workspace).
template <class CFG, bool TA, bool TB>
__global__ void JT_GEMM_BOUNDS2(CFG::THREADS, CFG::MIN_BLOCKS)
    sgemm_v2_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda, int64_t strideA,
                    const float* __restrict__ B, int ldb, int64_t strideB, float beta, float* __restrict__ C, int ldc,
                    int64_t strideC, const float* __restrict__ bias, int relu, int vecA, int vecB, int vecC,
                    int kSplit) {
    constexpr int BM = CFG::BM, BN = CFG::BN, BK = CFG::BK, FM = CFG::FM, FN = CFG::FN, TM = CFG::TM;
    constexpr int NT = CFG::THREADS;
    using LA = typename CFG::LayoutA;
    using LB = typename CFG::LayoutB;
    // Two buffers per operand; float4 storage guarantees the 16-byte alignment of the float4 accesses.
    __shared__ float4 smemA4[2 * LA::SIZE / 4];
    __shared__ float4 smemB4[2 * LB::SIZE / 4];
    float* smemA = reinterpret_cast<float*>(smemA4);
    float* smemB = reinterpret_cast<float*>(smemB4);

    const int64_t z = blockIdx.z;  // 64-bit products: z * stride exceeds 2^31 elements for large batches
    int64_t kBegin = 0, kEnd = K;
    if (kSplit > 0) {
        kBegin = z * kSplit;
        kEnd = kBegin + kSplit < K ? kBegin + kSplit : K;
    } else {
        A += z * strideA;
        B += z * strideB;
    }
    C += z * strideC;

    const int tid = threadIdx.x;
    const int warp = tid / 32, lane = tid % 32;
    const int wm0 = warp / CFG::WARPS_N * CFG::WM;  // this warp's tile inside the block tile
    const int wn0 = warp % CFG::WARPS_N * CFG::WN;
    const int lm = lane / 8, ln = lane % 8;  // this lane in the warp's 4 x 8 lane grid
    const int m0 = blockIdx.x * BM;
    const int n0 = blockIdx.y * BN;
    const bool interior = m0 + BM <= M && n0 + BN <= N && vecA && vecB;

    // op(A) tile [m0, m0 + BM) x [k0, k0 + BK); op(B) tile [k0, k0 + BK) x [n0, n0 + BN).
    TileCopy<BK, BM, NT, TA> copyA;  // A stored [K][M] when TA (k-major), [M][K] otherwise
    TileCopy<BK, BN, NT, !TB> copyB;  // B stored [K][N] unless TB
    // Tile at k0 into registers: unguarded float4 loads for an interior tile, else the guarded path.
    // (A macro rather than a lambda: g++ did not inline the lambda, which cost emu a fifth of its time.)
#define JT_V2_LOAD(k0)                                                                       \
    do {                                                                                     \
        if (interior && (k0) + BK <= kEnd) {                                                 \
            if (TA) copyA.load_fast(A, lda, (k0), m0, tid);                                  \
            else copyA.load_fast(A, lda, m0, (k0), tid);                                     \
            if (TB) copyB.load_fast(B, ldb, n0, (k0), tid);                                  \
            else copyB.load_fast(B, ldb, (k0), n0, tid);                                     \
        } else {                                                                             \
            if (TA) copyA.load_guarded(A, lda, kEnd, M, (k0), m0, vecA != 0, tid);           \
            else copyA.load_guarded(A, lda, M, kEnd, m0, (k0), vecA != 0, tid);              \
            if (TB) copyB.load_guarded(B, ldb, N, kEnd, n0, (k0), vecB != 0, tid);           \
            else copyB.load_guarded(B, ldb, kEnd, N, (k0), n0, vecB != 0, tid);              \
        }                                                                                    \
    } while (0)

    Vec4 acc[TM][FN];  // acc[4 fm + i][fn]: row 16 fm + 4 lm + i, cols 32 fn + 4 ln .. + 3 of the warp tile
    JT_UNROLL
    for (int i = 0; i < TM; ++i) {
        JT_UNROLL
        for (int j = 0; j < FN; ++j) acc[i][j] = vec4_zero();
    }

    JT_V2_LOAD(kBegin);
    copyA.store(smemA, tid);
    copyB.store(smemB, tid);
    __syncthreads();
    int buf = 0;
    for (int64_t k0 = kBegin; k0 < kEnd; k0 += BK) {  // 64-bit: k0 += BK must not wrap
        const bool more = k0 + BK < kEnd;  // uniform across the block
        if (more) JT_V2_LOAD(k0 + BK);      // in flight while this tile is computed
        const float* As = smemA + buf * LA::SIZE;
        const float* Bs = smemB + buf * LB::SIZE;
        JT_UNROLL
        for (int kk = 0; kk < BK; ++kk) {
            Vec4 a[FM], b[FN];
            JT_UNROLL
            for (int fm = 0; fm < FM; ++fm) a[fm] = vec4_load(As + LA::index(kk, wm0 + 16 * fm + 4 * lm));
            JT_UNROLL
            for (int fn = 0; fn < FN; ++fn) b[fn] = vec4_load(Bs + LB::index(kk, wn0 + 32 * fn + 4 * ln));
            JT_UNROLL
            for (int i = 0; i < TM; ++i) {
                const float ai = vec4_get(a[i / 4], i % 4);
                JT_UNROLL
                for (int fn = 0; fn < FN; ++fn) vec4_madd(acc[i][fn], ai, b[fn]);
            }
        }
        if (more) {
            buf ^= 1;
            copyA.store(smemA + buf * LA::SIZE, tid);  // the buffer computed one iteration ago
            copyB.store(smemB + buf * LB::SIZE, tid);
            __syncthreads();  // the one barrier per k-tile (header comment, point 3)
        }
    }
#undef JT_V2_LOAD

    // Epilogue: lanes ln = 0..7 of a row write 8 consecutive float4 (128 bytes) per fragment.
    float bv[FN][4];
    JT_UNROLL
    for (int fn = 0; fn < FN; ++fn) {
        JT_UNROLL
        for (int q = 0; q < 4; ++q) {
            const int col = n0 + wn0 + 32 * fn + 4 * ln + q;
            bv[fn][q] = (bias != nullptr && col < N) ? bias[col] : 0.f;
        }
    }
    JT_UNROLL
    for (int i = 0; i < TM; ++i) {
        const int row = m0 + wm0 + 16 * (i / 4) + 4 * lm + i % 4;
        if (row >= M) continue;
        float* crow = C + (size_t)row * ldc;
        JT_UNROLL
        for (int fn = 0; fn < FN; ++fn) {
            const int col = n0 + wn0 + 32 * fn + 4 * ln;
            if (col >= N) continue;
            float v[4];
            JT_UNROLL
            for (int q = 0; q < 4; ++q) v[q] = alpha * vec4_get(acc[i][fn], q);
            const bool full = vecC && col + 3 < N;
            if (beta != 0.f) {  // beta == 0 never reads C: NaN there does not propagate (BLAS)
                if (full) {
                    const float4 old = *reinterpret_cast<const float4*>(crow + col);
                    v[0] += beta * old.x;
                    v[1] += beta * old.y;
                    v[2] += beta * old.z;
                    v[3] += beta * old.w;
                } else {
                    JT_UNROLL
                    for (int q = 0; q < 4; ++q)
                        if (col + q < N) v[q] += beta * crow[col + q];
                }
            }
            JT_UNROLL
            for (int q = 0; q < 4; ++q) {
                v[q] += bv[fn][q];
                if (relu && v[q] < 0.f) v[q] = 0.f;  // NaN compares false and stays NaN
            }
            if (full) {
                *reinterpret_cast<float4*>(crow + col) = make_float4(v[0], v[1], v[2], v[3]);
            } else {
                JT_UNROLL
                for (int q = 0; q < 4; ++q)
                    if (col + q < N) crow[col + q] = v[q];
            }
        }
    }
}

// Launches version 2 with configuration CFG over `batch` items (kSplit == 0) or `splits` k slices of one
// GEMM (kSplit > 0, batch == 1; C is then the workspace, see gemm.cu).
template <class CFG>
cudaError_t launch_v2(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                      int64_t strideA, const float* B, int ldb, int64_t strideB, float beta, float* C, int ldc,
                      int64_t strideC, int batch, const float* bias, int relu, int kSplit, cudaStream_t stream) {
    const int64_t gridX = jt_ceil_div(m, CFG::BM);
    const int64_t gridY = jt_ceil_div(n, CFG::BN);
    if (gridY > kMaxGridYZ) return cudaErrorInvalidValue;  // n beyond 65535 * BN columns
    const dim3 block(CFG::THREADS, 1, 1);
    // float4 loads need every item's base aligned too: the base, and the stride a multiple of 4 floats.
    const int vecA = aligned16(A) && lda % 4 == 0 && strideA % 4 == 0;
    const int vecB = aligned16(B) && ldb % 4 == 0 && strideB % 4 == 0;
    const int vecC = aligned16(C) && ldc % 4 == 0 && strideC % 4 == 0;
    // z is the batch item (one launch per 65535 items, pointers advanced to the chunk's first) or the slice.
    for (int z0 = 0; z0 < batch; z0 += kMaxGridYZ) {
        const int items = batch - z0 < kMaxGridYZ ? batch - z0 : kMaxGridYZ;
        const dim3 grid((unsigned)gridX, (unsigned)gridY, (unsigned)items);
        const float* Az = A + z0 * strideA;  // z0 * stride: int64_t, no wrap
        const float* Bz = B + z0 * strideB;
        float* Cz = C + z0 * strideC;
#define JT_V2_LAUNCH(TA, TB)                                                                                     \
    LAUNCH((sgemm_v2_kernel<CFG, TA, TB>), grid, block, 0, stream)(m, n, k, alpha, Az, lda, strideA, Bz, ldb,   \
                                                                   strideB, beta, Cz, ldc, strideC, bias, relu, \
                                                                   vecA, vecB, vecC, kSplit)
        if (!transA && !transB) JT_V2_LAUNCH(false, false);
        else if (!transA && transB) JT_V2_LAUNCH(false, true);
        else if (transA && !transB) JT_V2_LAUNCH(true, false);
        else JT_V2_LAUNCH(true, true);
#undef JT_V2_LAUNCH
        const cudaError_t st = JT_LAUNCH_STATUS();
        if (st != cudaSuccess) return st;  // later chunks are not launched after a failed one
    }
    return cudaSuccess;
}

}  // namespace jt_gemm
