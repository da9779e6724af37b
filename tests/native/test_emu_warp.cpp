// The emu device: warp shuffles (idx/up/down/xor, widths, 4- and 8-byte types), ballots and votes
// with full and partial masks, partial warps, reads of non-participating lanes (poison), and atomics
// across blocks.
#include <string.h>

#include <string>
#include <vector>

#include "common.cuh"
#include "test_util.h"

static unsigned lane_of(unsigned linear) { return linear % 32; }

// out[t*8 + k]: the results of eight warp operations for thread t.
__global__ void shuffle_kernel(const float* x, float* out) {
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const int lane = t % 32;
    float v = x[blockIdx.x * blockDim.x * blockDim.y * blockDim.z + t];
    float* o = out + (size_t(blockIdx.x) * blockDim.x * blockDim.y * blockDim.z + t) * 8;
    // 0: tree sum with shfl_down (lane 0 holds the warp sum)
    float s = v;
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    o[0] = s;
    // 1: butterfly sum with shfl_xor (every lane holds the warp sum)
    float b = v;
    for (int off = 16; off > 0; off >>= 1) b += __shfl_xor_sync(0xffffffffu, b, off);
    o[1] = b;
    // 2: broadcast of lane 5
    o[2] = __shfl_sync(0xffffffffu, v, 5);
    // 3: an arbitrary permutation: lane reads lane (7 * lane + 3) % 32
    o[3] = __shfl_sync(0xffffffffu, v, (7 * lane + 3) % 32);
    // 4: inclusive scan with shfl_up
    float sc = v;
    for (int off = 1; off < 32; off <<= 1) {
        const float u = __shfl_up_sync(0xffffffffu, sc, off);
        if (lane >= off) sc += u;
    }
    o[4] = sc;
    // 5: inclusive scan within segments of 8 (width 8)
    float s8 = v;
    for (int off = 1; off < 8; off <<= 1) {
        const float u = __shfl_up_sync(0xffffffffu, s8, off, 8);
        if (lane % 8 >= off) s8 += u;
    }
    o[5] = s8;
    // 6: shfl with width 16: lane reads lane 3 of its half
    o[6] = __shfl_sync(0xffffffffu, v, 3, 16);
    // 7: shfl_down with width 8 past the segment end returns the own value
    o[7] = __shfl_down_sync(0xffffffffu, v, 6, 8);
}

static void test_shuffles(dim3 block) {
    const int n = static_cast<int>(block.x * block.y * block.z), blocks = 3;
    jt_test::Rng rng(n);
    std::vector<float> x(size_t(n) * blocks);
    for (auto& v : x) v = static_cast<float>(static_cast<int>(rng.next() % 200) - 100);  // integers: exact sums
    jt_test::DeviceBuffer<float> dx(x), dout(x.size() * 8);
    LAUNCH(shuffle_kernel, blocks, block, 0, 0)(dx.get(), dout.get());
    CHECK_CUDA(cudaGetLastError());
    std::vector<float> out = dout.download();
    long bad[8] = {0};
    for (int blk = 0; blk < blocks; ++blk)
        for (int t = 0; t < n; ++t) {
            const float* xv = &x[size_t(blk) * n + (t / 32) * 32];
            const float* o = &out[(size_t(blk) * n + t) * 8];
            const int l = static_cast<int>(lane_of(t));
            float sum = 0, scan = 0, scan8 = 0;
            for (int j = 0; j < 32; ++j) sum += xv[j];
            for (int j = 0; j <= l; ++j) scan += xv[j];
            for (int j = l - l % 8; j <= l; ++j) scan8 += xv[j];
            if (l == 0 && o[0] != sum) ++bad[0];
            if (o[1] != sum) ++bad[1];
            if (o[2] != xv[5]) ++bad[2];
            if (o[3] != xv[(7 * l + 3) % 32]) ++bad[3];
            if (o[4] != scan) ++bad[4];
            if (o[5] != scan8) ++bad[5];
            if (o[6] != xv[(l / 16) * 16 + 3]) ++bad[6];
            if (o[7] != (l % 8 + 6 < 8 ? xv[l + 6] : xv[l])) ++bad[7];
        }
    const char* names[8] = {"shfl_down tree sum", "shfl_xor butterfly", "shfl broadcast", "shfl permutation",
                            "shfl_up scan", "shfl_up scan width 8", "shfl width 16", "shfl_down width 8 edge"};
    const std::string shape = " block " + std::to_string(block.x) + "x" + std::to_string(block.y) + "x" + std::to_string(block.z);
    for (int k = 0; k < 8; ++k) CHECK_EQ(bad[k], 0, std::string(names[k]) + shape);
}

