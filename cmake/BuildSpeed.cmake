# Build-speed settings. They change flags only: the same sources, warnings and tests are built.
#
#   FERRY_DEBUG_INFO = full | lines | none   (default full)
#     How much debug information -g gives (RelWithDebInfo, Debug). "lines" (-g1) keeps
#     functions and file:line (backtraces, perf, gdb's bt) but no local variables, which spares
#     GCC the variable tracking of optimised code: a clean build takes far less CPU and its
#     objects are smaller to link. scripts/test-all.sh (and so CI) builds with "lines".
#   FERRY_TEST_OPT = -O0 | "" | any flags     (default -O0)
#     The optimisation of test code only (the gtest files, fixtures and conformance suites; see
#     ferry_test_code in cmake/FerryTest.cmake). Half the suite's compile time is test code, and
#     at -O2 most of it goes into optimising gtest and nlohmann-json instantiations that run
#     once: -O0 halves it (pass_test.cc: 23 s -> 11 s). The libraries the tests link, and so
#     everything they test, keep the build type's -O2. "" compiles test code like the rest.
#   FERRY_TEST_UNITY = ON | OFF              (default ON)
#     Each test target's files compiled together, up to 8 in one translation unit (CMake's unity
#     build), so that gtest's, nlohmann-json's and ferry's headers are parsed once per batch, not
#     once per file: at -O0 parsing is most of a test file's time (the test objects took 1,049
#     CPU-s of a fresh build, about 635 so). A file whose helpers share a name with a neighbour's
#     is marked SKIP_UNITY_BUILD_INCLUSION where its target is defined.
#   FERRY_CLI_UNITY = ON | OFF               (default ON)
#     The ferry command's files (src/cli: one per command, each parsing CLI11, nlohmann-json and
#     app/wiring.h, which reaches most of ferry's headers) compiled together, up to 8 in one
#     translation unit. Measured (the command's objects alone, no ccache, -j2 on two cores):
#     333 CPU-s and 179 s wall as 33 objects, 127 CPU-s and 71 s as 5.
#   FERRY_LIB_UNITY = ON | OFF               (default OFF; ON in every build of test-all.sh)
#     Each ferry library's files (src/*: the static libraries the tests and the command link)
#     compiled together, up to 8 in one translation unit, as FERRY_CLI_UNITY does for the
#     command: at the sanitizers' -O1 most of a library file's time is parsing the same headers
#     (the standard library, nlohmann-json, ferry's own). Internal helpers that shared a name
#     with a neighbour's are shared or renamed. scripts/lib/sanitizers.sh turns it on. Measured
#     (ASan+UBSan, -O1, no ccache): ferry_transfer's 19 files about 54 CPU-s, as 3 batches 16;
#     the whole build-asan 1,430 CPU-s with this and FERRY_TEST_PCH (about 2,150 without); by
#     session 44 (more code and tests) 1,480 CPU-s went into 276 of its 476 steps.
#     gcc -Werror builds it too (three files compiled alone there, -Wsubobject-linkage): the
#     ferry command and its libraries in 526 CPU-s (-O2, -g1, no ccache; session 44: 776 and 950
#     CPU-s with the manual page, beside the niced sanitizer build). scripts/test-all.sh
#     builds build/ with it too (the CLI scripts run on that binary), so a name two files of one
#     library both define fails CI; off by default for developers' incremental builds.
#   FERRY_TEST_PCH = ON | OFF                (default OFF; ON in the sanitizer builds)
#     Every test target (ferry_test_code) reuses one precompiled header, cmake/test_pch.h
#     (gtest, nlohmann-json and the standard headers the tests include most), built once by
#     the ferry_test_pch target: most test targets have one or two files, so the unity build
#     cannot share their parsing. Measured (ASan+UBSan, test code at -O0): the header 4 CPU-s
#     once, transfer's 13 test targets about 71 -> 66 CPU-s: a small saving beside the unity
#     batches, as most of a test file's time there is instrumented code generation.
#   FERRY_TEST_BY_SUITE = ON | OFF           (default OFF; ON in the sanitizer builds)
#     CTest runs a gtest suite per process (cmake/FerryTestSuites.cmake) instead of a test case:
#     an ASan process costs about 0.2 CPU-s to start and to check for leaks at its end (median
#     test case 0.30 s of 1,876 under ASan, most of it that), and the 1,949 cases are ~320
#     suites. A suite that fails runs again whole; its name is the failure's.
#   FERRY_LINKER = auto | gold | lld | default    (default auto)
#     auto: GNU gold when the compiler can use it (binutils has it), else the default linker. gold
#     links the ~70 test executables (static libraries with debug info) with about a third less CPU.
#     lld (LLVM's linker, package lld): the sanitizer builds of scripts/lib/sanitizers.sh, where gold
#     warns about every ASan symbol and the default (BFD) linker took 3.3 CPU-s for one ASan test
#     executable (replicate_pass_test) that lld links in 1.3: about 125 executables in build-asan.

