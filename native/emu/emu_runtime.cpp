// The emulated execution model: a pool of worker threads runs the blocks of a launch; a worker
// runs one block at a time as blockDim.x*y*z fibers that switch cooperatively (native/emu/README.md).
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <thread>

#include "emu_block.h"
#include "emu_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define JT_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JT_EMU_ASAN 1
#endif
#endif
#ifndef JT_EMU_ASAN
#define JT_EMU_ASAN 0
#endif
#if JT_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

extern "C" {
void jt_emu_switch(void** save_sp, void* next_sp) __attribute__((visibility("hidden")));
void jt_emu_fiber_start() __attribute__((visibility("hidden")));
}

namespace jt_emu {

// "path/to/file.cu:42" -> "file.cu:42" for messages.
const char* short_site(const char* site) {
    if (!site) return "?";
    const char* slash = strrchr(site, '/');
    return slash ? slash + 1 : site;
}

void describe_thread(const Block* b, uint32_t index, char* out, size_t cap) {
    const Fiber* f = b->fibers[index];
    snprintf(out, cap, "(%u,%u,%u)", f->ids.thread_idx.x, f->ids.thread_idx.y, f->ids.thread_idx.z);
}

namespace {

constexpr uint64_t kPoison64 = 0x7ff7badb7fbadbadull;  // a NaN as double, and as float in the low half
constexpr uint64_t kPoison32 = 0x7fbadbadull;
constexpr int kWorkerSpinUs = 30;    // a worker polls for new launches this long before parking
constexpr int kLauncherSpinUs = 10;  // the launching thread polls for completion this long

// ---- fiber stacks: one reserved region per worker, slots aligned to their size ------------------

struct Stacks {
    char* base = nullptr;
    int ready = 0;

    bool reserve() {
        size_t bytes = kRegionSlots * kSlotBytes;
        void* p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        uintptr_t a = (reinterpret_cast<uintptr_t>(p) + kSlotBytes - 1) & ~(kSlotBytes - 1);
        base = reinterpret_cast<char*>(a);
        check_register_fiber_region(base);
        return true;
    }
    // Makes slots [0, n) usable: everything but the lowest page of each slot (the guard page).
    bool ensure(int n) {
        while (ready < n) {
            char* slot = base + size_t(ready) * kSlotBytes;
            if (mprotect(slot + kPage, kSlotBytes - kPage, PROT_READ | PROT_WRITE) != 0) return false;
            ++ready;
        }
        return true;
    }
    char* slot(int i) const { return base + size_t(i) * kSlotBytes; }
};

// ---- worker-side state --------------------------------------------------------------------------

struct Worker {
    int id = 0;
    Stacks stacks;
    Block* block = nullptr;
    void* smem = nullptr;
    size_t smem_capacity = 0;
    bool dirty_stacks = false;  // an aborted block left frames (and ASan poison) on the stacks
    CheckState* chk = nullptr;  // the checker's shadow state, made at the first checked launch
};

// Marks the pool's threads (a pthread key, not thread_local: see emu_api.cpp's ThreadState).
pthread_key_t g_worker_key;
pthread_once_t g_worker_once = PTHREAD_ONCE_INIT;
void make_worker_key() { pthread_key_create(&g_worker_key, nullptr); }
bool on_worker_thread() {
    pthread_once(&g_worker_once, make_worker_key);
    return pthread_getspecific(g_worker_key) != nullptr;
}

}  // namespace

struct Job {
    LaunchConfig cfg;
    void (*run)(const void*);
    const void* payload;
    uint64_t total;
    int order;
    std::atomic<uint64_t> next{0};
    std::atomic<uint64_t> finished{0};
    std::atomic<bool> failed{false};
    std::atomic<uint32_t> done{0};
    LaunchCheck* check = nullptr;  // JTRAIN_EMU_RACECHECK: set when this launch is checked
    std::mutex err_mu;
    cudaError_t error = cudaErrorLaunchFailure;  // the launch's status once `failed` (under err_mu)
    char detail[1024];
};

namespace {

// Fails the launch with `err` and a detail, unless it already failed (the first failure wins).
__attribute__((format(printf, 3, 4))) void fail_job(Job& j, cudaError_t err, const char* fmt, ...) {
    std::lock_guard<std::mutex> lock(j.err_mu);
    if (j.failed.load(std::memory_order_relaxed)) return;
    j.error = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j.detail, sizeof j.detail, fmt, ap);
    va_end(ap);
    j.failed.store(true, std::memory_order_release);
}

// jt_emu_test_inject_failures: simulated refusals of the emulator's own resources (tests only).
std::atomic<int> g_inject{0};
bool injected(int bit) { return (g_inject.load(std::memory_order_relaxed) & bit) != 0; }

// ---- small helpers ------------------------------------------------------------------------------

inline Fiber* self() { return const_cast<Fiber*>(reinterpret_cast<const Fiber*>(ids())); }

inline void ring_push_back(Block* b, uint32_t i) {
    b->ring[(b->head + b->count) & (kRing - 1)] = i;
    ++b->count;
}
inline void ring_push_front(Block* b, uint32_t i) {
    b->head = (b->head - 1) & (kRing - 1);
    b->ring[b->head] = i;
    ++b->count;
}
inline uint32_t ring_pop(Block* b) {
    uint32_t i = b->ring[b->head];
    b->head = (b->head + 1) & (kRing - 1);
    --b->count;
    return i;
}

inline const void* stack_bottom(const Fiber* f) {
    return reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(f) & ~(kSlotBytes - 1)) + kPage;
}
constexpr size_t kStackSize = kSlotBytes - kPage - kContextBytes;