// 8-byte shuffles and the int/unsigned overloads.
__global__ void shuffle_types(double* d, long long* ll, int* i, unsigned* u) {
    const int lane = threadIdx.x % 32;
    d[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0 / (lane + 1), 1);
    ll[threadIdx.x] = __shfl_sync(0xffffffffu, (1ll << 40) + lane, 31 - lane);
    i[threadIdx.x] = __shfl_down_sync(0xffffffffu, -lane, 1);
    u[threadIdx.x] = __shfl_up_sync(0xffffffffu, 0x80000000u + lane, 2);
}

static void test_shuffle_types() {
    jt_test::DeviceBuffer<double> d(64);
    jt_test::DeviceBuffer<long long> ll(64);
    jt_test::DeviceBuffer<int> i(64);
    jt_test::DeviceBuffer<unsigned> u(64);
    LAUNCH(shuffle_types, 1, 64, 0, 0)(d.get(), ll.get(), i.get(), u.get());
    CHECK_CUDA(cudaGetLastError());
    auto hd = d.download();
    auto hl = ll.download();
    auto hi = i.download();
    auto hu = u.download();
    long bad = 0;
    for (int t = 0; t < 64; ++t) {
        const int l = t % 32;
        bad += hd[t] != 1.0 / ((l ^ 1) + 1);
        bad += hl[t] != (1ll << 40) + (31 - l);
        bad += hi[t] != (l < 31 ? -(l + 1) : -l);
        bad += hu[t] != 0x80000000u + (l >= 2 ? l - 2 : l);
    }
    CHECK_EQ(bad, 0, "shuffles of double, long long, int, unsigned");
}

// Doubles through all four shuffle kinds, bit-exact: values a float cannot hold (beyond FLT_MAX, below
// the float subnormals, 53-bit mantissas), subnormal doubles, infinities, NaNs with payloads (quiet and
// signalling, either sign), -0.0. The emu moves the 64-bit pattern whole, as CUDA does (a float hi + lo
// split would turn 1e300 into NaN, flush 1e-50 and lose bits). out[t*6 + k]: idx, up, down, xor, width 8
// down, and the poison read of a lane outside the mask.
static std::vector<unsigned long long> double_patterns() {
    std::vector<unsigned long long> p = {
        0x8000000000000000ull,  // -0.0
        0x0000000000000000ull,  // +0.0
        0x0000000000000001ull,  // the smallest subnormal double
        0x800fffffffffffffull,  // the largest negative subnormal
        0x0008000000000000ull,  // a subnormal
        0x7ff0000000000000ull,  // +inf
        0xfff0000000000000ull,  // -inf
        0x7fefffffffffffffull,  // DBL_MAX
        0x7ff8000000000000ull,  // the default quiet NaN
        0x7ff0000000000001ull,  // signalling NaN, payload 1
        0xfff8deadbeef1234ull,  // negative quiet NaN with a payload
        0x7ff4000000000abcull,  // signalling NaN with a payload
        0x47f0000000000000ull,  // 2^128, past FLT_MAX: (float) of it is +inf
        0x3680000000000000ull,  // 2^-151, below the float subnormals: (float) of it is 0
        0x3ff0000000000001ull,  // 1 + 2^-52: needs all 53 bits
        0xbff0000000000001ull,  // -(1 + 2^-52)
    };
    for (int l = 16; l < 32; ++l) {  // large, tiny and full-mantissa values
        const double v = (l % 3 == 0 ? 1e300 : l % 3 == 1 ? 1e-300 : 1.0) / (3.0 * l + 1.0) * (l % 2 ? -1.0 : 1.0);
        unsigned long long b;
        memcpy(&b, &v, 8);
        p.push_back(b);
    }
    return p;
}

