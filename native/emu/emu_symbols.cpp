// Module images, the TLS block of the runtime's module, and ELF symbol names for the checker's messages.
#include "emu_symbols.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace jt_emu {
namespace {

// Only workers touch it: taking its address makes the calling thread's TLS block of this module exist
// (general-dynamic TLS in a shared library is allocated lazily) and tells which block is ours.
thread_local char t_tls_anchor;

struct Range {
    uintptr_t begin, end;
};

// ---- module images: an immutable sorted list, replaced (never freed: rare and small) on a miss ----
std::atomic<const std::vector<Range>*> g_images{nullptr};
std::mutex g_images_mu;

const std::vector<Range>* read_images() {
    auto* v = new (std::nothrow) std::vector<Range>();
    if (!v) return nullptr;
    try {
        dl_iterate_phdr(
            [](dl_phdr_info* info, size_t, void* data) {
                auto* out = static_cast<std::vector<Range>*>(data);
                for (int i = 0; i < info->dlpi_phnum; ++i) {
                    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                    if (ph.p_type != PT_LOAD) continue;
                    const uintptr_t b = info->dlpi_addr + ph.p_vaddr;
                    out->push_back(Range{b, b + ph.p_memsz});
                }
                return 0;
            },
            v);
        std::sort(v->begin(), v->end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
    } catch (...) {
        delete v;
        return nullptr;
    }
    return v;
}

bool in_ranges(const std::vector<Range>* v, uintptr_t a, size_t size) {
    if (!v) return false;
    auto it = std::upper_bound(v->begin(), v->end(), a, [](uintptr_t x, const Range& r) { return x < r.begin; });
    if (it == v->begin()) return false;
    --it;
    return a >= it->begin && a + size <= it->end;
}

// ---- the runtime's own module --------------------------------------------------------------------

struct OwnModule {
    bool ok = false;
    uintptr_t base = 0;    // dlpi_addr: symbol values are relative to it
    char path[512] = {0};  // the ELF file
    size_t tls_memsz = 0;
};

OwnModule find_own_module() {
    OwnModule m;
    Dl_info di;
    if (!dladdr(reinterpret_cast<void*>(&find_own_module), &di)) return m;
    struct Search {
        uintptr_t code;
        OwnModule* m;
    } s{reinterpret_cast<uintptr_t>(&find_own_module), &m};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            bool mine = false;
            size_t tls = 0;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                const uintptr_t b = info->dlpi_addr + ph.p_vaddr;
                if (ph.p_type == PT_LOAD && s->code >= b && s->code < b + ph.p_memsz) mine = true;
                if (ph.p_type == PT_TLS) tls = ph.p_memsz;
            }
            if (!mine) return 0;
            s->m->ok = true;
            s->m->base = info->dlpi_addr;
            s->m->tls_memsz = tls;
            if (info->dlpi_name && *info->dlpi_name) {
                snprintf(s->m->path, sizeof s->m->path, "%s", info->dlpi_name);
            } else {  // the executable
                const ssize_t n = readlink("/proc/self/exe", s->m->path, sizeof s->m->path - 1);
                s->m->path[n > 0 ? n : 0] = 0;
                if (n <= 0) snprintf(s->m->path, sizeof s->m->path, "/proc/self/exe");
            }
            return 1;
        },
        &s);
    return m;
}

const OwnModule& own_module() {
    static const OwnModule m = find_own_module();
    return m;
}

// ---- the ELF symbol table of the runtime's module (read once, on the first message that needs it) ----

struct Symbol {
    uint64_t value, size;
    const char* name;  // mangled, in the mapped file
    bool tls;
};

struct SymbolTable {
    bool loaded = false;
    std::vector<Symbol> symbols;
};
std::mutex g_symbols_mu;
SymbolTable* g_symbols = nullptr;

void load_symbols(SymbolTable& t) {
    const OwnModule& m = own_module();
    if (!m.ok) return;
    const int fd = open(m.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    void* map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(sizeof(ElfW(Ehdr))))
        map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return;  // the mapping stays for the names (never unmapped)
    const char* base = static_cast<const char*>(map);
    const size_t size = static_cast<size_t>(st.st_size);
    const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(base);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 ||
        eh->e_shoff + size_t(eh->e_shnum) * sizeof(ElfW(Shdr)) > size)
        return;
    const auto* sh = reinterpret_cast<const ElfW(Shdr)*>(base + eh->e_shoff);
    int symtab = -1;
    for (int i = 0; i < eh->e_shnum; ++i)
        if (sh[i].sh_type == SHT_SYMTAB) symtab = i;
    if (symtab < 0)
        for (int i = 0; i < eh->e_shnum; ++i)
            if (sh[i].sh_type == SHT_DYNSYM) symtab = i;
    if (symtab < 0 || sh[symtab].sh_link >= eh->e_shnum) return;
    const ElfW(Shdr)& ss = sh[symtab];
    const ElfW(Shdr)& strs = sh[ss.sh_link];
    if (ss.sh_offset + ss.sh_size > size || strs.sh_offset + strs.sh_size > size) return;
    const auto* syms = reinterpret_cast<const ElfW(Sym)*>(base + ss.sh_offset);
    const size_t n = ss.sh_size / sizeof(ElfW(Sym));
    try {
        for (size_t i = 0; i < n; ++i) {
            const int type = ELF64_ST_TYPE(syms[i].st_info);
            if ((type != STT_FUNC && type != STT_TLS) || syms[i].st_name >= strs.sh_size) continue;
            t.symbols.push_back(Symbol{syms[i].st_value, syms[i].st_size, base + strs.sh_offset + syms[i].st_name,
                                       type == STT_TLS});
        }
    } catch (...) {
    }
}

