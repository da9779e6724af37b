// Run-time loading of cuBLAS and cuDNN 9 (see vendor.h for the lookup order and what is exposed).
#include "vendor.h"

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#if !defined(__CUDACC__) && !defined(JT_CUDA_REAL)

// ------------------------------------------------------------------ emu: nothing to load

namespace jt {
namespace vendor {

static LibraryInfo not_applicable(const char* name) {
    LibraryInfo info;
    info.name = name;
    info.detail = "not applicable on emu (cuBLAS/cuDNN run only on a real GPU, through libjtrain_cuda.so)";
    return info;
}

const LibraryInfo& cublas_info() {
    static const LibraryInfo info = not_applicable("cublas");
    return info;
}

const LibraryInfo& cudnn_info() {
    static const LibraryInfo info = not_applicable("cudnn");
    return info;
}

int cublas_sgemm(int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int,
                 cudaStream_t, bool, const char** call) {
    *call = "load";
    return -1;
}

std::string cublas_status_name(int status) { return "CUBLAS_STATUS_" + std::to_string(status); }
std::string cublas_status_string(int) { return "cuBLAS is not applicable on emu"; }

int cudnn_handle_check(const char** call) {
    *call = "load";
    return -1;
}

std::string cudnn_error_string(int) { return "cuDNN is not applicable on emu"; }

}  // namespace vendor
}  // namespace jt

#else  // the CUDA build (JT_CUDA_REAL: host compiler, real CUDA runtime)

#include <dlfcn.h>
#include <glob.h>
#include <sys/stat.h>

// ------------------------------------------------------------------ the C ABI we use (no vendor headers here)

extern "C" {
typedef struct cublasContext* cublasHandle_t;
typedef int cublasStatus_t;  // CUBLAS_STATUS_SUCCESS = 0
typedef int cublasOperation_t;  // CUBLAS_OP_N = 0, CUBLAS_OP_T = 1
typedef int cublasMath_t;  // CUBLAS_DEFAULT_MATH = 0, CUBLAS_PEDANTIC_MATH = 2
typedef int jt_library_property_t;  // libraryPropertyType: MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2

typedef cublasStatus_t (*cublasCreate_v2_t)(cublasHandle_t*);
typedef cublasStatus_t (*cublasDestroy_v2_t)(cublasHandle_t);
typedef cublasStatus_t (*cublasSetStream_v2_t)(cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*cublasSetMathMode_t)(cublasHandle_t, cublasMath_t);
typedef cublasStatus_t (*cublasSgemm_v2_t)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                          const float*, const float*, int, const float*, int, const float*, float*,
                                          int);
typedef cublasStatus_t (*cublasGetVersion_v2_t)(cublasHandle_t, int*);
typedef cublasStatus_t (*cublasGetProperty_t)(jt_library_property_t, int*);
typedef const char* (*cublasGetStatusName_t)(cublasStatus_t);
typedef const char* (*cublasGetStatusString_t)(cublasStatus_t);

typedef struct cudnnContext* cudnnHandle_t;
typedef int cudnnStatus_t;  // CUDNN_STATUS_SUCCESS = 0
typedef size_t (*cudnnGetVersion_t)(void);
typedef cudnnStatus_t (*cudnnCreate_t)(cudnnHandle_t*);
typedef cudnnStatus_t (*cudnnDestroy_t)(cudnnHandle_t);
typedef const char* (*cudnnGetErrorString_t)(cudnnStatus_t);
}

