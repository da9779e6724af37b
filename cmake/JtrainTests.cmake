# Native tests: every tests/native/test_*.cpp is one executable linked against the emu kernels and
# runtime, registered with CTest twice: as is, and with JTRAIN_EMU_SHUFFLE=1 (the fibers of a block
# run in reverse order between barriers, so a shared-memory race shows up whichever order a kernel
# happened to rely on). tests/native/bench_*.cpp are built but not registered.
file(GLOB JTRAIN_NATIVE_TESTS_SRC CONFIGURE_DEPENDS "${JTRAIN_ROOT}/tests/native/test_*.cpp")
file(GLOB JTRAIN_NATIVE_BENCH_SRC CONFIGURE_DEPENDS "${JTRAIN_ROOT}/tests/native/bench_*.cpp")
set(JTRAIN_TEST_TIMEOUT 600 CACHE STRING "CTest timeout per native test (s)")

function(jtrain_native_exe src)
  get_filename_component(name "${src}" NAME_WE)
  add_executable(${name} "${src}")
  target_link_libraries(${name} PRIVATE jtrain_kernels_emu jtrain_emu_core)
  target_include_directories(${name} PRIVATE
    "${JTRAIN_ROOT}/kernels" "${JTRAIN_ROOT}/native/emu" "${JTRAIN_ROOT}/tests/native")
  target_compile_options(${name} PRIVATE ${JTRAIN_CXX_WARNINGS})
  set(JTRAIN_LAST_EXE ${name} PARENT_SCOPE)
endfunction()

foreach(src IN LISTS JTRAIN_NATIVE_TESTS_SRC)
  jtrain_native_exe("${src}")
  add_test(NAME ${JTRAIN_LAST_EXE} COMMAND ${JTRAIN_LAST_EXE})
  add_test(NAME ${JTRAIN_LAST_EXE}_reversed COMMAND ${JTRAIN_LAST_EXE})
  set_tests_properties(${JTRAIN_LAST_EXE} PROPERTIES TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS native)
  set_tests_properties(${JTRAIN_LAST_EXE}_reversed PROPERTIES
    TIMEOUT ${JTRAIN_TEST_TIMEOUT} LABELS "native;reversed" ENVIRONMENT "JTRAIN_EMU_SHUFFLE=1")
endforeach()
foreach(src IN LISTS JTRAIN_NATIVE_BENCH_SRC)
  jtrain_native_exe("${src}")
endforeach()