// Switches from the running fiber (or the worker when from == nullptr) to `to`.
// dying: the running fiber never resumes (its ASan fake stack is released).
inline void switch_to(Block* b, Fiber* from, Fiber* to, bool dying = false) {
    void** save = from ? &from->sp : &b->sched_sp;
#if JT_EMU_ASAN
    void** fake = dying ? nullptr : (from ? &from->fake_stack : &b->sched_fake_stack);
    if (to)
        __sanitizer_start_switch_fiber(fake, stack_bottom(to), kStackSize);
    else
        __sanitizer_start_switch_fiber(fake, b->sched_stack_bottom, b->sched_stack_size);
#else
    (void)dying;
#endif
    jt_emu_switch(save, to ? to->sp : b->sched_sp);
#if JT_EMU_ASAN
    __sanitizer_finish_switch_fiber(from ? from->fake_stack : b->sched_fake_stack, nullptr, nullptr);
#endif
}

[[noreturn]] inline void switch_to_worker(Block* b, Fiber* from, bool dying) {
#if JT_EMU_ASAN
    __sanitizer_start_switch_fiber(dying ? nullptr : &from->fake_stack, b->sched_stack_bottom, b->sched_stack_size);
#endif
    // Not a local: under ASan a dying fiber's frames (fake stack) are released by the call above.
    jt_emu_switch(dying ? &b->dead_sp : &from->sp, b->sched_sp);
    __builtin_unreachable();
}

const char* order_note(int order) {
    return order == 1 ? " [fibers in reversed order]" : order == 2 ? " [fibers in rotated order]" : "";
}

// Position -> thread index for the current phase of the block.
inline uint32_t phase_thread(const Block* b, uint32_t pos) {
    const uint32_t n = static_cast<uint32_t>(b->nthreads);
    switch (b->order) {
        case 1: return n - 1 - pos;
        case 2: {
            uint32_t h = static_cast<uint32_t>(b->linear * 0x9e3779b9u) ^ (b->phase * 0x85ebca6bu);
            h ^= h >> 15;
            h *= 0x2c1b3c6du;
            h ^= h >> 12;
            return (pos + h % n) % n;
        }
        default: return pos;
    }
}

// Aborts the block: records the status and message and returns to the worker; the fibers are abandoned.
[[noreturn]] void vfail(Block* b, Fiber* f, cudaError_t err, const char* fmt, va_list ap) {
    const LaunchConfig& c = *b->cfg;
    int n = snprintf(b->msg, sizeof b->msg, "kernel %s<<<(%u,%u,%u), (%u,%u,%u), %zu>>> block (%u,%u,%u): ",
                     c.name ? c.name : "?", c.grid.x, c.grid.y, c.grid.z, c.block.x, c.block.y, c.block.z, c.smem,
                     b->idx.x, b->idx.y, b->idx.z);
    if (n < 0) n = 0;
    if (static_cast<size_t>(n) < sizeof b->msg) vsnprintf(b->msg + n, sizeof b->msg - n, fmt, ap);
    const size_t used = strlen(b->msg);
    snprintf(b->msg + used, sizeof b->msg - used, "%s", order_note(b->order));
    b->failed = true;
    b->error = err;
    switch_to_worker(b, f, true);
}

