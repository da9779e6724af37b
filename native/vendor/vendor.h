// cuBLAS and cuDNN, loaded at run time with dlopen/dlsym (no link-time dependency: docs/architecture.md,
// section 2):
// no vendor headers exist on the build machines, so the few C functions used are declared in
// vendor.cpp with their stable C ABI. Only the CUDA build loads them; under emu every query answers
// "not applicable on emu". Nothing fails to load when a vendor library is absent: the capability
// query says what was found (path, version) or why not.
//
// Lookup order, per library: the explicit path in JTRAIN_CUBLAS / JTRAIN_CUDNN (a file, or a folder
// holding the soname; when set it is the only place tried), the standard sonames on the loader path
// (libcublas.so.13, libcublas.so.12; libcudnn.so.9), then the lib folders of NVIDIA's Python wheels
// (site-packages/nvidia/*/lib) under PYTHONPATH, VIRTUAL_ENV, CONDA_PREFIX, ~/.local and the system
// Python folders.
//
// cuDNN: vendor.cpp loads the shim libcudnn.so.9 and reads its version and error strings and can create/
// destroy a handle; cudnn_ops.cpp opens the sub-libraries (graph, ops, cnn, engines) from the shim's folder
// and binds the convolution, BatchNorm, activation and pooling calls (vendor_ops.h: jt_vendor_*).
#pragma once

#include <stdint.h>

#include <string>

#include "common.cuh"

namespace jt {
namespace vendor {

struct LibraryInfo {
    bool applicable = false;  // false on emu
    bool found = false;       // loaded and its required symbols resolved
    std::string name;         // "cublas" or "cudnn"
    std::string path;         // the file loaded
    std::string version;      // e.g. "13.0.2" (cuBLAS), "9.10.2" (cuDNN)
    std::string detail;       // how it was found, or every place tried and why each failed
};

// Loads (once, thread-safe) and describes each library.
const LibraryInfo& cublas_info();
const LibraryInfo& cudnn_info();

// One line per library: name, state (found / missing / n/a), path, version, detail, tab-separated.
std::string report();

// Row-major SGEMM through cuBLAS on the library's handle for the current device: C = alpha op(A) op(B) +
// beta C with the same argument meaning as jt_gemm_sgemm (no bias/ReLU). The handle uses
// CUBLAS_PEDANTIC_MATH when pedantic (no TF32, no reduced-precision reductions: compare FP32 with our
// kernels), else CUBLAS_DEFAULT_MATH (also no TF32 for FP32). Returns 0 or the cuBLAS status; *call names
// the failing function. -1 with *call = "load" when cuBLAS is not loaded.
int cublas_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                 int ldb, float beta, float* C, int ldc, cudaStream_t stream, bool pedantic, const char** call);

// cuBLAS's name and description of a status (from cublasGetStatusName/String when the library has them).
std::string cublas_status_name(int status);
std::string cublas_status_string(int status);

// Creates and destroys a cuDNN handle (needs a GPU). Returns 0 or the cuDNN status; -1 when not loaded.
int cudnn_handle_check(const char** call);
std::string cudnn_error_string(int status);

// cuDNN 9's sub-libraries (defined in cudnn_ops.cpp; used by vendor.cpp while it loads cuDNN).
// libcudnn.so.9 forwards every call to a sub-library it opens by soname and aborts the process when that
// fails, so before the first call into a candidate shim, cudnn_open_sublibraries opens libcudnn_graph.so.9
// (required), the engine libraries and libcudnn_ops/cnn.so.9 (optional) from the shim's folder, falling
// back to the loader path. Returns "" or why this candidate cannot be used.
std::string cudnn_open_sublibraries(void* shim);
// Binds the op groups (convolution, BatchNorm, activation, pooling) from the sub-libraries and describes
// what was bound or why not, for the capability report.
std::string cudnn_bind_ops();

}  // namespace vendor
}  // namespace jt
