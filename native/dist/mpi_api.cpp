// Run-time loading of OpenMPI (see mpi_api.h for why the library is not linked).
#include "mpi_api.h"

#include <dlfcn.h>

#include <mutex>

namespace jt {
namespace dist {

namespace {

MpiApi g_api;
std::mutex g_mu;

template <class T>
void resolve(void* lib, const char* name, T* out, std::string* missing) {
    *out = reinterpret_cast<T>(dlsym(lib, name));
    if (*out == nullptr) {
        if (!missing->empty()) *missing += ", ";
        *missing += name;
    }
}

}  // namespace

std::string mpi_open(const char* path) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_api.lib != nullptr) return "";
    dlerror();
    // RTLD_GLOBAL: OpenMPI's plugins, dlopened by libmpi itself, resolve libmpi's symbols globally.
    void* lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (lib == nullptr) {
        const char* e = dlerror();
        return e != nullptr ? e : std::string(path) + ": cannot open";
    }
    MpiApi api;
    std::string missing;
    resolve(lib, "MPI_Initialized", &api.Initialized, &missing);
    resolve(lib, "MPI_Finalized", &api.Finalized, &missing);
    resolve(lib, "MPI_Init_thread", &api.Init_thread, &missing);
    resolve(lib, "MPI_Finalize", &api.Finalize, &missing);
    resolve(lib, "MPI_Abort", &api.Abort, &missing);
    resolve(lib, "MPI_Comm_rank", &api.Comm_rank, &missing);
    resolve(lib, "MPI_Comm_size", &api.Comm_size, &missing);
    resolve(lib, "MPI_Comm_set_errhandler", &api.Comm_set_errhandler, &missing);
    resolve(lib, "MPI_Allreduce", &api.Allreduce, &missing);
    resolve(lib, "MPI_Bcast", &api.Bcast, &missing);
    resolve(lib, "MPI_Barrier", &api.Barrier, &missing);
    resolve(lib, "MPI_Error_string", &api.Error_string, &missing);
    resolve(lib, "MPI_Error_class", &api.Error_class, &missing);
    // The predefined handles: addresses of OpenMPI's global objects (mpi.h, OMPI_PREDEFINED_GLOBAL).
    resolve(lib, "ompi_mpi_comm_world", &api.world, &missing);
    resolve(lib, "ompi_mpi_float", &api.f32, &missing);
    resolve(lib, "ompi_mpi_double", &api.f64, &missing);
    resolve(lib, "ompi_mpi_byte", &api.byte, &missing);
    resolve(lib, "ompi_mpi_int", &api.i32, &missing);
    resolve(lib, "ompi_mpi_op_sum", &api.sum, &missing);
    resolve(lib, "ompi_mpi_op_min", &api.min, &missing);
    resolve(lib, "ompi_mpi_op_max", &api.max, &missing);
    resolve(lib, "ompi_mpi_errors_return", &api.errors_return, &missing);
    if (!missing.empty()) {
        dlclose(lib);
        return std::string(path) + " is not OpenMPI's libmpi (missing " + missing + ")";
    }
    api.lib = lib;
    api.path = path;
    g_api = api;
    return "";
}

const MpiApi& mpi() { return g_api; }

std::string mpi_error_message(const char* call, int code) {
    std::string msg = call;
    char text[MPI_MAX_ERROR_STRING + 1] = {0};
    int len = 0;
    int cls = code;
    if (g_api.Error_string != nullptr && g_api.Error_string(code, text, &len) == MPI_SUCCESS) {
        msg += ": ";
        msg += std::string(text, len > 0 ? static_cast<size_t>(len) : 0);
    } else {
        msg += ": MPI error";
    }
    if (g_api.Error_class != nullptr) g_api.Error_class(code, &cls);
    msg += " (error code " + std::to_string(code) + ", class " + std::to_string(cls) + ")";
    return msg;
}

}  // namespace dist
}  // namespace jt