[[noreturn]] __attribute__((format(printf, 3, 4))) void fail(Block* b, Fiber* f, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(b, f, cudaErrorLaunchFailure, fmt, ap);
}

// No fiber can run: explain who waits for what, then abort.
[[noreturn]] void deadlock(Block* b, Fiber* f) {
    char text[600];
    size_t len = 0;
    auto add = [&](const char* fmt, auto... args) {
        if (len < sizeof text) {
            int k = snprintf(text + len, sizeof text - len, fmt, args...);
            if (k > 0) len += static_cast<size_t>(k);
        }
    };
    if (b->arrived > 0) add("%d thread(s) wait at __syncthreads (%s)", b->arrived, short_site(b->site));
    const int nwarps = (b->nthreads + 31) / 32;
    for (int w = 0; w < nwarps; ++w) {
        const Warp& wp = b->warps[w];
        if (wp.arrived)
            add("%swarp %d: lanes 0x%08x wait in a warp operation for lanes 0x%08x", len ? "; " : "", w, wp.arrived,
                wp.required & wp.live & ~wp.arrived);
    }
    if (b->exited > 0) add("%s%d thread(s) exited", len ? "; " : "", b->exited);
    fail(b, f, "deadlock, no thread can go on: %s", len ? text : "?");
}

// Runs the next ready fiber (returns at once when that is the caller itself).
inline void run_next(Block* b, Fiber* f) {
    if (b->count == 0) deadlock(b, f);
    Fiber* next = b->fibers[ring_pop(b)];
    if (next == f) return;
    switch_to(b, f, next);
}

// The exchange of warp w is complete: compute every participant's result, wake the others.
void complete_exchange(Block* b, Warp& w, const Fiber* runner) {
    const uint32_t part = w.arrived;
    for (uint32_t bits = part; bits; bits &= bits - 1) {
        const int l = __builtin_ctz(bits);
        uint64_t r = 0;
        switch (w.op[l]) {
            case kShfl: {
                const int s = w.src[l];
                if (s >= 0 && s < 32 && ((part & w.mask[l]) >> s & 1u))
                    r = w.value[s];
                else
                    r = kPoison64;  // a lane that did not take part: undefined on a GPU
                break;
            }
            case kBallot: {
                uint32_t v = 0;
                for (uint32_t m = part & w.mask[l]; m; m &= m - 1) {
                    const int j = __builtin_ctz(m);
                    if (w.op[j] == kBallot && w.value[j]) v |= 1u << j;
                }
                r = v;
                break;
            }
            default: break;
        }
        w.result[l] = r;
    }
    if (b->chk) {
        uint32_t synced = 0;  // __syncwarp orders the memory accesses of its lanes; shuffles and votes do not
        for (uint32_t bits = part; bits; bits &= bits - 1)
            if (w.op[__builtin_ctz(bits)] == kSync) synced |= bits & (~bits + 1);
        if (synced) check_warp_sync(b, static_cast<uint32_t>(&w - b->warps), synced);
    }
    w.arrived = 0;
    w.required = 0;
    // Wake the other participants at the front of the ring, in this phase's order.
    const uint32_t base = static_cast<uint32_t>(&w - b->warps) * 32;
    const uint32_t self_lane = runner ? runner->lane : 32;
    for (int k = 0; k < 32; ++k) {
        const int l = b->order == 1 ? k : 31 - k;  // pushed to the front: the last pushed runs first
        if (!(part >> l & 1u) || static_cast<uint32_t>(l) == self_lane) continue;
        b->fibers[base + l]->state = kReady;
        ring_push_front(b, base + l);
    }
}

