// The cuDNN 9 calls of the vendor path (vendor_ops.h): convolution forward / backward-data / backward-filter /
// bias, BatchNorm forward-training / inference / backward, activations and pooling, through the legacy API
// declared in cudnn_api.h and resolved with dlsym from the sub-library that owns each symbol. Under emu
// every launcher answers JT_VENDOR_UNAVAILABLE ("not applicable on emu").
#include "vendor_ops.h"

#include <stdlib.h>
#include <string.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cudnn_api.h"
#include "vendor.h"
#include "vendor_status.h"

using jt::vendor::StatusOut;

#if !defined(__CUDACC__) && !defined(JT_CUDA_REAL)

// ------------------------------------------------------------------ emu: nothing to call

namespace jt {
namespace vendor {
std::string cudnn_open_sublibraries(void*) { return "not applicable on emu"; }
std::string cudnn_bind_ops() { return "not applicable on emu"; }
}  // namespace vendor
}  // namespace jt

namespace {
int unavailable(jt_vendor_status* status) {
    StatusOut st(status);
    return st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "%s", jt::vendor::cudnn_info().detail.c_str());
}
}  // namespace

extern "C" {
int jt_vendor_conv2d_forward(const float*, const float*, const float*, float*, int, int, int, int, int, int, int, int,
                             int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_conv2d_backward_data(const float*, const float*, float*, int, int, int, int, int, int, int, int, int,
                                   int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_conv2d_backward_filter(const float*, const float*, float*, int, int, int, int, int, int, int, int, int,
                                     int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_conv2d_backward_bias(const float*, float*, int, int, int, int, int, cudaStream_t,
                                   jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_batchnorm_forward_train(const float*, const float*, const float*, float, float, float*, float*, float*,
                                      float*, float*, int, int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_batchnorm_forward_inference(const float*, const float*, const float*, const float*, const float*, float,
                                          float*, int, int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_batchnorm_backward(const float*, const float*, const float*, const float*, const float*, float, float*,
                                 float*, float*, int, int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_activation_forward(int, const float*, float*, int64_t, float, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_activation_backward(int, const float*, const float*, const float*, float*, int64_t, float,
                                  cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_pool_forward(int, const float*, float*, int, int, int, int, int, int, int, int, int, int, cudaStream_t,
                           jt_vendor_status* st) {
    return unavailable(st);
}
int jt_vendor_pool_backward(int, const float*, const float*, const float*, float*, int, int, int, int, int, int, int,
                            int, int, int, cudaStream_t, jt_vendor_status* st) {
    return unavailable(st);
}
}  // extern "C"

#else  // the CUDA build

#include <dlfcn.h>

#include <initializer_list>

#include "activation_math.h"

namespace {

// Shape checks (after the availability check, which comes first everywhere: a missing library is the more
// useful message).
bool positive(std::initializer_list<int64_t> v) {
    for (int64_t x : v) {
        if (x < 1) return false;
    }
    return true;
}

// Output size of a window (convolution, pooling); 0 when the padded input is smaller than the window.
int out_size(int in, int k, int s, int p) {
    const int64_t padded = (int64_t)in + 2 * (int64_t)p;
    if (padded < k) return 0;
    return (int)((padded - k) / s + 1);
}

}  // namespace


namespace {

// ------------------------------------------------------------------ the sub-libraries and their symbols

struct Bound {
    // what was opened
    std::string folder;                     // the shim's folder
    void* graph = nullptr;
    void* ops = nullptr;
    void* cnn = nullptr;
    std::string opened;                     // "libcudnn_graph.so.9 (folder), ..." for the report
    std::string optional_missing;           // engine libraries that did not open (cuDNN reports it if it needs them)
    std::string graph_error, ops_error, cnn_error;
    bool bound = false;                     // cudnn_bind_ops ran

    // groups: usable, or why not
    bool handle_ok = false, ops_ok = false, cnn_ok = false;
    std::string handle_why, ops_why, cnn_why;

    // graph
    cudnnCreate_fn create = nullptr;
    cudnnDestroy_fn destroy = nullptr;
    cudnnSetStream_fn set_stream = nullptr;
    const char* (*error_string)(cudnnStatus_t) = nullptr;
    // ops
    cudnnCreateTensorDescriptor_fn create_tensor = nullptr;
    cudnnSetTensor4dDescriptor_fn set_tensor4d = nullptr;
    cudnnDestroyTensorDescriptor_fn destroy_tensor = nullptr;
    cudnnCreateFilterDescriptor_fn create_filter = nullptr;
    cudnnSetFilter4dDescriptor_fn set_filter4d = nullptr;
    cudnnDestroyFilterDescriptor_fn destroy_filter = nullptr;
    cudnnAddTensor_fn add_tensor = nullptr;
    cudnnCreateActivationDescriptor_fn create_activation = nullptr;
    cudnnSetActivationDescriptor_fn set_activation = nullptr;
    cudnnDestroyActivationDescriptor_fn destroy_activation = nullptr;
    cudnnActivationForward_fn activation_forward = nullptr;
    cudnnActivationBackward_fn activation_backward = nullptr;
    cudnnCreatePoolingDescriptor_fn create_pooling = nullptr;
    cudnnSetPooling2dDescriptor_fn set_pooling2d = nullptr;
    cudnnDestroyPoolingDescriptor_fn destroy_pooling = nullptr;
    cudnnPoolingForward_fn pooling_forward = nullptr;
    cudnnPoolingBackward_fn pooling_backward = nullptr;
    cudnnBatchNormalizationForwardTraining_fn bn_forward_training = nullptr;
    cudnnBatchNormalizationForwardInference_fn bn_forward_inference = nullptr;
    cudnnBatchNormalizationBackward_fn bn_backward = nullptr;
    // cnn
    cudnnCreateConvolutionDescriptor_fn create_conv = nullptr;
    cudnnDestroyConvolutionDescriptor_fn destroy_conv = nullptr;
    cudnnSetConvolution2dDescriptor_fn set_conv2d = nullptr;
    cudnnSetConvolutionMathType_fn set_conv_math = nullptr;
    cudnnGetConvolutionForwardAlgorithm_v7_fn fwd_algos = nullptr;
    cudnnGetConvolutionBackwardDataAlgorithm_v7_fn bwd_data_algos = nullptr;
    cudnnGetConvolutionBackwardFilterAlgorithm_v7_fn bwd_filter_algos = nullptr;
    cudnnGetConvolutionForwardWorkspaceSize_fn fwd_ws = nullptr;
    cudnnGetConvolutionBackwardDataWorkspaceSize_fn bwd_data_ws = nullptr;
    cudnnGetConvolutionBackwardFilterWorkspaceSize_fn bwd_filter_ws = nullptr;
    cudnnConvolutionForward_fn conv_forward = nullptr;
    cudnnConvolutionBackwardData_fn conv_backward_data = nullptr;
    cudnnConvolutionBackwardFilter_fn conv_backward_filter = nullptr;
    cudnnConvolutionBackwardBias_fn conv_backward_bias = nullptr;
};

Bound& B() {
    static Bound* b = new Bound();  // never destroyed: the libraries stay loaded until the process ends
    return *b;
}

std::mutex g_bind_mu;

// Opens `soname` from `folder` (when known), else by soname on the loader path. "" on success.
void* open_sub(const std::string& folder, const char* soname, std::string* error, std::string* where) {
    std::string tried;
    if (!folder.empty()) {
        std::string full = folder + "/" + soname;
        dlerror();
        void* h = dlopen(full.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (h != nullptr) {
            *where = full;
            return h;
        }
        const char* e = dlerror();
        std::string why = e ? e : "cannot open";
        if (why.compare(0, full.size() + 2, full + ": ") == 0) why = why.substr(full.size() + 2);  // no repeat
        tried = full + ": " + why;
    }
    dlerror();
    void* h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h != nullptr) {
        *where = std::string(soname) + " (loader path)";
        return h;
    }
    const char* e = dlerror();
    std::string why = e ? e : "cannot open";
    const std::string prefix = std::string(soname) + ": ";
    if (why.compare(0, prefix.size(), prefix) == 0) why = why.substr(prefix.size());
    if (!tried.empty()) tried += "; ";
    tried += std::string(soname) + " on the loader path: " + why;
    *error = tried;
    return nullptr;
}

template <class F>
void need(void* lib, const char* name, F* out, std::string* missing) {
    *out = lib != nullptr ? reinterpret_cast<F>(dlsym(lib, name)) : nullptr;
    if (*out == nullptr) {
        if (!missing->empty()) *missing += ", ";
        *missing += name;
    }
}

std::string status_name(int s);

std::string status_text(int s) {
    const Bound& b = B();
    std::string t = status_name(s);
    if (b.error_string != nullptr) {
        const char* e = b.error_string(s);
        if (e != nullptr && *e) t = e;
    }
    return t;
}

// A version check of a sub-library: "" or why it failed.
std::string version_check(void* lib, const char* fn) {
    cudnnVersionCheck_fn f = lib != nullptr ? reinterpret_cast<cudnnVersionCheck_fn>(dlsym(lib, fn)) : nullptr;
    if (f == nullptr) return "";  // optional
    int s = f();
    if (s == 0) return "";
    return std::string(fn) + " returned " + status_name(s) + " (the sub-libraries are of different versions)";
}

// ------------------------------------------------------------------ status names (cuDNN 9 numbering)

std::string status_name(int s) {
    switch (s) {
        case 0: return "CUDNN_STATUS_SUCCESS";
        case 1001: return "CUDNN_STATUS_NOT_INITIALIZED";
        case 1002: return "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH";
        case 1003: return "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH";
        case 1004: return "CUDNN_STATUS_DEPRECATED";
        case 1005: return "CUDNN_STATUS_LICENSE_ERROR";
        case 1006: return "CUDNN_STATUS_RUNTIME_IN_PROGRESS";
        case 1007: return "CUDNN_STATUS_RUNTIME_FP_OVERFLOW";
        case 1008: return "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED";
        case 2000: return "CUDNN_STATUS_BAD_PARAM";
        case 2001: return "CUDNN_STATUS_INVALID_VALUE";
        case 2002: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
        case 2003: return "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER";
        case 2004: return "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED";
        case 2005: return "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND";
        case 2006: return "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT";
        case 2007: return "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH";
        case 2008: return "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH";
        case 3000: return "CUDNN_STATUS_NOT_SUPPORTED";
        case 3001: return "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN";
        case 3002: return "CUDNN_STATUS_NOT_SUPPORTED_SHAPE";
        case 3003: return "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE";
        case 3004: return "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT";
        case 3005: return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER";
        case 3006: return "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART";
        case 3007: return "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH";
        case 3008: return "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING";
        case 3009: return "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE";
        case 3010: return "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT";
        case 3011: return "CUDNN_STATUS_NOT_SUPPORTED_PADDING";
        case 3012: return "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM";
        case 4000: return "CUDNN_STATUS_INTERNAL_ERROR";
        case 4001: return "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED";
        case 4002: return "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE";
        case 4003: return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
        case 4004: return "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED";
        case 4005: return "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM";
        case 4006: return "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED";
        case 5000: return "CUDNN_STATUS_EXECUTION_FAILED";
        case 5001: return "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER";
        case 5002: return "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS";
        case 5003: return "CUDNN_STATUS_EXECUTION_FAILED_CUDART";
        case 5004: return "CUDNN_STATUS_EXECUTION_FAILED_CURAND";
        default: return "CUDNN_STATUS_" + std::to_string(s);
    }
}

bool not_supported(int s) { return s >= 3000 && s < 4000; }

}  // namespace

namespace jt {
namespace vendor {

std::string cudnn_open_sublibraries(void* shim) {
    std::lock_guard<std::mutex> lock(g_bind_mu);
    Bound& b = B();
    char origin[4096] = {0};
    std::string folder;
    if (dlinfo(shim, RTLD_DI_ORIGIN, origin) == 0) folder = origin;
    if (b.graph != nullptr && folder == b.folder) return "";  // this candidate was prepared already
    b.folder = folder;
    b.opened.clear();
    // cuDNN's sub-libraries need cuBLAS / cuBLASLt (the cuDNN wheels depend on the cuBLAS wheel): with cuBLAS
    // loaded first, their NEEDED entries resolve to it by soname even when its folder is not on the loader path.
    (void)jt::vendor::cublas_info();
    b.optional_missing.clear();
    std::string where;
    b.graph = open_sub(folder, "libcudnn_graph.so.9", &b.graph_error, &where);
    if (b.graph == nullptr) {
        return "its sub-library libcudnn_graph.so.9 cannot be loaded (" + b.graph_error +
               "); cuDNN would abort the process at its first call";
    }
    b.opened = where;
    // Engines and heuristics: cuDNN opens them itself (by soname) when a convolution needs them; opened here
    // from the same folder so that it finds these. The runtime-compiled engines also need NVRTC.
    for (const char* so : {"libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9",
                           "libcudnn_heuristic.so.9"}) {
        std::string err;
        if (open_sub(folder, so, &err, &where) != nullptr) {
            b.opened += ", " + where;
        } else {
            if (!b.optional_missing.empty()) b.optional_missing += ", ";
            b.optional_missing += so;
        }
    }
    b.ops = open_sub(folder, "libcudnn_ops.so.9", &b.ops_error, &where);
    if (b.ops != nullptr) b.opened += ", " + where;
    b.cnn = open_sub(folder, "libcudnn_cnn.so.9", &b.cnn_error, &where);
    if (b.cnn != nullptr) b.opened += ", " + where;
    return "";
}

std::string cudnn_bind_ops() {
    std::lock_guard<std::mutex> lock(g_bind_mu);
    Bound& b = B();
    b.bound = true;
    // handle (graph)
    {
        std::string missing;
        need(b.graph, "cudnnCreate", &b.create, &missing);
        need(b.graph, "cudnnDestroy", &b.destroy, &missing);
        need(b.graph, "cudnnSetStream", &b.set_stream, &missing);
        std::string ignored;
        need(b.graph, "cudnnGetErrorString", &b.error_string, &ignored);
        std::string vc = version_check(b.graph, "cudnnGraphVersionCheck");
        if (b.graph == nullptr) {
            b.handle_why = "libcudnn_graph.so.9 not loaded: " + b.graph_error;
        } else if (!missing.empty()) {
            b.handle_why = "libcudnn_graph.so.9 lacks " + missing;
        } else if (!vc.empty()) {
            b.handle_why = vc;
        } else {
            b.handle_ok = true;
        }
    }
    // ops
    {
        std::string missing;
        need(b.ops, "cudnnCreateTensorDescriptor", &b.create_tensor, &missing);
        need(b.ops, "cudnnSetTensor4dDescriptor", &b.set_tensor4d, &missing);
        need(b.ops, "cudnnDestroyTensorDescriptor", &b.destroy_tensor, &missing);
        need(b.ops, "cudnnCreateFilterDescriptor", &b.create_filter, &missing);
        need(b.ops, "cudnnSetFilter4dDescriptor", &b.set_filter4d, &missing);
        need(b.ops, "cudnnDestroyFilterDescriptor", &b.destroy_filter, &missing);
        need(b.ops, "cudnnAddTensor", &b.add_tensor, &missing);
        need(b.ops, "cudnnCreateActivationDescriptor", &b.create_activation, &missing);
        need(b.ops, "cudnnSetActivationDescriptor", &b.set_activation, &missing);
        need(b.ops, "cudnnDestroyActivationDescriptor", &b.destroy_activation, &missing);
        need(b.ops, "cudnnActivationForward", &b.activation_forward, &missing);
        need(b.ops, "cudnnActivationBackward", &b.activation_backward, &missing);
        need(b.ops, "cudnnCreatePoolingDescriptor", &b.create_pooling, &missing);
        need(b.ops, "cudnnSetPooling2dDescriptor", &b.set_pooling2d, &missing);
        need(b.ops, "cudnnDestroyPoolingDescriptor", &b.destroy_pooling, &missing);
        need(b.ops, "cudnnPoolingForward", &b.pooling_forward, &missing);
        need(b.ops, "cudnnPoolingBackward", &b.pooling_backward, &missing);
        need(b.ops, "cudnnBatchNormalizationForwardTraining", &b.bn_forward_training, &missing);
        need(b.ops, "cudnnBatchNormalizationForwardInference", &b.bn_forward_inference, &missing);
        need(b.ops, "cudnnBatchNormalizationBackward", &b.bn_backward, &missing);
        std::string vc = version_check(b.ops, "cudnnOpsVersionCheck");
        if (!b.handle_ok) {
            b.ops_why = "no cuDNN handle: " + b.handle_why;
        } else if (b.ops == nullptr) {
            b.ops_why = "libcudnn_ops.so.9 not loaded: " + b.ops_error;
        } else if (!missing.empty()) {
            b.ops_why = "libcudnn_ops.so.9 lacks " + missing;
        } else if (!vc.empty()) {
            b.ops_why = vc;
        } else {
            b.ops_ok = true;
        }
    }
    // cnn
    {
        std::string missing;
        need(b.cnn, "cudnnCreateConvolutionDescriptor", &b.create_conv, &missing);
        need(b.cnn, "cudnnDestroyConvolutionDescriptor", &b.destroy_conv, &missing);
        need(b.cnn, "cudnnSetConvolution2dDescriptor", &b.set_conv2d, &missing);
        need(b.cnn, "cudnnSetConvolutionMathType", &b.set_conv_math, &missing);
        need(b.cnn, "cudnnGetConvolutionForwardAlgorithm_v7", &b.fwd_algos, &missing);
        need(b.cnn, "cudnnGetConvolutionBackwardDataAlgorithm_v7", &b.bwd_data_algos, &missing);
        need(b.cnn, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", &b.bwd_filter_algos, &missing);
        need(b.cnn, "cudnnGetConvolutionForwardWorkspaceSize", &b.fwd_ws, &missing);
        need(b.cnn, "cudnnGetConvolutionBackwardDataWorkspaceSize", &b.bwd_data_ws, &missing);
        need(b.cnn, "cudnnGetConvolutionBackwardFilterWorkspaceSize", &b.bwd_filter_ws, &missing);
        need(b.cnn, "cudnnConvolutionForward", &b.conv_forward, &missing);
        need(b.cnn, "cudnnConvolutionBackwardData", &b.conv_backward_data, &missing);
        need(b.cnn, "cudnnConvolutionBackwardFilter", &b.conv_backward_filter, &missing);
        need(b.cnn, "cudnnConvolutionBackwardBias", &b.conv_backward_bias, &missing);
        std::string vc = version_check(b.cnn, "cudnnCnnVersionCheck");
        if (!b.ops_ok) {
            b.cnn_why = "needs the ops group: " + b.ops_why;
        } else if (b.cnn == nullptr) {
            b.cnn_why = "libcudnn_cnn.so.9 not loaded: " + b.cnn_error;
        } else if (!missing.empty()) {
            b.cnn_why = "libcudnn_cnn.so.9 lacks " + missing;
        } else if (!vc.empty()) {
            b.cnn_why = vc;
        } else {
            b.cnn_ok = true;
        }
    }
    std::string out = "ops: ";
    out += b.ops_ok ? "batchnorm, activation, pooling" : "unavailable (" + b.ops_why + ")";
    out += "; conv: ";
    out += b.cnn_ok ? "forward, backward-data, backward-filter, backward-bias (FMA math, TF32 off)"
                    : "unavailable (" + b.cnn_why + ")";
    out += "; sub-libraries: " + b.opened;
    if (!b.optional_missing.empty()) {
        out += "; not found next to it nor on the loader path (cuDNN reports it if it needs them): " + b.optional_missing;
    }
    return out;
}

}  // namespace vendor
}  // namespace jt

namespace {

// ------------------------------------------------------------------ availability

enum Group { kOps, kCnn };

// true when cuDNN is loaded and the group is bound; else st = UNAVAILABLE with why.
bool ready(StatusOut& st, Group g) {
    const jt::vendor::LibraryInfo& info = jt::vendor::cudnn_info();  // loads and binds once
    if (!info.found) {
        st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "%s", info.detail.c_str());
        return false;
    }
    const Bound& b = B();
    if (g == kOps && !b.ops_ok) {
        st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "cuDNN %s is loaded but its ops group is unavailable: %s",
               info.version.c_str(), b.ops_why.c_str());
        return false;
    }
    if (g == kCnn && !b.cnn_ok) {
        st.set(JT_VENDOR_UNAVAILABLE, 0, "", "", "cuDNN %s is loaded but its convolution group is unavailable: %s",
               info.version.c_str(), b.cnn_why.c_str());
        return false;
    }
    return true;
}

int lib_error(StatusOut& st, const char* op, const char* call, int s) {
    const std::string name = status_name(s);
    return st.set(JT_VENDOR_LIBRARY_ERROR, s, call, name.c_str(), "%s: %s returned %s (%s)", op, call, name.c_str(),
                  status_text(s).c_str());
}

int cuda_error(StatusOut& st, const char* op, const char* call, cudaError_t e) {
    return st.set(JT_VENDOR_CUDA_ERROR, (int)e, call, cudaGetErrorName(e), "%s: %s failed: %s", op, call,
                  cudaGetErrorString(e));
}

// ------------------------------------------------------------------ per (device, stream) contexts

constexpr size_t kMaxWorkspace = size_t(1) << 30;  // algorithms needing more are skipped

struct Ctx {
    std::mutex mu;                 // one call at a time per context
    cudnnHandle_t handle = nullptr;
    void* workspace = nullptr;
    size_t workspace_bytes = 0;
    float* scratch = nullptr;      // [ones C | zeros C | sink C | sink C]
    int scratch_c = 0;
};

std::mutex g_ctx_mu;
std::map<std::pair<int, uintptr_t>, Ctx*> g_ctx;  // never freed (see vendor_ops.h)

// The context of the current device and `stream`, locked; nullptr with st set on failure.
Ctx* context(StatusOut& st, const char* op, cudaStream_t stream, std::unique_lock<std::mutex>* lock) {
    int device = 0;
    cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) {
        cuda_error(st, op, "cudaGetDevice", e);
        return nullptr;
    }
    Ctx* ctx;
    {
        std::lock_guard<std::mutex> g(g_ctx_mu);
        Ctx*& slot = g_ctx[{device, reinterpret_cast<uintptr_t>(stream)}];
        if (slot == nullptr) slot = new Ctx();
        ctx = slot;
    }
    *lock = std::unique_lock<std::mutex>(ctx->mu);
    if (ctx->handle == nullptr) {
        const Bound& b = B();
        cudnnHandle_t h = nullptr;
        int s = b.create(&h);
        if (s != 0) {
            lib_error(st, op, "cudnnCreate", s);
            return nullptr;
        }
        s = b.set_stream(h, stream);
        if (s != 0) {
            b.destroy(h);
            lib_error(st, op, "cudnnSetStream", s);
            return nullptr;
        }
        ctx->handle = h;
    }
    return ctx;
}

// At least `bytes` of workspace in ctx (grown, never shrunk; cudaFree waits for the work that used it).
bool workspace(StatusOut& st, const char* op, Ctx* ctx, size_t bytes) {
    if (bytes <= ctx->workspace_bytes) return true;
    if (ctx->workspace != nullptr) {
        cudaError_t e = cudaFree(ctx->workspace);
        ctx->workspace = nullptr;
        ctx->workspace_bytes = 0;
        if (e != cudaSuccess) return cuda_error(st, op, "cudaFree", e), false;
    }
    cudaError_t e = cudaMalloc(&ctx->workspace, bytes);
    if (e != cudaSuccess) {
        ctx->workspace = nullptr;
        return cuda_error(st, op, "cudaMalloc", e), false;
    }
    ctx->workspace_bytes = bytes;
    return true;
}

// Scratch of 4 c floats: ones, zeros (stand-ins for a null gamma / beta) and two sinks (for a null
// dgamma / dbeta). Filled synchronously when (re)allocated.
bool scratch(StatusOut& st, const char* op, Ctx* ctx, int c) {
    if (c <= ctx->scratch_c) return true;
    if (ctx->scratch != nullptr) {
        cudaFree(ctx->scratch);
        ctx->scratch = nullptr;
        ctx->scratch_c = 0;
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, sizeof(float) * 4 * (size_t)c);
    if (e != cudaSuccess) return cuda_error(st, op, "cudaMalloc", e), false;
    std::vector<float> host(4 * (size_t)c, 0.f);
    for (int i = 0; i < c; ++i) host[i] = 1.f;
    e = cudaMemcpy(p, host.data(), sizeof(float) * host.size(), cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        cudaFree(p);
        return cuda_error(st, op, "cudaMemcpy", e), false;
    }
    ctx->scratch = static_cast<float*>(p);
    ctx->scratch_c = c;
    return true;
}

// ------------------------------------------------------------------ descriptors (destroyed on scope exit)

struct Tensor {
    cudnnTensorDescriptor_t d = nullptr;
    ~Tensor() {
        if (d != nullptr) B().destroy_tensor(d);
    }
    bool set(StatusOut& st, const char* op, int n, int c, int h, int w) {
        const Bound& b = B();
        int s = d == nullptr ? b.create_tensor(&d) : 0;
        if (s != 0) return lib_error(st, op, "cudnnCreateTensorDescriptor", s), false;
        s = b.set_tensor4d(d, JT_CUDNN_TENSOR_NCHW, JT_CUDNN_DATA_FLOAT, n, c, h, w);
        if (s != 0) return lib_error(st, op, "cudnnSetTensor4dDescriptor", s), false;
        return true;
    }
};

struct Filter {
    cudnnFilterDescriptor_t d = nullptr;
    ~Filter() {
        if (d != nullptr) B().destroy_filter(d);
    }
    bool set(StatusOut& st, const char* op, int k, int c, int h, int w) {
        const Bound& b = B();
        int s = b.create_filter(&d);
        if (s != 0) return lib_error(st, op, "cudnnCreateFilterDescriptor", s), false;
        s = b.set_filter4d(d, JT_CUDNN_DATA_FLOAT, JT_CUDNN_TENSOR_NCHW, k, c, h, w);
        if (s != 0) return lib_error(st, op, "cudnnSetFilter4dDescriptor", s), false;
        return true;
    }
};

struct Conv {
    cudnnConvolutionDescriptor_t d = nullptr;
    ~Conv() {
        if (d != nullptr) B().destroy_conv(d);
    }
    bool set(StatusOut& st, const char* op, int ph, int pw, int sh, int sw) {
        const Bound& b = B();
        int s = b.create_conv(&d);
        if (s != 0) return lib_error(st, op, "cudnnCreateConvolutionDescriptor", s), false;
        s = b.set_conv2d(d, ph, pw, sh, sw, 1, 1, JT_CUDNN_CROSS_CORRELATION, JT_CUDNN_DATA_FLOAT);
        if (s != 0) return lib_error(st, op, "cudnnSetConvolution2dDescriptor", s), false;
        s = b.set_conv_math(d, JT_CUDNN_FMA_MATH);  // TF32 off: FP32 FMA kernels only
        if (s != 0) return lib_error(st, op, "cudnnSetConvolutionMathType", s), false;
        return true;
    }
};

struct Activation {
    cudnnActivationDescriptor_t d = nullptr;
    ~Activation() {
        if (d != nullptr) B().destroy_activation(d);
    }
};

struct Pooling {
    cudnnPoolingDescriptor_t d = nullptr;
    ~Pooling() {
        if (d != nullptr) B().destroy_pooling(d);
    }
};

// ------------------------------------------------------------------ convolution

const float kOne = 1.f, kZero = 0.f;

enum ConvKind { kFwd = 0, kBwdData = 1, kBwdFilter = 2 };

struct ConvGeometry {
    int n, c, h, w, k, kh, kw, sh, sw, ph, pw, oh, ow;
};

// Validates the geometry; fills oh, ow.
bool conv_geometry(StatusOut& st, const char* op, ConvGeometry* g) {
    if (!positive({g->n, g->c, g->h, g->w, g->k, g->kh, g->kw, g->sh, g->sw})) {
        return st.invalid(op, "n, c, h, w, k, kh, kw, sh and sw must be >= 1"), false;
    }
    if (g->ph < 0 || g->pw < 0) return st.invalid(op, "ph and pw must be >= 0"), false;
    g->oh = out_size(g->h, g->kh, g->sh, g->ph);
    g->ow = out_size(g->w, g->kw, g->sw, g->pw);
    if (g->oh < 1 || g->ow < 1) return st.invalid(op, "the padded input is smaller than the kernel"), false;
    return true;
}

struct ConvDescs {
    Tensor x, y;
    Filter wt;
    Conv conv;
    bool set(StatusOut& st, const char* op, const ConvGeometry& g) {
        return x.set(st, op, g.n, g.c, g.h, g.w) && y.set(st, op, g.n, g.k, g.oh, g.ow) &&
               wt.set(st, op, g.k, g.c, g.kh, g.kw) && conv.set(st, op, g.ph, g.pw, g.sh, g.sw);
    }
};

std::mutex g_algo_mu;
std::map<std::string, int> g_algo_cache;  // (kind, device, geometry) -> algorithm that ran

std::string algo_key(ConvKind kind, const ConvGeometry& g) {
    int device = 0;
    cudaGetDevice(&device);
    char buf[160];
    snprintf(buf, sizeof buf, "%d/%d/%d,%d,%d,%d/%d,%d,%d/%d,%d,%d,%d", (int)kind, device, g.n, g.c, g.h, g.w, g.k,
             g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
    return buf;
}

// The heuristic's candidates (best first): successful ones that stay in FMA math and fit the workspace cap.
bool conv_candidates(StatusOut& st, const char* op, Ctx* ctx, ConvKind kind, ConvDescs& d, std::vector<int>* out) {
    const Bound& b = B();
    jt_cudnnAlgoPerf_t perf[16];
    memset(perf, 0, sizeof perf);
    int returned = 0, s = 0;
    const char* call = "";
    switch (kind) {
        case kFwd:
            call = "cudnnGetConvolutionForwardAlgorithm_v7";
            s = b.fwd_algos(ctx->handle, d.x.d, d.wt.d, d.conv.d, d.y.d, JT_CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                            &returned, perf);
            break;
        case kBwdData:
            call = "cudnnGetConvolutionBackwardDataAlgorithm_v7";
            s = b.bwd_data_algos(ctx->handle, d.wt.d, d.y.d, d.conv.d, d.x.d, JT_CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT,
                                 &returned, perf);
            break;
        case kBwdFilter:
            call = "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
            s = b.bwd_filter_algos(ctx->handle, d.x.d, d.y.d, d.conv.d, d.wt.d,
                                   JT_CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf);
            break;
    }
    if (s != 0) return lib_error(st, op, call, s), false;
    out->clear();
    for (int i = 0; i < returned && i < 16; ++i) {
        if (perf[i].status != 0 || perf[i].memory > kMaxWorkspace) continue;
        if (perf[i].mathType == JT_CUDNN_TENSOR_OP_MATH || perf[i].mathType == JT_CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
            continue;  // tensor cores (TF32): not what we compare with
        out->push_back(perf[i].algo);
    }
    if (out->empty()) {
        st.set(JT_VENDOR_LIBRARY_ERROR, JT_CUDNN_STATUS_NOT_SUPPORTED, call, "CUDNN_STATUS_NOT_SUPPORTED",
               "%s: cuDNN offers no FP32 FMA algorithm for this convolution within %zu MiB of workspace (%d candidates)",
               op, kMaxWorkspace >> 20, returned);
        return false;
    }
    return true;
}

// Runs one algorithm: workspace size, workspace, the call. Returns the cuDNN status (or -1 with st set for a
// CUDA / workspace-query failure).
int conv_run(StatusOut& st, const char* op, Ctx* ctx, ConvKind kind, ConvDescs& d, int algo, const float* in0,
             const float* in1, float* out, float beta, const char** call) {
    const Bound& b = B();
    size_t bytes = 0;
    int s = 0;
    switch (kind) {
        case kFwd:
            *call = "cudnnGetConvolutionForwardWorkspaceSize";
            s = b.fwd_ws(ctx->handle, d.x.d, d.wt.d, d.conv.d, d.y.d, algo, &bytes);
            break;
        case kBwdData:
            *call = "cudnnGetConvolutionBackwardDataWorkspaceSize";
            s = b.bwd_data_ws(ctx->handle, d.wt.d, d.y.d, d.conv.d, d.x.d, algo, &bytes);
            break;
        case kBwdFilter:
            *call = "cudnnGetConvolutionBackwardFilterWorkspaceSize";
            s = b.bwd_filter_ws(ctx->handle, d.x.d, d.y.d, d.conv.d, d.wt.d, algo, &bytes);
            break;
    }
    if (s != 0) return s;
    if (bytes > kMaxWorkspace) return JT_CUDNN_STATUS_NOT_SUPPORTED;
    if (!workspace(st, op, ctx, bytes)) return -1;
    switch (kind) {
        case kFwd:  // in0 = x, in1 = wt, out = y
            *call = "cudnnConvolutionForward";
            return b.conv_forward(ctx->handle, &kOne, d.x.d, in0, d.wt.d, in1, d.conv.d, algo, ctx->workspace, bytes,
                                  &beta, d.y.d, out);
        case kBwdData:  // in0 = wt, in1 = dy, out = dx
            *call = "cudnnConvolutionBackwardData";
            return b.conv_backward_data(ctx->handle, &kOne, d.wt.d, in0, d.y.d, in1, d.conv.d, algo, ctx->workspace,
                                        bytes, &beta, d.x.d, out);
        case kBwdFilter:  // in0 = x, in1 = dy, out = dwt
            *call = "cudnnConvolutionBackwardFilter";
            return b.conv_backward_filter(ctx->handle, &kOne, d.x.d, in0, d.y.d, in1, d.conv.d, algo, ctx->workspace,
                                          bytes, &beta, d.wt.d, out);
    }
    return JT_CUDNN_STATUS_NOT_SUPPORTED;
}

// The cached algorithm when there is one, else the candidates in order until one runs (a "not supported"
// status moves on to the next; any other failure is reported).
int conv_call(StatusOut& st, const char* op, ConvKind kind, const ConvGeometry& g, const float* in0,
              const float* in1, float* out, float beta, cudaStream_t stream) {
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    ConvDescs d;
    if (!d.set(st, op, g)) return st.code();
    const std::string key = algo_key(kind, g);
    int cached = -1;
    {
        std::lock_guard<std::mutex> l(g_algo_mu);
        auto it = g_algo_cache.find(key);
        if (it != g_algo_cache.end()) cached = it->second;
    }
    const char* call = "";
    if (cached >= 0) {
        int s = conv_run(st, op, ctx, kind, d, cached, in0, in1, out, beta, &call);
        if (s == 0) return st.ok();
        if (s < 0) return st.code();
        if (!not_supported(s)) return lib_error(st, op, call, s);
    }
    std::vector<int> algos;
    if (!conv_candidates(st, op, ctx, kind, d, &algos)) return st.code();
    int last = JT_CUDNN_STATUS_NOT_SUPPORTED;
    for (int algo : algos) {
        int s = conv_run(st, op, ctx, kind, d, algo, in0, in1, out, beta, &call);
        if (s == 0) {
            std::lock_guard<std::mutex> l(g_algo_mu);
            g_algo_cache[key] = algo;
            return st.ok();
        }
        if (s < 0) return st.code();
        if (!not_supported(s)) return lib_error(st, op, call, s);
        last = s;
    }
    return lib_error(st, op, call, last);
}

// ------------------------------------------------------------------ elementwise shapes

// cuDNN descriptors take int dimensions: elementwise ops run in chunks of at most 2^30 elements.
constexpr int64_t kChunk = int64_t(1) << 30;

}  // namespace

// ------------------------------------------------------------------ convolution (C linkage from vendor_ops.h)

int jt_vendor_conv2d_forward(const float* x, const float* wt, const float* bias, float* y, int n, int c, int h, int w,
                             int k, int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                             jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_conv2d_forward";
    if (!ready(st, kCnn)) return st.code();
    ConvGeometry g{n, c, h, w, k, kh, kw, sh, sw, ph, pw, 0, 0};
    if (!conv_geometry(st, op, &g)) return st.code();
    if (x == nullptr || wt == nullptr || y == nullptr) return st.invalid(op, "x, wt and y must not be null");
    if (conv_call(st, op, kFwd, g, x, wt, y, 0.f, stream) != JT_VENDOR_OK) return st.code();
    if (bias == nullptr) return st.ok();
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    Tensor bd, yd;
    if (!bd.set(st, op, 1, k, 1, 1) || !yd.set(st, op, n, k, g.oh, g.ow)) return st.code();
    int s = B().add_tensor(ctx->handle, &kOne, bd.d, bias, &kOne, yd.d, y);
    if (s != 0) return lib_error(st, op, "cudnnAddTensor", s);
    return st.ok();
}

int jt_vendor_conv2d_backward_data(const float* wt, const float* dy, float* dx, int n, int c, int h, int w, int k,
                                   int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                                   jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_conv2d_backward_data";
    if (!ready(st, kCnn)) return st.code();
    ConvGeometry g{n, c, h, w, k, kh, kw, sh, sw, ph, pw, 0, 0};
    if (!conv_geometry(st, op, &g)) return st.code();
    if (wt == nullptr || dy == nullptr || dx == nullptr) return st.invalid(op, "wt, dy and dx must not be null");
    return conv_call(st, op, kBwdData, g, wt, dy, dx, 0.f, stream);
}

int jt_vendor_conv2d_backward_filter(const float* x, const float* dy, float* dwt, int n, int c, int h, int w, int k,
                                     int kh, int kw, int sh, int sw, int ph, int pw, int accumulate,
                                     cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_conv2d_backward_filter";
    if (!ready(st, kCnn)) return st.code();
    ConvGeometry g{n, c, h, w, k, kh, kw, sh, sw, ph, pw, 0, 0};
    if (!conv_geometry(st, op, &g)) return st.code();
    if (x == nullptr || dy == nullptr || dwt == nullptr) return st.invalid(op, "x, dy and dwt must not be null");
    return conv_call(st, op, kBwdFilter, g, x, dy, dwt, accumulate ? 1.f : 0.f, stream);
}

int jt_vendor_conv2d_backward_bias(const float* dy, float* db, int n, int k, int oh, int ow, int accumulate,
                                   cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_conv2d_backward_bias";
    if (!ready(st, kCnn)) return st.code();
    if (!positive({n, k, oh, ow})) return st.invalid(op, "n, k, oh and ow must be >= 1");
    if (dy == nullptr || db == nullptr) return st.invalid(op, "dy and db must not be null");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    Tensor dyd, dbd;
    if (!dyd.set(st, op, n, k, oh, ow) || !dbd.set(st, op, 1, k, 1, 1)) return st.code();
    const float beta = accumulate ? 1.f : 0.f;
    int s = B().conv_backward_bias(ctx->handle, &kOne, dyd.d, dy, &beta, dbd.d, db);
    if (s != 0) return lib_error(st, op, "cudnnConvolutionBackwardBias", s);
    return st.ok();
}

// ------------------------------------------------------------------ BatchNorm

int jt_vendor_batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float eps,
                                      float momentum, float* running_mean, float* running_var, float* y,
                                      float* save_mean, float* save_inv_std, int n, int c, int h, int w,
                                      cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_batchnorm_forward_train";
    if (!ready(st, kOps)) return st.code();
    if (!positive({n, c, h, w})) return st.invalid(op, "n, c, h and w must be >= 1");
    if (x == nullptr || y == nullptr) return st.invalid(op, "x and y must not be null");
    if ((running_mean == nullptr) != (running_var == nullptr))
        return st.invalid(op, "running_mean and running_var must be both set or both null");
    if ((save_mean == nullptr) != (save_inv_std == nullptr))
        return st.invalid(op, "save_mean and save_inv_std must be both set or both null");
    if (!(eps >= JT_CUDNN_BN_MIN_EPSILON) || !(momentum >= 0.f && momentum <= 1.f))
        return st.invalid(op, "eps must be >= 0 and momentum in [0, 1]");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    if ((gamma == nullptr || beta == nullptr) && !scratch(st, op, ctx, c)) return st.code();
    const float* g = gamma != nullptr ? gamma : ctx->scratch;
    const float* bb = beta != nullptr ? beta : ctx->scratch + c;
    Tensor xd, bnd;
    if (!xd.set(st, op, n, c, h, w) || !bnd.set(st, op, 1, c, 1, 1)) return st.code();
    int s = B().bn_forward_training(ctx->handle, JT_CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, xd.d, x, xd.d, y, bnd.d, g,
                                    bb, (double)momentum, running_mean, running_var, (double)eps, save_mean,
                                    save_inv_std);
    if (s != 0) return lib_error(st, op, "cudnnBatchNormalizationForwardTraining", s);
    return st.ok();
}

int jt_vendor_batchnorm_forward_inference(const float* x, const float* gamma, const float* beta,
                                          const float* running_mean, const float* running_var, float eps, float* y,
                                          int n, int c, int h, int w, cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_batchnorm_forward_inference";
    if (!ready(st, kOps)) return st.code();
    if (!positive({n, c, h, w})) return st.invalid(op, "n, c, h and w must be >= 1");
    if (x == nullptr || y == nullptr || running_mean == nullptr || running_var == nullptr)
        return st.invalid(op, "x, y, running_mean and running_var must not be null");
    if (!(eps >= JT_CUDNN_BN_MIN_EPSILON)) return st.invalid(op, "eps must be >= 0");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    if ((gamma == nullptr || beta == nullptr) && !scratch(st, op, ctx, c)) return st.code();
    const float* g = gamma != nullptr ? gamma : ctx->scratch;
    const float* bb = beta != nullptr ? beta : ctx->scratch + c;
    Tensor xd, bnd;
    if (!xd.set(st, op, n, c, h, w) || !bnd.set(st, op, 1, c, 1, 1)) return st.code();
    int s = B().bn_forward_inference(ctx->handle, JT_CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, xd.d, x, xd.d, y, bnd.d,
                                     g, bb, running_mean, running_var, (double)eps);
    if (s != 0) return lib_error(st, op, "cudnnBatchNormalizationForwardInference", s);
    return st.ok();
}

int jt_vendor_batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* save_mean,
                                 const float* save_inv_std, float eps, float* dx, float* dgamma, float* dbeta, int n,
                                 int c, int h, int w, cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_batchnorm_backward";
    if (!ready(st, kOps)) return st.code();
    if (!positive({n, c, h, w})) return st.invalid(op, "n, c, h and w must be >= 1");
    if (x == nullptr || dy == nullptr || dx == nullptr) return st.invalid(op, "x, dy and dx must not be null");
    if ((save_mean == nullptr) != (save_inv_std == nullptr))
        return st.invalid(op, "save_mean and save_inv_std must be both set or both null");
    if (!(eps >= JT_CUDNN_BN_MIN_EPSILON)) return st.invalid(op, "eps must be >= 0");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    if ((gamma == nullptr || dgamma == nullptr || dbeta == nullptr) && !scratch(st, op, ctx, c)) return st.code();
    const float* g = gamma != nullptr ? gamma : ctx->scratch;
    float* dg = dgamma != nullptr ? dgamma : ctx->scratch + 2 * (size_t)c;
    float* dbt = dbeta != nullptr ? dbeta : ctx->scratch + 3 * (size_t)c;
    Tensor xd, bnd;
    if (!xd.set(st, op, n, c, h, w) || !bnd.set(st, op, 1, c, 1, 1)) return st.code();
    // dx overwritten (alphaDataDiff 1, betaDataDiff 0); dgamma, dbeta accumulated (alphaParamDiff 1, betaParamDiff 1).
    int s = B().bn_backward(ctx->handle, JT_CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kOne, xd.d, x, xd.d, dy,
                            xd.d, dx, bnd.d, g, dg, dbt, (double)eps, save_mean, save_inv_std);
    if (s != 0) return lib_error(st, op, "cudnnBatchNormalizationBackward", s);
    return st.ok();
}

// ------------------------------------------------------------------ activations

namespace {
// cuDNN's mode for one of our kinds, or -1.
int activation_mode(int kind) {
    switch (kind) {
        case JT_ACT_RELU: return JT_CUDNN_ACTIVATION_RELU;
        case JT_ACT_SIGMOID: return JT_CUDNN_ACTIVATION_SIGMOID;
        case JT_ACT_TANH: return JT_CUDNN_ACTIVATION_TANH;
        case JT_ACT_ELU: return JT_CUDNN_ACTIVATION_ELU;
        default: return -1;
    }
}

bool activation_desc(StatusOut& st, const char* op, int kind, float a, Activation* d) {
    const Bound& b = B();
    int s = b.create_activation(&d->d);
    if (s != 0) return lib_error(st, op, "cudnnCreateActivationDescriptor", s), false;
    s = b.set_activation(d->d, activation_mode(kind), JT_CUDNN_PROPAGATE_NAN, kind == JT_ACT_ELU ? (double)a : 0.0);
    if (s != 0) return lib_error(st, op, "cudnnSetActivationDescriptor", s), false;
    return true;
}
}  // namespace

int jt_vendor_activation_forward(int kind, const float* x, float* y, int64_t n, float a, cudaStream_t stream,
                                 jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_activation_forward";
    if (!ready(st, kOps)) return st.code();
    if (activation_mode(kind) < 0)
        return st.set(JT_VENDOR_UNSUPPORTED, 0, "", "", "%s: cuDNN has no activation kind %d (it has relu, sigmoid, "
                      "tanh, elu); our kernels run it", op, kind);
    if (n < 0) return st.invalid(op, "n must be >= 0");
    if (n == 0) return st.ok();
    if (x == nullptr || y == nullptr) return st.invalid(op, "x and y must not be null");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    Activation ad;
    if (!activation_desc(st, op, kind, a, &ad)) return st.code();
    Tensor td;
    for (int64_t off = 0; off < n; off += kChunk) {
        const int len = (int)(n - off < kChunk ? n - off : kChunk);
        if (!td.set(st, op, 1, 1, 1, len)) return st.code();
        int s = B().activation_forward(ctx->handle, ad.d, &kOne, td.d, x + off, &kZero, td.d, y + off);
        if (s != 0) return lib_error(st, op, "cudnnActivationForward", s);
    }
    return st.ok();
}

int jt_vendor_activation_backward(int kind, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                                  float a, cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_activation_backward";
    if (!ready(st, kOps)) return st.code();
    if (activation_mode(kind) < 0)
        return st.set(JT_VENDOR_UNSUPPORTED, 0, "", "", "%s: cuDNN has no activation kind %d (it has relu, sigmoid, "
                      "tanh, elu); our kernels run it", op, kind);
    if (n < 0) return st.invalid(op, "n must be >= 0");
    if (n == 0) return st.ok();
    if (dy == nullptr || dx == nullptr) return st.invalid(op, "dy and dx must not be null");
    // cuDNN takes x and y; the kinds that need one of them only get it for both.
    if (kind == JT_ACT_RELU) {
        if (x == nullptr && y == nullptr) return st.invalid(op, "relu needs x or y");
        if (x == nullptr) x = y;
        if (y == nullptr) y = x;
    } else if (kind == JT_ACT_SIGMOID || kind == JT_ACT_TANH) {
        if (y == nullptr) return st.invalid(op, "sigmoid and tanh need y (the forward output)");
        if (x == nullptr) x = y;
    } else if (x == nullptr || y == nullptr) {
        return st.invalid(op, "elu needs x and y");
    }
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    Activation ad;
    if (!activation_desc(st, op, kind, a, &ad)) return st.code();
    Tensor td;
    for (int64_t off = 0; off < n; off += kChunk) {
        const int len = (int)(n - off < kChunk ? n - off : kChunk);
        if (!td.set(st, op, 1, 1, 1, len)) return st.code();
        int s = B().activation_backward(ctx->handle, ad.d, &kOne, td.d, y + off, td.d, dy + off, td.d, x + off,
                                        &kZero, td.d, dx + off);
        if (s != 0) return lib_error(st, op, "cudnnActivationBackward", s);
    }
    return st.ok();
}

// ------------------------------------------------------------------ pooling

namespace {
struct PoolDescs {
    Tensor x, y;
    Pooling pool;
};

bool pool_setup(StatusOut& st, const char* op, int max, int n, int c, int h, int w, int kh, int kw, int sh, int sw,
                int ph, int pw, PoolDescs* d) {
    if (!positive({n, c, h, w, kh, kw, sh, sw})) return st.invalid(op, "n, c, h, w, kh, kw, sh and sw must be >= 1"), false;
    if (ph < 0 || pw < 0) return st.invalid(op, "ph and pw must be >= 0"), false;
    const int oh = out_size(h, kh, sh, ph), ow = out_size(w, kw, sw, pw);
    if (oh < 1 || ow < 1) return st.invalid(op, "the padded input is smaller than the window"), false;
    if (!d->x.set(st, op, n, c, h, w) || !d->y.set(st, op, n, c, oh, ow)) return false;
    const Bound& b = B();
    int s = b.create_pooling(&d->pool.d);
    if (s != 0) return lib_error(st, op, "cudnnCreatePoolingDescriptor", s), false;
    s = b.set_pooling2d(d->pool.d, max ? JT_CUDNN_POOLING_MAX_DETERMINISTIC : JT_CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                        JT_CUDNN_PROPAGATE_NAN, kh, kw, ph, pw, sh, sw);
    if (s != 0) return lib_error(st, op, "cudnnSetPooling2dDescriptor", s), false;
    return true;
}
}  // namespace

int jt_vendor_pool_forward(int max, const float* x, float* y, int n, int c, int h, int w, int kh, int kw, int sh,
                           int sw, int ph, int pw, cudaStream_t stream, jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_pool_forward";
    if (!ready(st, kOps)) return st.code();
    if (x == nullptr || y == nullptr) return st.invalid(op, "x and y must not be null");
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    PoolDescs d;
    if (!pool_setup(st, op, max, n, c, h, w, kh, kw, sh, sw, ph, pw, &d)) return st.code();
    int s = B().pooling_forward(ctx->handle, d.pool.d, &kOne, d.x.d, x, &kZero, d.y.d, y);
    if (s != 0) return lib_error(st, op, "cudnnPoolingForward", s);
    return st.ok();
}

int jt_vendor_pool_backward(int max, const float* x, const float* y, const float* dy, float* dx, int n, int c, int h,
                            int w, int kh, int kw, int sh, int sw, int ph, int pw, cudaStream_t stream,
                            jt_vendor_status* status) {
    StatusOut st(status);
    const char* op = "jt_vendor_pool_backward";
    if (!ready(st, kOps)) return st.code();
    if (dy == nullptr || dx == nullptr) return st.invalid(op, "dy and dx must not be null");
    if (max && (x == nullptr || y == nullptr)) return st.invalid(op, "max pooling backward needs x and y");
    if (!max) {  // not read for average pooling; cuDNN still wants pointers of the right shapes
        if (y == nullptr) y = dy;
        if (x == nullptr) x = dx;
    }
    std::unique_lock<std::mutex> lock;
    Ctx* ctx = context(st, op, stream, &lock);
    if (ctx == nullptr) return st.code();
    PoolDescs d;
    if (!pool_setup(st, op, max, n, c, h, w, kh, kw, sh, sw, ph, pw, &d)) return st.code();
    int s = B().pooling_backward(ctx->handle, d.pool.d, &kOne, d.y.d, y, d.y.d, dy, d.x.d, x, &kZero, d.x.d, dx);
    if (s != 0) return lib_error(st, op, "cudnnPoolingBackward", s);
    return st.ok();
}

#endif  // the CUDA build