__global__ void double_shuffle_kernel(const long long* bits, long long* out) {
    const int lane = threadIdx.x % 32;
    const double v = __longlong_as_double(bits[lane]);
    long long* o = out + threadIdx.x * 6;
    o[0] = __double_as_longlong(__shfl_sync(0xffffffffu, v, (5 * lane + 3) % 32));
    o[1] = __double_as_longlong(__shfl_up_sync(0xffffffffu, v, 3));
    o[2] = __double_as_longlong(__shfl_down_sync(0xffffffffu, v, 5));
    o[3] = __double_as_longlong(__shfl_xor_sync(0xffffffffu, v, 7));
    o[4] = __double_as_longlong(__shfl_down_sync(0xffffffffu, v, 2, 8));
    o[5] = 0;
    if (lane < 16) o[5] = __double_as_longlong(__shfl_sync(0x0000ffffu, v, lane + 8));  // lanes 8..15 read 16..23
}

static void test_double_shuffles() {
    const std::vector<unsigned long long> p = double_patterns();
    std::vector<long long> in(p.begin(), p.end());
    jt_test::DeviceBuffer<long long> bits(in), out(64 * 6);
    LAUNCH(double_shuffle_kernel, 1, 64, 0, 0)(bits.get(), out.get());
    CHECK_CUDA(cudaGetLastError());
    const std::vector<long long> h = out.download();
    long bad[6] = {0};
    for (int t = 0; t < 64; ++t) {
        const int l = t % 32;
        const long long* o = &h[size_t(t) * 6];
        bad[0] += o[0] != in[(5 * l + 3) % 32];
        bad[1] += o[1] != in[l >= 3 ? l - 3 : l];
        bad[2] += o[2] != in[l + 5 < 32 ? l + 5 : l];
        bad[3] += o[3] != in[l ^ 7];
        bad[4] += o[4] != in[l % 8 + 2 < 8 ? l + 2 : l];
        if (l < 8) bad[5] += o[5] != in[l + 8];
        else if (l < 16) bad[5] += o[5] != static_cast<long long>(0x7ff7badb7fbadbadull);  // the double poison (README)
    }
    const char* names[6] = {"double __shfl_sync", "double __shfl_up_sync", "double __shfl_down_sync",
                            "double __shfl_xor_sync", "double __shfl_down_sync width 8",
                            "double __shfl_sync partial mask (poison bits outside it)"};
    for (int k = 0; k < 6; ++k) CHECK_EQ(bad[k], 0, std::string(names[k]) + ": bit-exact");
}

// Ballots and votes; partial masks in divergent code (two half-warp groups at once).
__global__ void ballot_kernel(unsigned* out) {
    const int t = threadIdx.x;
    const int lane = t % 32;
    unsigned* o = out + t * 8;
    o[0] = __ballot_sync(0xffffffffu, lane % 3 == 0);
    o[1] = __any_sync(0xffffffffu, lane == 17);
    o[2] = __all_sync(0xffffffffu, lane < 32);
    o[3] = __all_sync(0xffffffffu, lane < 31);
    if (lane < 16) {
        o[4] = __ballot_sync(0x0000ffffu, lane % 2 == 0);
        o[5] = __all_sync(0x0000ffffu, lane < 16);
    } else {
        o[4] = __ballot_sync(0xffff0000u, lane >= 24);
        o[5] = __any_sync(0xffff0000u, lane == 3);
    }
    if (lane < 10) o[6] = __ballot_sync(0x000003ffu, 1);  // only lanes 0..9 take part
    else o[6] = 0;
    o[7] = __activemask();
}