// A fiber's kernel returned.
[[noreturn]] void fiber_exit(Fiber* f) {
    Block* b = f->blk;
    f->state = kDone;
    ++b->exited;
    if (b->arrived > 0) {
        char who[48];
        describe_thread(b, f->index, who, sizeof who);
        fail(b, f,
             "thread %s exited while %d thread(s) wait at __syncthreads (%s): a barrier reached by only part of "
             "the block",
             who, b->arrived, short_site(b->site));
    }
    Warp& w = b->warps[f->warp];
    w.live &= ~(1u << f->lane);
    if (w.arrived && (w.required & w.live & ~w.arrived) == 0) complete_exchange(b, w, nullptr);
    if (b->exited == b->nthreads) switch_to_worker(b, f, true);
    if (b->count == 0) deadlock(b, f);
    Fiber* next = b->fibers[ring_pop(b)];
    switch_to(b, f, next, true);
    __builtin_unreachable();
}

}  // namespace

void fail_block(Block* b, Fiber* f, cudaError_t err, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(b, f, err, fmt, ap);
}

// ---- device-side entry points ------------------------------------------------------------------

static inline void barrier(Fiber* f, Block* b, const char* site) {
    if (b->exited > 0) {
        char who[48];
        describe_thread(b, f->index, who, sizeof who);
        fail(b, f,
             "thread %s reached __syncthreads (%s) after %d thread(s) of the block exited: a barrier reached by "
             "only part of the block",
             who, short_site(site), b->exited);
    }
    if (b->arrived == 0) {
        b->site = site;
    } else if (site != b->site && strcmp(site, b->site) != 0) {
        char who[48];
        describe_thread(b, f->index, who, sizeof who);
        fail(b, f, "threads wait at different __syncthreads: %d at %s, thread %s at %s (divergent barrier)", b->arrived,
             short_site(b->site), who, short_site(site));
    }
    f->state = kAtBarrier;
    if (++b->arrived == b->nthreads) {
        // Everyone is here: a new phase starts, every thread ready in the phase's order.
        b->arrived = 0;
        b->bar_result = b->bar_count;
        b->bar_count = 0;
        b->last_barrier = site;
        ++b->phase;
        if (b->chk) check_barrier(b);
        for (int pos = 0; pos < b->nthreads; ++pos) {
            const uint32_t i = phase_thread(b, static_cast<uint32_t>(pos));
            b->fibers[i]->state = kReady;
            ring_push_back(b, i);
        }
    }
    run_next(b, f);
}

void syncthreads(const char* site) {
    Fiber* f = self();
    barrier(f, f->blk, site);
}

int syncthreads_count(const char* site, int pred) {
    Fiber* f = self();
    Block* b = f->blk;
    if (pred) ++b->bar_count;
    barrier(f, b, site);
    return b->bar_result;  // read before this fiber can reach the next barrier
}

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int src) {
    Fiber* f = self();
    Block* b = f->blk;
    Warp& w = b->warps[f->warp];
    const uint32_t lane = f->lane;
    const uint32_t bit = 1u << lane;
    if (!(mask & bit)) {
        char who[48];
        describe_thread(b, f->index, who, sizeof who);
        fail(b, f, "thread %s (lane %u) calls a warp operation with mask 0x%08x, which excludes its own lane", who, lane,
             mask);
    }
    w.op[lane] = static_cast<uint8_t>(op);
    w.mask[lane] = mask;
    w.value[lane] = value;
    w.src[lane] = src;
    w.arrived |= bit;
    w.required |= mask;
    if ((w.required & w.live & ~w.arrived) == 0) {
        complete_exchange(b, w, f);
    } else {
        f->state = kAtWarp;
        run_next(b, f);
    }
    return w.result[lane];
}

unsigned active_mask() {
    Fiber* f = self();
    return f->blk->warps[f->warp].live;
}

void* dynamic_smem() { return self()->blk->smem; }

}  // namespace jt_emu

extern "C" __attribute__((visibility("hidden"), noreturn)) void jt_emu_fiber_main(jt_emu::Fiber* f) {
#if JT_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    jt_emu::Block* b = f->blk;
    b->run(b->payload);
    jt_emu::fiber_exit(f);
}

