# The real CUDA library (libjtrain_cuda.so): the same kernels and JNI sources, nvcc, static cudart.
# Built only when JTRAIN_CUDA=ON and a CUDA compiler is found; no GPU is needed to build it.
if(NOT JTRAIN_CUDA)
  message(STATUS "jtrain: JTRAIN_CUDA=OFF; skipping libjtrain_cuda.so")
  return()
endif()
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "jtrain: no CUDA compiler (nvcc) found; skipping libjtrain_cuda.so (set CUDACXX or CMAKE_CUDA_COMPILER to build it)")
  return()
endif()
if(NOT JTRAIN_KERNEL_SOURCES)
  message(STATUS "jtrain: no kernels/*.cu yet; skipping libjtrain_cuda.so")
  return()
endif()
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
  # SASS for Ampere, Ada, Hopper, plus PTX of the newest for later GPUs.
  set(CMAKE_CUDA_ARCHITECTURES 80-real 86-real 89-real 90)
endif()
enable_language(CUDA)
# C++17 for the device code: CMake < 3.26 has no CUDA20 dialect flags for nvcc.
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)
message(STATUS "jtrain: building libjtrain_cuda.so with ${CMAKE_CUDA_COMPILER} ${CMAKE_CUDA_COMPILER_VERSION} for ${CMAKE_CUDA_ARCHITECTURES}")

add_library(jtrain_cuda SHARED ${JTRAIN_KERNEL_SOURCES} ${JTRAIN_JNI_SOURCES} ${JTRAIN_VENDOR_SOURCES})
target_include_directories(jtrain_cuda PRIVATE
  "${JTRAIN_ROOT}/kernels" "${JTRAIN_ROOT}/native/emu" "${JTRAIN_ROOT}/native/jni" "${JTRAIN_ROOT}/native/vendor")
target_include_directories(jtrain_cuda PRIVATE ${CUDAToolkit_INCLUDE_DIRS})
# JT_CUDA_REAL: host .cpp files (JNI, vendor) that include common.cuh/cuda_emu.h get the real
# <cuda_runtime.h> instead of the emulation.
string(REPLACE ";" " " _jt_archs "${CMAKE_CUDA_ARCHITECTURES}")
target_compile_definitions(jtrain_cuda PRIVATE
  JT_JNI_CLASS="dev/jtrain/backend/jni/CudaNative" JT_CUDA_REAL=1
  JT_CUDA_ARCHITECTURES="${_jt_archs}")
target_compile_options(jtrain_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:${JTRAIN_CXX_WARNINGS}>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall>
  $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)

# The kernel resource report (static evidence while no GPU is at hand): ptxas's per-kernel registers,
# shared memory, stack and spills for every architecture, kept by a compiler launcher and gathered into
# native/kernel-resources.json in the build folder; the build fails when a kernel spills on sm_90 and
# kernels/spills-allowed.txt does not give the reason.
find_program(JTRAIN_PERL perl)
if(JTRAIN_PERL)
  set(_jt_ptxas_dir "${CMAKE_BINARY_DIR}/ptxas")
  set_target_properties(jtrain_cuda PROPERTIES
    CUDA_COMPILER_LAUNCHER "${JTRAIN_PERL};${JTRAIN_ROOT}/cmake/ptxas_capture.pl;${_jt_ptxas_dir}")
  target_compile_options(jtrain_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--resource-usage>)
  add_custom_command(TARGET jtrain_cuda POST_BUILD
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${CMAKE_BINARY_DIR}/native"
    COMMAND "${JTRAIN_PERL}" "${JTRAIN_ROOT}/cmake/kernel_resources.pl" "${_jt_ptxas_dir}"
            "${JTRAIN_ROOT}/kernels/spills-allowed.txt" "${CMAKE_BINARY_DIR}/native/kernel-resources.json" sm_90
    COMMENT "jtrain: kernel resource report (native/kernel-resources.json)"
    VERBATIM)
else()
  message(STATUS "jtrain: perl not found; no kernel resource report")
endif()
if(JNI_FOUND)
  target_include_directories(jtrain_cuda PRIVATE ${JNI_INCLUDE_DIRS})
endif()
set_target_properties(jtrain_cuda PROPERTIES
  CUDA_RUNTIME_LIBRARY Static
  POSITION_INDEPENDENT_CODE ON
  CUDA_SEPARABLE_COMPILATION OFF)
target_link_libraries(jtrain_cuda PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
target_link_options(jtrain_cuda PRIVATE -Wl,--no-undefined)
jtrain_library_output(jtrain_cuda)
