// NCCL, loaded at run time (libnccl.so.2), without NCCL or CUDA headers: the few types and functions used
// are declared here as in nccl.h of NCCL 2.x (checked against NCCL 2.18-2.23; these entry points and
// the enum values below have kept their ABI since NCCL 2.0, ncclCommGetAsyncError since 2.4).
// Lookup order, as for cuBLAS (native/vendor/vendor.h): JTRAIN_NCCL (a file or a folder; when set, the
// only place tried), then the soname on the loader path, then site-packages/nvidia/nccl/lib of
// NVIDIA's Python wheels (nvidia-nccl-cu12).
#pragma once

#include <stddef.h>

#include <string>

extern "C" {
typedef struct ncclComm* ncclComm_t;
typedef struct CUstream_st* cudaStream_t;   // the CUDA runtime's stream handle (an opaque pointer)
#define JT_NCCL_UNIQUE_ID_BYTES 128        // NCCL_UNIQUE_ID_BYTES
typedef struct {
    char internal[JT_NCCL_UNIQUE_ID_BYTES];
} ncclUniqueId;
typedef int ncclResult_t;                   // ncclSuccess = 0, ..., ncclInProgress = 7
typedef int ncclDataType_t;                 // ncclFloat32 = 7
typedef int ncclRedOp_t;                    // ncclSum = 0

typedef ncclResult_t (*ncclGetUniqueId_t)(ncclUniqueId* uniqueId);
typedef ncclResult_t (*ncclCommInitRank_t)(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);
typedef ncclResult_t (*ncclAllReduce_t)(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype,
                                        ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
typedef ncclResult_t (*ncclCommDestroy_t)(ncclComm_t comm);
typedef const char* (*ncclGetErrorString_t)(ncclResult_t result);
typedef ncclResult_t (*ncclCommGetAsyncError_t)(ncclComm_t comm, ncclResult_t* asyncError);
}

namespace jt {
namespace dist {

constexpr ncclResult_t kNcclSuccess = 0;
constexpr ncclResult_t kNcclInProgress = 7;
constexpr ncclDataType_t kNcclFloat32 = 7;
constexpr ncclRedOp_t kNcclSum = 0;

struct NcclApi {
    void* lib = nullptr;
    std::string path;
    ncclGetUniqueId_t GetUniqueId = nullptr;
    ncclCommInitRank_t CommInitRank = nullptr;
    ncclAllReduce_t AllReduce = nullptr;
    ncclCommDestroy_t CommDestroy = nullptr;
    ncclGetErrorString_t GetErrorString = nullptr;
    ncclCommGetAsyncError_t CommGetAsyncError = nullptr;
};

// Opens NCCL once per process. `explicit_path`: a file or folder to try alone (may be empty; then
// JTRAIN_NCCL, the soname and the wheels). Returns "" on success, else every place tried and why not.
std::string nccl_open(const std::string& explicit_path);

const NcclApi& nccl();

// "ncclAllReduce: <ncclGetErrorString> (ncclResult_t N)".
std::string nccl_error_message(const char* call, ncclResult_t rc);

}  // namespace dist
}  // namespace jt