namespace jt_emu {
namespace {

// ---- running one block on a worker --------------------------------------------------------------

bool prepare_block(Worker& wk, Job& j, uint64_t linear) {
    const LaunchConfig& c = j.cfg;
    const int n = static_cast<int>(c.block.x * c.block.y * c.block.z);
    if (!wk.stacks.ensure(n)) {
        fail_job(j, cudaErrorMemoryAllocation, "kernel %s: emu worker %d cannot map %d fiber stacks (mprotect: %s)",
                 c.name, wk.id, n, strerror(errno));
        return false;
    }
    if (c.smem > wk.smem_capacity) {
        free(wk.smem);
        size_t cap = (c.smem + 255) & ~size_t(255);
        wk.smem = aligned_alloc(256, cap);
        wk.smem_capacity = wk.smem ? cap : 0;
        if (!wk.smem) {
            fail_job(j, cudaErrorMemoryAllocation, "kernel %s: emu worker %d cannot allocate %zu bytes of shared memory",
                     c.name, wk.id, c.smem);
            return false;
        }
    }
    if (c.smem) memset(wk.smem, 0xff, c.smem);  // uninitialised shared memory reads as NaN / -1

    Block* b = wk.block;
    b->job = &j;
    b->cfg = &j.cfg;
    b->run = j.run;
    b->payload = j.payload;
    b->linear = linear;
    b->idx = uint3{static_cast<unsigned>(linear % c.grid.x), static_cast<unsigned>((linear / c.grid.x) % c.grid.y),
                   static_cast<unsigned>(linear / (uint64_t(c.grid.x) * c.grid.y))};
    b->nthreads = n;
    b->order = j.order;
    b->phase = 0;
    b->head = 0;
    b->count = 0;
    b->arrived = 0;
    b->exited = 0;
    b->site = nullptr;
    b->last_barrier = nullptr;
    b->bar_count = 0;
    b->bar_result = 0;
    b->smem = wk.smem;
    b->failed = false;
    b->error = cudaSuccess;
    b->launch_check = j.check;
    b->chk = nullptr;
    if (j.check && !(b->chk = check_worker_state(&wk.chk, wk.smem_capacity))) {
        fail_job(j, cudaErrorMemoryAllocation, "kernel %s: emu worker %d cannot allocate the checker's shadow memory",
                 c.name, wk.id);
        return false;
    }
    const int nwarps = (n + 31) / 32;
    for (int w = 0; w < nwarps; ++w) {
        const int lanes = std::min(32, n - w * 32);
        b->warps[w].live = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
        b->warps[w].arrived = 0;
        b->warps[w].required = 0;
    }
#if JT_EMU_ASAN
    if (wk.dirty_stacks) {
        for (int i = 0; i < wk.stacks.ready; ++i)
            __asan_unpoison_memory_region(wk.stacks.slot(i) + kPage, kSlotBytes - kPage);
        wk.dirty_stacks = false;
    }
#endif
    unsigned t = 0;
    for (unsigned z = 0; z < c.block.z; ++z)
        for (unsigned y = 0; y < c.block.y; ++y)
            for (unsigned x = 0; x < c.block.x; ++x, ++t) {
                char* slot = wk.stacks.slot(static_cast<int>(t));
                Fiber* f = reinterpret_cast<Fiber*>(slot + kSlotBytes - kContextBytes);
                f->ids.thread_idx = uint3{x, y, z};
                f->ids.block_idx = b->idx;
                f->ids.block_dim = c.block;
                f->ids.grid_dim = c.grid;
                f->blk = b;
                f->fake_stack = nullptr;
                f->index = t;
                f->lane = t & 31u;
                f->warp = t >> 5;
                f->state = kReady;
                // Stagger the stacks so that the fibers' hot frames do not all map to one cache set.
                uintptr_t top = reinterpret_cast<uintptr_t>(f) - (t % 64) * 64 - ((t / 64) & 1) * 4096;
                top &= ~uintptr_t(15);
                uintptr_t* sp = reinterpret_cast<uintptr_t*>(top - 16 - 56);
                sp[0] = 0;                                            // r15
                sp[1] = 0;                                            // r14
                sp[2] = 0;                                            // r13
                sp[3] = reinterpret_cast<uintptr_t>(f);               // r12: the fiber
                sp[4] = 0;                                            // rbx
                sp[5] = 0;                                            // rbp
                sp[6] = reinterpret_cast<uintptr_t>(&jt_emu_fiber_start);  // ret
                f->sp = sp;
                b->fibers[t] = f;
            }
    for (int pos = 0; pos < n; ++pos) ring_push_back(b, phase_thread(b, static_cast<uint32_t>(pos)));
    if (b->chk) check_block_start(b);
    return true;
}

void run_block(Worker& wk, Job& j, uint64_t linear) {
    if (!prepare_block(wk, j, linear)) return;
    Block* b = wk.block;
    Fiber* first = b->fibers[ring_pop(b)];
    switch_to(b, nullptr, first);
    // Back on the worker: the block finished or was aborted.
    if (b->failed) {
        wk.dirty_stacks = true;
        fail_job(j, b->error, "%s", b->msg);
    }
}

// ---- the worker pool ------------------------------------------------------------------------------

struct Pool {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::shared_ptr<Job>> jobs;
    std::atomic<int> queued{0};
    int sleepers = 0;
    std::mutex start_mu;          // starting the workers (start_workers)
    std::atomic<int> nworkers{0};  // workers started
};

int env_int(const char* name, int fallback) {
    const char* s = getenv(name);
    if (!s || !*s) return fallback;
    char* end = nullptr;
    long v = strtol(s, &end, 10);
    if (end == s) return fallback;
    return static_cast<int>(v);
}

int initial_order() {
    const char* s = getenv("JTRAIN_EMU_SHUFFLE");
    if (!s || !*s) return 0;
    if (!strcmp(s, "reverse") || !strcmp(s, "reversed")) return 1;
    if (!strcmp(s, "rotate") || !strcmp(s, "rotated")) return 2;
    int v = atoi(s);
    return v == 1 || v == 2 ? v : 0;
}

std::atomic<int> g_order{initial_order()};

// Spin-then-park: poll `done` for up to `budget` (pausing for the first microsecond, then giving the
// core away with sched_yield, so a spinning thread costs little on a loaded machine); the caller
// parks on a futex/condition variable afterwards.
template <class Pred>
void spin_until(Pred done, std::chrono::microseconds budget) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 64; ++i) {
        if (done()) return;
        __builtin_ia32_pause();
    }
    while (!done()) {
        if (std::chrono::steady_clock::now() - start > budget) return;
        sched_yield();
    }
}

