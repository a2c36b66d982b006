# shellcheck shell=bash
# The sanitizer and fuzzing legs of scripts/test-all.sh (docs/design/hardening.md). Sourced by it,
# not run; uses its log, step_failed, run_ctest and LOG_DIR.
#
#   build-asan  clang-14, -DFERRY_FUZZ=ON: everything with ASan + UBSan (+ libFuzzer's coverage):
#               every ctest executable (target ferry_tests) and every fuzzer (ferry_fuzzers).
#               The unit, conformance and integration suites run here, and scripts/fuzz.sh.
#   build-tsan  clang-14, -DFERRY_SANITIZE=thread: the tests of what runs threads against each
#               other (TSAN_TESTS below).
#
# Both build in the background at the lowest priority (nice 19), from the moment build/ is
# configured, while the ferry command builds there and the CLI scripts then run on it: the
# scripts spend most of their time waiting on the servers, and a niced compiler only takes the
# CPU they leave. san_build_start starts that, san_run waits for each and runs its suites.

ASAN_DIR=build-asan
TSAN_DIR=build-tsan
# executor, budgets and pools; workers and leases; cache claims and locks; the HTTP server and
# the event intake, and its one thread against hostile clients (the guard); credentials
# refreshed by many callers and a credential_process's reaping; the rate limits; transport (its
# unpack claims)
TSAN_TESTS=(transfer_executor_test transfer_buffer_pool_test transfer_budget_test jobs_worker_test
  jobs_worker_executor_test jobs_worker_lease_test cache_test http_server_test
  http_server_guard_test serve_intake_test credentials_test limits_test transport_test)
san_job=""

# san_configure DIR ARGS...: a clang-14 build directory with these extra cmake arguments. -O1
# (what the sanitizers' authors advise): a third less compile time than -O2, and the reports
# stay close to the source. Line tables only (-DFERRY_DEBUG_INFO=lines: clang's
# -gline-tables-only, all a report's stack needs). Each library compiled as unity batches
# (FERRY_LIB_UNITY) and the test targets sharing one precompiled header (FERRY_TEST_PCH), linked
# by lld (FERRY_LINKER=lld); CTest runs a gtest suite per process, not a test case
# (FERRY_TEST_BY_SUITE: a sanitized process's start and leak check cost 0.2 CPU-s):
# cmake/BuildSpeed.cmake has what each saves.
san_configure() {
  local dir=$1 flags="-O1 -g -DNDEBUG"; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$flags" \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DFERRY_WERROR=ON \
    -DFERRY_DEBUG_INFO=lines -DFERRY_LINKER=lld -DFERRY_LIB_UNITY=ON -DFERRY_TEST_PCH=ON \
    -DFERRY_TEST_BY_SUITE=ON "$@"
}

# san_build_start: the two builds, one after the other, in one background job: build-asan first
# (its suites are the longer ones), then build-tsan. Each writes its status to
# $LOG_DIR/san-asan.rc and san-tsan.rc as it ends (0 built, 1 failed), so that san_run starts the
# ASan suites as soon as build-asan is done while build-tsan still builds beside them.
san_build_start() {
  log "sanitizers: building $ASAN_DIR (ASan+UBSan, fuzzers) and then $TSAN_DIR (TSan) in the" \
    "background, niced (log: $LOG_DIR/san-build.log)"
  ( # clang comes with the servers' packages (install-deps.sh san), in the background
    if ! deps_ready 2> "$LOG_DIR/san-build.log"; then
      echo 1 > "$LOG_DIR/san-asan.rc"; echo 1 > "$LOG_DIR/san-tsan.rc"; exit 0
    fi
    rc=0
    { san_configure "$ASAN_DIR" -DFERRY_FUZZ=ON \
        && CPU_NAME="the ASan+UBSan build" cpu_used \
          nice -n 19 cmake --build "$ASAN_DIR" -j2 --target ferry_tests ferry_fuzzers; } \
      >> "$LOG_DIR/san-build.log" 2>&1 || rc=1
    echo "$rc" > "$LOG_DIR/san-asan.rc.tmp" && mv "$LOG_DIR/san-asan.rc.tmp" "$LOG_DIR/san-asan.rc"
    rc=0
    { san_configure "$TSAN_DIR" -DFERRY_SANITIZE=thread \
        && CPU_NAME="the TSan build" cpu_used \
          nice -n 19 cmake --build "$TSAN_DIR" -j2 --target "${TSAN_TESTS[@]}"; } \
      >> "$LOG_DIR/san-build.log" 2>&1 || rc=1
    echo "$rc" > "$LOG_DIR/san-tsan.rc.tmp" && mv "$LOG_DIR/san-tsan.rc.tmp" "$LOG_DIR/san-tsan.rc"
  ) &
  san_job=$!
}

