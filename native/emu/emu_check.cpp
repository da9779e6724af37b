// The checker (JTRAIN_EMU_RACECHECK / JTRAIN_EMU_MEMCHECK): shared-memory races and device-memory bounds.
//
// Kernels are compiled with gcc's -fsanitize=thread *instrumentation* only (never linked with libtsan):
// every load and store the compiler emits calls one of the __tsan_* entry points below with the address,
// as the Linux kernel's KCSAN does. While no check is on, an entry point is one predictable branch. While
// one is on, the access is classified by address: this fiber's stack (ignored), dynamic or static
// __shared__ memory (race bookkeeping), the launch's parameter block and the loaded modules' images
// (ignored), otherwise device memory, which must lie inside a live allocation. See native/emu/README.md,
// "Checking", for the rules and what is reported.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <new>

#include "emu_block.h"
#include "emu_internal.h"
#include "emu_symbols.h"

namespace jt_emu {

// ---- switches ---------------------------------------------------------------------------------------

namespace {

// Set by __tsan_init, which the constructor of every instrumented translation unit calls.
std::atomic<bool> g_instrumented{false};
// The JT_EMU_CHECK_* bits asked for (environment, then jt_emu_set_checks); -1 until read.
std::atomic<int> g_requested{-1};
// What the entry points test: the number of checked launches running now. Host code of instrumented
// files (a test's reference loops) runs between launches, so it pays one branch per access.
std::atomic<int> g_armed{0};

int requested_bits() {
    int bits = g_requested.load(std::memory_order_acquire);
    if (bits >= 0) return bits;
    auto on = [](const char* name) {
        const char* s = getenv(name);
        return s && *s && strcmp(s, "0") != 0;
    };
    bits = (on("JTRAIN_EMU_RACECHECK") ? JT_EMU_CHECK_RACE | JT_EMU_CHECK_MEMORY : 0) |
           (on("JTRAIN_EMU_MEMCHECK") ? JT_EMU_CHECK_MEMORY : 0);
    int expected = -1;
    g_requested.compare_exchange_strong(expected, bits, std::memory_order_acq_rel);
    return g_requested.load(std::memory_order_acquire);
}

int active_bits() { return g_instrumented.load(std::memory_order_acquire) ? requested_bits() : 0; }


// ---- fiber stack regions: accesses from code running there are kernel accesses ----------------------

constexpr int kMaxRegions = 256;  // one per worker (JTRAIN_EMU_WORKERS <= 256)
constexpr uintptr_t kRegionBytes = uintptr_t(kMaxThreads) * kSlotBytes;
std::atomic<uintptr_t> g_regions[kMaxRegions];
std::atomic<int> g_nregions{0};

inline Fiber* fiber_at(uintptr_t sp) {
    const int n = std::min(g_nregions.load(std::memory_order_acquire), kMaxRegions);
    for (int i = 0; i < n; ++i) {
        const uintptr_t base = g_regions[i].load(std::memory_order_relaxed);
        if (base && sp - base < kRegionBytes)
            return reinterpret_cast<Fiber*>((sp | (kSlotBytes - 1)) + 1 - kContextBytes);
    }
    return nullptr;
}

bool in_any_region(uintptr_t a) { return fiber_at(a) != nullptr; }

}  // namespace

// ---- the launch's and the worker's state ------------------------------------------------------------

struct LaunchCheck {
    int bits;
    uintptr_t params_begin, params_end;            // the kernel's arguments (read by every thread)
    std::shared_ptr<const AllocSnapshot> allocs;  // nullptr: memory not checked
};

namespace {

// A set of threads that accessed a byte in the current barrier interval: the first one, one of another
// warp if any (then every later conflicting access from any warp is a race), and, for the first one's
// warp, the lanes and the largest warp-sync clock any of them had (conservative: see README).
struct AccessSet {
    uint32_t lanes;
    uint32_t clock;
    uint16_t first;  // thread index + 1; 0: empty
    uint16_t other;  // a thread of another warp than `first`, + 1; 0: none
};

// Per 4-byte granule of shared memory (and per byte where an access smaller than a granule needs it), for
// the barrier interval `epoch` (an entry of an older epoch is empty).
struct Shadow {
    uint32_t epoch;
    uint16_t writer;  // thread index + 1; 0: none
    uint8_t split;    // a granule entry: its bytes are tracked one by one (in the byte shadow) this interval
    uint8_t pad;
    uint32_t wclock;
    uint32_t wpc;  // code offsets in the runtime's module, for the message
    uint32_t rpc;
    AccessSet readers;
    AccessSet atomics;
};

enum Kind : uint8_t { kRead, kWrite, kAtomic };

}  // namespace

struct CheckState {
    uint32_t epoch = 0;  // one per block start and __syncthreads phase on this worker
    // static __shared__ memory: this worker's TLS block of the module
    uintptr_t tls_begin = 0, tls_end = 0;
    size_t tls_granules = 0;
    Shadow* tls_shadow = nullptr;  // per granule, then per byte (see shared_access)
    // dynamic shared memory
    Shadow* dyn_shadow = nullptr;
    size_t dyn_capacity = 0;
    // __syncwarp: per thread, the latest warp-sync generation of each lane of its warp it has heard of
    uint32_t vc_epoch[kMaxThreads];
    uint32_t vc[kMaxThreads][32];
    uint32_t gen_epoch[kMaxThreads / 32];
    uint32_t gen[kMaxThreads / 32];
    // the allocation that satisfied the last look-up
    const AllocSnapshot* cached_snap = nullptr;
    size_t cached_index = 0;
};

namespace {

uintptr_t g_code_base = 0;  // the runtime's module (pc offsets in Shadow)

uintptr_t code_base() {
    if (!g_code_base) {
        Dl_info di;
        if (dladdr(reinterpret_cast<void*>(&code_base), &di)) g_code_base = reinterpret_cast<uintptr_t>(di.dli_fbase);
    }
    return g_code_base;
}

struct Me {
    uint32_t index, warp, lane, clock;
    const uint32_t* vc;  // nullptr: no __syncwarp yet in this interval
};

inline Me me_of(const CheckState* c, const Fiber* f) {
    const bool fresh = c->vc_epoch[f->index] == c->epoch;
    const uint32_t* vc = fresh ? c->vc[f->index] : nullptr;
    return Me{f->index, f->warp, f->lane, vc ? vc[f->lane] : 0u, vc};
}

// Whether an access of thread r at warp-sync clock `clk` happens before the current access of `u`.
inline bool ordered(const Me& u, uint32_t r, uint32_t clk) {
    if (r == u.index) return true;
    if ((r >> 5) != u.warp) return false;
    return u.vc && u.vc[r & 31] > clk;
}

// A thread of `s` whose access does not happen before u's, or -1.
inline int conflict(const AccessSet& s, const Me& u) {
    if (!s.first) return -1;
    const uint32_t first = s.first - 1u;
    if (s.other) return (first >> 5) != u.warp ? static_cast<int>(first) : static_cast<int>(s.other - 1u);
    if ((first >> 5) != u.warp) return static_cast<int>(first);
    uint32_t lanes = s.lanes & ~(1u << u.lane);
    for (; lanes; lanes &= lanes - 1) {
        const uint32_t l = static_cast<uint32_t>(__builtin_ctz(lanes));
        if (!(u.vc && u.vc[l] > s.clock)) return static_cast<int>(u.warp * 32 + l);
    }
    return -1;
}

inline void add(AccessSet& s, const Me& u) {
    if (!s.first) {
        s.first = static_cast<uint16_t>(u.index + 1);
        s.lanes = 1u << u.lane;
        s.clock = u.clock;
    } else if (((s.first - 1u) >> 5) == u.warp) {
        s.lanes |= 1u << u.lane;
        s.clock = std::max(s.clock, u.clock);
    } else if (!s.other) {
        s.other = static_cast<uint16_t>(u.index + 1);
    }
}

const char* kind_verb(Kind k) { return k == kRead ? "reads" : k == kWrite ? "writes" : "atomically updates"; }

// "block_sum<256>::s[5] (static __shared__, byte 20 of 1024)" or "dynamic shared[5] (byte 20)".
void describe_shared(const Block* b, bool dynamic, size_t off, size_t size, char* out, size_t cap) {
    const size_t unit = size ? size : 1;
    if (dynamic) {
        snprintf(out, cap, "dynamic shared[%zu] (byte %zu of %zu, %zu-byte access)", off / unit, off, b->cfg->smem,
                 size);
        return;
    }
    char name[256];
    size_t in = 0, sym = 0;
    if (tls_symbol(off, name, sizeof name, &in, &sym)) {
        if (in % unit == 0)
            snprintf(out, cap, "%s[%zu] (static __shared__, byte %zu of %zu, %zu-byte access)", name, in / unit, in, sym,
                     size);
        else
            snprintf(out, cap, "%s + byte %zu (static __shared__ of %zu bytes, %zu-byte access)", name, in, sym, size);
    } else {
        snprintf(out, cap, "static __shared__ memory at byte %zu of the module's TLS block (%zu-byte access)", off,
                 size);
    }
}

[[noreturn]] void report_race(Block* b, Fiber* f, const char* hazard, Kind kind, uint32_t other, Kind other_kind,
                              uint32_t other_pc, bool dynamic, size_t off, size_t size, uintptr_t pc) {
    char what[400], me[48], them[48], here[300], there[300];
    describe_shared(b, dynamic, off, size, what, sizeof what);
    describe_thread(b, f->index, me, sizeof me);
    describe_thread(b, other, them, sizeof them);
    describe_code(pc, here, sizeof here);
    if (other_pc)
        describe_code(code_base() + other_pc, there, sizeof there);
    else
        snprintf(there, sizeof there, "?");
    fail_block(b, f, cudaErrorLaunchFailure,
               "shared-memory race (%s): thread %s %s %s, which thread %s %s in the same barrier interval (since %s%s) "
               "with no __syncthreads (or __syncwarp over both lanes) between; thread %s at %s, thread %s at %s",
               hazard, me, kind_verb(kind), what, them, other_kind == kRead ? "read" : other_kind == kWrite ? "wrote" : "atomically updated",
               b->last_barrier ? "__syncthreads at " : "the block's start", b->last_barrier ? short_site(b->last_barrier) : "",
               me, here, them, there);
}

struct AccessInfo {
    Block* b;
    Fiber* f;
    bool dynamic;
    size_t off, size;  // the whole access, for the message
    Kind kind;
    uintptr_t pc;
    uint32_t pc32;
};

// The race bookkeeping of one access on one shadow entry (a granule or a byte).
inline void track(Shadow& e, const Me& u, uint32_t epoch, const AccessInfo& x) {
    if (e.epoch != epoch) {
        memset(static_cast<void*>(&e), 0, sizeof e);
        e.epoch = epoch;
    }
    const bool writer_unordered = e.writer && !ordered(u, e.writer - 1u, e.wclock);
    if (x.kind == kRead) {
        if (writer_unordered)
            report_race(x.b, x.f, "read-after-write", x.kind, e.writer - 1u, kWrite, e.wpc, x.dynamic, x.off, x.size, x.pc);
        const int a = conflict(e.atomics, u);
        if (a >= 0)
            report_race(x.b, x.f, "read-after-write", x.kind, static_cast<uint32_t>(a), kAtomic, 0, x.dynamic, x.off,
                        x.size, x.pc);
        add(e.readers, u);
        e.rpc = x.pc32;
        return;
    }
    if (writer_unordered)
        report_race(x.b, x.f, "write-after-write", x.kind, e.writer - 1u, kWrite, e.wpc, x.dynamic, x.off, x.size, x.pc);
    const int r = conflict(e.readers, u);
    if (r >= 0)
        report_race(x.b, x.f, "write-after-read", x.kind, static_cast<uint32_t>(r), kRead,
                    static_cast<uint32_t>(r) == e.readers.first - 1u ? e.rpc : 0, x.dynamic, x.off, x.size, x.pc);
    if (x.kind == kWrite) {
        const int a = conflict(e.atomics, u);
        if (a >= 0)
            report_race(x.b, x.f, "write-after-write", x.kind, static_cast<uint32_t>(a), kAtomic, 0, x.dynamic, x.off,
                        x.size, x.pc);
        e.writer = static_cast<uint16_t>(u.index + 1);
        e.wclock = u.clock;
        e.wpc = x.pc32;
        e.readers = AccessSet{};  // every reader happens before this write (checked above)
        e.atomics = AccessSet{};
    } else {
        add(e.atomics, u);  // atomics never race with each other
    }
}

// A region's shadow: `granules` entries per 4 bytes, then 4 per granule for its bytes. An access of whole
// granules updates granule entries (a float4 is 4 updates, not 16); a smaller or unaligned access first
// splits its granules into byte entries (copies of the granule's state) for the rest of the interval, so
// two threads writing neighbouring bytes are not a race.
void shared_access(Block* b, Fiber* f, CheckState* c, Shadow* shadow, size_t granules, bool dynamic, size_t off,
                   size_t size, Kind kind, uintptr_t pc) {
    const Me u = me_of(c, f);
    const uint32_t epoch = c->epoch;
    const AccessInfo x{b, f, dynamic, off, size, kind, pc, static_cast<uint32_t>(pc - code_base())};
    Shadow* bytes = shadow + granules;
    if (((off | size) & 3) == 0) {
        for (size_t g = off >> 2, end = (off + size) >> 2; g < end; ++g) {
            Shadow& G = shadow[g];
            if (G.epoch == epoch && G.split) {
                for (size_t k = 0; k < 4; ++k) track(bytes[g * 4 + k], u, epoch, x);
            } else {
                track(G, u, epoch, x);
            }
        }
        return;
    }
    for (size_t i = off; i < off + size; ++i) {
        Shadow& G = shadow[i >> 2];
        if (G.epoch != epoch) {
            memset(static_cast<void*>(&G), 0, sizeof G);
            G.epoch = epoch;
        }
        if (!G.split) {
            for (size_t k = 0; k < 4; ++k) bytes[(i & ~size_t(3)) + k] = G;
            G.split = 1;
        }
        track(bytes[i], u, epoch, x);
    }
}

// ---- device memory ----------------------------------------------------------------------------------

// "4 bytes past the end of a 1024-byte allocation at 0x..." and the like.
void describe_address(const AllocSnapshot* s, uintptr_t a, size_t size, char* out, size_t cap) {
    if (a < 65536) {
        snprintf(out, cap, "a null pointer (+%zu)", static_cast<size_t>(a));
        return;
    }
    const auto& live = s->live;
    auto it = std::upper_bound(live.begin(), live.end(), a, [](uintptr_t x, const AllocRange& r) { return x < r.begin; });
    const AllocRange* before = it != live.begin() ? &*(it - 1) : nullptr;
    const AllocRange* after = it != live.end() ? &*it : nullptr;
    auto kind = [](const AllocRange& r) { return r.device ? "cudaMalloc" : "cudaMallocHost"; };
    for (const AllocRange& r : s->freed) {
        if (a >= r.begin && a < r.end && !(before && a < before->end)) {
            snprintf(out, cap, "byte %zu of a %zu-byte allocation at %p that was freed (%s)",
                     static_cast<size_t>(a - r.begin), static_cast<size_t>(r.end - r.begin), reinterpret_cast<void*>(r.begin),
                     r.device ? "cudaFree" : "cudaFreeHost");
            return;
        }
    }
    // Past the end of the allocation below (or straddling its end), or before the start of the one above.
    const uintptr_t past = before ? (a >= before->end ? a - before->end : 0) : ~uintptr_t(0);
    const uintptr_t ahead = after ? after->begin - a : ~uintptr_t(0);
    constexpr uintptr_t kNear = 4096;  // farther away it is rather some other memory (the emu's heap is the host's)
    if (before && past <= ahead && past < kNear) {
        snprintf(out, cap, "offset %zu of a %zu-byte allocation at %p (%s), %zu byte(s) past its end",
                 static_cast<size_t>(a - before->begin), static_cast<size_t>(before->end - before->begin),
                 reinterpret_cast<void*>(before->begin), kind(*before), static_cast<size_t>(a + size - before->end));
    } else if (after && ahead < kNear) {
        snprintf(out, cap, "%zu bytes before the start of a %zu-byte allocation at %p (%s)", static_cast<size_t>(ahead),
                 static_cast<size_t>(after->end - after->begin), reinterpret_cast<void*>(after->begin), kind(*after));
    } else {
        snprintf(out, cap, "not in or near any device allocation (pageable host memory is not device memory; "
                           "cudaMallocHost memory is; freed memory is not)");
    }
}

[[noreturn]] void report_address(Block* b, Fiber* f, const char* where, Kind kind, uintptr_t a, size_t size, uintptr_t pc) {
    char me[48], here[300];
    describe_thread(b, f->index, me, sizeof me);
    describe_code(pc, here, sizeof here);
    fail_block(b, f, cudaErrorIllegalAddress, "illegal address: thread %s %s %zu byte(s) at %p: %s; at %s", me,
               kind_verb(kind), size, reinterpret_cast<void*>(a), where, here);
}

// Whether [a, a + size) lies in a live allocation of the launch's snapshot.
inline bool in_allocation(CheckState* c, const AllocSnapshot* s, uintptr_t a, size_t size) {
    const auto& live = s->live;
    if (c->cached_snap == s && c->cached_index < live.size()) {
        const AllocRange& r = live[c->cached_index];
        if (a >= r.begin && a + size <= r.end) return true;
    }
    auto it = std::upper_bound(live.begin(), live.end(), a, [](uintptr_t x, const AllocRange& r) { return x < r.begin; });
    if (it == live.begin()) return false;
    --it;
    if (a + size > it->end) return false;
    c->cached_snap = s;
    c->cached_index = static_cast<size_t>(it - live.begin());
    return true;
}

// One instrumented access, from any thread (host code in instrumented files calls here too).
__attribute__((noinline)) void check_access(const void* addr, size_t size, Kind kind, uintptr_t pc) {
    uintptr_t sp;
    asm volatile("mov %%rsp, %0" : "=r"(sp));
    Fiber* f = fiber_at(sp);
    if (!f) return;  // host code
    Block* b = f->blk;
    CheckState* c = b->chk;
    if (!c) return;  // this launch is not checked
    const uintptr_t a = reinterpret_cast<uintptr_t>(addr);
    if ((a >> kSlotShift) == (sp >> kSlotShift)) return;  // this thread's own stack (local memory)
    const LaunchCheck* lc = b->launch_check;
    const uintptr_t smem = reinterpret_cast<uintptr_t>(b->smem);
    if (smem && a - smem < c->dyn_capacity) {
        if (a + size > smem + b->cfg->smem) {
            char where[160];
            snprintf(where, sizeof where, "beyond the %zu bytes of dynamic shared memory of the launch (byte %zu)",
                     b->cfg->smem, static_cast<size_t>(a - smem));
            report_address(b, f, where, kind, a, size, pc);
        }
        if (lc->bits & JT_EMU_CHECK_RACE)
            shared_access(b, f, c, c->dyn_shadow, c->dyn_capacity / 4, true, a - smem, size, kind, pc);
        return;
    }
    if (a - c->tls_begin < c->tls_end - c->tls_begin) {
        if (a + size > c->tls_end) report_address(b, f, "beyond the static __shared__ memory", kind, a, size, pc);
        if (lc->bits & JT_EMU_CHECK_RACE)
            shared_access(b, f, c, c->tls_shadow, c->tls_granules, false, a - c->tls_begin, size, kind, pc);
        return;
    }
    if (a - lc->params_begin < lc->params_end - lc->params_begin) return;  // the kernel's arguments
    if (!(lc->bits & JT_EMU_CHECK_MEMORY) || !lc->allocs) return;
    if (in_allocation(c, lc->allocs.get(), a, size)) return;
    if (in_any_region(a)) report_address(b, f, "the stack (local memory) of another thread", kind, a, size, pc);
    if (in_module_image(a, size)) return;  // constants and globals of the program
    char where[400];
    describe_address(lc->allocs.get(), a, size, where, sizeof where);
    report_address(b, f, where, kind, a, size, pc);
}

inline void access(const void* a, size_t size, Kind kind, void* pc) {
    if (__builtin_expect(g_armed.load(std::memory_order_relaxed) != 0, 0))
        check_access(a, size, kind, reinterpret_cast<uintptr_t>(pc));
}

}  // namespace

// ---- hooks called by the runtime --------------------------------------------------------------------

void check_register_fiber_region(const void* base) {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    const int n = g_nregions.load(std::memory_order_relaxed);
    if (n >= kMaxRegions) return;
    g_regions[n].store(reinterpret_cast<uintptr_t>(base), std::memory_order_relaxed);
    g_nregions.store(n + 1, std::memory_order_release);
}

int check_bits_for_launch() { return active_bits(); }

LaunchCheck* check_launch_begin(int bits, const void* payload, size_t payload_bytes) {
    LaunchCheck* lc = new (std::nothrow) LaunchCheck();
    if (!lc) return nullptr;
    lc->bits = bits;
    lc->params_begin = reinterpret_cast<uintptr_t>(payload);
    lc->params_end = lc->params_begin + payload_bytes;
    if (bits & JT_EMU_CHECK_MEMORY) lc->allocs = allocation_snapshot();
    g_armed.fetch_add(1, std::memory_order_acq_rel);
    return lc;
}

void check_launch_end(LaunchCheck* lc) {
    g_armed.fetch_sub(1, std::memory_order_acq_rel);
    delete lc;
}

CheckState* check_worker_state(CheckState** slot, size_t smem_bytes) {
    CheckState* c = *slot;
    if (!c) {
        c = static_cast<CheckState*>(calloc(1, sizeof(CheckState)));
        if (!c) return nullptr;
        new (c) CheckState();
        memset(c->vc_epoch, 0, sizeof c->vc_epoch);
        memset(c->gen_epoch, 0, sizeof c->gen_epoch);
        if (own_tls_block(&c->tls_begin, &c->tls_end)) {
            c->tls_granules = (c->tls_end - c->tls_begin + 3) / 4;
            c->tls_shadow = static_cast<Shadow*>(calloc(c->tls_granules * 5, sizeof(Shadow)));
            if (!c->tls_shadow) {
                free(c);
                return nullptr;
            }
        }
        *slot = c;
    }
    smem_bytes = (smem_bytes + 3) & ~size_t(3);
    if (smem_bytes > c->dyn_capacity) {
        Shadow* s = static_cast<Shadow*>(calloc(smem_bytes / 4 * 5, sizeof(Shadow)));
        if (!s) return nullptr;
        free(c->dyn_shadow);
        c->dyn_shadow = s;
        c->dyn_capacity = smem_bytes;
    }
    return c;
}

namespace {
void next_epoch(CheckState* c) {
    if (++c->epoch != 0) return;
    // 2^32 intervals on this worker: forget everything once
    if (c->tls_shadow) memset(static_cast<void*>(c->tls_shadow), 0, c->tls_granules * 5 * sizeof(Shadow));
    if (c->dyn_shadow) memset(static_cast<void*>(c->dyn_shadow), 0, c->dyn_capacity / 4 * 5 * sizeof(Shadow));
    memset(c->vc_epoch, 0, sizeof c->vc_epoch);
    memset(c->gen_epoch, 0, sizeof c->gen_epoch);
    c->epoch = 1;
}
}  // namespace

void check_block_start(Block* b) { next_epoch(b->chk); }
void check_barrier(Block* b) { next_epoch(b->chk); }

void check_warp_sync(Block* b, uint32_t warp, uint32_t lanes) {
    CheckState* c = b->chk;
    if (c->gen_epoch[warp] != c->epoch) {
        c->gen_epoch[warp] = c->epoch;
        c->gen[warp] = 0;
    }
    const uint32_t g = ++c->gen[warp];
    uint32_t join[32] = {0};
    for (uint32_t m = lanes; m; m &= m - 1) {
        const uint32_t t = warp * 32 + static_cast<uint32_t>(__builtin_ctz(m));
        if (c->vc_epoch[t] != c->epoch) continue;
        for (int k = 0; k < 32; ++k) join[k] = std::max(join[k], c->vc[t][k]);
    }
    for (uint32_t m = lanes; m; m &= m - 1) join[__builtin_ctz(m)] = g;
    for (uint32_t m = lanes; m; m &= m - 1) {
        const uint32_t t = warp * 32 + static_cast<uint32_t>(__builtin_ctz(m));
        memcpy(c->vc[t], join, sizeof join);
        c->vc_epoch[t] = c->epoch;
    }
}

}  // namespace jt_emu