// A worker's own resources, acquired when it first takes a launch rather than when it starts, so that a
// refusal (no memory for the block state, no address space for the stacks) fails that launch with
// cudaErrorMemoryAllocation instead of ending the process; the worker tries again at its next launch.
bool acquire_worker_state(Worker& wk, char* why, size_t cap) {
    if (!wk.block) {
        Block* b = injected(JT_EMU_FAIL_WORKER_STATE)
                       ? nullptr
                       : static_cast<Block*>(aligned_alloc(64, (sizeof(Block) + 63) & ~size_t(63)));
        if (!b) {
            snprintf(why, cap, "emu worker %d cannot allocate its block state (%zu bytes)", wk.id, sizeof(Block));
            return false;
        }
        memset(static_cast<void*>(b), 0, sizeof(Block));
#if JT_EMU_ASAN
        pthread_attr_t attr;
        void* addr = nullptr;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &addr, &size);
            pthread_attr_destroy(&attr);
        }
        b->sched_stack_bottom = addr;
        b->sched_stack_size = size;
#endif
        wk.block = b;
    }
    if (!wk.stacks.base && (injected(JT_EMU_FAIL_WORKER_STATE) || !wk.stacks.reserve())) {
        snprintf(why, cap, "emu worker %d cannot reserve %zu bytes of address space for its fiber stacks", wk.id,
                 kRegionSlots * kSlotBytes);
        return false;
    }
    return true;
}

