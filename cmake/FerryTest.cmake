# ferry_add_test(NAME n SOURCES a.cc... LIBS lib... LABELS unit|conformance|integration
#                [TEST_PREFIX p.] [RUN_SERIAL])
# One gtest executable registered with CTest under the given labels. With TEST_PREFIX, each
# test's CTest name starts with it ("events.BodyTest.X"), so `ctest -R events` selects a module.
# RUN_SERIAL: each of its tests runs with no other test beside it (ctest -j), for tests that
# restart or cut off a server the others use. With FERRY_TEST_BY_SUITE (the sanitizer builds,
# cmake/BuildSpeed.cmake) a CTest test is a gtest suite ("events.BodyTest"), not a test case.
include(GoogleTest)

# ferry_test_code(target...): the targets hold test code only (gtest files, fixtures, suites); they
# are compiled with FERRY_TEST_OPT (cmake/BuildSpeed.cmake), the library code they test keeps the
# build type's optimisation.
function(ferry_test_code)
  foreach(t ${ARGN})
    # read by cmake/Fuzz.cmake: test code gets no libFuzzer coverage
    set_property(TARGET ${t} PROPERTY FERRY_TEST_CODE ON)
    if(FERRY_TEST_OPT)
      # after the build type's -O2 on the command line, so it wins
      target_compile_options(${t} PRIVATE ${FERRY_TEST_OPT})
    endif()
    if(FERRY_TEST_UNITY)
      # a target's test files compiled together: gtest's and the libraries' headers parsed once
      set_target_properties(${t} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
    endif()
    if(FERRY_TEST_PCH)
      # the one precompiled header of test code (ferry_test_pch_target below)
      target_precompile_headers(${t} REUSE_FROM ferry_test_pch)
    endif()
  endforeach()
endfunction()

# ferry_test_pch_target(): the target that builds cmake/test_pch.h once for every test target
# (FERRY_TEST_PCH, cmake/BuildSpeed.cmake), compiled as test code is (FERRY_TEST_OPT). Called
# once the packages are found.
function(ferry_test_pch_target)
  if(NOT FERRY_TEST_PCH)
    return()
  endif()
  add_library(ferry_test_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/test_pch.cc)
  set_property(TARGET ferry_test_pch PROPERTY FERRY_TEST_CODE ON)  # compiled as the tests are
  target_link_libraries(ferry_test_pch PRIVATE GTest::gtest nlohmann_json::nlohmann_json)
  if(FERRY_TEST_OPT)
    target_compile_options(ferry_test_pch PRIVATE ${FERRY_TEST_OPT})
  endif()
  target_precompile_headers(ferry_test_pch PRIVATE ${CMAKE_SOURCE_DIR}/cmake/test_pch.h)
endfunction()

function(ferry_add_test)
  cmake_parse_arguments(T "RUN_SERIAL" "NAME;TEST_PREFIX" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  set_property(GLOBAL APPEND PROPERTY FERRY_TEST_EXECUTABLES ${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  ferry_test_code(${T_NAME})
  set(serial FALSE)
  if(T_RUN_SERIAL)
    set(serial TRUE)
  endif()
  if(FERRY_TEST_BY_SUITE)
    ferry_register_suites(${T_NAME} "${T_TEST_PREFIX}" "${T_LABELS}" ${serial})
  else()
    gtest_discover_tests(${T_NAME} TEST_PREFIX "${T_TEST_PREFIX}"
                         PROPERTIES LABELS "${T_LABELS}" RUN_SERIAL ${serial}
                         DISCOVERY_TIMEOUT 30)
  endif()
endfunction()

# ferry_register_suites(target prefix labels serial): FERRY_TEST_BY_SUITE's registration, a CTest
# test per gtest suite (cmake/FerryTestSuites.cmake, run after each build of the target). An
# executable not built (a build of some targets only) is one failing test, <target>_NOT_BUILT,
# as gtest_discover_tests names it.
function(ferry_register_suites target prefix labels serial)
  set(dir ${CMAKE_CURRENT_BINARY_DIR})
  set(suites_file ${dir}/${target}_suites.cmake)
  add_custom_command(
    TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D EXE=$<TARGET_FILE:${target}> -D OUT=${suites_file}
            -D "LABELS=${labels}" -D SERIAL=${serial} -D "PREFIX=${prefix}"
            -P ${CMAKE_SOURCE_DIR}/cmake/FerryTestSuites.cmake
    VERBATIM)
  set(include_file ${dir}/${target}_include.cmake)
  file(WRITE ${include_file}
       "if(EXISTS [==[${suites_file}]==])\n"
       "  include([==[${suites_file}]==])\n"
       "else()\n"
       "  add_test([=[${target}_NOT_BUILT]=] [=[${target}_NOT_BUILT]=])\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()
