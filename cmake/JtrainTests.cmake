# Native tests: every tests/native/test_*.cpp is one executable linked against the emu kernels and
# runtime, registered with CTest three times: as is; with JTRAIN_EMU_SHUFFLE=1 (the fibers of a block
# run in reverse order between barriers, so a shared-memory race shows up whichever order a kernel
# happened to rely on); and with JTRAIN_EMU_RACECHECK=1 (label racecheck: every shared-memory race and
# every access outside a device allocation fails the launch), when the checker's instrumentation is
# available (not in the ASan build). The tests and their kernels are compiled with that instrumentation.
# tests/native/bench_*.cpp are built against the plain kernels and not registered.
file(GLOB JTRAIN_NATIVE_TESTS_SRC CONFIGURE_DEPENDS "${JTRAIN_ROOT}/tests/native/test_*.cpp")
file(GLOB JTRAIN_NATIVE_BENCH_SRC CONFIGURE_DEPENDS "${JTRAIN_ROOT}/tests/native/bench_*.cpp")
set(JTRAIN_TEST_TIMEOUT 600 CACHE STRING "CTest timeout per native test (s)")

function(jtrain_native_exe src kernels)
  get_filename_component(name "${src}" NAME_WE)
  add_executable(${name} "${src}")
  target_link_libraries(${name} PRIVATE ${kernels} jtrain_emu_core)
  target_include_directories(${name} PRIVATE
    "${JTRAIN_ROOT}/kernels" "${JTRAIN_ROOT}/native/emu" "${JTRAIN_ROOT}/tests/native")
  target_compile_options(${name} PRIVATE ${JTRAIN_CXX_WARNINGS} ${ARGN})
  set(JTRAIN_LAST_EXE ${name} PARENT_SCOPE)
endfunction()

foreach(src IN LISTS JTRAIN_NATIVE_TESTS_SRC)
  jtrain_native_exe("${src}" ${JTRAIN_KERNELS_FOR_TESTS} ${JTRAIN_EMU_CHECK_FLAGS})
  add_test(NAME ${JTRAIN_LAST_EXE} COMMAND ${JTRAIN_LAST_EXE})
  add_test(NAME ${JTRAIN_LAST_EXE}_reversed COMMAND ${JTRAIN_LAST_EXE})
  set_tests_properties(${JTRAIN_LAST_EXE} PROPERTIES TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS native)
  set_tests_properties(${JTRAIN_LAST_EXE}_reversed PROPERTIES
    TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS "native;reversed" ENVIRONMENT "JTRAIN_EMU_SHUFFLE=1")
  if(JTRAIN_EMU_CHECK_FLAGS)
    add_test(NAME ${JTRAIN_LAST_EXE}_racecheck COMMAND ${JTRAIN_LAST_EXE})
    set_tests_properties(${JTRAIN_LAST_EXE}_racecheck PROPERTIES
      TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS "native;racecheck" ENVIRONMENT "JTRAIN_EMU_RACECHECK=1")
  endif()
endforeach()
if(NOT TARGET jtrain_kernels_emu)  # -DJTRAIN_EMU_CHECKED_LIB=ON: the benches measure the instrumented kernels
  set(JTRAIN_BENCH_KERNELS ${JTRAIN_KERNELS_FOR_LIB})
else()
  set(JTRAIN_BENCH_KERNELS jtrain_kernels_emu)
endif()
foreach(src IN LISTS JTRAIN_NATIVE_BENCH_SRC)
  jtrain_native_exe("${src}" ${JTRAIN_BENCH_KERNELS})
endforeach()
