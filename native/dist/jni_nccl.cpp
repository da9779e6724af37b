// JNI entry points of dev.jtrain.distributed.NcclNative: NCCL communicators and the all-reduce of a
// device buffer on a given CUDA stream (the GpuBackend's: the all-reduce runs in order after the
// kernels that produced the buffer, and later kernels see its result without a host wait).
// The unique id travels through the Java side (Communicator.broadcast), so this file needs no MPI.
// Device pointers are taken as they come: NCCL reports a bad one through its result or async error.
#include <jni.h>
#include <string.h>

#include <string>

#include "dist_jni.h"
#include "nccl_api.h"

using jt::dist::nccl;

namespace {

constexpr const char* kNcclException = "dev/jtrain/distributed/NcclException";

bool ready(JNIEnv* env, const char* op) {
    if (nccl().lib == nullptr) {
        jt::dist::throw_illegal_state(env, std::string(op) + ": NCCL is not loaded (NcclNative.open first)");
        return false;
    }
    return true;
}

bool ok(JNIEnv* env, const char* call, ncclResult_t rc) {
    if (rc == jt::dist::kNcclSuccess) return true;
    jt::dist::throw_java(env, kNcclException, jt::dist::nccl_error_message(call, rc));
    return false;
}

ncclComm_t comm_of(jlong handle) { return reinterpret_cast<ncclComm_t>(static_cast<intptr_t>(handle)); }

}  // namespace

extern "C" {

// null when NCCL was found, else every place tried and why not.
JNIEXPORT jstring JNICALL Java_dev_jtrain_distributed_NcclNative_open(JNIEnv* env, jclass, jstring explicit_path) {
    std::string err = jt::dist::nccl_open(jt::dist::utf8(env, explicit_path));
    return err.empty() ? nullptr : env->NewStringUTF(err.c_str());
}

// Where NCCL was loaded from ("" when not loaded).
JNIEXPORT jstring JNICALL Java_dev_jtrain_distributed_NcclNative_loadedFrom(JNIEnv* env, jclass) {
    return env->NewStringUTF(nccl().path.c_str());
}

JNIEXPORT jbyteArray JNICALL Java_dev_jtrain_distributed_NcclNative_uniqueId(JNIEnv* env, jclass) {
    if (!ready(env, "uniqueId")) return nullptr;
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    if (!ok(env, "ncclGetUniqueId", nccl().GetUniqueId(&id))) return nullptr;
    jbyteArray out = env->NewByteArray(JT_NCCL_UNIQUE_ID_BYTES);
    if (out == nullptr) return nullptr;
    env->SetByteArrayRegion(out, 0, JT_NCCL_UNIQUE_ID_BYTES, reinterpret_cast<const jbyte*>(id.internal));
    return out;
}

// A communicator of `nranks` (collective: every rank calls it with the same id). Returns its handle.
JNIEXPORT jlong JNICALL Java_dev_jtrain_distributed_NcclNative_commInitRank(JNIEnv* env, jclass, jint nranks,
                                                                           jbyteArray id_bytes, jint rank) {
    if (!ready(env, "commInitRank")) return 0;
    if (id_bytes == nullptr || env->GetArrayLength(id_bytes) != JT_NCCL_UNIQUE_ID_BYTES) {
        jt::dist::throw_illegal_argument(env, "commInitRank: the unique id must be " +
                                                  std::to_string(JT_NCCL_UNIQUE_ID_BYTES) + " bytes");
        return 0;
    }
    if (nranks < 1 || rank < 0 || rank >= nranks) {
        jt::dist::throw_illegal_argument(env, "commInitRank: rank " + std::to_string(rank) + " of " +
                                                  std::to_string(nranks));
        return 0;
    }
    ncclUniqueId id;
    env->GetByteArrayRegion(id_bytes, 0, JT_NCCL_UNIQUE_ID_BYTES, reinterpret_cast<jbyte*>(id.internal));
    ncclComm_t comm = nullptr;
    if (!ok(env, "ncclCommInitRank", nccl().CommInitRank(&comm, nranks, id, rank))) return 0;
    return static_cast<jlong>(reinterpret_cast<intptr_t>(comm));
}

// In-place sum of `count` floats at device address `ptr`, queued on `stream`; then the communicator's
// asynchronous error (a peer that failed, a network error) is checked.
JNIEXPORT void JNICALL Java_dev_jtrain_distributed_NcclNative_allReduceSumFloats(JNIEnv* env, jclass, jlong comm,
                                                                               jlong ptr, jlong count, jlong stream) {
    if (!ready(env, "allReduceSum")) return;
    if (comm == 0 || (ptr == 0 && count > 0) || count < 0) {
        jt::dist::throw_illegal_argument(env, "allReduceSum: communicator " + std::to_string(comm) + ", pointer " +
                                                  std::to_string(ptr) + ", count " + std::to_string(count));
        return;
    }
    void* p = reinterpret_cast<void*>(static_cast<intptr_t>(ptr));
    auto s = reinterpret_cast<cudaStream_t>(static_cast<intptr_t>(stream));
    if (!ok(env, "ncclAllReduce",
            nccl().AllReduce(p, p, static_cast<size_t>(count), jt::dist::kNcclFloat32, jt::dist::kNcclSum,
                             comm_of(comm), s))) {
        return;
    }
    ncclResult_t async = jt::dist::kNcclSuccess;
    if (!ok(env, "ncclCommGetAsyncError", nccl().CommGetAsyncError(comm_of(comm), &async))) return;
    if (async != jt::dist::kNcclInProgress) ok(env, "ncclAllReduce (asynchronous error)", async);
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_NcclNative_commDestroy(JNIEnv* env, jclass, jlong comm) {
    if (!ready(env, "commDestroy") || comm == 0) return;
    ok(env, "ncclCommDestroy", nccl().CommDestroy(comm_of(comm)));
}

}  // extern "C"
