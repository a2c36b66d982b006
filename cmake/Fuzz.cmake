# FERRY_FUZZ=ON: libFuzzer targets (clang only), never part of the default build. Everything in
# such a build directory is compiled with ASan+UBSan, and all but test code with libFuzzer's coverage (a UBSan finding
# stops the process, as an ASan one does), so the same directory (build-asan in
# scripts/test-all.sh) also runs the test suites under the sanitizers, and
#   ferry_add_fuzzer(NAME n SOURCES a.cc... LIBS lib...)
# adds one fuzzer executable (LLVMFuzzerTestOneInput in its sources). Off: ferry_add_fuzzer does
# nothing. fuzz/CMakeLists.txt has the targets, scripts/fuzz.sh runs them.
option(FERRY_FUZZ "Build the libFuzzer targets (clang only)" OFF)
if(FERRY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FERRY_FUZZ=ON needs clang's libFuzzer: -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  # libFuzzer's coverage (edge counters, comparison traces) only where a fuzzer can reach: not in
  # test code (ferry_test_code marks it, cmake/FerryTest.cmake), which no fuzzer links and which
  # compiles a fifth faster without it (replicate_pass_test's unity batch: 10.8 -> 8.7 CPU-s) and
  # runs its loops without a callback per comparison
  add_compile_options("$<$<NOT:$<BOOL:$<TARGET_PROPERTY:FERRY_TEST_CODE>>>:-fsanitize=fuzzer-no-link>"
                      -fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
endif()

function(ferry_add_fuzzer)
  if(NOT FERRY_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${F_NAME} ${F_SOURCES})
  set_property(GLOBAL APPEND PROPERTY FERRY_FUZZ_EXECUTABLES ${F_NAME})
  target_link_libraries(${F_NAME} PRIVATE ${F_LIBS})
  target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
endfunction()
