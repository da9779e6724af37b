# libjtrain_mpi.so: the JNI shim of dev.jtrain.distributed (native/dist): MPI_COMM_WORLD collectives and
# NCCL, both loaded at run time (native/dist/mpi_api.h says why libmpi is not linked). Built only where
# CMake finds MPI (mpi.h: Debian's libopenmpi-dev), else skipped with a message; the Java side then says
# that MPI support was not built.
option(JTRAIN_MPI "Build libjtrain_mpi.so when MPI (OpenMPI's mpi.h) is found" ON)

file(GLOB JTRAIN_DIST_SOURCES CONFIGURE_DEPENDS "${JTRAIN_ROOT}/native/dist/*.cpp")
if(NOT JTRAIN_MPI)
  message(STATUS "jtrain: libjtrain_mpi.so skipped (-DJTRAIN_MPI=OFF)")
  return()
endif()
if(NOT JNI_FOUND)
  message(STATUS "jtrain: libjtrain_mpi.so skipped: no JNI headers (set JAVA_HOME to a JDK)")
  return()
endif()
# The C API through the C++ compiler (the project enables CXX only); not OpenMPI's deprecated C++ bindings.
set(MPI_CXX_SKIP_MPICXX ON)
find_package(MPI QUIET COMPONENTS CXX)
if(NOT MPI_CXX_FOUND)
  message(STATUS "jtrain: MPI not found: libjtrain_mpi.so (distributed training) is not built; "
                 "install libopenmpi-dev (Debian/Ubuntu) and re-run CMake")
  return()
endif()
message(STATUS "jtrain: MPI found (${MPI_CXX_INCLUDE_DIRS}); building libjtrain_mpi.so")

add_library(jtrain_mpi SHARED ${JTRAIN_DIST_SOURCES})
# Headers only: libmpi and libnccl are dlopened at run time, never linked.
target_include_directories(jtrain_mpi PRIVATE ${MPI_CXX_INCLUDE_DIRS} ${JNI_INCLUDE_DIRS} "${JTRAIN_ROOT}/native/dist")
target_compile_definitions(jtrain_mpi PRIVATE ${MPI_CXX_COMPILE_DEFINITIONS} OMPI_SKIP_MPICXX=1)
target_compile_options(jtrain_mpi PRIVATE ${JTRAIN_CXX_WARNINGS})
target_link_libraries(jtrain_mpi PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(jtrain_mpi PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
# A missing symbol fails the build, not System.load (and proves libmpi is not needed at load time).
target_link_options(jtrain_mpi PRIVATE -Wl,--no-undefined)
jtrain_library_output(jtrain_mpi)