namespace jt {
namespace vendor {

namespace {

constexpr int kCublasOpN = 0;
constexpr int kCublasOpT = 1;
constexpr int kCublasDefaultMath = 0;
constexpr int kCublasPedanticMath = 2;

struct Cublas {
    LibraryInfo info;
    void* handle_lib = nullptr;
    cublasCreate_v2_t create = nullptr;
    cublasDestroy_v2_t destroy = nullptr;
    cublasSetStream_v2_t set_stream = nullptr;
    cublasSetMathMode_t set_math_mode = nullptr;
    cublasSgemm_v2_t sgemm = nullptr;
    cublasGetVersion_v2_t get_version = nullptr;
    cublasGetProperty_t get_property = nullptr;          // optional
    cublasGetStatusName_t status_name = nullptr;         // optional (cuBLAS >= 11.4)
    cublasGetStatusString_t status_string = nullptr;     // optional
    std::mutex mu;                                       // one call at a time per handle
    std::vector<cublasHandle_t> handles;                 // per device, created lazily
    std::vector<int> math_modes;                         // the mode last set on each handle
};

struct Cudnn {
    LibraryInfo info;
    void* handle_lib = nullptr;
    cudnnGetVersion_t get_version = nullptr;
    cudnnCreate_t create = nullptr;
    cudnnDestroy_t destroy = nullptr;
    cudnnGetErrorString_t error_string = nullptr;
    int cudart_major = 0;  // the CUDA major version cuDNN was built for (cudnnGetCudartVersion), 0 = unknown
};

Cublas& cublas_state() {
    static Cublas* c = new Cublas();  // never destroyed: handles live until the process ends
    return *c;
}

Cudnn& cudnn_state() {
    static Cudnn* c = new Cudnn();
    return *c;
}

bool is_dir(const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string loaded_path(void* lib, void* sym, const std::string& fallback) {
    Dl_info di;
    if (sym != nullptr && dladdr(sym, &di) != 0 && di.dli_fname != nullptr) return di.dli_fname;
    (void)lib;
    return fallback;
}

// The lib folders of NVIDIA's Python wheels that hold `soname`, in search order.
std::vector<std::string> wheel_candidates(const char* soname) {
    std::vector<std::string> roots;
    auto add_env_list = [&](const char* var) {
        const char* v = getenv(var);
        if (v == nullptr) return;
        std::string s(v);
        size_t start = 0;
        while (start <= s.size()) {
            size_t colon = s.find(':', start);
            std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            if (!part.empty()) roots.push_back(part);
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    };
    add_env_list("PYTHONPATH");
    if (const char* v = getenv("VIRTUAL_ENV")) roots.push_back(std::string(v) + "/lib/python3*/site-packages");
    if (const char* v = getenv("CONDA_PREFIX")) roots.push_back(std::string(v) + "/lib/python3*/site-packages");
    if (const char* v = getenv("HOME")) roots.push_back(std::string(v) + "/.local/lib/python3*/site-packages");
    roots.push_back("/usr/local/lib/python3*/site-packages");
    roots.push_back("/usr/local/lib/python3*/dist-packages");
    roots.push_back("/usr/lib/python3*/site-packages");
    roots.push_back("/usr/lib/python3/dist-packages");
    roots.push_back("/opt/conda/lib/python3*/site-packages");

    std::vector<std::string> found;
    for (const std::string& root : roots) {
        std::string pattern = root + "/nvidia/*/lib/" + soname;
        glob_t g;
        if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; ++i) {
                std::string p = g.gl_pathv[i];
                bool dup = false;
                for (const std::string& f : found) dup = dup || f == p;
                if (!dup) found.push_back(p);
            }
        }
        globfree(&g);
    }
    return found;
}

// Tries to dlopen `what`; on failure appends the reason to *tried.
void* try_open(const std::string& what, std::string* tried) {
    dlerror();
    void* h = dlopen(what.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
        const char* e = dlerror();
        std::string why = e ? e : "cannot open";
        if (why.compare(0, what.size() + 2, what + ": ") == 0) why = why.substr(what.size() + 2);  // no repeat
        if (!tried->empty()) *tried += "; ";
        *tried += what + ": " + why;
    }
    return h;
}

// Opens a library by the lookup order of vendor.h. resolve() returns "" when every required symbol is
// there, else a description of what is missing (then the next candidate is tried).
template <class Resolve>
void* open_library(const char* env_var, const std::vector<const char*>& sonames, Resolve resolve, std::string* how,
                   std::string* tried) {
    auto accept = [&](void* h, const std::string& what) -> bool {
        if (h == nullptr) return false;
        std::string missing = resolve(h);
        if (missing.empty()) {
            *how = what;
            return true;
        }
        if (!tried->empty()) *tried += "; ";
        *tried += what + ": " + missing;
        dlclose(h);
        return false;
    };
    const char* explicit_path = getenv(env_var);
    if (explicit_path != nullptr && *explicit_path != '\0') {
        std::string p(explicit_path);
        if (is_dir(p)) {
            for (const char* so : sonames) {
                std::string full = p + "/" + so;
                void* h = try_open(full, tried);
                if (accept(h, std::string(env_var) + " folder " + full)) return h;
            }
        } else {
            void* h = try_open(p, tried);
            if (accept(h, std::string(env_var) + "=" + p)) return h;
        }
        *tried = std::string(env_var) + " is set, so only it was tried: " + *tried;
        return nullptr;
    }
    for (const char* so : sonames) {
        void* h = try_open(so, tried);
        if (accept(h, std::string("loader path (") + so + ")")) return h;
    }
    bool any_wheel = false;
    for (const char* so : sonames) {
        for (const std::string& p : wheel_candidates(so)) {
            any_wheel = true;
            void* h = try_open(p, tried);
            if (accept(h, "Python wheel folder " + p)) return h;
        }
    }
    if (!any_wheel) {
        if (!tried->empty()) *tried += "; ";
        *tried += "no NVIDIA Python wheel folder (site-packages/nvidia/*/lib) holds it";
    }
    return nullptr;
}

template <class F>
bool sym(void* h, const char* name, F* out, std::string* missing) {
    *out = reinterpret_cast<F>(dlsym(h, name));
    if (*out == nullptr) {
        if (!missing->empty()) *missing += ", ";
        *missing += name;
        return false;
    }
    return true;
}

std::once_flag g_cublas_once, g_cudnn_once;
void load_cudnn();

// The cuBLAS candidates, best first: cuDNN loads the cublasLt of the CUDA it was built for (a cuDNN for
// CUDA 12 needs libcublasLt.so.12), and one process should hold one cuBLAS generation, so when cuDNN is
// found its CUDA major goes first, from cuDNN's own installation (a wheel's nvidia/cudnn/lib has its
// cuBLAS in the sibling nvidia/cublas/lib) before the loader path.
std::vector<std::string> cublas_candidates(std::string* why) {
    std::call_once(g_cudnn_once, load_cudnn);
    const Cudnn& dnn = cudnn_state();
    std::vector<std::string> out;
    const int major = dnn.info.found ? dnn.cudart_major : 0;
    if (major == 12 || major == 13) {
        const std::string so = "libcublas.so." + std::to_string(major);
        const std::string& path = dnn.info.path;
        const size_t at = path.rfind("/cudnn/lib/");
        if (at != std::string::npos) {
            const std::string sibling = path.substr(0, at) + "/cublas/lib/" + so;
            struct stat st;
            if (stat(sibling.c_str(), &st) == 0) out.push_back(sibling);
        }
        out.push_back(so);
        *why = "CUDA " + std::to_string(major) + " first, to match cuDNN";
    }
    for (const char* so : {"libcublas.so.13", "libcublas.so.12"}) {
        if (std::find(out.begin(), out.end(), so) == out.end()) out.push_back(so);
    }
    return out;
}

void load_cublas() {
    Cublas& c = cublas_state();
    c.info.name = "cublas";
    c.info.applicable = true;
    std::string how, tried, order;
    const std::vector<std::string> names = cublas_candidates(&order);
    std::vector<const char*> sonames;
    for (const std::string& n : names) sonames.push_back(n.c_str());
    void* h = open_library(
        "JTRAIN_CUBLAS", sonames,
        [&](void* lib) -> std::string {
            std::string missing;
            sym(lib, "cublasCreate_v2", &c.create, &missing);
            sym(lib, "cublasDestroy_v2", &c.destroy, &missing);
            sym(lib, "cublasSetStream_v2", &c.set_stream, &missing);
            sym(lib, "cublasSetMathMode", &c.set_math_mode, &missing);
            sym(lib, "cublasSgemm_v2", &c.sgemm, &missing);
            sym(lib, "cublasGetVersion_v2", &c.get_version, &missing);
            return missing.empty() ? "" : "missing symbols " + missing;
        },
        &how, &tried);
    if (h == nullptr) {
        c.info.detail = "cuBLAS not found: " + tried;
        return;
    }
    std::string ignored;
    sym(h, "cublasGetProperty", &c.get_property, &ignored);
    sym(h, "cublasGetStatusName", &c.status_name, &ignored);
    sym(h, "cublasGetStatusString", &c.status_string, &ignored);
    c.handle_lib = h;
    c.info.found = true;
    c.info.path = loaded_path(h, reinterpret_cast<void*>(c.sgemm), how);
    if (c.get_property != nullptr) {
        int major = 0, minor = 0, patch = 0;
        if (c.get_property(0, &major) == 0 && c.get_property(1, &minor) == 0 && c.get_property(2, &patch) == 0) {
            c.info.version = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
        }
    }
    if (c.info.version.empty()) c.info.version = "unknown (needs a handle: cublasGetVersion_v2)";
    c.info.detail = "found through " + how + (order.empty() ? "" : " (" + order + ")");
}

void load_cudnn() {
    Cudnn& c = cudnn_state();
    c.info.name = "cudnn";
    c.info.applicable = true;
    std::string how, tried;
    void* h = open_library(
        "JTRAIN_CUDNN", {"libcudnn.so.9"},
        [&](void* lib) -> std::string {
            std::string missing;
            sym(lib, "cudnnGetVersion", &c.get_version, &missing);
            sym(lib, "cudnnCreate", &c.create, &missing);
            sym(lib, "cudnnDestroy", &c.destroy, &missing);
            sym(lib, "cudnnGetErrorString", &c.error_string, &missing);
            if (!missing.empty()) return "missing symbols " + missing;
            // Before the first call into the shim (it would abort without its sub-libraries).
            std::string sub = cudnn_open_sublibraries(lib);
            if (!sub.empty()) return sub;
            size_t v = c.get_version();
            if (v / 10000 != 9) return "cuDNN version " + std::to_string(v) + " is not 9.x (jtrain needs cuDNN 9)";
            return "";
        },
        &how, &tried);
    if (h == nullptr) {
        c.info.detail = "cuDNN not found: " + tried;
        return;
    }
    c.handle_lib = h;
    c.info.found = true;
    c.info.path = loaded_path(h, reinterpret_cast<void*>(c.get_version), how);
    size_t v = c.get_version();
    c.info.version = std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." + std::to_string(v % 100);
    typedef size_t (*cudnnGetCudartVersion_t)(void);
    cudnnGetCudartVersion_t cudart = nullptr;
    std::string ignored;
    if (sym(h, "cudnnGetCudartVersion", &cudart, &ignored)) c.cudart_major = (int)(cudart() / 1000);
    c.info.detail = "found through " + how + "; " + cudnn_bind_ops();
}


}  // namespace

const LibraryInfo& cublas_info() {
    std::call_once(g_cublas_once, load_cublas);
    return cublas_state().info;
}

const LibraryInfo& cudnn_info() {
    std::call_once(g_cudnn_once, load_cudnn);
    return cudnn_state().info;
}

std::string cublas_status_name(int status) {
    Cublas& c = cublas_state();
    if (c.status_name != nullptr) {
        const char* s = c.status_name(status);
        if (s != nullptr) return s;
    }
    switch (status) {
        case 0: return "CUBLAS_STATUS_SUCCESS";
        case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
        case 7: return "CUBLAS_STATUS_INVALID_VALUE";
        case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
        case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
        case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
        case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
        case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
        case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
        default: return "CUBLAS_STATUS_" + std::to_string(status);
    }
}

std::string cublas_status_string(int status) {
    Cublas& c = cublas_state();
    if (c.status_string != nullptr) {
        const char* s = c.status_string(status);
        if (s != nullptr) return s;
    }
    return cublas_status_name(status);
}

int cublas_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
                 int ldb, float beta, float* C, int ldc, cudaStream_t stream, bool pedantic, const char** call) {
    if (!cublas_info().found) {
        *call = "load";
        return -1;
    }
    Cublas& c = cublas_state();
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) {
        *call = "cudaGetDevice";
        return (int)e;
    }
    std::lock_guard<std::mutex> lock(c.mu);
    if ((int)c.handles.size() <= device) {
        c.handles.resize(device + 1, nullptr);
        c.math_modes.resize(device + 1, -1);
    }
    cublasHandle_t& h = c.handles[device];
    if (h == nullptr) {
        cublasStatus_t s = c.create(&h);
        if (s != 0) {
            h = nullptr;
            *call = "cublasCreate_v2";
            return s;
        }
    }
    const int mode = pedantic ? kCublasPedanticMath : kCublasDefaultMath;
    if (c.math_modes[device] != mode) {
        cublasStatus_t s = c.set_math_mode(h, mode);
        if (s != 0) {
            *call = "cublasSetMathMode";
            return s;
        }
        c.math_modes[device] = mode;
    }
    cublasStatus_t s = c.set_stream(h, stream);
    if (s != 0) {
        *call = "cublasSetStream_v2";
        return s;
    }
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands and m/n.
    s = c.sgemm(h, transB ? kCublasOpT : kCublasOpN, transA ? kCublasOpT : kCublasOpN, n, m, k, &alpha, B, ldb, A,
                lda, &beta, C, ldc);
    if (s != 0) {
        *call = "cublasSgemm_v2";
        return s;
    }
    return 0;
}

