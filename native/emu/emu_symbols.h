// Internal to native/emu: what the checker needs to know about the loaded modules — the image ranges
// (a kernel may read constants and globals there), this worker's TLS block of the module that holds the
// kernels (static __shared__ arrays live there), and names for code addresses and __shared__ arrays in
// messages (read from the module's ELF symbol table; only on the error path).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace jt_emu {

// Whether [a, a + size) lies inside a loaded module's image (PT_LOAD segments: code, constants,
// globals). Looks at a cached list first and re-reads the loaded modules once when not found there.
bool in_module_image(uintptr_t a, size_t size);

// The calling thread's instance of the TLS block of the module that holds the emu runtime (and the
// kernels linked with it): [begin, end). Allocates it for this thread if needed (workers only).
bool own_tls_block(uintptr_t* begin, uintptr_t* end);

// "function+0xoff (module+0xoff)" for a code address of the runtime's module; "0x..." when unknown.
void describe_code(uintptr_t pc, char* out, size_t cap);

// The thread-local variable (a kernel's static __shared__ array) at offset `off` of the module's TLS
// block: a short name ("kernel<...>::As"), the offset inside it and its size. false when unknown.
bool tls_symbol(size_t off, char* name, size_t cap, size_t* sym_off, size_t* sym_size);

}  // namespace jt_emu
