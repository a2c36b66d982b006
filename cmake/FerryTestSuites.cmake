# Run in script mode (cmake -P) after a test executable is built, when FERRY_TEST_BY_SUITE is on
# (the sanitizer builds): registers one CTest test per gtest suite of the executable instead of
# one per test case (gtest_discover_tests). A sanitized process costs 0.2 s of CPU to start and
# to check for leaks at its end, so 1,900 test cases were 1,900 such starts; a suite is one.
#   -D EXE=the executable  -D OUT=the CTest file to write  -D LABELS=unit;...
#   -D SERIAL=TRUE|FALSE   -D PREFIX=the tests' name prefix (may be empty)
# A suite whose every test is DISABLED_ is left out, as gtest_discover_tests lists those as
# not run.
execute_process(COMMAND "${EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(suites "")
set(suite "")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ ].*)\\.(  #.*)?$")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  ([^ ]+)" AND NOT suite STREQUAL "")
    # a suite counts once one of its tests runs (a DISABLED_ suite or test does not)
    if(NOT CMAKE_MATCH_1 MATCHES "^DISABLED_" AND NOT suite MATCHES "(^|/)DISABLED_")
      list(APPEND suites "${suite}")
    endif()
  endif()
endforeach()
list(REMOVE_DUPLICATES suites)
set(script "")
foreach(s IN LISTS suites)
  string(APPEND script
    "add_test([=[${PREFIX}${s}]=] [==[${EXE}]==] [==[--gtest_filter=${s}.*]==])\n"
    "set_tests_properties([=[${PREFIX}${s}]=] PROPERTIES LABELS [==[${LABELS}]==] RUN_SERIAL ${SERIAL})\n")
endforeach()
file(WRITE "${OUT}" "${script}")