int cudnn_handle_check(const char** call) {
    if (!cudnn_info().found) {
        *call = "load";
        return -1;
    }
    Cudnn& c = cudnn_state();
    cudnnHandle_t h = nullptr;
    cudnnStatus_t s = c.create(&h);
    if (s != 0) {
        *call = "cudnnCreate";
        return s;
    }
    s = c.destroy(h);
    if (s != 0) {
        *call = "cudnnDestroy";
        return s;
    }
    return 0;
}

std::string cudnn_error_string(int status) {
    Cudnn& c = cudnn_state();
    if (c.error_string != nullptr) {
        const char* s = c.error_string(status);
        if (s != nullptr) return s;
    }
    return "CUDNN_STATUS_" + std::to_string(status);
}

}  // namespace vendor
}  // namespace jt

#endif  // the CUDA build

namespace jt {
namespace vendor {

static void append_line(std::string* out, const LibraryInfo& info) {
    auto clean = [](std::string s) {
        for (char& ch : s) {
            if (ch == '\t' || ch == '\n') ch = ' ';
        }
        return s;
    };
    *out += info.name;
    *out += '\t';
    *out += !info.applicable ? "n/a" : info.found ? "found" : "missing";
    *out += '\t' + clean(info.path) + '\t' + clean(info.version) + '\t' + clean(info.detail) + '\n';
}

std::string report() {
    std::string out;
    append_line(&out, cublas_info());
    append_line(&out, cudnn_info());
    return out;
}

}  // namespace vendor
}  // namespace jt