// ---- the API ----------------------------------------------------------------------------------------

JT_EMU_API int jt_emu_set_checks(int bits) {
    jt_emu::requested_bits();  // read the environment first, so that it cannot override this call later
    return jt_emu::g_requested.exchange(bits & (JT_EMU_CHECK_RACE | JT_EMU_CHECK_MEMORY));
}
JT_EMU_API int jt_emu_checks(void) { return jt_emu::active_bits(); }
JT_EMU_API int jt_emu_checks_available(void) { return jt_emu::g_instrumented.load() ? 1 : 0; }

// ---- the entry points gcc's -fsanitize=thread instrumentation calls --------------------------------
// (gcc/sanitizer.def; `nm -u` on an instrumented object lists the ones in use.) Hidden: each library
// that links the runtime answers its own kernels' calls.

#define JT_TSAN extern "C" __attribute__((visibility("hidden")))
#define JT_PC __builtin_return_address(0)

JT_TSAN void __tsan_init(void) { jt_emu::g_instrumented.store(true, std::memory_order_release); }
JT_TSAN void __tsan_func_entry(void*) {}
JT_TSAN void __tsan_func_exit(void) {}
JT_TSAN void __tsan_vptr_update(void** vptr, void*) { jt_emu::access(vptr, sizeof(void*), jt_emu::kWrite, JT_PC); }
JT_TSAN void __tsan_vptr_read(void** vptr) { jt_emu::access(vptr, sizeof(void*), jt_emu::kRead, JT_PC); }

