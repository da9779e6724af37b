// Internal to native/emu: a block as a worker runs it (fibers, warps, barrier state), shared by the
// runtime (emu_runtime.cpp) and the checker (emu_check.cpp). Not for kernels or JNI.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cuda_emu.h"

namespace jt_emu {

constexpr int kMaxThreads = 1024;
constexpr int kRing = 1024;  // every fiber is in the ready ring at most once
constexpr size_t kPage = 4096;
// Every worker reserves this many fiber stack slots (one more than a block can use, for alignment).
constexpr size_t kRegionSlots = kMaxThreads + 1;

enum State : uint8_t { kReady, kAtBarrier, kAtWarp, kDone };

struct Block;
struct CheckState;   // emu_check.cpp: the checker's per-worker shadow state
struct LaunchCheck;  // emu_check.cpp: what a checked launch knows (allocations, parameter block)

// Lives at the top of its stack slot (the last kContextBytes); FiberIds first, so ids() finds it.
struct Fiber {
    FiberIds ids;
    Block* blk;
    void* sp;
    void* fake_stack;  // ASan's fake stack of this fiber while it is switched out
    uint32_t index;    // linear thread index in the block
    uint32_t lane;
    uint32_t warp;
    uint8_t state;
};
static_assert(sizeof(Fiber) <= kContextBytes, "Fiber must fit the context area of its slot");
static_assert(offsetof(Fiber, ids) == 0, "ids() reads FiberIds at the context address");

struct Warp {
    uint32_t live;      // lanes that exist and have not exited
    uint32_t arrived;   // lanes waiting in the current exchange
    uint32_t required;  // union of the arrived lanes' masks
    uint8_t op[32];
    uint32_t mask[32];
    int32_t src[32];
    uint64_t value[32];
    uint64_t result[32];
};

struct Job;

struct Block {
    // launch
    Job* job;
    const LaunchConfig* cfg;
    void (*run)(const void*);
    const void* payload;
    uint3 idx;
    uint64_t linear;
    int nthreads;
    int order;
    uint32_t phase;
    Fiber* fibers[kMaxThreads];
    // ready ring
    uint32_t ring[kRing];
    uint32_t head;
    uint32_t count;
    // __syncthreads
    int arrived;
    int exited;
    const char* site;
    const char* last_barrier;  // site of the barrier that began this phase (nullptr: the block's start)
    int bar_count;
    int bar_result;
    // warps
    Warp warps[kMaxThreads / 32];
    // the worker side
    void* sched_sp;
    void* dead_sp;  // where a dying fiber's stack pointer goes
    void* sched_fake_stack;
    const void* sched_stack_bottom;
    size_t sched_stack_size;
    void* smem;
    // checking (JTRAIN_EMU_RACECHECK): nullptr when this launch is not checked
    CheckState* chk;
    const LaunchCheck* launch_check;
    // outcome
    bool failed;
    cudaError_t error;
    char msg[900];
};

// Aborts the block with `err` (the launch's status) and a message after the kernel/block prefix;
// the fibers are abandoned. Runs on the failing fiber.
[[noreturn]] void fail_block(Block* b, Fiber* f, cudaError_t err, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// "(x,y,z)" of thread `index` of the block.
void describe_thread(const Block* b, uint32_t index, char* out, size_t cap);
// "path/to/file.cu:42" -> "file.cu:42".
const char* short_site(const char* site);

// ---- the checker's hooks into the runtime (emu_check.cpp) ---------------------------------------

// The fiber stack region [base, base + kRegionSlots * kSlotBytes) of a worker: accesses from code
// running there are kernel accesses. Called once per worker; safe against concurrent readers.
void check_register_fiber_region(const void* base);
// Whether launches made now are checked (JT_EMU_CHECK_* bits; 0 when the kernels are not instrumented).
int check_bits_for_launch();
// A checked launch's own record: the live allocations at its start, its parameter block. nullptr when
// it cannot be made (no memory): the launch then runs unchecked.
LaunchCheck* check_launch_begin(int bits, const void* payload, size_t payload_bytes);
void check_launch_end(LaunchCheck* lc);
// A worker's checker state (lazily made); nullptr when it cannot be allocated (the block runs unchecked).
CheckState* check_worker_state(CheckState** slot, size_t smem_bytes);
// A block starts / a __syncthreads phase ends / lanes `lanes` of warp `warp` completed a __syncwarp.
void check_block_start(Block* b);
void check_barrier(Block* b);
void check_warp_sync(Block* b, uint32_t warp, uint32_t lanes);

}  // namespace jt_emu