void worker_main(Pool* pool, int id) {
    Worker wk;
    wk.id = id;
    pthread_once(&g_worker_once, make_worker_key);
    pthread_setspecific(g_worker_key, &wk);
    for (;;) {
        spin_until([&] { return pool->queued.load(std::memory_order_acquire) > 0; }, std::chrono::microseconds(kWorkerSpinUs));
        std::shared_ptr<Job> j;
        {
            std::unique_lock<std::mutex> lock(pool->mu);
            while (pool->jobs.empty()) {
                ++pool->sleepers;
                pool->cv.wait(lock);
                --pool->sleepers;
            }
            j = pool->jobs.front();
        }
        char why[200];
        if (!j->failed.load(std::memory_order_relaxed) && !acquire_worker_state(wk, why, sizeof why))
            fail_job(*j, cudaErrorMemoryAllocation, "kernel %s: %s", j->cfg.name ? j->cfg.name : "?", why);
        for (;;) {  // a failed launch's blocks are counted off without running
            const uint64_t i = j->next.fetch_add(1, std::memory_order_relaxed);
            if (i >= j->total) break;
            if (!j->failed.load(std::memory_order_relaxed)) run_block(wk, *j, i);
            if (j->finished.fetch_add(1, std::memory_order_acq_rel) + 1 == j->total) {
                j->done.store(1, std::memory_order_release);
                j->done.notify_all();
            }
        }
        {
            std::lock_guard<std::mutex> lock(pool->mu);
            auto it = std::find(pool->jobs.begin(), pool->jobs.end(), j);
            if (it != pool->jobs.end()) pool->jobs.erase(it);
            pool->queued.store(static_cast<int>(pool->jobs.size()), std::memory_order_release);
        }
    }
}

// The pool is created at the first use and never destroyed (the workers park forever and die with the
// process). Creating it may fail (no memory): then nullptr, and the next call tries again.
std::atomic<Pool*> g_pool{nullptr};
std::mutex g_pool_mu;
Pool* pool() {
    Pool* p = g_pool.load(std::memory_order_acquire);
    if (p) return p;
    std::lock_guard<std::mutex> lock(g_pool_mu);
    p = g_pool.load(std::memory_order_relaxed);
    if (!p) {
        try {
            p = new Pool();
        } catch (...) {
            return nullptr;
        }
        g_pool.store(p, std::memory_order_release);
    }
    return p;
}

int configured_workers() {
    int n = env_int("JTRAIN_EMU_WORKERS", 0);
    if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
    return std::min(n, 256);
}

// Starts the workers unless some run already. A system that refuses some of the threads leaves the pool
// with the ones that started (it runs on fewer workers, for good); one that refuses the first leaves
// none: false with the reason in `why`, and the next launch tries again.
bool start_workers(Pool* q, char* why, size_t cap) {
    if (q->nworkers.load(std::memory_order_acquire) > 0) return true;
    std::lock_guard<std::mutex> lock(q->start_mu);
    if (q->nworkers.load(std::memory_order_relaxed) > 0) return true;
    const int n = configured_workers();
    int started = 0;
    for (int i = 0; i < n; ++i) {
        struct Arg {
            Pool* p;
            int id;
        };
        Arg* arg = new (std::nothrow) Arg{q, i};
        int rc = ENOMEM;
        if (arg && !injected(JT_EMU_FAIL_THREAD_START)) {
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setstacksize(&attr, 1 << 20);
            pthread_t t;
            rc = pthread_create(
                &t, &attr,
                [](void* a) -> void* {
                    Arg* x = static_cast<Arg*>(a);
                    Pool* p = x->p;
                    int id = x->id;
                    delete x;
                    char name[16];
                    snprintf(name, sizeof name, "jtrain-emu-%d", id);
                    pthread_setname_np(pthread_self(), name);
                    worker_main(p, id);
                    return nullptr;
                },
                arg);
            pthread_attr_destroy(&attr);
            if (rc == 0) pthread_detach(t);
        } else if (arg) {
            rc = EAGAIN;  // injected: what pthread_create answers when the system is out of threads
        }
        if (rc != 0) {
            delete arg;
            if (started == 0) snprintf(why, cap, "cannot start an emu worker thread: %s", strerror(rc));
            break;
        }
        ++started;
    }
    q->nworkers.store(started, std::memory_order_release);
    return started > 0;
}

}  // namespace

int worker_count() {
    Pool* p = pool();
    char why[200];
    if (!p || !start_workers(p, why, sizeof why)) return 1;  // a device has at least one multiprocessor
    return p->nworkers.load(std::memory_order_acquire);
}