#define JT_TSAN_RW(n)                                                                                      \
    JT_TSAN void __tsan_read##n(void* a) { jt_emu::access(a, n, jt_emu::kRead, JT_PC); }                   \
    JT_TSAN void __tsan_write##n(void* a) { jt_emu::access(a, n, jt_emu::kWrite, JT_PC); }                 \
    JT_TSAN void __tsan_unaligned_read##n(void* a) { jt_emu::access(a, n, jt_emu::kRead, JT_PC); }         \
    JT_TSAN void __tsan_unaligned_write##n(void* a) { jt_emu::access(a, n, jt_emu::kWrite, JT_PC); }       \
    JT_TSAN void __tsan_volatile_read##n(void* a) { jt_emu::access(a, n, jt_emu::kRead, JT_PC); }          \
    JT_TSAN void __tsan_volatile_write##n(void* a) { jt_emu::access(a, n, jt_emu::kWrite, JT_PC); }        \
    JT_TSAN void __tsan_unaligned_volatile_read##n(void* a) { jt_emu::access(a, n, jt_emu::kRead, JT_PC); } \
    JT_TSAN void __tsan_unaligned_volatile_write##n(void* a) { jt_emu::access(a, n, jt_emu::kWrite, JT_PC); }
JT_TSAN_RW(1)
JT_TSAN_RW(2)
JT_TSAN_RW(4)
JT_TSAN_RW(8)
JT_TSAN_RW(16)
#undef JT_TSAN_RW