set(FERRY_DEBUG_INFO "full" CACHE STRING "Debug info level: full (-g), lines (-g1) or none (-g0)")
set_property(CACHE FERRY_DEBUG_INFO PROPERTY STRINGS full lines none)
if(FERRY_DEBUG_INFO STREQUAL "lines")
  # after the configuration's -g on the command line, so it wins
  add_compile_options(-g1)
elseif(FERRY_DEBUG_INFO STREQUAL "none")
  add_compile_options(-g0)
elseif(NOT FERRY_DEBUG_INFO STREQUAL "full")
  message(FATAL_ERROR "FERRY_DEBUG_INFO must be full, lines or none (got '${FERRY_DEBUG_INFO}')")
endif()

set(FERRY_TEST_OPT "-O0" CACHE STRING "Compile options of test code only (empty: the build type's)")
option(FERRY_TEST_UNITY "Compile each test target's files together (unity build)" ON)
option(FERRY_CLI_UNITY "Compile the ferry command's files together (unity build)" ON)
option(FERRY_LIB_UNITY "Compile each ferry library's files together (unity build)" OFF)
option(FERRY_TEST_PCH "Test targets share one precompiled header (cmake/test_pch.h)" OFF)
option(FERRY_TEST_BY_SUITE "CTest runs each gtest suite as one test (one process)" OFF)

# ferry_lib_unity(DIR): FERRY_LIB_UNITY for every static library defined under DIR (src/)
function(ferry_lib_unity dir)
  if(NOT FERRY_LIB_UNITY)
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      set_target_properties(${t} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(d ${subdirs})
    ferry_lib_unity(${d})
  endforeach()
endfunction()

set(FERRY_LINKER "auto" CACHE STRING "Linker: auto (gold when available), gold, lld or default")
set_property(CACHE FERRY_LINKER PROPERTY STRINGS auto gold lld default)
if(FERRY_LINKER STREQUAL "lld")
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" FERRY_HAVE_LD_LLD)
  if(NOT FERRY_HAVE_LD_LLD)
    message(FATAL_ERROR "FERRY_LINKER=lld: the compiler cannot link with -fuse-ld=lld (package lld)")
  endif()
  add_link_options(-fuse-ld=lld)
elseif(FERRY_LINKER STREQUAL "auto" OR FERRY_LINKER STREQUAL "gold")
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=gold" FERRY_HAVE_LD_GOLD)
  if(FERRY_HAVE_LD_GOLD)
    add_link_options(-fuse-ld=gold)
  elseif(FERRY_LINKER STREQUAL "gold")
    message(FATAL_ERROR "FERRY_LINKER=gold: the compiler cannot link with -fuse-ld=gold")
  endif()
elseif(NOT FERRY_LINKER STREQUAL "default")
  message(FATAL_ERROR "FERRY_LINKER must be auto, gold, lld or default (got '${FERRY_LINKER}')")
endif()