static void test_ballots() {
    jt_test::DeviceBuffer<unsigned> out(64 * 8);
    LAUNCH(ballot_kernel, 1, 64, 0, 0)(out.get());
    CHECK_CUDA(cudaGetLastError());
    auto h = out.download();
    unsigned mod3 = 0;
    for (int l = 0; l < 32; l += 3) mod3 |= 1u << l;
    long bad[8] = {0};
    for (int t = 0; t < 64; ++t) {
        const unsigned* o = &h[t * 8];
        const int lane = t % 32;
        bad[0] += o[0] != mod3;
        bad[1] += o[1] != 1;
        bad[2] += o[2] != 1;
        bad[3] += o[3] != 0;
        bad[4] += o[4] != (lane < 16 ? 0x00005555u : 0xff000000u);
        bad[5] += o[5] != (lane < 16 ? 1u : 0u);
        bad[6] += o[6] != (lane < 10 ? 0x3ffu : 0u);
        bad[7] += !(o[7] >> lane & 1u);  // not exact: emu lanes are never converged; a lane sees itself
    }
    const char* names[8] = {"ballot", "any", "all (true)", "all (false)", "ballot with half-warp masks",
                            "votes with half-warp masks", "ballot of lanes 0..9", "activemask includes the own lane"};
    for (int k = 0; k < 8; ++k) CHECK_EQ(bad[k], 0, names[k]);
}

// Partial warps (block of 48: the second warp has 16 lanes) and lanes that exited.
__global__ void partial_warp_kernel(float* out) {
    const int t = threadIdx.x;
    float v = static_cast<float>(t + 1);
    // the 16-lane warp reduces with offsets below 16
    for (int off = 8; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    out[t] = v;
    // a lane that does not exist returns poison
    out[64 + t] = __shfl_xor_sync(0xffffffffu, static_cast<float>(t), 16);
}

__global__ void exited_lanes_kernel(float* out) {
    const int lane = threadIdx.x % 32;
    if (lane >= 16) return;  // lanes 16..31 exit: the others' full-mask shuffles wait only for live lanes
    out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<float>(lane), lane + 16);  // exited lane: poison
    out[64 + threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<float>(lane), 15 - lane);
}

__global__ void outside_mask_kernel(float* out) {
    const int lane = threadIdx.x % 32;
    float r = -1;
    if (lane < 16) r = __shfl_sync(0x0000ffffu, 1.0f, lane + 8);  // lanes 16..23 are not in the mask: poison
    out[threadIdx.x] = r;
}

__global__ void mask_without_self(float* out) {
    out[threadIdx.x] = __shfl_sync(0x1u, 1.0f, 0);  // lanes other than 0 pass a mask without their lane
}

static void test_partial_and_poison() {
    jt_test::DeviceBuffer<float> out(128);
    LAUNCH(partial_warp_kernel, 1, 48, 0, 0)(out.get());
    CHECK_CUDA(cudaGetLastError());
    auto h = out.download();
    long bad = 0, poison = 0;
    for (int t = 32; t < 48; ++t) bad += h[t] != 33.0f + 34.0f + 35.0f + 36.0f + 37.0f + 38.0f + 39.0f + 40.0f + 41.0f +
                                                    42.0f + 43.0f + 44.0f + 45.0f + 46.0f + 47.0f + 48.0f;
    for (int t = 32; t < 48; ++t) poison += isnan(h[64 + t]);
    for (int t = 0; t < 32; ++t) bad += h[64 + t] != static_cast<float>(t ^ 16);
    CHECK_EQ(bad, 0, "reductions and shuffles in a partial warp");
    CHECK_EQ(poison, 16, "reading a lane that does not exist gives poison (NaN)");

    jt_test::DeviceBuffer<float> out2(128);
    out2.fill_bytes(0);
    LAUNCH(exited_lanes_kernel, 1, 64, 0, 0)(out2.get());
    CHECK_CUDA(cudaGetLastError());
    h = out2.download();
    bad = poison = 0;
    for (int t = 0; t < 64; ++t) {
        if (t % 32 >= 16) continue;
        poison += isnan(h[t]);
        bad += h[64 + t] != static_cast<float>(15 - t % 32);
    }
    CHECK_EQ(poison, 32, "reading an exited lane gives poison");
    CHECK_EQ(bad, 0, "full-mask shuffles among the live lanes after half the warp exited");

    LAUNCH(outside_mask_kernel, 1, 32, 0, 0)(out2.get());
    CHECK_CUDA(cudaGetLastError());
    h = out2.download();
    bad = poison = 0;
    for (int l = 0; l < 16; ++l) {
        if (l + 8 < 16) bad += h[l] != 1.0f;
        else poison += isnan(h[l]);
    }
    CHECK_EQ(bad, 0, "shuffle inside the mask");
    CHECK_EQ(poison, 8, "reading a lane outside the mask gives poison");

    LAUNCH(mask_without_self, 1, 32, 0, 0)(out2.get());
    CHECK_STATUS(cudaGetLastError(), cudaErrorLaunchFailure);
    CHECK(strstr(jt_emu_last_error_detail(), "excludes its own lane") != nullptr, "mask without the own lane is reported");
}

