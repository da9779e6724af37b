// OpenMPI, loaded at run time (libmpi.so.40, the soname of OpenMPI 3.x-5.x).
//
// Why not link libmpi: a JVM loads JNI libraries RTLD_LOCAL, and OpenMPI's plugins (mca_*.so) need
// libmpi's symbols global; and a machine without OpenMPI must get a Java exception naming what to
// install, not an UnsatisfiedLinkError from System.load. So libjtrain_mpi.so links only libdl: mpi.h
// gives the types (every function pointer below is decltype(&MPI_...), checked by the compiler against
// the header), and open() dlopens libmpi RTLD_NOW | RTLD_GLOBAL and dlsyms the functions and the
// predefined handles. In OpenMPI's ABI a predefined handle (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...)
// is the address of a global object (mpi.h: OMPI_PREDEFINED_GLOBAL), so dlsym of that object's name
// is the handle. MPICH-family libraries (libmpi.so.12, integer handles) are not supported.
#pragma once

#include <mpi.h>

#include <string>

namespace jt {
namespace dist {

struct MpiApi {
    void* lib = nullptr;
    std::string path;  // what was opened

    decltype(&MPI_Initialized) Initialized = nullptr;
    decltype(&MPI_Finalized) Finalized = nullptr;
    decltype(&MPI_Init_thread) Init_thread = nullptr;
    decltype(&MPI_Finalize) Finalize = nullptr;
    decltype(&MPI_Abort) Abort = nullptr;
    decltype(&MPI_Comm_rank) Comm_rank = nullptr;
    decltype(&MPI_Comm_size) Comm_size = nullptr;
    decltype(&MPI_Comm_set_errhandler) Comm_set_errhandler = nullptr;
    decltype(&MPI_Allreduce) Allreduce = nullptr;
    decltype(&MPI_Bcast) Bcast = nullptr;
    decltype(&MPI_Barrier) Barrier = nullptr;
    decltype(&MPI_Error_string) Error_string = nullptr;
    decltype(&MPI_Error_class) Error_class = nullptr;

    MPI_Comm world = nullptr;
    MPI_Datatype f32 = nullptr, f64 = nullptr, byte = nullptr, i32 = nullptr;
    MPI_Op sum = nullptr, min = nullptr, max = nullptr;
    MPI_Errhandler errors_return = nullptr;
};

// Opens `path` (e.g. "libmpi.so.40") once per process and resolves the table. Returns "" on success,
// else what failed (the loader's message or the missing symbols). A failed open is not remembered:
// a later call with another path may succeed.
std::string mpi_open(const char* path);

// The table; valid only after mpi_open returned "".
const MpiApi& mpi();

// "MPI_Allreduce: <MPI_Error_string> (error class N)" for a failed call.
std::string mpi_error_message(const char* call, int code);

}  // namespace dist
}  // namespace jt
