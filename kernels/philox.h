// Philox4x32-10 (Salmon et al., SC'11; Random123) and the element mapping specified in
// docs/architecture.md (section 6, "Random numbers"), shared by device kernels and host code (tests, references).
// The same (seed, offset, i) gives the same bits as dev.jtrain.random.Philox on the CPU.
//
// Element i of one generator call (seed, offset): key = (low32(seed), high32(seed)), counter =
// (low32(i/4), high32(i/4), low32(offset), high32(offset)); word = output[i mod 4];
// u = (word >> 8) * 2^-24, a float in [0, 1) with 24 random bits (exact in float).
#pragma once

#include "common.cuh"

#include <math.h>

// Double multiply and add without FMA contraction, so device results round like Java's (x * y) + z.
#ifdef __CUDA_ARCH__
#define JT_DMUL(a, b) __dmul_rn((a), (b))
#define JT_DADD(a, b) __dadd_rn((a), (b))
#else
#define JT_DMUL(a, b) ((a) * (b))
#define JT_DADD(a, b) ((a) + (b))
#endif

#define JT_PHILOX_M0 0xD2511F53u
#define JT_PHILOX_M1 0xCD9E8D57u
#define JT_PHILOX_W0 0x9E3779B9u
#define JT_PHILOX_W1 0xBB67AE85u

struct jt_philox_out {
    uint32_t w[4];
};

// High 32 bits of the 64-bit product a*b (the device has __umulhi; the host uses 64-bit math).
JT_HD uint32_t jt_mulhi32(uint32_t a, uint32_t b) {
#ifdef __CUDA_ARCH__
    return __umulhi(a, b);
#else
    return (uint32_t)(((uint64_t)a * (uint64_t)b) >> 32);
#endif
}

// Philox4x32-10 of counter (c0, c1, c2, c3) and key (k0, k1): ten rounds, key bumped between rounds.
JT_HD jt_philox_out jt_philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                     uint32_t k1) {
    for (int r = 0; r < 10; ++r) {
        if (r > 0) {
            k0 += JT_PHILOX_W0;
            k1 += JT_PHILOX_W1;
        }
        const uint32_t hi0 = jt_mulhi32(JT_PHILOX_M0, c0);
        const uint32_t lo0 = JT_PHILOX_M0 * c0;
        const uint32_t hi1 = jt_mulhi32(JT_PHILOX_M1, c2);
        const uint32_t lo1 = JT_PHILOX_M1 * c2;
        const uint32_t n0 = hi1 ^ c1 ^ k0;
        const uint32_t n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
    }
    jt_philox_out o;
    o.w[0] = c0;
    o.w[1] = c1;
    o.w[2] = c2;
    o.w[3] = c3;
    return o;
}

// The four words of block b (elements 4b .. 4b+3) of the generator call (seed, offset).
JT_HD jt_philox_out jt_philox_block(uint64_t seed, uint64_t offset, uint64_t block) {
    return jt_philox4x32_10((uint32_t)block, (uint32_t)(block >> 32), (uint32_t)offset, (uint32_t)(offset >> 32),
                            (uint32_t)seed, (uint32_t)(seed >> 32));
}

// A word's uniform: (word >> 8) * 2^-24, in [0, 1) (exact: 24 bits fit a float's significand).
JT_HD float jt_philox_to_uniform(uint32_t word) { return (float)(word >> 8) * 5.9604644775390625e-8f; }

// The uniform u of element i of the call (seed, offset), as dropout uses it.
JT_HD float jt_philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
    return jt_philox_to_uniform(jt_philox_block(seed, offset, i >> 2).w[i & 3]);
}

// The largest float below a finite float h (Java's Math.nextDown), from its bits.
JT_HD float jt_next_down(float h) {
#ifdef __CUDA_ARCH__
    const uint32_t b = __float_as_uint(h);
#else
    uint32_t b;
    __builtin_memcpy(&b, &h, sizeof b);
#endif
    uint32_t r;
    if ((b & 0x7FFFFFFFu) == 0u) {
        r = 0x80000001u;  // +0 or -0: the smallest negative subnormal
    } else if (b & 0x80000000u) {
        r = b + 1u;  // negative: larger magnitude
    } else {
        r = b - 1u;  // positive: smaller magnitude
    }
#ifdef __CUDA_ARCH__
    return __uint_as_float(r);
#else
    float f;
    __builtin_memcpy(&f, &r, sizeof f);
    return f;
#endif
}

// lo + (hi - lo) * u in double, rounded to float, and kept below hi (Philox.uniformIn on the CPU).
JT_HD float jt_philox_uniform_in(float u, float lo, float hi) {
    float v = (float)JT_DADD((double)lo, JT_DMUL((double)hi - (double)lo, (double)u));
    if (v >= hi && lo < hi) v = jt_next_down(hi);
    return v;
}

// Box-Muller of the uniforms ua, ub of elements 2j and 2j+1 (Philox.normal on the CPU), in double:
// u1 = 1 - ua in (0, 1], r = sqrt(-2 ln u1), theta = 2 pi ub; r cos(theta) for the first element of
// the pair, r sin(theta) for the second.
JT_HD double jt_philox_normal(float ua, float ub, bool second) {
    const double u1 = 1.0 - (double)ua;
    const double r = sqrt(-2.0 * log(u1));
    const double theta = 6.283185307179586 * (double)ub;  // 2 * Math.PI, exactly as Java rounds it
    return second ? JT_DMUL(r, sin(theta)) : JT_DMUL(r, cos(theta));
}
