#!/usr/bin/env bash
# Runs ferry's libFuzzer targets (fuzz/, docs/design/hardening.md), each for a bounded time, and
# reports per target the executions, the coverage (edges and features libFuzzer counts) and
# whether it crashed.
#
#   bash scripts/fuzz.sh [--seconds N] [--jobs N] [--build DIR] [--no-build] [TARGET...]
#
#   --seconds N   time per target (default 60)
#   --jobs N      targets run side by side (default 1; one core each)
#   --build DIR   the sanitizer build directory (default build-asan: clang-14, -DFERRY_FUZZ=ON,
#                 so ASan + UBSan + libFuzzer coverage); configured here when it is missing
#   --no-build    use the fuzzers already built there (scripts/test-all.sh builds them)
#   TARGET...     default: every target of fuzz/CMakeLists.txt
#
# Each target starts from its seeds (fuzz/corpus/<name>/, read only) and a work corpus of its own
# under DIR/fuzz-work/<name>/ that persists between runs, so a second run goes on where the
# first stopped. A crash, a leak, undefined behaviour, a timeout (10 s for one input) or an input
# that takes more than 2 GiB stops that target: its input is kept as DIR/fuzz-work/crash-*
# and the run fails. Make it a regression test by copying it to fuzz/regressions/<name>/ (the
# unit test fuzz_replay_test feeds it to the target in every build) once it is fixed.
# Exit status: 0 when no target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60 jobs=1 build=build-asan do_build=1 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
for n in "$seconds" "$jobs"; do
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ] \
    || { echo "fuzz.sh: --seconds and --jobs take a whole number above 0 (got '$n')" >&2; exit 2; }
done

all=$(sed -n '/^set(FERRY_FUZZ_TARGETS/,/)/p' fuzz/CMakeLists.txt | tr -d '()' \
      | sed 's/set//; s/FERRY_FUZZ_TARGETS//' | tr -s ' \n' ' ')
read -r -a all_targets <<< "$all"
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " $all " == *" $t "* ]] || { echo "fuzz.sh: no target '$t' (targets: $all)" >&2; exit 2; }
done

if [ "$do_build" = 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14 -DFERRY_FUZZ=ON \
      -DFERRY_LINKER=default -DFERRY_DEBUG_INFO=lines > /dev/null
  fi
  cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"
fi

work=$build/fuzz-work
mkdir -p "$work"
# libFuzzer's -detect_leaks and ASan's leak check are on; UBSan findings stop the run
# (-fno-sanitize-recover at build time); symbolized stacks when llvm-symbolizer is there
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run_target NAME: fuzzes one target; its row of the report goes to $work/NAME.row, the lines
# that explain a failure to $work/NAME.why
run_target() {
  local t=$1 bin log rc=0 execs speed last cov ft corp result crash="" dict=()
  bin=$build/fuzz/fuzz_$t
  log=$work/$t.log
  mkdir -p "$work/$t"
  rm -f "$work/$t.why"
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  "$bin" "$work/$t" "fuzz/corpus/$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" \
    > "$log" 2>&1 || rc=$?
  execs=$(grep -Eo 'number_of_executed_units: *[0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || echo 0)
  speed=$(grep -Eo 'average_exec_per_sec: *[0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+$' || echo 0)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(grep -Eo 'cov: [0-9]+' <<< "$last" | grep -Eo '[0-9]+' || echo '?')
  ft=$(grep -Eo 'ft: [0-9]+' <<< "$last" | grep -Eo '[0-9]+' || echo '?')
  corp=$(grep -Eo 'corp: [0-9]+' <<< "$last" | grep -Eo '[0-9]+' || echo '?')
  if [ "$rc" = 0 ]; then
    result=ok
  else
    crash=$(grep -Eo "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //' || true)
    result="FAILED (exit $rc): ${crash:-see $log}"
    { grep -E 'ERROR: |runtime error|fuzz invariant broken|SUMMARY' "$log" | head -n 5 | sed 's/^/    /' || true
      echo "    reproduce: $bin ${crash:-<input>}; once fixed: cp it to fuzz/regressions/$t/"
    } > "$work/$t.why"
  fi
  printf '%-18s %12s %9s %7s %7s %6s  %s\n' "$t" "$execs" "$speed" "$cov" "$ft" "$corp" "$result" \
    > "$work/$t.row"
}

for t in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "fuzz.sh: $build/fuzz/fuzz_$t is not built" >&2; exit 2; }
done
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  run_target "$t" &
  running=$((running + 1))
done
wait

failed=0
printf '%-18s %12s %9s %7s %7s %6s  %s\n' target executions exec/s edges features corpus result
for t in "${targets[@]}"; do
  cat "$work/$t.row"
  if [ -f "$work/$t.why" ]; then failed=$((failed + 1)); cat "$work/$t.why"; fi
done
[ "$failed" = 0 ] || { echo "fuzz.sh: $failed target(s) failed" >&2; exit 1; }
