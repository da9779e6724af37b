# Compiler flags shared by every native target.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

# Warnings for our own code (kernels, emu, jni, tests). Not -Werror: several engineers add files.
set(JTRAIN_CXX_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas)

if(JTRAIN_EMU_SANITIZE)
  message(STATUS "jtrain: building with AddressSanitizer + UBSan (fiber stacks 256 KiB)")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
  add_link_options(-fsanitize=address,undefined)
endif()

# The emu checker's instrumentation (native/emu/README.md, "Checking"): the compiler's ThreadSanitizer
# instrumentation, compile flag only. Every load and store calls the runtime's own __tsan_* entry points
# (native/emu/emu_check.cpp); libtsan is never linked. Not with ASan (the two cannot be combined).
set(JTRAIN_EMU_CHECK_FLAGS "")
if(NOT JTRAIN_EMU_SANITIZE)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # no sibling calls: an access as a kernel's last statement keeps the kernel as its return address
    set(JTRAIN_EMU_CHECK_FLAGS -fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -fno-optimize-sibling-calls)
  elseif(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(JTRAIN_EMU_CHECK_FLAGS -fsanitize=thread -fno-sanitize-thread-func-entry-exit -fno-optimize-sibling-calls)
  endif()
endif()
if(JTRAIN_EMU_CHECK_FLAGS)
  message(STATUS "jtrain: emu checker instrumentation for the native tests (JTRAIN_EMU_RACECHECK=1)")
else()
  message(STATUS "jtrain: no emu checker instrumentation (ASan build or compiler): no racecheck tests")
endif()

if(JTRAIN_LIB_OUTPUT_DIR)
  message(STATUS "jtrain: shared libraries go to ${JTRAIN_LIB_OUTPUT_DIR}")
endif()

# Put a shared library target's output into JTRAIN_LIB_OUTPUT_DIR when set.
function(jtrain_library_output target)
  # The emu checker's instrumentation (native/emu/README.md, "Checking"): the compiler's ThreadSanitizer
# instrumentation, compile flag only. Every load and store calls the runtime's own __tsan_* entry points
# (native/emu/emu_check.cpp); libtsan is never linked. Not with ASan (the two cannot be combined).
set(JTRAIN_EMU_CHECK_FLAGS "")
if(NOT JTRAIN_EMU_SANITIZE)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # no sibling calls: an access as a kernel's last statement keeps the kernel as its return address
    set(JTRAIN_EMU_CHECK_FLAGS -fsanitize=thread --param=tsan-instrument-func-entry-exit=0 -fno-optimize-sibling-calls)
  elseif(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(JTRAIN_EMU_CHECK_FLAGS -fsanitize=thread -fno-sanitize-thread-func-entry-exit -fno-optimize-sibling-calls)
  endif()
endif()
if(JTRAIN_EMU_CHECK_FLAGS)
  message(STATUS "jtrain: emu checker instrumentation for the native tests (JTRAIN_EMU_RACECHECK=1)")
else()
  message(STATUS "jtrain: no emu checker instrumentation (ASan build or compiler): no racecheck tests")
endif()

if(JTRAIN_LIB_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${JTRAIN_LIB_OUTPUT_DIR}"
      LIBRARY_OUTPUT_DIRECTORY_DEBUG "${JTRAIN_LIB_OUTPUT_DIR}"
      LIBRARY_OUTPUT_DIRECTORY_RELEASE "${JTRAIN_LIB_OUTPUT_DIR}"
      LIBRARY_OUTPUT_DIRECTORY_RELWITHDEBINFO "${JTRAIN_LIB_OUTPUT_DIR}"
      LIBRARY_OUTPUT_DIRECTORY_MINSIZEREL "${JTRAIN_LIB_OUTPUT_DIR}")
  endif()
endfunction()