cudaError_t launch(const LaunchConfig& c, void (*run)(const void*), const void* payload, size_t payload_bytes) {
    const char* name = c.name ? c.name : "?";
    const uint64_t threads = uint64_t(c.block.x) * c.block.y * c.block.z;
    if (c.block.x == 0 || c.block.y == 0 || c.block.z == 0 || c.grid.x == 0 || c.grid.y == 0 || c.grid.z == 0 ||
        threads > 1024 || c.block.x > 1024 || c.block.y > 1024 || c.block.z > 64 || c.grid.x > 2147483647u ||
        c.grid.y > 65535 || c.grid.z > 65535)
        return set_error(cudaErrorInvalidConfiguration,
                         "kernel %s: invalid launch configuration grid (%u,%u,%u) block (%u,%u,%u): every dimension "
                         ">= 1, at most 1024 threads per block (z <= 64), grid y and z <= 65535",
                         name, c.grid.x, c.grid.y, c.grid.z, c.block.x, c.block.y, c.block.z);
    if (!stream_is_live(c.stream))
        return set_error(cudaErrorInvalidResourceHandle, "kernel %s: launched on an unknown or destroyed stream", name);
    const size_t smem_max = max_dynamic_smem(c.kernel);
    if (c.smem > smem_max)
        return set_error(cudaErrorInvalidValue,
                         "kernel %s: %zu bytes of dynamic shared memory, more than the %zu allowed (raise it with "
                         "cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize))",
                         name, c.smem, smem_max);
    if (on_worker_thread())
        return set_error(cudaErrorNotSupported, "kernel %s: launched from inside a kernel (no dynamic parallelism)", name);

    // Nothing here may end the process (a JVM hosts the library): a refused resource fails the launch.
    Pool* p = pool();
    if (!p) return set_error(cudaErrorMemoryAllocation, "kernel %s: cannot allocate the emu worker pool", name);
    char why[200];
    if (!start_workers(p, why, sizeof why)) return set_error(cudaErrorLaunchFailure, "kernel %s: %s", name, why);
    std::shared_ptr<Job> j;
    try {
        j = std::make_shared<Job>();
        j->cfg = c;
        j->run = run;
        j->payload = payload;
        j->total = uint64_t(c.grid.x) * c.grid.y * c.grid.z;
        j->order = g_order.load(std::memory_order_relaxed);
        j->detail[0] = 0;
        if (const int bits = check_bits_for_launch()) j->check = check_launch_begin(bits, payload, payload_bytes);
        std::lock_guard<std::mutex> lock(p->mu);
        p->jobs.push_back(j);  // strong guarantee: on bad_alloc the queue is unchanged
        p->queued.store(static_cast<int>(p->jobs.size()), std::memory_order_release);
        const uint64_t wake = std::min<uint64_t>(static_cast<uint64_t>(p->sleepers), j->total);
        for (uint64_t i = 0; i < wake; ++i) p->cv.notify_one();
    } catch (const std::bad_alloc&) {
        return set_error(cudaErrorMemoryAllocation, "kernel %s: cannot allocate the launch's record", name);
    } catch (const std::exception& e) {  // std::system_error from a mutex: never seen, but not fatal either
        return set_error(cudaErrorLaunchFailure, "kernel %s: %s", name, e.what());
    }
    spin_until([&] { return j->done.load(std::memory_order_acquire) != 0; }, std::chrono::microseconds(kLauncherSpinUs));
    while (j->done.load(std::memory_order_acquire) == 0) j->done.wait(0, std::memory_order_acquire);
    if (j->check) {
        check_launch_end(j->check);
        j->check = nullptr;
    }

    if (j->failed.load(std::memory_order_acquire)) {
        std::lock_guard<std::mutex> lock(j->err_mu);
        return set_error(j->error, "%s", j->detail);
    }
    return cudaSuccess;
}

}  // namespace jt_emu

JT_EMU_API int jt_emu_worker_count(void) { return jt_emu::worker_count(); }

JT_EMU_API int jt_emu_test_inject_failures(int bits) {
    return jt_emu::g_inject.exchange(bits & (JT_EMU_FAIL_WORKER_STATE | JT_EMU_FAIL_THREAD_START));
}

JT_EMU_API int jt_emu_set_order(int order) {
    if (order < 0 || order > 2) order = 0;
    return jt_emu::g_order.exchange(order);
}