# san_stop: ends a build still running (an early exit of test-all.sh), with its compilers
san_stop() {
  [ -n "$san_job" ] || return 0
  kill_tree "$san_job"
  wait "$san_job" 2>/dev/null || true
  san_job=""
}

kill_tree() { # PID: the process and every descendant, children first
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

# san_wait_rc NAME: waits until the background job has written $LOG_DIR/san-NAME.rc (or ended
# without writing it: 1), prints its content
san_wait_rc() {
  local f=$LOG_DIR/san-$1.rc
  while [ ! -s "$f" ]; do
    if [ -z "$san_job" ] || ! kill -0 "$san_job" 2>/dev/null; then
      [ -s "$f" ] || echo 1 > "$f"
      break
    fi
    sleep 1
  done
  cat "$f"
}

san_run() {
  log "sanitizers: waiting for the ASan+UBSan build"
  phase_begin "the rest of the ASan+UBSan build"
  if [ "$(san_wait_rc asan)" != 0 ]; then
    grep -E 'error|FAILED' "$LOG_DIR/san-build.log" | head -n 40 | sed 's/^/    /'
    step_failed "the ASan/UBSan build ($ASAN_DIR; log above)"
    san_stop
    return 0
  fi
  phase_end
  grep -h 'cpu: the ASan' "$LOG_DIR/san-build.log" | sed 's/^/    /' || true
  # a finding fails its test: ASan and UBSan abort (-fno-sanitize-recover), leaks are checked
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
  # one ctest over the three labels, two at a time per core and one more: the integration tests
  # mostly wait on the servers while the unit tests compute (RUN_SERIAL ones still run alone);
  # build-tsan goes on building beside them, niced, and so does the fuzzing (measured: at three
  # at a time the suites used 0.6 of a core on average over their 7-9 minutes, the rest waiting:
  # 1,876 tests summed 1,242 s in 432 s)
  log "sanitizers: unit, conformance and integration tests under ASan+UBSan; beside them," \
    "niced, each fuzz target for ${FERRY_FUZZ_SECONDS:-30} s (report: $LOG_DIR/fuzz.log)"
  ( rc=0
    CPU_NAME=fuzzing cpu_used nice -n 10 bash scripts/fuzz.sh --no-build --build "$ASAN_DIR" \
      --seconds "${FERRY_FUZZ_SECONDS:-30}" --jobs "$(nproc)" > "$LOG_DIR/fuzz.log" 2>&1 || rc=$?
    echo "$rc" > "$LOG_DIR/fuzz.rc" ) &
  local fuzz_job=$!
  phase_begin "ASan+UBSan suites"
  CTEST_DIR=$ASAN_DIR run_ctest asan -L 'unit|conformance|integration' -j "$((2 * $(nproc) + 1))"
  phase_end
  phase_begin "the rest of the fuzzing"
  wait "$fuzz_job" 2>/dev/null || true
  phase_end
  log "sanitizers: fuzzing"
  sed 's/^/    /' "$LOG_DIR/fuzz.log"
  if [ "$(cat "$LOG_DIR/fuzz.rc" 2>/dev/null)" = 0 ]; then
    passed=$((passed + 1))
  else
    step_failed "fuzzing (a target crashed; its input and how to reproduce it above)"
  fi
  log "sanitizers: waiting for the TSan build"
  phase_begin "the rest of the TSan build"
  if [ "$(san_wait_rc tsan)" != 0 ]; then
    grep -E 'error|FAILED' "$LOG_DIR/san-build.log" | head -n 40 | sed 's/^/    /'
    step_failed "the TSan build ($TSAN_DIR; log above)"
    san_stop
    return 0
  fi
  wait "$san_job" 2>/dev/null || true
  san_job=""
  phase_end
  grep -h 'cpu: the TSan' "$LOG_DIR/san-build.log" | sed 's/^/    /' || true
  log "sanitizers: the threads' tests under TSan (${TSAN_TESTS[*]})"
  # (the tests of targets not built there are listed as <target>_NOT_BUILT: left out)
  phase_begin "TSan tests"
  CTEST_DIR=$TSAN_DIR run_ctest tsan -L unit -E '_NOT_BUILT' -j "$(nproc)"
  phase_end
}
