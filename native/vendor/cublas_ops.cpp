// jt_vendor_sgemm (vendor_ops.h) over the cuBLAS loading and handle of vendor.cpp, and jt_vendor_code_name.
// Row-major C = op(A) op(B) becomes column-major C^T = op(B)^T op(A)^T inside jt::vendor::cublas_sgemm
// (operands and m/n swapped), so no data is transposed.
#include <string>

#include "vendor.h"
#include "vendor_ops.h"
#include "vendor_status.h"

extern "C" const char* jt_vendor_code_name(int code) {
    switch (code) {
        case JT_VENDOR_OK: return "OK";
        case JT_VENDOR_UNAVAILABLE: return "UNAVAILABLE";
        case JT_VENDOR_INVALID: return "INVALID";
        case JT_VENDOR_UNSUPPORTED: return "UNSUPPORTED";
        case JT_VENDOR_LIBRARY_ERROR: return "LIBRARY_ERROR";
        case JT_VENDOR_CUDA_ERROR: return "CUDA_ERROR";
        default: return "UNKNOWN";
    }
}

extern "C" int jt_vendor_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                               const float* B, int ldb, float beta, float* C, int ldc, int pedantic,
                               cudaStream_t stream, jt_vendor_status* status) {
    using namespace jt::vendor;
    StatusOut st(status);
    const char* op = "jt_vendor_sgemm";
    const LibraryInfo& info = cublas_info();
    if (!info.applicable) return st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "%s", info.detail.c_str());
    if (!info.found) return st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "%s", info.detail.c_str());
    if (m < 1 || n < 1 || k < 1) return st.invalid(op, "m, n and k must be >= 1");
    if (A == nullptr || B == nullptr || C == nullptr) return st.invalid(op, "A, B and C must not be null");
    if (lda < (transA ? m : k)) return st.invalid(op, transA ? "lda must be >= m (A transposed)" : "lda must be >= k");
    if (ldb < (transB ? k : n)) return st.invalid(op, transB ? "ldb must be >= k (B transposed)" : "ldb must be >= n");
    if (ldc < n) return st.invalid(op, "ldc must be >= n");
    const char* call = "";
    int s = cublas_sgemm(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, stream, pedantic != 0, &call);
    if (s == 0) return st.ok();
    if (std::string(call) == "cudaGetDevice") {
        return st.set(JT_VENDOR_CUDA_ERROR, s, call, cudaGetErrorName((cudaError_t)s), "%s: %s failed: %s", op, call,
                      cudaGetErrorString((cudaError_t)s));
    }
    if (std::string(call) == "load") return st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "%s", info.detail.c_str());
    const std::string name = cublas_status_name(s);
    return st.set(JT_VENDOR_LIBRARY_ERROR, s, call, name.c_str(), "%s: %s returned %s (%s)", op, call, name.c_str(),
                  cublas_status_string(s).c_str());
}