// ---- atomics across blocks ----------------------------------------------------------------------

__global__ void atomics_kernel(int* ic, unsigned* uc, unsigned long long* ullc, float* fc, double* dc, int* imax,
                               int* imin, unsigned* hist, int* cas_counter, int* exch) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    atomicAdd(ic, 1);
    atomicAdd(uc, 2u);
    atomicAdd(ullc, 1ull << 33);
    atomicAdd(fc, 1.0f);
    atomicAdd(dc, 0.5);
    atomicMax(imax, (g * 7919) % 100003);
    atomicMin(imin, -((g * 7919) % 100003));
    atomicAdd(&hist[g % 10], 1u);
    int old = *cas_counter, assumed;
    do {
        assumed = old;
        old = atomicCAS(cas_counter, assumed, assumed + 3);
    } while (old != assumed);
    atomicExch(&exch[g % 4], g);
}

static void test_atomics() {
    const int blocks = 97, threads = 128, total = blocks * threads;
    jt_test::DeviceBuffer<int> ic(1), imax(1), imin(1), cas(1), exch(4);
    jt_test::DeviceBuffer<unsigned> uc(1), hist(10);
    jt_test::DeviceBuffer<unsigned long long> ull(1);
    jt_test::DeviceBuffer<float> fc(1);
    jt_test::DeviceBuffer<double> dc(1);
    for (auto* b : {&ic, &imax, &imin, &cas, &exch}) b->fill_bytes(0);
    uc.fill_bytes(0);
    hist.fill_bytes(0);
    ull.fill_bytes(0);
    fc.fill_bytes(0);
    dc.fill_bytes(0);
    exch.upload({-1, -1, -1, -1});
    LAUNCH(atomics_kernel, blocks, threads, 0, 0)(ic.get(), uc.get(), ull.get(), fc.get(), dc.get(), imax.get(), imin.get(),
                                                   hist.get(), cas.get(), exch.get());
    CHECK_CUDA(cudaGetLastError());
    int want_max = 0;
    for (int g = 0; g < total; ++g) want_max = std::max(want_max, (g * 7919) % 100003);
    CHECK_EQ(ic.download()[0], total, "atomicAdd int");
    CHECK_EQ(uc.download()[0], 2u * total, "atomicAdd unsigned");
    CHECK(ull.download()[0] == (1ull << 33) * total, "atomicAdd unsigned long long");
    CHECK_CLOSE(fc.download()[0], total, 0, 0, "atomicAdd float of ones");  // integers < 2^24: exact
    CHECK_CLOSE(dc.download()[0], total * 0.5, 0, 0, "atomicAdd double of halves");  // exact
    CHECK_EQ(imax.download()[0], want_max, "atomicMax");
    CHECK_EQ(imin.download()[0], -want_max, "atomicMin");
    auto h = hist.download();
    long bad = 0;
    for (int k = 0; k < 10; ++k) bad += h[k] != static_cast<unsigned>(total / 10 + (k < total % 10));
    CHECK_EQ(bad, 0, "atomicAdd histogram");
    CHECK_EQ(cas.download()[0], 3 * total, "atomicCAS loop");
    auto e = exch.download();
    bad = 0;
    for (int k = 0; k < 4; ++k) bad += e[k] < 0 || e[k] % 4 != k;
    CHECK_EQ(bad, 0, "atomicExch");
}

int main() {
    test_shuffles(dim3(32));
    test_shuffles(dim3(256));
    test_shuffles(dim3(8, 4, 2));  // warps over a 3-D block follow the linear thread index
    test_shuffle_types();
    test_double_shuffles();
    test_ballots();
    test_partial_and_poison();
    test_atomics();
    return jt_test::finish("test_emu_warp");
}
