// JNI entry points of dev.jtrain.distributed.MpiNative: MPI_COMM_WORLD for the Java MpiCommunicator.
//
// Java arrays are reduced in place through GetPrimitiveArrayCritical: no copy of a 16 MiB gradient
// on each side of every all-reduce. While the array is held the JVM's GC waits (GCLocker), which is
// bounded by the collective itself, and the JNI rule for critical sections (no JNI calls, no waiting on
// another Java thread) holds: MPI waits only on other processes. Callers (MpiCommunicator) serialise
// every call, so MPI_THREAD_SERIALIZED is what is requested.
//
// Errors: MPI_COMM_WORLD gets MPI_ERRORS_RETURN, so a failing call returns its code and becomes an
// MpiException with MPI_Error_string; nothing here exits. (A failure inside MPI_Init_thread itself
// is still OpenMPI's to handle: before MPI is initialised no error handler can be set.)
#include <jni.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <string>

#include "dist_jni.h"
#include "mpi_api.h"

using jt::dist::mpi;

namespace {

constexpr const char* kMpiException = "dev/jtrain/distributed/MpiException";

// Largest count passed to one MPI call: MPI counts are int. Settable (smaller) so tests exercise the
// chunk loop on arrays of a few MiB.
long long g_chunk_elements = INT_MAX;

bool ready(JNIEnv* env, const char* op) {
    if (mpi().lib == nullptr) {
        jt::dist::throw_illegal_state(env, std::string(op) + ": OpenMPI is not loaded (MpiNative.open first)");
        return false;
    }
    return true;
}

bool ok(JNIEnv* env, const char* call, int rc) {
    if (rc == MPI_SUCCESS) return true;
    jt::dist::throw_java(env, kMpiException, jt::dist::mpi_error_message(call, rc));
    return false;
}

// In-place sum of `count` elements at `p`, in chunks of at most `chunk` elements.
int allreduce_in_place(void* p, long long count, MPI_Datatype type, size_t elem_bytes,
                       long long chunk = g_chunk_elements) {
    char* base = static_cast<char*>(p);
    if (count == 0) {  // still a collective: every rank takes part, as with any other length
        return mpi().Allreduce(MPI_IN_PLACE, base, 0, type, mpi().sum, mpi().world);
    }
    for (long long done = 0; done < count;) {
        int n = static_cast<int>(std::min<long long>(chunk, count - done));
        int rc = mpi().Allreduce(MPI_IN_PLACE, base + done * elem_bytes, n, type, mpi().sum, mpi().world);
        if (rc != MPI_SUCCESS) return rc;
        done += n;
    }
    return MPI_SUCCESS;
}

template <class JArray>
void allreduce_array(JNIEnv* env, const char* op, JArray a, jint offset, jint length, MPI_Datatype type,
                     size_t elem_bytes) {
    if (!ready(env, op)) return;
    if (a == nullptr) {
        jt::dist::throw_illegal_argument(env, std::string(op) + ": the array is null");
        return;
    }
    if (!jt::dist::check_range(env, op, offset, length, env->GetArrayLength(a))) return;
    void* p = env->GetPrimitiveArrayCritical(a, nullptr);
    if (p == nullptr) return;  // OutOfMemoryError pending
    int rc = allreduce_in_place(static_cast<char*>(p) + static_cast<size_t>(offset) * elem_bytes, length, type,
                                elem_bytes);
    env->ReleasePrimitiveArrayCritical(a, p, 0);  // 0: copy back (if the JVM copied) and release
    ok(env, "MPI_Allreduce", rc);
}

double now_seconds() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

extern "C" {

// null when `path` was opened and is OpenMPI's libmpi, else what went wrong.
JNIEXPORT jstring JNICALL Java_dev_jtrain_distributed_MpiNative_open(JNIEnv* env, jclass, jstring path) {
    std::string p = jt::dist::utf8(env, path);
    if (env->ExceptionCheck()) return nullptr;
    std::string err = jt::dist::mpi_open(p.c_str());
    return err.empty() ? nullptr : env->NewStringUTF(err.c_str());
}

// Initialises MPI (unless something else in the process did) and returns
// {rank, size, provided thread level, 1 when this call initialised MPI}.
JNIEXPORT jintArray JNICALL Java_dev_jtrain_distributed_MpiNative_init(JNIEnv* env, jclass) {
    if (!ready(env, "init")) return nullptr;
    int initialized = 0, finalized = 0;
    if (!ok(env, "MPI_Initialized", mpi().Initialized(&initialized))) return nullptr;
    if (!ok(env, "MPI_Finalized", mpi().Finalized(&finalized))) return nullptr;
    if (finalized) {
        jt::dist::throw_illegal_state(env, "MPI was finalized in this process; MPI cannot be initialised twice");
        return nullptr;
    }
    int provided = MPI_THREAD_SERIALIZED;
    int ours = 0;
    if (!initialized) {
        if (!ok(env, "MPI_Init_thread", mpi().Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided))) {
            return nullptr;
        }
        ours = 1;
    }
    if (!ok(env, "MPI_Comm_set_errhandler", mpi().Comm_set_errhandler(mpi().world, mpi().errors_return))) {
        return nullptr;
    }
    int rank = 0, size = 0;
    if (!ok(env, "MPI_Comm_rank", mpi().Comm_rank(mpi().world, &rank))) return nullptr;
    if (!ok(env, "MPI_Comm_size", mpi().Comm_size(mpi().world, &size))) return nullptr;
    jint out[4] = {rank, size, provided, ours};
    jintArray arr = env->NewIntArray(4);
    if (arr == nullptr) return nullptr;
    env->SetIntArrayRegion(arr, 0, 4, out);
    return arr;
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_finish(JNIEnv* env, jclass) {
    if (!ready(env, "finish")) return;
    int finalized = 0;
    if (!ok(env, "MPI_Finalized", mpi().Finalized(&finalized)) || finalized) return;
    ok(env, "MPI_Finalize", mpi().Finalize());
}

// Ends every rank of MPI_COMM_WORLD (mpirun tears the job down). Returns only if MPI_Abort failed.
JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_abort(JNIEnv* env, jclass, jint code) {
    if (!ready(env, "abort")) return;
    ok(env, "MPI_Abort", mpi().Abort(mpi().world, code));
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_setChunkElements(JNIEnv* env, jclass, jlong n) {
    if (n < 1 || n > INT_MAX) {
        jt::dist::throw_illegal_argument(env, "setChunkElements: " + std::to_string(n) + " is not in [1, INT_MAX]");
        return;
    }
    g_chunk_elements = n;
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_allReduceSumFloats(JNIEnv* env, jclass, jfloatArray a,
                                                                                jint offset, jint length) {
    allreduce_array(env, "allReduceSum(float[])", a, offset, length, mpi().f32, sizeof(float));
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_allReduceSumDoubles(JNIEnv* env, jclass, jdoubleArray a,
                                                                                 jint offset, jint length) {
    allreduce_array(env, "allReduceSum(double[])", a, offset, length, mpi().f64, sizeof(double));
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_broadcast(JNIEnv* env, jclass, jbyteArray a, jint root) {
    if (!ready(env, "broadcast")) return;
    if (a == nullptr) {
        jt::dist::throw_illegal_argument(env, "broadcast: the array is null");
        return;
    }
    jsize n = env->GetArrayLength(a);
    void* p = env->GetPrimitiveArrayCritical(a, nullptr);
    if (p == nullptr) return;
    int rc = mpi().Bcast(p, n, mpi().byte, root, mpi().world);
    env->ReleasePrimitiveArrayCritical(a, p, 0);
    ok(env, "MPI_Bcast", rc);
}

JNIEXPORT void JNICALL Java_dev_jtrain_distributed_MpiNative_barrier(JNIEnv* env, jclass) {
    if (!ready(env, "barrier")) return;
    ok(env, "MPI_Barrier", mpi().Barrier(mpi().world));
}

// The MPI library's own figure for `jtrain bench allreduce`: seconds per in-place MPI_Allreduce of
// `floats` floats from a malloc'd buffer, `warmup` untimed then `reps` timed calls, the slowest rank's
// mean (a collective ends when its last rank does). The buffer holds zeros so sums stay finite.
// `chunked`: in the chunks the Java path uses; else one call per all-reduce (up to INT_MAX elements).
JNIEXPORT jdouble JNICALL Java_dev_jtrain_distributed_MpiNative_benchAllReduce(JNIEnv* env, jclass, jlong floats,
                                                                             jint warmup, jint reps,
                                                                             jboolean chunked) {
    if (!ready(env, "benchAllReduce")) return 0;
    if (floats < 0 || warmup < 0 || reps < 1) {
        jt::dist::throw_illegal_argument(env, "benchAllReduce: floats " + std::to_string(floats) + ", warmup " +
                                                  std::to_string(warmup) + ", reps " + std::to_string(reps));
        return 0;
    }
    float* buf = static_cast<float*>(calloc(static_cast<size_t>(std::max<jlong>(floats, 1)), sizeof(float)));
    if (buf == nullptr) {
        jt::dist::throw_java(env, "java/lang/OutOfMemoryError",
                             "benchAllReduce: cannot allocate " + std::to_string(floats * 4) + " bytes");
        return 0;
    }
    long long chunk = chunked ? g_chunk_elements : INT_MAX;
    int rc = MPI_SUCCESS;
    for (int i = 0; i < warmup && rc == MPI_SUCCESS; ++i) rc = allreduce_in_place(buf, floats, mpi().f32, 4, chunk);
    if (rc == MPI_SUCCESS) rc = mpi().Barrier(mpi().world);
    double t0 = now_seconds();
    for (int i = 0; i < reps && rc == MPI_SUCCESS; ++i) rc = allreduce_in_place(buf, floats, mpi().f32, 4, chunk);
    double mean = (now_seconds() - t0) / reps;
    free(buf);
    if (!ok(env, "MPI_Allreduce", rc)) return 0;
    if (!ok(env, "MPI_Allreduce", mpi().Allreduce(MPI_IN_PLACE, &mean, 1, mpi().f64, mpi().max, mpi().world))) {
        return 0;
    }
    return mean;
}

}  // extern "C"
