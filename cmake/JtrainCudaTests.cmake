# The native tests and the kernel benchmark against the REAL CUDA runtime, for a machine with a GPU
# (bench/scripts/gpu_session.sh runs them there):
#
#   -DJTRAIN_CUDA_TESTS=ON   every tests/native/test_*.cpp except the emulator's own (test_emu_*) is built as
#                            cuda_<name> and registered with CTest under the label "cuda" (ctest -L cuda);
#   -DJTRAIN_CUDA_BENCH=ON   cuda_bench_kernels (tests/native/bench_kernels.cpp): our kernels against cuBLAS/
#                            cuDNN and against the device's copy bandwidth; built, never run by CTest.
#
# They link the kernels compiled by nvcc (a static library of their own, so that each executable has one CUDA
# runtime: the static one) and the vendor sources (cuBLAS/cuDNN by dlopen). Both need the CUDA build
# (JTRAIN_CUDA=ON and nvcc) but no GPU to build; run without one they fail with "no CUDA device".
# `cmake --build B --target jtrain_cuda_checks` builds just these (and nothing of the emu or the JNI library).
#
# The emu build of bench_kernels (made by JtrainTests.cmake from the bench_*.cpp glob) gets the vendor
# sources here too: there every jt_vendor_* call answers "not applicable on emu".
option(JTRAIN_CUDA_TESTS "Build the native tests against the real CUDA runtime and register them (label cuda)" OFF)
option(JTRAIN_CUDA_BENCH "Build cuda_bench_kernels (tests/native/bench_kernels.cpp) against the real CUDA runtime" OFF)

if(TARGET bench_kernels)
  target_sources(bench_kernels PRIVATE ${JTRAIN_VENDOR_SOURCES})
  target_include_directories(bench_kernels PRIVATE "${JTRAIN_ROOT}/native/vendor")
endif()

if(NOT JTRAIN_CUDA_TESTS AND NOT JTRAIN_CUDA_BENCH)
  return()
endif()
if(NOT TARGET jtrain_cuda OR NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "jtrain: JTRAIN_CUDA_TESTS / JTRAIN_CUDA_BENCH need the CUDA build: JTRAIN_CUDA=ON and nvcc "
                      "(set CUDACXX or CMAKE_CUDA_COMPILER); see the messages above for why it was skipped")
endif()
message(STATUS "jtrain: real-CUDA native tests: ${JTRAIN_CUDA_TESTS}, cuda_bench_kernels: ${JTRAIN_CUDA_BENCH} "
               "(architectures ${CMAKE_CUDA_ARCHITECTURES})")

add_library(jtrain_kernels_cuda STATIC ${JTRAIN_KERNEL_SOURCES})
target_include_directories(jtrain_kernels_cuda PUBLIC "${JTRAIN_ROOT}/kernels" "${JTRAIN_ROOT}/native/emu")
target_compile_options(jtrain_kernels_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall>)
set_target_properties(jtrain_kernels_cuda PROPERTIES
  CUDA_RUNTIME_LIBRARY Static
  POSITION_INDEPENDENT_CODE ON
  CUDA_SEPARABLE_COMPILATION OFF)

add_custom_target(jtrain_cuda_checks)
if(NOT DEFINED JTRAIN_TEST_TIMEOUT)
  set(JTRAIN_TEST_TIMEOUT 600)  # JtrainTests.cmake's default, when the emu tests are off
endif()

# One host executable against the real runtime: JT_CUDA_REAL makes common.cuh / cuda_emu.h include
# <cuda_runtime.h> (as for the JNI and vendor sources of libjtrain_cuda.so).
function(jtrain_cuda_exe name)
  add_executable(${name} ${ARGN})
  target_compile_definitions(${name} PRIVATE JT_CUDA_REAL=1)
  target_include_directories(${name} PRIVATE
    "${JTRAIN_ROOT}/kernels" "${JTRAIN_ROOT}/native/emu" "${JTRAIN_ROOT}/native/vendor" "${JTRAIN_ROOT}/tests/native"
    ${CUDAToolkit_INCLUDE_DIRS})
  target_compile_options(${name} PRIVATE ${JTRAIN_CXX_WARNINGS})
  target_link_libraries(${name} PRIVATE jtrain_kernels_cuda CUDA::cudart_static ${CMAKE_DL_LIBS} Threads::Threads)
  add_dependencies(jtrain_cuda_checks ${name})
endfunction()

if(JTRAIN_CUDA_TESTS)
  enable_testing()
  file(GLOB _jt_cuda_test_src CONFIGURE_DEPENDS "${JTRAIN_ROOT}/tests/native/test_*.cpp")
  foreach(src IN LISTS _jt_cuda_test_src)
    get_filename_component(name "${src}" NAME_WE)
    if(name MATCHES "^test_emu_")
      continue()  # the emulator's own tests (fibers, barriers, warps): nothing to test on a GPU
    endif()
    jtrain_cuda_exe(cuda_${name} "${src}")
    add_test(NAME cuda_${name} COMMAND cuda_${name})
    set_tests_properties(cuda_${name} PROPERTIES TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS cuda)
  endforeach()
endif()

if(JTRAIN_CUDA_BENCH)
  jtrain_cuda_exe(cuda_bench_kernels "${JTRAIN_ROOT}/tests/native/bench_kernels.cpp" ${JTRAIN_VENDOR_SOURCES})
endif()
