// The device-side error record: how kernels that check tensor VALUES (class labels, maxout pieces, pooling
// indices) report a bad value without a host read. Reading values on the host would cost a sync per op, so
// the kernel records the first bad value here with atomics and writes a defined result (NaN or 0) instead of
// reading out of bounds; the host reads the record at the syncs it makes anyway (GpuBackend: synchronize()
// and every device-to-host copy) and raises the error there.
//
// Layout: four 64-bit words, all zero = no error (so a memset to 0 resets it), 32 bytes, 8-byte aligned:
//   [0] tag    (call sequence number << 8) | op code of the first failing launch. The sequence number makes
//              every launch distinct, so "first call wins" also holds between two calls of the same op with
//              different sizes (their indices must not be mixed); 0 = no error.
//   [1] first  the smallest bad index of that launch and its value, packed so one atomicMax keeps them paired:
//              bits 63..32 = 0xFFFFFFFF - index (a smaller index is a larger key; index saturated at
//              0xFFFFFFFE, exact for every tensor the Java side can hold), bits 31..0 = the bad value clamped
//              to int32 (two's complement).
//   [2] count  bad values that launch saw (each bad label/piece/index once).
//   [3] limit  the valid range of that launch, [0, limit) (C, pieces, or the plane size H*W).
// The op codes below are mirrored by dev.jtrain.backend.gpu.DeviceErrors (Java), which names the Java op.
#pragma once

#include <stdint.h>

#include "common.cuh"

#include <atomic>

struct JtDeviceError {
    unsigned long long tag;
    unsigned long long first;
    unsigned long long count;
    unsigned long long limit;
};

// Op codes (low 8 bits of tag); never 0.
enum JtDeviceErrorOp {
    JT_DEVERR_NONE = 0,
    JT_DEVERR_SOFTMAX_XENT_FORWARD_LABEL = 1,   // jt_softmax_xent_forward: labels[row] outside [0, c)
    JT_DEVERR_SOFTMAX_XENT_BACKWARD_LABEL = 2,  // jt_softmax_xent_backward: labels[row] outside [0, c)
    JT_DEVERR_MAXOUT_BACKWARD_PIECE = 3,        // jt_activations_maxout_backward: piece[i] outside [0, pieces)
    JT_DEVERR_POOL_MAX_BACKWARD_INDEX = 4,      // jt_pool_max_backward: indices[o] outside [0, h * w)
    JT_DEVERR_POOL_MAX_SCATTER_INDEX = 5,       // jt_pool_max_backward_scatter: indices[o] outside [0, h * w)
    JT_DEVERR_POOL_FRACTIONAL_BACKWARD_INDEX = 6,  // jt_pool_fractional_max_backward: indices[o] not in o's window
};

#define JT_DEVERR_INDEX_MAX 0xFFFFFFFEull

// The tag of one checked launch: a process-wide sequence number (host side, one per launch that passes a
// record) and the op code. Called by launchers only when their err pointer is not null. inline (not static):
// one counter for the whole library.
inline unsigned long long jt_device_error_tag(int op) {
    static std::atomic<unsigned long long> sequence{0};
    const unsigned long long seq = (sequence.fetch_add(1, std::memory_order_relaxed) + 1) & 0x00FFFFFFFFFFFFFFull;
    return (seq << 8) | (unsigned long long)(op & 0xFF);
}

// The packed (index, value) key of word [1] (see the layout).
JT_HD unsigned long long jt_device_error_key(int64_t index, int64_t value) {
    const unsigned long long i = index < 0 ? 0ull : ((unsigned long long)index > JT_DEVERR_INDEX_MAX
                                                         ? JT_DEVERR_INDEX_MAX : (unsigned long long)index);
    const int64_t v = value < INT32_MIN ? INT32_MIN : (value > INT32_MAX ? INT32_MAX : value);
    return ((0xFFFFFFFFull - i) << 32) | (unsigned long long)(uint32_t)(int32_t)v;
}

// Host side: unpacks word [1] (tests; the Java side does the same).
static inline int64_t jt_device_error_index(unsigned long long first) {
    return (int64_t)(0xFFFFFFFFull - (first >> 32));
}
static inline int32_t jt_device_error_value(unsigned long long first) {
    return (int32_t)(uint32_t)(first & 0xFFFFFFFFull);
}

// Device code only: nvcc, or the emulation (host .cpp files of the CUDA library, e.g. JNI, see only the layout).
#if defined(__CUDACC__) || defined(JT_EMU)
// Records a bad value of the launch `tag` at `index`. Costs nothing on good data (callers reach it only for a
// bad value). The first launch to fail owns the record (atomicCAS on the tag); later launches leave it alone
// until the host resets it. Within the owning launch, atomicMax on the packed key keeps the smallest index
// with its own value, whatever order the threads run in. No thread waits for another.
__device__ __forceinline__ void jt_device_error_record(JtDeviceError* err, unsigned long long tag, int64_t index,
                                                       int64_t value, int64_t limit) {
    if (err == nullptr) return;
    const unsigned long long prev = atomicCAS(&err->tag, 0ull, tag);
    if (prev != 0ull && prev != tag) return;  // an earlier launch failed first
    if (prev == 0ull) atomicExch(&err->limit, (unsigned long long)limit);
    atomicAdd(&err->count, 1ull);
    atomicMax(&err->first, jt_device_error_key(index, value));
}
#endif