JT_TSAN void __tsan_read_range(void* a, unsigned long size) { jt_emu::access(a, size, jt_emu::kRead, JT_PC); }
JT_TSAN void __tsan_write_range(void* a, unsigned long size) { jt_emu::access(a, size, jt_emu::kWrite, JT_PC); }

JT_TSAN void* __tsan_memcpy(void* dst, const void* src, unsigned long n) {
    jt_emu::access(src, n, jt_emu::kRead, JT_PC);
    jt_emu::access(dst, n, jt_emu::kWrite, JT_PC);
    return memcpy(dst, src, n);
}
JT_TSAN void* __tsan_memmove(void* dst, const void* src, unsigned long n) {
    jt_emu::access(src, n, jt_emu::kRead, JT_PC);
    jt_emu::access(dst, n, jt_emu::kWrite, JT_PC);
    return memmove(dst, src, n);
}
JT_TSAN void* __tsan_memset(void* dst, int v, unsigned long n) {
    jt_emu::access(dst, n, jt_emu::kWrite, JT_PC);
    return memset(dst, v, n);
}

// Atomics: checked as atomic accesses (no race with each other), then done sequentially consistent
// (stronger than any order asked for).
#define JT_TSAN_ATOMIC(bits, T)                                                                              \
    JT_TSAN T __tsan_atomic##bits##_load(const volatile T* a, int) {                                          \
        jt_emu::access(const_cast<const T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                            \
        return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                                         \
    }                                                                                                        \
    JT_TSAN void __tsan_atomic##bits##_store(volatile T* a, T v, int) {                                       \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                                            \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_exchange(volatile T* a, T v, int) {                                       \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);                                                  \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_add(volatile T* a, T v, int) {                                      \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST);                                                   \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_sub(volatile T* a, T v, int) {                                      \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST);                                                   \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_and(volatile T* a, T v, int) {                                      \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST);                                                   \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_or(volatile T* a, T v, int) {                                       \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST);                                                    \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_xor(volatile T* a, T v, int) {                                      \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST);                                                   \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_fetch_nand(volatile T* a, T v, int) {                                     \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST);                                                  \
    }                                                                                                        \
    JT_TSAN bool __tsan_atomic##bits##_compare_exchange_strong(volatile T* a, T* expected, T v, int, int) {   \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_compare_exchange_n(a, expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);       \
    }                                                                                                        \
    JT_TSAN bool __tsan_atomic##bits##_compare_exchange_weak(volatile T* a, T* expected, T v, int, int) {     \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        return __atomic_compare_exchange_n(a, expected, v, true, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);        \
    }                                                                                                        \
    JT_TSAN T __tsan_atomic##bits##_compare_exchange_val(volatile T* a, T expected, T v, int, int) {          \
        jt_emu::access(const_cast<T*>(a), sizeof(T), jt_emu::kAtomic, JT_PC);                                  \
        __atomic_compare_exchange_n(a, &expected, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);             \
        return expected;                                                                                     \
    }
JT_TSAN_ATOMIC(8, uint8_t)
JT_TSAN_ATOMIC(16, uint16_t)
JT_TSAN_ATOMIC(32, uint32_t)
JT_TSAN_ATOMIC(64, uint64_t)
#undef JT_TSAN_ATOMIC

JT_TSAN void __tsan_atomic_thread_fence(int) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
JT_TSAN void __tsan_atomic_signal_fence(int) { __atomic_signal_fence(__ATOMIC_SEQ_CST); }