const SymbolTable* symbols() {
    std::lock_guard<std::mutex> lock(g_symbols_mu);
    if (!g_symbols) {
        g_symbols = new (std::nothrow) SymbolTable();
        if (!g_symbols) return nullptr;
        load_symbols(*g_symbols);
        g_symbols->loaded = true;
    }
    return g_symbols;
}

const Symbol* find_symbol(uint64_t value, bool tls) {
    const SymbolTable* t = symbols();
    if (!t) return nullptr;
    for (const Symbol& s : t->symbols)
        if (s.tls == tls && value >= s.value && value < s.value + std::max<uint64_t>(s.size, 1)) return &s;
    return nullptr;
}

// "void block_sum<256>(float const*, float*, int)::s" -> "block_sum<256>::s";
// "gemm_kernel(float const*, ...)" -> "gemm_kernel".
void simplify(const char* demangled, char* out, size_t cap) {
    const char* text = demangled;
    const size_t len = strlen(text);
    // the outermost parameter list: the first '(' at template depth 0
    size_t open = len, close = len;
    int angle = 0;
    for (size_t i = 0; i < len; ++i) {
        if (text[i] == '<') ++angle;
        else if (text[i] == '>') --angle;
        else if (text[i] == '(' && angle == 0) {
            open = i;
            break;
        }
    }
    if (open < len) {
        int depth = 0;
        for (size_t i = open; i < len; ++i) {
            if (text[i] == '(') ++depth;
            else if (text[i] == ')' && --depth == 0) {
                close = i;
                break;
            }
        }
    }
    // the function's name starts after the last space at template depth 0 before `open` (the return type)
    size_t start = 0;
    angle = 0;
    for (size_t i = 0; i < open && i < len; ++i) {
        if (text[i] == '<') ++angle;
        else if (text[i] == '>') --angle;
        else if (text[i] == ' ' && angle == 0) start = i + 1;
    }
    const char* tail = close < len ? text + close + 1 : "";  // "::s" of a function-local static
    snprintf(out, cap, "%.*s%s", static_cast<int>((open < len ? open : len) - start), text + start, tail);
}

void pretty_name(const char* mangled, char* out, size_t cap) {
    int status = 0;
    char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    if (status == 0 && d) {
        // "(anonymous namespace)::" says nothing here and its '(' would look like a parameter list
        static const char kAnon[] = "(anonymous namespace)::";
        for (char* p = strstr(d, kAnon); p; p = strstr(p, kAnon)) memmove(p, p + sizeof kAnon - 1, strlen(p + sizeof kAnon - 1) + 1);
        simplify(d, out, cap);
    } else {
        snprintf(out, cap, "%s", mangled);
    }
    free(d);
}

}  // namespace

bool in_module_image(uintptr_t a, size_t size) {
    if (in_ranges(g_images.load(std::memory_order_acquire), a, size)) return true;
    std::lock_guard<std::mutex> lock(g_images_mu);  // rare: an address outside every known image
    const std::vector<Range>* v = read_images();
    if (!v) return false;
    g_images.store(v, std::memory_order_release);  // the old list is leaked: a reader may still use it
    return in_ranges(v, a, size);
}

bool own_tls_block(uintptr_t* begin, uintptr_t* end) {
    const uintptr_t anchor = reinterpret_cast<uintptr_t>(&t_tls_anchor);
    struct Search {
        uintptr_t anchor, begin, end;
    } s{anchor, 0, 0};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            if (!info->dlpi_tls_data) return 0;
            for (int i = 0; i < info->dlpi_phnum; ++i) {
                const ElfW(Phdr)& ph = info->dlpi_phdr[i];
                if (ph.p_type != PT_TLS) continue;
                const uintptr_t b = reinterpret_cast<uintptr_t>(info->dlpi_tls_data);
                if (s->anchor >= b && s->anchor < b + ph.p_memsz) {
                    s->begin = b;
                    s->end = b + ph.p_memsz;
                    return 1;
                }
            }
            return 0;
        },
        &s);
    *begin = s.begin;
    *end = s.end;
    return s.begin != 0;
}

void describe_code(uintptr_t pc, char* out, size_t cap) {
    const OwnModule& m = own_module();
    const char* file = m.ok ? strrchr(m.path, '/') : nullptr;
    file = file ? file + 1 : m.path;
    const Symbol* s = m.ok ? find_symbol(pc - m.base, false) : nullptr;
    if (!s) {
        snprintf(out, cap, "%s+0x%zx", m.ok ? file : "?", static_cast<size_t>(pc - m.base));
        return;
    }
    char name[256];
    pretty_name(s->name, name, sizeof name);
    snprintf(out, cap, "%s+0x%zx (%s+0x%zx)", name, static_cast<size_t>(pc - m.base - s->value), file,
             static_cast<size_t>(pc - m.base));
}

bool tls_symbol(size_t off, char* name, size_t cap, size_t* sym_off, size_t* sym_size) {
    const Symbol* s = find_symbol(off, true);
    if (!s) return false;
    pretty_name(s->name, name, cap);
    *sym_off = off - s->value;
    *sym_size = s->size;
    return true;
}

}  // namespace jt_emu
